import type { Command } from 'commander';
import pc from 'picocolors';
import type { AssetEventType } from '../activities/catalog/catalog-store';
import { displayMetadataValue } from '../definitions/metadata';
import { loadValidWorkspace, workspaceGraph, withCatalog, type GlobalOptions } from './context';
import { CliExit, Exit } from './errors';

const TYPES: readonly AssetEventType[] = ['materialization', 'observation', 'check_evaluation'];

/** `cairn history <key>`: an asset's events, newest first, one page at a time. */
export function registerHistory(program: Command, globals: () => GlobalOptions): void {
  program
    .command('history <key>')
    .description("an asset's events (materializations, observations, check evaluations), newest first")
    .option('--type <type>', `only events of this type (${TYPES.join(', ')})`)
    .option('--partition <key>', 'only events of this partition')
    .option('--limit <n>', 'page size', '20')
    .option('--before <cursor>', 'the cursor printed at the end of the previous page')
    .option('--json', 'print { events, nextCursor } as JSON')
    .action(async (key: string, opts: { type?: string; partition?: string; limit: string; before?: string; json?: boolean }) => {
      if (opts.type !== undefined && !TYPES.includes(opts.type as AssetEventType)) throw new CliExit(Exit.badInput, `--type '${opts.type}' is not an event type; use one of ${TYPES.join(', ')}`);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new CliExit(Exit.badInput, `--limit must be a whole number >= 1, got '${opts.limit}'`);
      const before = opts.before === undefined ? undefined : Number(opts.before);
      if (before !== undefined && !Number.isInteger(before)) throw new CliExit(Exit.badInput, `--before must be a cursor printed by a previous page, got '${opts.before}'`);
      const ws = await loadValidWorkspace(globals());
      const graph = workspaceGraph(ws);
      if (!graph.has(key)) {
        const close = graph.closestKey(key);
        throw new CliExit(Exit.badInput, `unknown asset '${key}'${close ? `; did you mean '${close}'?` : ''}`);
      }
      const page = await withCatalog(ws.settings, (c) =>
        c.assetHistory(key, { limit, ...(opts.type ? { types: [opts.type as AssetEventType] } : {}), ...(opts.partition !== undefined ? { partition: opts.partition } : {}), ...(before !== undefined ? { before } : {}) }),
      );
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
        return;
      }
      for (const e of page.events) {
        const who = e.source === 'report' ? 'reported' : `run ${e.runId ?? ''}`;
        const md = Object.entries(e.metadata).map(([k, v]) => `${k}=${displayMetadataValue(v).slice(0, 60)}`).join(' ');
        const check = e.check ? `${e.check.name} ${e.check.passed ? pc.green('PASS') : e.check.severity === 'WARN' ? pc.yellow('WARN') : pc.red('FAIL')}  ` : '';
        process.stdout.write(`${pc.dim(e.at)}  ${e.type.padEnd(16)} ${check}${e.partition ? `[${e.partition}] ` : ''}${who}${e.dataVersion ? pc.dim(` dv=${e.dataVersion}`) : ''}  ${md}\n`);
      }
      if (page.events.length === 0) process.stdout.write('no events\n');
      if (page.nextCursor !== undefined) process.stdout.write(pc.dim(`more: cairn history ${key} --before ${page.nextCursor}\n`));
    });
}
