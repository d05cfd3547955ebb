import pc from 'picocolors';
import { CairnError } from '../definitions/errors';

/** Exit codes are a contract: 0 success, 1 the run failed (or could not run), 2 bad input. */
export const Exit = { ok: 0, runFailed: 1, badInput: 2 } as const;

/** Thrown by commands to end with a message and an exit code. */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function printProblems(problems: readonly CairnError[], stream: NodeJS.WritableStream = process.stderr): void {
  stream.write(`${pc.red(`${problems.length} problem${problems.length === 1 ? '' : 's'}:`)}\n`);
  for (const p of problems) stream.write(`  ${pc.red('✖')} [${p.code}] ${p.message.replace(/\n/g, '\n    ')}\n`);
}
