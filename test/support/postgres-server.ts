// A real, private PostgreSQL server for tests and benchmarks: no mocks, no Docker.
//
// startPostgres() runs Debian's packaged binaries (/usr/lib/postgresql/<highest version>/bin): initdb into a
// fresh temporary directory, then pg_ctl start on a free 127.0.0.1 port with durability switched off (fsync,
// synchronous_commit, full_page_writes), so a throwaway cluster is ready in
// one to two seconds on an idle machine (initdb is most of that). Authentication is
// `trust` and the superuser is `cairn`, so the URL needs no password.
//
// initdb and postgres refuse to run as root. Under root (as in CI containers) every server command runs as the
// `postgres` OS user through `runuser`, and the temporary directory is chowned to that user.
//
// stop() shuts the server down and deletes its directory. Servers that were never stopped (a crashed or
// interrupted test run) are killed synchronously on process exit and on SIGINT/SIGTERM/SIGHUP.
import { execFile, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../workers/dev-server';

export interface PostgresServer {
  /** postgres://cairn@127.0.0.1:PORT/dbname */
  url: string;
  port: number;
  /** the cluster's data directory (PGDATA) */
  dataDir: string;
  /** Stops the server (fast shutdown) and removes its temporary directory. Safe to call more than once. */
  stop(): Promise<void>;
}

const SUPERUSER = 'cairn';
const OS_USER = 'postgres';
const PG_ROOT = '/usr/lib/postgresql';
const START_TIMEOUT_S = 60;
const PORT_ATTEMPTS = 3;

interface Binaries {
  initdb: string;
  pgCtl: string;
  postgres: string;
}

interface RunResult {
  stdout: string;
  stderr: string;
}

/** A server that has not been stopped yet; the exit safety net kills these. */
interface LiveServer {
  pgCtl: string;
  dataDir: string;
  root: string;
  asRoot: boolean;
  /** initdb / pg_ctl processes still running for this server */
  children: Set<ChildProcess>;
}

const live = new Set<LiveServer>();
let safetyNetInstalled = false;
let installing: Promise<void> | undefined;

const isRoot = (): boolean => process.getuid?.() === 0;

/** The argv that runs `command args` as the postgres OS user when we are root, or as ourselves otherwise. */
function asServerUser(asRoot: boolean, command: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', OS_USER, '--', command, ...args]] : [command, args];
}

function run(file: string, args: string[], options: { cwd?: string; timeoutMs: number; children?: Set<ChildProcess> }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { cwd: options.cwd, timeout: options.timeoutMs, killSignal: 'SIGTERM', maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        options.children?.delete(child);
        if (error) {
          const reason = error.killed ? `timed out after ${options.timeoutMs} ms` : `failed (${error.code ?? error.message})`;
          const output = [stdout.trim(), stderr.trim()].filter(Boolean).join('\n');
          reject(new Error(`${[file, ...args].join(' ')} ${reason}${output ? `:\n${output}` : ''}`, { cause: error }));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
    options.children?.add(child);
    child.stdin?.end();
  });
}

/** The bin directory of the highest PostgreSQL major version installed under /usr/lib/postgresql, if any. */
function findBinaries(): Binaries | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(PG_ROOT, version, 'bin');
    const binaries = { initdb: join(bin, 'initdb'), pgCtl: join(bin, 'pg_ctl'), postgres: join(bin, 'postgres') };
    if (Object.values(binaries).every((path) => existsSync(path))) return binaries;
  }
  return undefined;
}

async function ensureBinaries(): Promise<Binaries> {
  const found = findBinaries();
  if (found) return found;
  if (!isRoot()) {
    throw new Error(
      `PostgreSQL server binaries not found under ${PG_ROOT}/<version>/bin (initdb, pg_ctl, postgres). ` +
        'Install them with: sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql',
    );
  }
  installing ??= (async () => {
    process.stderr.write('postgres-server: PostgreSQL not found; installing it with apt-get install -y postgresql\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const apt = (args: string[]) =>
      new Promise<void>((resolve, reject) => {
        execFile('apt-get', args, { env, timeout: 15 * 60_000, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) =>
          error ? reject(new Error(`apt-get ${args.join(' ')} failed: ${String(stderr).trim() || error.message}`, { cause: error })) : resolve(),
        );
      });
    // Wait for the dpkg lock rather than failing if another test process is installing at the same moment.
    await apt(['-o', 'DPkg::Lock::Timeout=600', 'update']);
    await apt(['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', 'postgresql']);
  })();
  try {
    await installing;
  } finally {
    installing = undefined;
  }
  const installed = findBinaries();
  if (!installed) throw new Error(`apt-get install postgresql finished but no server binaries were found under ${PG_ROOT}`);
  return installed;
}


/** Whether the postgres user can reach `dir` (every ancestor must be searchable by "other"). */
function traversableByOthers(dir: string): boolean {
  for (let current = dir; ; current = dirname(current)) {
    try {
      if ((statSync(current).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (dirname(current) === current) return true;
  }
}

function logSize(logFile: string): number {
  return existsSync(logFile) ? statSync(logFile).size : 0;
}

/** The last lines the server logged, starting at byte `from` (where this start attempt began writing). */
function logTail(logFile: string, from = 0, lines = 40): string {
  try {
    const text = readFileSync(logFile).subarray(from).toString('utf8').trimEnd();
    return text ? text.split('\n').slice(-lines).join('\n') : '(server.log is empty)';
  } catch {
    return '(no server.log)';
  }
}

function killNow(server: LiveServer): void {
  live.delete(server);
  // An initdb or pg_ctl still in flight (interrupted while starting) would otherwise outlive us.
  // SIGTERM, not SIGKILL: runuser passes SIGTERM on to its child, but a SIGKILLed runuser would orphan it.
  for (const child of server.children) child.kill('SIGTERM');
  server.children.clear();
  if (existsSync(join(server.dataDir, 'postmaster.pid'))) {
    const [file, args] = asServerUser(server.asRoot, server.pgCtl, ['stop', '-m', 'immediate', '-w', '-t', '10', '-D', server.dataDir]);
    spawnSync(file, args, { cwd: server.root, stdio: 'ignore', timeout: 15_000 });
  }
  rmSync(server.root, { recursive: true, force: true, maxRetries: 3 });
}

function killAllNow(): void {
  for (const server of [...live]) {
    try {
      killNow(server);
    } catch {
      // best effort: the process is going away
    }
  }
}

function installSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  process.on('exit', killAllNow);
  // Signals skip 'exit' handlers, so clean up on them too. If we are the only listener, re-raise the signal so
  // the process still dies the way it would have without us; otherwise leave the decision to the other listeners.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAllNow();
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

function serverUrl(port: number, database: string): string {
  return `postgres://${SUPERUSER}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

async function createDatabaseOnPort(port: number, name: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: SUPERUSER, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

/** Starts a fresh private PostgreSQL cluster and creates `database` (default `cairn_test`) in it. */
export async function startPostgres(opts: { database?: string } = {}): Promise<PostgresServer> {
  const database = opts.database ?? 'cairn_test';
  const binaries = await ensureBinaries();
  const asRoot = isRoot();
  const owner = asRoot ? userIds(OS_USER) : undefined;

  // Under root the postgres user must be able to reach the directory; a private TMPDIR (say, under /root) would
  // not do, so fall back to /tmp.
  const base = asRoot && !traversableByOthers(tmpdir()) ? '/tmp' : tmpdir();
  const root = mkdtempSync(join(base, 'cairn-pg-'));
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'socket');
  const logFile = join(root, 'server.log');
  mkdirSync(socketDir);
  if (owner) {
    chownSync(root, owner.uid, owner.gid);
    chownSync(socketDir, owner.uid, owner.gid);
    chmodSync(root, 0o700);
  }

  const entry: LiveServer = { pgCtl: binaries.pgCtl, dataDir, root, asRoot, children: new Set() };
  const exec = (command: string, args: string[], timeoutMs: number) => {
    const [file, argv] = asServerUser(asRoot, command, args);
    return run(file, argv, { cwd: root, timeoutMs, children: entry.children });
  };
  installSafetyNet();
  live.add(entry);

  try {
    await exec(binaries.initdb, ['-D', dataDir, '-A', 'trust', '-U', SUPERUSER, '--no-sync', '-E', 'UTF8', '--locale=C'], 120_000);

    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const logStart = logSize(logFile);
      const options = [
        `-p ${port}`,
        `-k ${socketDir}`,
        '-c listen_addresses=127.0.0.1',
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
      ].join(' ');
      try {
        await exec(binaries.pgCtl, ['start', '-w', '-t', String(START_TIMEOUT_S), '-D', dataDir, '-l', logFile, '-o', options], (START_TIMEOUT_S + 15) * 1000);
        break;
      } catch (error) {
        const tail = logTail(logFile, logStart);
        // Someone else grabbed the port between freePort() and postgres binding it: try another one.
        if (attempt < PORT_ATTEMPTS && /could not bind|address already in use/i.test(tail)) continue;
        throw new Error(`PostgreSQL failed to start on port ${port}: ${(error as Error).message}\n--- tail of ${logFile} ---\n${tail}`, { cause: error });
      }
    }

    await createDatabaseOnPort(port, database);

    let stopping: Promise<void> | undefined;
    return {
      url: serverUrl(port, database),
      port,
      dataDir,
      stop() {
        stopping ??= (async () => {
          try {
            // No postmaster.pid means the server is already gone (it crashed or was killed): nothing to stop.
            if (existsSync(join(dataDir, 'postmaster.pid'))) {
              await exec(binaries.pgCtl, ['stop', '-m', 'fast', '-w', '-t', '30', '-D', dataDir], 45_000);
            }
          } catch (error) {
            // Fast shutdown did not finish: make sure nothing survives, then report the original failure.
            killNow(entry);
            throw error;
          }
          live.delete(entry);
          rmSync(root, { recursive: true, force: true, maxRetries: 3 });
        })();
        return stopping;
      },
    };
  } catch (error) {
    killNow(entry);
    throw error;
  }
}

/** Creates an extra empty database on the server and returns its URL. */
export async function createDatabase(server: PostgresServer, name: string): Promise<string> {
  await createDatabaseOnPort(server.port, name);
  return serverUrl(server.port, name);
}

function userIds(user: string): { uid: number; gid: number } {
  const result = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const groups = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  const uid = Number(result.stdout.trim());
  const gid = Number(groups.stdout.trim());
  if (result.status !== 0 || groups.status !== 0 || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error(`running as root, but there is no '${user}' OS user to run PostgreSQL as (the Debian postgresql package creates it)`);
  }
  return { uid, gid };
}
