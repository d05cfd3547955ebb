import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, temporalAnswers } from '../../workers/dev-server';
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

/**
 * `cairn dev` for a workspace on free ports with its own state folder, for integration tests. `stop` ends it
 * with SIGINT, checks that the dev server it started is gone and removes the state folder.
 */
export async function startDev(workspaceArgs: string[], prefix: string): Promise<{ env: NodeJS.ProcessEnv; stop(): Promise<void> }> {
  const stateDir = mkdtempSync(join(tmpdir(), prefix));
  const env: NodeJS.ProcessEnv = { TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, CAIRN_UI_PORT: String(await freePort()), CAIRN_STATE_DIR: stateDir };
  const { child } = await startCairn([...workspaceArgs, 'dev'], 'ready.', { env, timeoutMs: 180_000 });
  return {
    env,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        await exited;
      }
      const stillUp = await temporalAnswers(env.TEMPORAL_ADDRESS as string);
      rmSync(stateDir, { recursive: true, force: true });
      if (stillUp) throw new Error('cairn dev did not stop the dev server it started');
    },
  };
}
