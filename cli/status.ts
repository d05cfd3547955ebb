import { Option, type Command } from 'commander';
import pc from 'picocolors';
import { assetStates, type AssetStateRow } from '../activities/asset-states';
import { selectAssets } from '../definitions/selection';
import type { AssetState } from '../definitions/staleness';
import { loadValidWorkspace, settingsOnly, workspaceGraph, withCatalog, type GlobalOptions } from './context';
import { partitionStatusReport } from '../activities/partition-status';
import { printPartitionStatus } from './partitions';
import type { StoredAssetEvent } from '../activities/catalog/catalog-store';

const STATE_COLOR: Record<AssetState, (s: string) => string> = {
  FRESH: pc.green, STALE: pc.yellow, MISSING: pc.dim, FAILED: pc.red, IN_PROGRESS: pc.cyan,
};

/**
 * `cairn status`: per asset its state (MISSING, FRESH, STALE with causes, FAILED, IN_PROGRESS), last materialization
 * and freshness. With `--partitions <key>`: the status of each partition of one asset (from the published snapshot
 * and the catalog), as ranges.
 */
export function registerStatus(program: Command, globals: () => GlobalOptions): void {
  program
    .command('status')
    .description('show per asset its state (MISSING, FRESH, STALE and why, FAILED, IN_PROGRESS), last materialization and freshness')
    .option('-s, --select <selection>', 'asset selection', '*')
    .addOption(new Option('--partitions <assetKey>', "show the status of each partition of one asset, as ranges (materialized, failed, in_progress, missing)").conflicts('select'))
    .option('--json', 'print a JSON array (with --partitions: { asset, total, counts, ranges })')
    .action(async (opts: { select: string; partitions?: string; json?: boolean }) => {
      if (opts.partitions !== undefined) {
        const assetKey = opts.partitions;
        const report = await withCatalog(settingsOnly(globals()), (catalog) => partitionStatusReport(catalog, assetKey, new Date()));
        if (opts.json) {
          const { asset, total, counts, ranges } = report;
          process.stdout.write(`${JSON.stringify({ asset, total, counts, ranges }, null, 2)}\n`);
        } else {
          printPartitionStatus(report);
        }
        return;
      }
      const ws = await loadValidWorkspace(globals());
      const graph = workspaceGraph(ws);
      const keys = selectAssets(opts.select, graph);
      const { rows, checks } = await withCatalog(ws.settings, async (catalog) => ({
        rows: await assetStates(catalog, graph, keys),
        checks: checkSummaries(await catalog.latestCheckEvaluations(keys)),
      }));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows.map((r) => ({ ...r, ...(checks.has(r.key) ? { checks: checks.get(r.key) } : {}) })), null, 2)}\n`);
        return;
      }
      printStatusTable(rows, process.stdout, checks);
    });
}

function lastSeen(r: AssetStateRow): string {
  const m = r.lastMaterialization;
  if (m) return `${m.at}${m.source === 'report' ? ' (reported)' : ''}`;
  if (r.lastObservation) return `${r.lastObservation.at} (observed)`;
  return r.external ? 'external, never reported' : 'never';
}

/** The latest result of each asset's checks: how many passed, and the names of those that did not. */
export interface CheckSummary {
  passed: number;
  failed: string[];
  warned: string[];
}

function checkSummaries(latest: readonly StoredAssetEvent[]): Map<string, CheckSummary> {
  const out = new Map<string, CheckSummary>();
  for (const e of latest) {
    if (!e.check) continue;
    const s = out.get(e.assetKey) ?? { passed: 0, failed: [], warned: [] };
    if (e.check.passed) s.passed++;
    else (e.check.severity === 'WARN' ? s.warned : s.failed).push(e.check.name);
    out.set(e.assetKey, s);
  }
  return out;
}

function checksCell(s: CheckSummary | undefined): { text: string; color: (t: string) => string } {
  if (!s) return { text: '-', color: pc.dim };
  const total = s.passed + s.failed.length + s.warned.length;
  if (s.failed.length > 0) return { text: `${s.failed.length}/${total} FAIL`, color: pc.red };
  if (s.warned.length > 0) return { text: `${s.warned.length}/${total} WARN`, color: pc.yellow };
  return { text: `${total}/${total} PASS`, color: pc.green };
}

export function printStatusTable(rows: AssetStateRow[], out: NodeJS.WritableStream = process.stdout, checks: ReadonlyMap<string, CheckSummary> = new Map()): void {
  const width = Math.max(3, ...rows.map((r) => r.key.length));
  out.write(pc.bold(`${'KEY'.padEnd(width)}  ${'STATE'.padEnd(11)}  ${'LAST MATERIALIZED'.padEnd(36)}  ${'FRESHNESS'.padEnd(16)}  ${'CHECKS'.padEnd(11)}  WHY\n`));
  for (const r of rows) {
    const why = r.state === 'FAILED' && r.lastStep?.error
      ? `last attempt failed (run ${r.lastStep.runId}): ${r.lastStep.error.split('\n')[0]}`
      : r.state === 'IN_PROGRESS' ? `run ${r.inProgressRunId ?? ''}` : r.causes.map((c) => c.message).join('; ');
    const f = r.freshness;
    const fresh = f ? `${f.status}${f.lag ? ` ${f.lag}` : ''}` : '-';
    const freshColor = f?.status === 'PASS' ? pc.green : f?.status === 'WARN' ? pc.yellow : f?.status === 'FAIL' ? pc.red : pc.dim;
    const c = checks.get(r.key);
    const failing = c && (c.failed.length > 0 || c.warned.length > 0) ? `checks: ${[...c.failed, ...c.warned].join(', ')} (cairn checks)` : '';
    const reasons = [why, f && f.status !== 'PASS' ? `freshness: ${f.reason}` : '', failing].filter(Boolean).join('; ');
    const cell = checksCell(c);
    out.write(`${r.key.padEnd(width)}  ${STATE_COLOR[r.state](r.state.padEnd(11))}  ${lastSeen(r).padEnd(36)}  ${freshColor(fresh.padEnd(16))}  ${cell.color(cell.text.padEnd(11))}  ${reasons}\n`);
  }
}
