import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { devServerSearchAttributeArgs } from '../definitions/search-attributes';

export interface DevServerOptions {
  temporalBin: string;
  ip?: string;
  /** gRPC port; 0 picks a free one. Default 7233. */
  port?: number;
  /** Web UI port; default port + 1000. */
  uiPort?: number;
  /** SQLite file for the server's state; omitted = in memory. */
  dbFile?: string;
  headless?: boolean;
  /** Where the server's own log goes; omitted = discarded. */
  logFile?: string;
  extraArgs?: string[];
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** True when a Temporal frontend answers at `address` within `timeoutMs`. */
export async function temporalAnswers(address: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    try {
      await connection.workflowService.getSystemInfo({}, );
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

/**
 * Starts `temporal server start-dev` from the bootstrap's `.venv` (never a download) and waits until its
 * frontend answers. The Web UI's news feed is off: this machine may have no internet.
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port === 0 ? await freePort() : (opts.port ?? 7233);
  const uiPort = opts.headless ? undefined : (opts.uiPort ?? (opts.port === 0 ? await freePort() : port + 1000));
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--log-level', 'error'];
  if (opts.dbFile) {
    mkdirSync(dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  if (opts.headless) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-disable-news-fetch');
  args.push(...devServerSearchAttributeArgs(), ...(opts.extraArgs ?? []));
  let out: 'ignore' | number = 'ignore';
  if (opts.logFile) {
    mkdirSync(dirname(opts.logFile), { recursive: true });
    out = openSync(opts.logFile, 'a');
  }
  const child = spawn(opts.temporalBin, args, { stdio: ['ignore', out, out], detached: false });
  let exited: { code: number | null } | undefined;
  child.on('exit', (code) => (exited = { code }));
  const address = `${ip}:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  while (!(await temporalAnswers(address, 1000))) {
    if (exited) throw new Error(`temporal dev server exited with code ${exited.code} before answering at ${address}${opts.logFile ? `; see ${opts.logFile}` : ''} (is the port taken?)`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`temporal dev server did not answer at ${address} within ${opts.startTimeoutMs ?? 60_000} ms`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const stop = async (): Promise<void> => {
    if (exited) return;
    const done = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
  };
  return { address, ...(uiPort ? { uiUrl: `http://localhost:${uiPort}` } : {}), process: child, stop };
}
