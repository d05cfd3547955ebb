/**
 * Process-wide registry of open DuckDB instances, counted by leases. DuckDB lets one process at a time open a
 * file read-write, and opening the same file twice inside one process would corrupt it, so every resource of
 * this process that names the same file shares one entry here: the file is opened when the first lease is
 * taken and closed when the last is released, leaving it free for other workers (and dbt) while idle.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/** What to open and how: `key` identifies the shared entry (the absolute file path, or a per-resource id for `:memory:`). */
export interface InstanceSpec {
  readonly key: string;
  /** Absolute file path, or `:memory:`. */
  readonly file: string;
  /** Keep the instance open while idle (an in-memory database would lose its data if closed). */
  readonly keepOpen: boolean;
  /** How long to keep retrying while another process holds the file lock. */
  readonly lockTimeoutMs: number;
}

/** A connection on a shared instance; `release` closes the connection and drops the lease (idempotent). */
export interface Lease {
  readonly connection: DuckDBConnection;
  release(): void;
}

/** The warehouse file stayed locked by another process for longer than the lock timeout. */
export class DuckDBLockedError extends Error {
  override readonly name = 'DuckDBLockedError';
  constructor(
    readonly path: string,
    readonly waitedMs: number,
    cause: unknown,
  ) {
    super(
      `DuckDB warehouse '${path}' is locked by another process; gave up after ${(waitedMs / 1000).toFixed(1)} s ` +
        `(${messageOf(cause)}). Only one process at a time can open a DuckDB file: stop the other process ` +
        `(a worker of another code location, dbt, a DuckDB shell) or give this resource a different file.`,
      { cause },
    );
  }
}

interface Entry {
  readonly spec: InstanceSpec;
  instance?: DuckDBInstance;
  opening?: Promise<DuckDBInstance>;
  leases: number;
  readonly connections: Set<DuckDBConnection>;
  closed: boolean;
}

const entries = new Map<string, Entry>();
/** Files handed to another process (dbt) for now: leases wait until the gate opens. */
const gates = new Map<string, Promise<void>>();

const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 1000;

/** Takes a lease: opens the instance if no lease is active (retrying while the file is locked), then connects. */
export async function acquireLease(spec: InstanceSpec): Promise<Lease> {
  for (let gate = gates.get(spec.key); gate; gate = gates.get(spec.key)) await gate;
  let entry = entries.get(spec.key);
  if (!entry) {
    entry = { spec, leases: 0, connections: new Set(), closed: false };
    entries.set(spec.key, entry);
  }
  const held = entry;
  held.leases++;
  let connection: DuckDBConnection;
  try {
    const instance = held.instance ?? (await (held.opening ??= openEntry(held)));
    if (held.closed) throw closedError(held);
    connection = await instance.connect();
  } catch (err) {
    dropLease(held);
    throw err;
  }
  held.connections.add(connection);
  let released = false;
  return {
    connection,
    release: () => {
      if (released) return;
      released = true;
      held.connections.delete(connection);
      try {
        connection.closeSync();
      } catch {
        // already closed by a forced close
      }
      dropLease(held);
    },
  };
}

/**
 * Runs `fn` while this process holds the file neither open nor leased, so another process (dbt) may write it:
 * new leases wait, current ones are waited for, then the instance is closed; before `fn` runs, the file is
 * opened and closed once more with the usual lock retry, which waits while another process holds it.
 */
export async function withFileReleased<T>(spec: InstanceSpec, fn: () => Promise<T>): Promise<T> {
  if (spec.file === ':memory:') throw new Error('an in-memory DuckDB database cannot be shared with another process; give the warehouse a file path');
  for (let gate = gates.get(spec.key); gate; gate = gates.get(spec.key)) await gate;
  let open!: () => void;
  gates.set(spec.key, new Promise<void>((r) => (open = r)));
  try {
    while (entries.has(spec.key)) await sleep(FIRST_DELAY_MS);
    (await openWithRetry(spec)).closeSync();
    return await fn();
  } finally {
    gates.delete(spec.key);
    open();
  }
}

/** Whether the instance for `key` is open right now. */
export function isInstanceOpen(key: string): boolean {
  return entries.get(key)?.instance !== undefined;
}

/**
 * Closes the instance for `key` now, even with leases active: their connections are interrupted and closed
 * (for worker shutdown). A later lease opens the file again.
 */
export async function closeInstance(key: string): Promise<void> {
  const entry = entries.get(key);
  if (!entry) return;
  entry.closed = true;
  entries.delete(key);
  if (entry.opening) await entry.opening.catch(() => undefined);
  for (const connection of entry.connections) {
    try {
      connection.interrupt();
      connection.closeSync();
    } catch {
      // best effort: the process is shutting down
    }
  }
  entry.connections.clear();
  entry.instance?.closeSync();
  entry.instance = undefined;
}

function dropLease(entry: Entry): void {
  if (entry.closed) return;
  entry.leases--;
  if (entry.leases > 0 || entry.spec.keepOpen) return;
  entry.instance?.closeSync();
  entry.instance = undefined;
  entries.delete(entry.spec.key);
}

async function openEntry(entry: Entry): Promise<DuckDBInstance> {
  try {
    const instance = await openWithRetry(entry.spec);
    if (entry.closed) {
      instance.closeSync();
      throw closedError(entry);
    }
    entry.instance = instance;
    return instance;
  } finally {
    entry.opening = undefined;
  }
}

async function openWithRetry(spec: InstanceSpec): Promise<DuckDBInstance> {
  if (spec.file !== ':memory:') mkdirSync(dirname(spec.file), { recursive: true });
  const started = Date.now();
  let delay = FIRST_DELAY_MS;
  for (;;) {
    try {
      return await DuckDBInstance.create(spec.file);
    } catch (err) {
      if (!isLockError(err)) {
        throw new Error(`could not open DuckDB warehouse '${spec.file}': ${messageOf(err)}`, { cause: err });
      }
      const waited = Date.now() - started;
      if (waited >= spec.lockTimeoutMs) throw new DuckDBLockedError(spec.file, waited, err);
      await sleep(Math.min(delay, spec.lockTimeoutMs - waited));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }
}

/** Whether DuckDB refused to open a file because another process holds its lock. */
export function isLockError(err: unknown): boolean {
  return /could not set lock|conflicting lock/i.test(messageOf(err));
}

function closedError(entry: Entry): Error {
  return new Error(`DuckDB warehouse '${entry.spec.file}' was closed while a step was waiting to use it`);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
