/**
 * The DuckDB warehouse resource. It holds no file handle while idle: the first step that needs the warehouse
 * opens it, concurrent steps share that instance (one connection each), and the last one to finish closes it,
 * so other workers and dbt can open the same file in between.
 */
import { resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sql as sqlFragment, type SqlFragment } from '../../definitions/sql';
import { runQuery, runStatement, streamQuery } from './duckdb-run';
import { acquireLease, closeInstance, isInstanceOpen, withFileReleased, type InstanceSpec } from './instance-registry';

/** Options of {@link duckdb}. */
export interface DuckDBResourceOptions {
  /** The database file (relative paths resolve against the working directory), or `':memory:'`. */
  path: string;
  /** How long opening keeps retrying while another process holds the file (default 60 000 ms). */
  lockTimeoutMs?: number;
}

/** Default for {@link DuckDBResourceOptions.lockTimeoutMs}. */
/** The embedded default warehouse; workers set CAIRN_WAREHOUSE_PATH to the workspace's own. */
export const DEFAULT_WAREHOUSE_PATH = '.cairn/warehouse.duckdb';

export const DEFAULT_LOCK_TIMEOUT_MS = 60_000;

let memoryDatabases = 0;

/**
 * A DuckDB warehouse. Every resource of one process naming the same file shares one instance and one lease
 * count. An in-memory database (`':memory:'`) is private to its resource and stays open until {@link close},
 * since closing it would discard its data.
 * @example
 * const warehouse = duckdb({ path: '.cairn/warehouse.duckdb' });
 * const rows = await warehouse.query(warehouse.sql`select count(*) as n from raw_stripe.payments`);
 */
export class DuckDBResource {
  /** Resource kind, for the IO manager and diagnostics. */
  readonly type = 'duckdb';
  /** The path as given (`':memory:'` or a file path). */
  readonly path: string;
  private readonly spec: InstanceSpec;

  constructor(opts: DuckDBResourceOptions) {
    if (typeof opts?.path !== 'string' || opts.path.trim() === '') {
      throw new TypeError("duckdb({ path }) needs a database file path or ':memory:'");
    }
    const lockTimeoutMs = opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    if (!Number.isFinite(lockTimeoutMs) || lockTimeoutMs < 0) {
      throw new RangeError(`lockTimeoutMs must be a non-negative number of milliseconds, got ${lockTimeoutMs}`);
    }
    this.path = opts.path;
    const memory = opts.path === ':memory:';
    this.spec = memory
      ? { key: `:memory:#${++memoryDatabases}`, file: ':memory:', keepOpen: true, lockTimeoutMs }
      : { key: resolve(opts.path), file: resolve(opts.path), keepOpen: false, lockTimeoutMs };
  }

  /**
   * Builds a SQL fragment without running it (the same as `sql` from definitions). Returned from an asset, the
   * fragment is materialized as a table inside DuckDB.
   * @example
   * return warehouse.sql`select * from ${payments} where amount > ${10}`;
   */
  sql(strings: TemplateStringsArray, ...values: unknown[]): SqlFragment {
    return sqlFragment(strings, ...values);
  }

  /** Whether the database is open right now (false while idle, except for `':memory:'`). */
  get isOpen(): boolean {
    return isInstanceOpen(this.spec.key);
  }

  /**
   * Leases a connection for the duration of `fn`. The instance is opened if no lease is active (waiting with
   * backoff while another process holds the file, up to `lockTimeoutMs`, then failing with `DuckDBLockedError`)
   * and closed when the last lease ends. Do not keep the connection after `fn` settles.
   */
  async withConnection<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const lease = await acquireLease(this.spec);
    try {
      return await fn(lease.connection);
    } finally {
      lease.release();
    }
  }

  /**
   * Runs a query and returns its rows as plain objects: BIGINT → number when safe, else a string; DECIMAL →
   * number; DATE → `YYYY-MM-DD`; TIMESTAMP → ISO-8601 UTC; JSON → parsed.
   */
  async query<T = Record<string, unknown>>(q: SqlFragment | string): Promise<T[]> {
    return this.withConnection((conn) => runQuery<T>(conn, q));
  }

  /** Runs a statement, discarding any result. */
  async execute(q: SqlFragment | string): Promise<void> {
    await this.withConnection((conn) => runStatement(conn, q));
  }

  /**
   * Streams a query's rows in batches of `size` rows, holding one lease until the iteration ends; iterate to the
   * end or `break` (both release it).
   */
  async *stream(q: SqlFragment | string, size = 10_000): AsyncGenerator<Record<string, unknown>[]> {
    const lease = await acquireLease(this.spec);
    try {
      yield* streamQuery(lease.connection, q, size);
    } finally {
      lease.release();
    }
  }

  /** The database file as an absolute path (`':memory:'` for an in-memory database). */
  get file(): string {
    return this.spec.file;
  }

  /**
   * Runs `fn` while this process keeps the file closed, for another process that writes it (dbt): steps of this
   * worker that need the warehouse wait until `fn` settles; steps already using it are waited for first.
   */
  async whileReleased<T>(fn: () => Promise<T>): Promise<T> {
    return withFileReleased(this.spec, fn);
  }

  /** Closes the database now, even if steps are using it (worker shutdown). A later call opens it again. */
  async close(): Promise<void> {
    await closeInstance(this.spec.key);
  }
}

/**
 * Declares a DuckDB warehouse resource.
 * @example
 * const warehouse = duckdb({ path: '.cairn/warehouse.duckdb' });
 */
export function duckdb(opts: Partial<DuckDBResourceOptions> = {}): DuckDBResource {
  return new DuckDBResource({ ...opts, path: opts.path ?? process.env.CAIRN_WAREHOUSE_PATH ?? DEFAULT_WAREHOUSE_PATH });
}
