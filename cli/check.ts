import type { Command } from 'commander';
import pc from 'picocolors';
import { loadWorkspaceModules, type GlobalOptions } from './context';
import { CliExit, Exit, printProblems } from './errors';

/** `cairn check`: validates a workspace for users' own CI; lists every problem and exits 2 when there is one. */
export function registerCheck(program: Command, globals: () => GlobalOptions): void {
  program
    .command('check')
    .description('validate the workspace and its code locations; exit 2 listing every problem')
    .option('--json', 'print problems as JSON')
    .action(async (opts: { json?: boolean }) => {
      const ws = await loadWorkspaceModules(globals());
      const assets = ws.locations.reduce((n, l) => n + l.location.assets.length, 0);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ok: ws.problems.length === 0, locations: ws.locations.length, assets, problems: ws.problems.map((p) => ({ code: p.code, message: p.message, where: p.where })) }, null, 2)}\n`);
        if (ws.problems.length > 0) throw new CliExit(Exit.badInput, '');
        return;
      }
      if (ws.problems.length > 0) {
        printProblems(ws.problems);
        throw new CliExit(Exit.badInput, '');
      }
      process.stdout.write(`${pc.green('✔')} workspace ${ws.file} is valid: ${ws.locations.length} code location${ws.locations.length === 1 ? '' : 's'}, ${assets} assets\n`);
    });
}
