import type { Command } from 'commander';
import pc from 'picocolors';
import { selectAssets } from '../definitions/selection';
import { loadValidWorkspace, workspaceGraph, withCatalog, type GlobalOptions } from './context';

export interface AssetStatusRow {
  key: string;
  codeLocation: string;
  external: boolean;
  lastMaterialization?: { runId: string; at: string; metadata: Record<string, unknown> };
  lastRun?: { runId: string; status: string; at: string; error?: string };
}

/** `cairn status`: per asset, the last materialization, its run, and the latest step outcome. */
export function registerStatus(program: Command, globals: () => GlobalOptions): void {
  program
    .command('status')
    .description('show per asset the last materialization, its run and status')
    .option('-s, --select <selection>', 'asset selection', '*')
    .option('--json', 'print a JSON array')
    .action(async (opts: { select: string; json?: boolean }) => {
      const ws = await loadValidWorkspace(globals());
      const graph = workspaceGraph(ws);
      const keys = selectAssets(opts.select, graph);
      const statuses = await withCatalog(ws.settings, (catalog) => catalog.assetStatuses(keys));
      const rows: AssetStatusRow[] = keys.map((key) => {
        const s = statuses.get(key);
        const m = s?.lastMaterialization;
        const step = s?.lastStep;
        return {
          key,
          codeLocation: graph.node(key).codeLocation,
          external: !!graph.node(key).isExternal,
          ...(m ? { lastMaterialization: { runId: m.runId, at: m.at, metadata: m.metadata } } : {}),
          ...(step ? { lastRun: { runId: step.runId, status: step.status, at: step.at, ...(step.error ? { error: step.error } : {}) } } : {}),
        };
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const width = Math.max(3, ...rows.map((r) => r.key.length));
      process.stdout.write(pc.bold(`${'KEY'.padEnd(width)}  ${'LAST MATERIALIZED'.padEnd(24)}  ${'LAST STEP'.padEnd(12)}  RUN\n`));
      for (const r of rows) {
        const when = r.lastMaterialization?.at ?? (r.external ? pc.dim('external') : pc.dim('never'));
        const st = r.lastRun?.status ?? '-';
        const color = st === 'materialized' ? pc.green : st === 'failed' ? pc.red : st === 'skipped' ? pc.yellow : pc.dim;
        process.stdout.write(`${r.key.padEnd(width)}  ${when.padEnd(24)}  ${color(st.padEnd(12))}  ${r.lastRun?.runId ?? r.lastMaterialization?.runId ?? '-'}\n`);
      }
    });
}
