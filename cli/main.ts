import { Command, CommanderError } from 'commander';
import pc from 'picocolors';
import { CairnError } from '../definitions/errors';
import { registerBackfill } from './backfill';
import { registerCatalog } from './catalog';
import { registerCheck } from './check';
import { registerChecks } from './checks';
import { registerCodecServer } from './codec-server';
import type { GlobalOptions } from './context';
import { registerDemo } from './demo';
import { registerDev } from './dev';
import { CliExit, Exit } from './errors';
import { registerLineage } from './lineage';
import { registerHistory } from './history';
import { registerJobs } from './jobs';
import { registerList } from './list';
import { registerLogs } from './logs';
import { registerMaterialize } from './materialize';
import { registerPartitions } from './partitions';
import { registerReexecute } from './reexecute';
import { registerReport } from './report';
import { registerAutomation } from './automation';
import { registerRuns } from './runs';
import { registerSchedules } from './schedules';
import { registerSensors } from './sensors';
import { registerStatus } from './status';
import { registerWap } from './wap';
import { registerWorker } from './worker';

const program = new Command('cairn')
  .description('Software-defined assets for TypeScript, run as Temporal workflows')
  .option('-w, --workspace <file>', 'workspace file (default: cairn.workspace.json here or above, or $CAIRN_WORKSPACE)')
  .showHelpAfterError()
  .exitOverride();
const globals = (): GlobalOptions => program.opts<GlobalOptions>();

registerDev(program, globals);
registerMaterialize(program, globals);
registerBackfill(program, globals);
registerJobs(program, globals);
registerSchedules(program, globals);
registerAutomation(program, globals);
registerSensors(program, globals);
registerList(program, globals);
registerLineage(program, globals);
registerCheck(program, globals);
registerChecks(program, globals);
registerStatus(program, globals);
registerLogs(program, globals);
registerRuns(program, globals);
registerReexecute(program, globals);
registerReport(program, globals);
registerHistory(program, globals);
registerCatalog(program, globals);
registerPartitions(program, globals);
registerDemo(program, globals);
registerWap(program, globals);
registerWorker(program, globals);
registerCodecServer(program, globals);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? Exit.ok : Exit.badInput;
  } else if (err instanceof CliExit) {
    if (err.message) process.stderr.write(`${err.exitCode === Exit.badInput ? pc.red('error: ') : ''}${err.message}\n`);
    process.exitCode = err.exitCode;
  } else if (err instanceof CairnError) {
    process.stderr.write(`${pc.red('error:')} [${err.code}] ${err.message}\n`);
    process.exitCode = Exit.badInput;
  } else {
    process.stderr.write(`${pc.red('error:')} ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = Exit.runFailed;
  }
}
