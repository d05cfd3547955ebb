import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ExecOptions, ExecResult, StepLogger } from '../definitions/asset';

const MAX_CAPTURED_STDOUT = 1024 * 1024;
const STDERR_TAIL_LINES = 20;

/** A subprocess run by a step exited with a non-zero code (or was killed). */
export class SubprocessError extends Error {
  override readonly name = 'SubprocessError';
  constructor(
    readonly command: string,
    readonly exitCode: number,
    readonly stderrTail: string[],
  ) {
    super(`'${command}' exited with code ${exitCode}${stderrTail.length > 0 ? `:\n${stderrTail.join('\n')}` : ''}`);
  }
}

/**
 * Runs `command` without a shell, streaming stdout lines to `log.info` and stderr lines to `log.warn`, and
 * killing it (SIGTERM) when `signal` aborts.
 */
export function runSubprocess(
  command: string,
  args: readonly string[],
  options: ExecOptions & { log: StepLogger; signal: AbortSignal },
): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: { ...process.env, ...(options.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
      killSignal: 'SIGTERM',
    });
    let stdout = '';
    const stderrTail: string[] = [];
    const out = createInterface({ input: child.stdout });
    const err = createInterface({ input: child.stderr });
    out.on('line', (line) => {
      options.log.info(line);
      stdout += `${line}\n`;
      if (stdout.length > MAX_CAPTURED_STDOUT) stdout = stdout.slice(stdout.length - MAX_CAPTURED_STDOUT);
    });
    err.on('line', (line) => {
      options.log.warn(line);
      stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    });
    const streamsClosed = Promise.all([new Promise((r) => out.once('close', r)), new Promise((r) => err.once('close', r))]);
    child.once('error', (e) => {
      if (options.signal.aborted) reject(options.signal.reason ?? e);
      else reject(new Error(`cannot run '${command}': ${e.message}`));
    });
    child.once('close', (code, sig) => {
      void streamsClosed.then(() => {
        const exitCode = code ?? (sig ? 128 : 1);
        if (options.signal.aborted) return reject(options.signal.reason ?? new Error('aborted'));
        if (exitCode !== 0 && !options.allowFailure) return reject(new SubprocessError(command, exitCode, stderrTail));
        resolve({ exitCode, stdout });
      });
    });
  });
}
