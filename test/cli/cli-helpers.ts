import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { CAIRN_HOME } from '../../workers/settings';

export const CAIRN_BIN = resolve(CAIRN_HOME, 'bin/cairn.js');
export const FIXTURES = resolve(CAIRN_HOME, 'test/fixtures/workspaces');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `cairn` command in a child process. */
export function cairn(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolveRun) => {
    execFile(process.execPath, [CAIRN_BIN, ...args], { cwd: opts.cwd ?? CAIRN_HOME, env: { ...process.env, NO_COLOR: '1', ...opts.env }, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** Starts a long-running `cairn` command and resolves once its output contains `readyText`. */
export function startCairn(args: string[], readyText: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [CAIRN_BIN, ...args], { cwd: opts.cwd ?? CAIRN_HOME, env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`'cairn ${args.join(' ')}' did not print '${readyText}' in time; output:\n${out}`));
    }, opts.timeoutMs ?? 120_000);
    const check = (): void => {
      if (out.includes(readyText)) {
        clearTimeout(timer);
        resolveStart({ child, output: () => out });
      }
    };
    child.stdout?.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`'cairn ${args.join(' ')}' exited with ${code} before it was ready; output:\n${out}`));
    });
  });
}
