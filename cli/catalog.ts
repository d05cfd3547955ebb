import type { Command } from 'commander';
import { parseDuration } from '../definitions/freshness';
import { settingsOnly, withCatalog, type GlobalOptions } from './context';
import { CliExit, Exit } from './errors';

/** `cairn catalog prune`: retention of the event log. */
export function registerCatalog(program: Command, globals: () => GlobalOptions): void {
  const catalog = program.command('catalog').description('maintain the catalog');
  catalog
    .command('prune')
    .description("delete events and step logs older than the retention age, keeping each asset's latest event of each kind")
    .option('--older-than <age>', "age such as '90d' (default: catalog.retention.maxAge of the workspace file)")
    .option('--dry-run', 'count what would be deleted, delete nothing')
    .option('--json', 'print the counts as JSON')
    .action(async (opts: { olderThan?: string; dryRun?: boolean; json?: boolean }) => {
      const settings = settingsOnly(globals());
      const age = opts.olderThan ?? settings.retentionMaxAge;
      if (age === undefined) throw new CliExit(Exit.badInput, 'no retention age: pass --older-than 90d or set catalog.retention.maxAge in cairn.workspace.json');
      let ms: number;
      try {
        ms = parseDuration(age);
      } catch (err) {
        throw new CliExit(Exit.badInput, `${opts.olderThan ? '--older-than' : 'catalog.retention.maxAge'} '${age}': ${(err as Error).message}`);
      }
      const before = new Date(Date.now() - ms).toISOString();
      const result = await withCatalog(settings, (c) => c.prune(before, { dryRun: !!opts.dryRun }));
      if (opts.json) process.stdout.write(`${JSON.stringify({ before, dryRun: !!opts.dryRun, ...result })}\n`);
      else process.stdout.write(`${opts.dryRun ? 'would delete' : 'deleted'} ${result.events} event(s) and ${result.logs} log line(s) older than ${before}\n`);
    });
}
