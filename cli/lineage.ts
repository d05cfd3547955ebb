import type { Command } from 'commander';
import pc from 'picocolors';
import { CairnError } from '../definitions/errors';
import { formatLineage, lineageOf, LINEAGE_FORMATS, parseLineageDepth, parseLineageFormat, type LineageFormat } from '../definitions/lineage';
import { loadValidWorkspace, workspaceGraph, type GlobalOptions } from './context';
import { CliExit, Exit } from './errors';

interface LineageFlags {
  upstream: string;
  downstream: string;
  format: string;
}

/** `cairn lineage <key>`: an asset with its upstream and downstream, as text, Mermaid, DOT or JSON. */
export function registerLineage(program: Command, globals: () => GlobalOptions): void {
  program
    .command('lineage <key>')
    .description("show an asset's upstream and downstream lineage (text, mermaid, dot or json)")
    .option('--upstream <depth>', "levels upstream: a whole number (0 for none) or 'all'", 'all')
    .option('--downstream <depth>', "levels downstream: a whole number (0 for none) or 'all'", 'all')
    .option('--format <format>', `output format: ${LINEAGE_FORMATS.join(', ')}`, 'text')
    .action(async (key: string, opts: LineageFlags) => {
      // Flags are checked before the workspace loads, so a typo fails fast.
      let upstream: number | undefined;
      let downstream: number | undefined;
      let format: LineageFormat;
      try {
        upstream = parseLineageDepth(opts.upstream, '--upstream');
        downstream = parseLineageDepth(opts.downstream, '--downstream');
        format = parseLineageFormat(opts.format);
      } catch (err) {
        if (err instanceof CairnError) throw new CliExit(Exit.badInput, err.message);
        throw err;
      }
      const ws = await loadValidWorkspace(globals());
      const lineage = lineageOf(workspaceGraph(ws), key, { upstream, downstream }); // an unknown key is a CairnError: exit 2
      const style = { focus: (s: string) => pc.bold(pc.cyan(s)), heading: pc.bold, dim: pc.dim, external: pc.yellow };
      process.stdout.write(`${formatLineage(lineage, format, format === 'text' ? style : {})}\n`);
    });
}
