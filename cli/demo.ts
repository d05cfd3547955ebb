import type { Command } from 'commander';
import pc from 'picocolors';
import { startStack } from '../workers/supervisor';
import { loadValidWorkspace, type GlobalOptions } from './context';
import { Exit } from './errors';
import { runAndReport } from './materialize';

/**
 * `cairn demo`: brings up the embedded stack, materializes every asset of the workspace once, prints the
 * per-asset summary and the Temporal UI link, and stops everything it started.
 */
export function registerDemo(program: Command, globals: () => GlobalOptions): void {
  program
    .command('demo')
    .description('start everything, materialize all assets once, print the summary, stop')
    .option('-s, --select <selection>', 'asset selection', '*')
    .action(async (opts: { select: string }) => {
      const started = Date.now();
      const ws = await loadValidWorkspace(globals());
      const say = (l: string): void => void process.stdout.write(`${pc.dim('cairn')} ${l}\n`);
      const stack = await startStack(ws, { echoWorkers: false, say });
      try {
        const summary = await runAndReport(ws.settings, { selection: opts.select }, {});
        say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s${stack.startedServer ? '; the dev server keeps its state in .cairn/ for the next run' : ''}`);
        if (summary.status !== 'succeeded') process.exitCode = Exit.runFailed;
      } finally {
        await stack.stop();
      }
    });
}
