/**
 * Runs `dbt build` as a child process (an argument array, never a shell), streaming its JSON log events to a
 * callback in order, and stopping it on cancellation: SIGINT first (dbt cancels its queries and exits), then
 * SIGTERM, then SIGKILL if it still runs.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseDbtLogLine, parseRunResults, type DbtLogEvent, type DbtRunResult } from './log-events';
import { dbtEnv, type DbtProjectLocation } from './project';

export interface DbtBuildOptions {
  project: DbtProjectLocation;
  /** `--select` arguments (`fqn:jaffle.staging.stg_orders`, ...). */
  selectors: readonly string[];
  vars?: Record<string, unknown>;
  env?: Record<string, string>;
  signal: AbortSignal;
  /** Called for every event, one at a time and in order (the next waits for the previous promise). */
  onEvent(event: DbtLogEvent): void | Promise<void>;
  /** How long dbt gets after SIGINT before SIGTERM, and after SIGTERM before SIGKILL (default 10 s). */
  graceMs?: number;
  /** Run `dbt test` (the selected models' tests against what is built) instead of `dbt build`. */
  testsOnly?: boolean;
}

export interface DbtBuildResult {
  exitCode: number;
  /** From `run_results.json`; empty when dbt did not write it (a crash, a bad profile). */
  results: DbtRunResult[];
  canceled: boolean;
  /** The command line, for messages. */
  command: string;
}

/** The `dbt build` argument list for a per-invocation target path. */
export function dbtBuildArgs(project: DbtProjectLocation, targetPath: string, selectors: readonly string[], vars?: Record<string, unknown>, subcommand: 'build' | 'test' = 'build'): string[] {
  return [
    subcommand,
    '--project-dir', project.dir,
    '--profiles-dir', project.profilesDir,
    '--target-path', targetPath,
    '--log-path', targetPath,
    '--log-format', 'json',
    '--no-use-colors',
    ...(project.target ? ['--target', project.target] : []),
    ...(vars && Object.keys(vars).length > 0 ? ['--vars', JSON.stringify(vars)] : []),
    ...(selectors.length > 0 ? ['--select', ...selectors] : []),
  ];
}

/**
 * Started through this shim, dbt gets SIGTERM when the worker dies (Linux `PR_SET_PDEATHSIG`, kept across
 * exec), so a crashed worker leaves no dbt behind still writing the warehouse while the retry starts.
 */
const PARENT_DEATH_SHIM = [
  'import ctypes, os, signal, sys',
  'ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)',
  'os.execv(sys.argv[1], sys.argv[1:])',
].join('\n');

/** The command and arguments that run `executable args`: through the venv's Python shim where there is one. */
export function dbtLaunch(executable: string, args: readonly string[]): { command: string; args: string[] } {
  const python = join(dirname(executable), 'python');
  if (process.platform === 'linux' && existsSync(python)) return { command: python, args: ['-c', PARENT_DEATH_SHIM, executable, ...args] };
  return { command: executable, args: [...args] };
}

export async function runDbtBuild(opts: DbtBuildOptions): Promise<DbtBuildResult> {
  const targetPath = mkdtempSync(join(tmpdir(), 'cairn-dbt-'));
  // Reuse the partial-parse state of the last `dbt parse`, so the invocation does not parse the project again.
  const partial = join(opts.project.dir, 'target', 'partial_parse.msgpack');
  if (existsSync(partial)) copyFileSync(partial, join(targetPath, 'partial_parse.msgpack'));
  const subcommand = opts.testsOnly ? 'test' : 'build';
  const args = dbtBuildArgs(opts.project, targetPath, opts.selectors, opts.vars, subcommand);
  const command = `dbt ${subcommand} ${opts.selectors.length > 0 ? `--select ${opts.selectors.slice(0, 3).join(' ')}${opts.selectors.length > 3 ? ' ...' : ''}` : ''}`.trim();
  const grace = opts.graceMs ?? 10_000;
  try {
    const launch = dbtLaunch(opts.project.executable, args);
    const child = spawn(launch.command, launch.args, {
      cwd: opts.project.dir,
      env: dbtEnv({ DBT_TARGET_PATH: targetPath, ...(opts.env ?? {}) }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let chain: Promise<void> = Promise.resolve();
    let callbackError: unknown;
    const deliver = (e: DbtLogEvent): void => {
      chain = chain.then(() => opts.onEvent(e)).catch((err: unknown) => {
        callbackError ??= err;
      });
    };
    const out = createInterface({ input: child.stdout });
    const err = createInterface({ input: child.stderr });
    out.on('line', (line) => deliver(parseDbtLogLine(line)));
    err.on('line', (line) => deliver({ kind: 'raw', line }));
    const streamsClosed = Promise.all([new Promise((r) => out.once('close', r)), new Promise((r) => err.once('close', r))]);

    let canceled = false;
    const timers: NodeJS.Timeout[] = [];
    const stop = (): void => {
      canceled = true;
      child.kill('SIGINT');
      timers.push(setTimeout(() => child.kill('SIGTERM'), grace).unref());
      timers.push(setTimeout(() => child.kill('SIGKILL'), 2 * grace).unref());
    };
    if (opts.signal.aborted) stop();
    else opts.signal.addEventListener('abort', stop, { once: true });

    const exitCode = await new Promise<number>((resolve, reject) => {
      child.once('error', (e) => reject(new Error(`cannot run dbt (${opts.project.executable}): ${e.message}`)));
      child.once('close', (code, sig) => resolve(code ?? (sig ? 130 : 1)));
    }).finally(() => {
      opts.signal.removeEventListener('abort', stop);
      for (const t of timers) clearTimeout(t);
    });
    await streamsClosed;
    await chain;
    if (callbackError !== undefined) throw callbackError;
    const resultsFile = join(targetPath, 'run_results.json');
    let results: DbtRunResult[] = [];
    if (existsSync(resultsFile)) {
      try {
        results = parseRunResults(JSON.parse(readFileSync(resultsFile, 'utf8')));
      } catch {
        results = []; // a half-written file after a kill: the streamed events stand
      }
    }
    return { exitCode, results, canceled, command };
  } finally {
    rmSync(targetPath, { recursive: true, force: true });
  }
}
