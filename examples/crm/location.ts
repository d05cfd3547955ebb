/**
 * The crm code location: the full-stack automation chain. Fivetran syncs CRM accounts into the warehouse's
 * landing area; a sensor watches the Fivetran connection and reports each finished sync as a materialization of
 * the external asset `raw/crm/accounts` (declared in the ingestion location). Everything downstream is
 * `automation.onUpstreamChange()`, so one reported sync makes staging, the mart, the TypeScript processing and the
 * dashboard refresh run by themselves, in one run, each step only after its upstream succeeded.
 *
 * Without FIVETRAN_API_URL the sensor skips (saying why) and the landing area is the sample file next to this
 * module, so `cairn materialize --select '*'` works offline. The tests point both at a local Fivetran-style server.
 */
import { fileURLToPath } from 'node:url';
import { asset, automation, codeLocation, duckdb, env, rawSql, sensor, type TableInput } from 'cairn';
import { fivetran, type FivetranClient } from './fivetran';

const warehouse = duckdb();
const CONNECTION = process.env.CRM_FIVETRAN_CONNECTION ?? 'crm_accounts';
/** Where the connector lands files; a path, not a secret. */
const landingDir = process.env.CRM_LANDING_DIR ?? fileURLToPath(new URL('./landing', import.meta.url));
const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

export const fivetranCrmSync = sensor({
  name: 'fivetran_crm_accounts',
  minimumInterval: process.env.CRM_SYNC_POLL ?? '30s',
  resources: ['fivetran'],
  description: 'Reports raw/crm/accounts as materialized each time its Fivetran connection finishes a sync.',
  async evaluate({ cursor, resources, log }) {
    const client = resources.fivetran as FivetranClient;
    if (!client.configured) return { skipReason: 'Fivetran is not configured (set FIVETRAN_API_URL, FIVETRAN_API_KEY, FIVETRAN_API_SECRET)' };
    const c = await client.connection(CONNECTION);
    if (c.paused || c.setupState !== 'connected') return { skipReason: `connection ${c.id} is ${c.paused ? 'paused' : `not connected (${c.setupState})`}` };
    const succeeded = c.succeededAt;
    if (!succeeded || (cursor !== undefined && Date.parse(succeeded) <= Date.parse(cursor))) {
      const failed = c.failedAt !== undefined && (!succeeded || Date.parse(c.failedAt) > Date.parse(succeeded));
      return { skipReason: failed ? `the last sync failed at ${c.failedAt}; waiting for a successful one` : 'no sync finished since the last one reported' };
    }
    log.info(`sync of ${c.id} finished at ${succeeded}`);
    return {
      assetEvents: [{ key: 'raw/crm/accounts', kind: 'materialization', dataVersion: succeeded, metadata: { connection: c.id, succeeded_at: succeeded } }],
      cursor: succeeded,
    };
  },
});

const onChange = automation.onUpstreamChange();

export const stagingAccounts = asset({
  key: 'staging/crm_accounts',
  deps: ['raw/crm/accounts'],
  group: 'crm',
  kinds: ['duckdb', 'sql'],
  resources: ['warehouse'],
  automation: onChange,
  codeVersion: '1',
  description: 'The latest landed CRM accounts, typed and deduplicated.',
  materialize: () => warehouse.sql`
    select account_id, name, upper(region) as region, plan, seats
    from ${rawSql(`read_json_auto(${literal(`${landingDir}/crm_accounts.jsonl`)})`)}
    qualify row_number() over (partition by account_id order by _fivetran_synced desc) = 1`,
});

export const accountsByRegion = asset({
  key: 'marts/crm_accounts_by_region',
  group: 'crm',
  kinds: ['duckdb', 'sql'],
  ins: { accounts: 'staging/crm_accounts' },
  resources: ['warehouse'],
  automation: onChange,
  codeVersion: '1',
  materialize: ({ ins }) => warehouse.sql`
    select region, count(*) as accounts, sum(seats) as seats from ${ins.accounts as TableInput} group by region order by region`,
});

export const accountHealth = asset({
  key: 'ml/crm_account_health',
  group: 'crm',
  kinds: ['typescript'],
  ins: { regions: { asset: 'marts/crm_accounts_by_region', load: 'rows' } },
  automation: onChange,
  codeVersion: '1',
  description: 'Seats per account by region, scored in TypeScript.',
  materialize({ ins, addMetadata }) {
    const rows = ins.regions as { region: string; accounts: number; seats: number }[];
    const scored = rows.map((r) => ({ region: r.region, seats_per_account: Number((Number(r.seats) / Math.max(1, Number(r.accounts))).toFixed(2)) }));
    addMetadata({ regions: scored.length });
    return scored;
  },
});

export const dashboardRefresh = asset({
  key: 'notify/crm_dashboard',
  group: 'crm',
  kinds: ['notification'],
  ins: { health: { asset: 'ml/crm_account_health', load: 'rows' } },
  automation: onChange,
  description: 'Refreshes the CRM dashboard (logged here; a BI tool API call in production).',
  materialize({ ins, log, addMetadata }) {
    const rows = ins.health as { region: string; seats_per_account: number }[];
    const text = `CRM dashboard refreshed: ${rows.map((r) => `${r.region} ${r.seats_per_account}`).join(', ')}`;
    log.info(text);
    addMetadata({ message: text });
  },
});

export default codeLocation({
  name: 'crm',
  assets: [stagingAccounts, accountsByRegion, accountHealth, dashboardRefresh],
  sensors: [fivetranCrmSync],
  resources: {
    warehouse,
    // Only with FIVETRAN_API_URL set: env() of an unset variable would stop the worker.
    fivetran: fivetran(process.env.FIVETRAN_API_URL ? { baseUrl: env('FIVETRAN_API_URL', { secret: false }), apiKey: env('FIVETRAN_API_KEY'), apiSecret: env('FIVETRAN_API_SECRET') } : {}),
  },
});
