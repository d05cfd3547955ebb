import type { Command } from 'commander';
import pc from 'picocolors';
import { selectAssets } from '../definitions/selection';
import { loadValidWorkspace, workspaceGraph, type GlobalOptions } from './context';

export interface ListedAsset {
  key: string;
  group: string;
  kinds: string[];
  deps: string[];
  codeLocation: string;
}

/** `cairn list`: the workspace's assets, optionally selected, as a table or `--json`. */
export function registerList(program: Command, globals: () => GlobalOptions): void {
  program
    .command('list')
    .description('list assets with group, kinds, deps and code location')
    .option('-s, --select <selection>', "asset selection, e.g. 'group:marts' or '+marts/revenue'", '*')
    .option('--json', 'print a JSON array of { key, group, kinds, deps, codeLocation }')
    .action(async (opts: { select: string; json?: boolean }) => {
      const ws = await loadValidWorkspace(globals());
      const graph = workspaceGraph(ws);
      const keys = selectAssets(opts.select, graph);
      const rows: ListedAsset[] = keys.map((k) => {
        const n = graph.node(k);
        return { key: n.key, group: n.group, kinds: [...n.kinds], deps: [...n.deps], codeLocation: n.codeLocation };
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const width = Math.max(3, ...rows.map((r) => r.key.length));
      process.stdout.write(pc.bold(`${'KEY'.padEnd(width)}  ${'GROUP'.padEnd(12)}  ${'LOCATION'.padEnd(12)}  ${'KINDS'.padEnd(16)}  DEPS\n`));
      for (const r of rows) {
        const external = graph.node(r.key).isExternal ? pc.dim(' (external)') : '';
        process.stdout.write(`${r.key.padEnd(width)}  ${r.group.padEnd(12)}  ${r.codeLocation.padEnd(12)}  ${r.kinds.join(',').padEnd(16)}  ${r.deps.join(', ') || '-'}${external}\n`);
      }
    });
}
