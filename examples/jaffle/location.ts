/**
 * The jaffle code location: a dbt project (examples/jaffle/dbt) as assets, between TypeScript assets.
 *   upstream:   raw/shop/orders and raw/shop/customers (the ingestion location, TypeScript) are the dbt
 *               project's sources (their `meta.cairn.key` names these keys);
 *   dbt:        a seed, staging views, an ephemeral model walked through, two marts; tests become checks;
 *   downstream: reports/top_customers (TypeScript) reads the customer_ltv mart.
 * The dbt step gets the warehouse file as CAIRN_WAREHOUSE_PATH (see dbt/profiles.yml); the worker keeps the
 * file closed while dbt writes it.
 */
import { asset, codeLocation, dbtAssets, duckdb } from 'cairn';

export const jaffle = dbtAssets({ project: new URL('./dbt', import.meta.url) });

export const topCustomers = asset({
  key: 'reports/top_customers',
  group: 'reports',
  kinds: ['typescript'],
  owners: ['team:finance'],
  ins: { ltv: { asset: 'customer_ltv', load: 'rows' } },
  codeVersion: '1',
  description: 'The five customers with the highest lifetime value, from the dbt mart.',
  materialize({ ins, log, addMetadata }) {
    const rows = ins.ltv as { customer_id: number; name: string; region: string; lifetime_value: number }[];
    const top = [...rows].sort((a, b) => b.lifetime_value - a.lifetime_value || a.customer_id - b.customer_id).slice(0, 5);
    log.info(`top customer: ${top[0]?.name ?? 'none'} (${top[0]?.lifetime_value ?? 0})`);
    addMetadata({ customers: rows.length });
    return top.map((r, i) => ({ rank: i + 1, customer_id: r.customer_id, name: r.name, region: r.region, lifetime_value: r.lifetime_value }));
  },
});

export default codeLocation({
  name: 'jaffle',
  assets: [jaffle, topCustomers],
  resources: { warehouse: duckdb() },
});
