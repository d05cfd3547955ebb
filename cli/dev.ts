import type { Command } from 'commander';
import pc from 'picocolors';
import { startStack } from '../workers/supervisor';
import { loadValidWorkspace, type GlobalOptions } from './context';

/** `cairn dev`: the dev server (unless one answers), the orchestrator and one worker per code location, until Ctrl-C. */
export function registerDev(program: Command, globals: () => GlobalOptions): void {
  program
    .command('dev')
    .description('run the Temporal dev server (unless one answers at TEMPORAL_ADDRESS) and all workers, until interrupted')
    .action(async () => {
      const ws = await loadValidWorkspace(globals());
      const say = (l: string): void => void process.stdout.write(`${pc.dim('cairn')} ${l}\n`);
      const stack = await startStack(ws, { echoWorkers: true, say });
      say(`${pc.bold('ready')}. Temporal UI: ${pc.underline(stack.uiUrl)}`);
      say(`materialize from another terminal: npx cairn materialize --select '*'`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const onSignal = (): void => {
          if (stopping) return;
          stopping = true;
          say('stopping...');
          void stack.stop().then(resolve, resolve);
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
    });
}
