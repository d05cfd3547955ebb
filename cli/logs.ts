import type { Command } from 'commander';
import pc from 'picocolors';
import { settingsOnly, withCatalog, type GlobalOptions } from './context';
import { CliExit, Exit } from './errors';

/** `cairn logs <runId>`: the log lines that steps wrote with `ctx.log`, kept with the run in the catalog. */
export function registerLogs(program: Command, globals: () => GlobalOptions): void {
  program
    .command('logs <runId>')
    .description('print the log lines of a run, as kept in the catalog')
    .option('--asset <key>', 'only this asset')
    .option('--json', 'print JSON lines')
    .action(async (runId: string, opts: { asset?: string; json?: boolean }) => {
      const settings = settingsOnly(globals());
      const lines = await withCatalog(settings, async (catalog) => {
        if (!(await catalog.getRun(runId))) throw new CliExit(Exit.badInput, `no run '${runId}' in the catalog (a run id is the Temporal run id of the run's first execution)`);
        return await catalog.getLogs(runId, opts.asset);
      });
      for (const l of lines) {
        if (opts.json) process.stdout.write(`${JSON.stringify(l)}\n`);
        else process.stdout.write(`${pc.dim(l.at)} ${pc.cyan(l.assetKey)}${l.attempt > 1 ? pc.dim(`#${l.attempt}`) : ''} ${l.level === 'error' ? pc.red(l.message) : l.level === 'warn' ? pc.yellow(l.message) : l.message}\n`);
      }
    });
}
