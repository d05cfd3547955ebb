import type { Command } from 'commander';
import { settingsOnly, type GlobalOptions } from './context';
import { CliExit, Exit } from './errors';
import { preflight, runAndReport } from './materialize';

/** `cairn reexecute <runId> --from-failure | --all`: a new run linked to the original. */
export function registerReexecute(program: Command, globals: () => GlobalOptions): void {
  program
    .command('reexecute <runId>')
    .description('start a new run linked to an earlier one: only its failed and skipped steps (--from-failure) or all of it (--all)')
    .option('--from-failure', 'run only the failed and skipped steps; upstream values are read from storage')
    .option('--all', "run the original run's whole selection again")
    .option('--json', 'print one JSON object instead of progress')
    .option('--workflow-id <id>', 'workflow id to use instead of a generated one')
    .action(async (runId: string, opts: { fromFailure?: boolean; all?: boolean; json?: boolean; workflowId?: string }) => {
      if (!!opts.fromFailure === !!opts.all) throw new CliExit(Exit.badInput, 'give exactly one of --from-failure or --all');
      const mode = opts.fromFailure ? 'from-failure' : 'all';
      const settings = settingsOnly(globals());
      const planned = await preflight(settings, { reexecute: { runId, mode } });
      if (!opts.json) process.stdout.write(`re-executing ${planned.plan.steps.length} step(s) of run ${runId}: ${planned.plan.steps.map((s) => s.key).join(', ')}\n`);
      const summary = await runAndReport(settings, { reexecute: { runId, mode }, trigger: 'reexecution' }, { ...(opts.json ? { json: true } : {}), ...(opts.workflowId ? { workflowId: opts.workflowId } : {}) });
      if (summary.status !== 'succeeded') process.exitCode = Exit.runFailed;
    });
}
