import type { Command } from 'commander';
import pc from 'picocolors';
import type { RunFilter, RunStatus } from '../activities/catalog/catalog-store';
import { parseDuration } from '../definitions/freshness';
import { settingsOnly, withCatalog, type GlobalOptions } from './context';
import { CliExit, Exit } from './errors';
import { runLink } from './run-progress';

const STATUSES: readonly RunStatus[] = ['running', 'succeeded', 'failed', 'canceled'];

/** `--since 24h` (a duration back from now) or an ISO date/time. */
export function parseSince(value: string, flag: string, now = new Date()): string {
  if (/^\d+[a-z]/i.test(value) && !/^\d{4}-/.test(value)) {
    try {
      return new Date(now.getTime() - parseDuration(value)).toISOString();
    } catch (err) {
      throw new CliExit(Exit.badInput, `${flag} '${value}': ${(err as Error).message}`);
    }
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new CliExit(Exit.badInput, `${flag} '${value}' is neither a duration like '24h' nor an ISO date like '2024-06-01'`);
  return new Date(t).toISOString();
}

/** `cairn runs`: the run index, newest first, with Temporal UI links. */
export function registerRuns(program: Command, globals: () => GlobalOptions): void {
  program
    .command('runs')
    .description('list runs, newest first, with their Temporal UI links')
    .option('--asset <key>', 'only runs that planned this asset')
    .option('--status <status>', `only runs with this status (${STATUSES.join(', ')})`)
    .option('--trigger <trigger>', 'only runs started this way (cli, sdk, manual, reexecution, schedule, ...)')
    .option('--since <when>', "only runs started since: a duration back from now ('24h', '7d') or an ISO date")
    .option('--until <when>', 'only runs started before this ISO date (or duration back from now)')
    .option('--limit <n>', 'at most this many runs', '20')
    .option('--json', 'print a JSON array')
    .action(async (opts: { asset?: string; status?: string; trigger?: string; since?: string; until?: string; limit: string; json?: boolean }) => {
      if (opts.status !== undefined && !STATUSES.includes(opts.status as RunStatus)) {
        throw new CliExit(Exit.badInput, `--status '${opts.status}' is not a run status; use one of ${STATUSES.join(', ')}`);
      }
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new CliExit(Exit.badInput, `--limit must be a whole number >= 1, got '${opts.limit}'`);
      const filter: RunFilter = {
        limit,
        ...(opts.asset ? { asset: opts.asset } : {}),
        ...(opts.status ? { status: opts.status as RunStatus } : {}),
        ...(opts.trigger ? { trigger: opts.trigger } : {}),
        ...(opts.since ? { since: parseSince(opts.since, '--since') } : {}),
        ...(opts.until ? { until: parseSince(opts.until, '--until') } : {}),
      };
      const settings = settingsOnly(globals());
      const runs = await withCatalog(settings, (catalog) => catalog.listRuns(filter));
      const rows = runs.map((r) => ({ ...r, url: runLink(settings.uiUrl, settings.namespace, r.workflowId, r.runId) }));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) {
        process.stdout.write('no runs match\n');
        return;
      }
      for (const r of rows) {
        const color = r.status === 'succeeded' ? pc.green : r.status === 'failed' ? pc.red : r.status === 'running' ? pc.cyan : pc.yellow;
        const lineage = r.parentRunId ? pc.dim(` re-executes ${r.parentRunId}`) : '';
        process.stdout.write(`${pc.bold(r.runId)}  ${color(r.status.padEnd(9))}  ${r.startedAt}  ${r.trigger.padEnd(11)}  ${r.stepCount} steps  '${r.selection}'${lineage}\n    ${pc.dim(r.url)}\n`);
      }
    });
}
