import { ALL_CHECKED_ASSETS_CTE, CHECK_NAMES_CTE, NEWEST_CHECK_EVENT } from './check-queries';
import pg from 'pg';
import { LocationSnapshotSchema, type LocationSnapshot } from '../../definitions/snapshot';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import type {
  AssetEvent, AssetEventType, AssetHistoryPage, AssetHistoryQuery, AssetPartition, AssetStatus, AutomationEvaluationRecord, CatalogStore, LogLine,
  MaterializationMark, PartitionState, PruneResult, RunEvent, RunFilter, RunRecord, RunStart, RunStatus, StepResultRecord, StoredAssetEvent,
  StoredAutomationEvaluation,
} from './catalog-store';
import { evaluationLimit, pairColumns, rowPairKey, toAutomationEvaluation } from './automation-rows';
import { redact } from './open-catalog';
import { checkPartitionArgs, mergePartitionStates, runPartitionColumn } from './partition-rows';
import { EVENT_COLUMNS, EVENT_UPDATABLE, eventValues, LATEST_EVENT_JSON_COLUMNS, LATEST_KINDS, STEP_JSON_COLUMNS, str, toEvent, toLogLine, toRun, toRunEvent, toStep, tooNewMessage, type Row } from './rows';

/** How long opening the pool waits for a first connection: a wrong host or port fails fast. */
const CONNECT_TIMEOUT_MS = 5_000;

/** Default number of connections per store (per process). */
const DEFAULT_POOL_SIZE = 10;

/**
 * Key of the transaction-scoped advisory lock that serializes migrations: concurrent openers (orchestrator,
 * location workers, CLI) queue on it instead of racing on `CREATE TABLE`. Advisory locks are per database.
 */
const MIGRATION_LOCK_KEY = 0x636169726e; // "cairn"

/** Deadlock and serialization failures abort one transaction of a pair; every write here can simply run again. */
const RETRYABLE_CODES = new Set(['40P01', '40001']);
const WRITE_ATTEMPTS = 3;

/**
 * Text columns compare byte-wise (`COLLATE "C"`), as SQLite's BINARY collation does, so that ordering by asset
 * key, name or ISO timestamp is the same in both stores whatever locale the database was created with.
 */
const T = 'TEXT COLLATE "C"';

/**
 * Versioned schema migrations, the PostgreSQL twin of the SQLite list (same tables and columns, same versions);
 * append only, never edit an applied one. PostgreSQL catalogs never had schema 1's `materializations` table,
 * so version 2 creates the event log directly.
 */
const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'initial catalog',
    sql: `
      CREATE TABLE location_snapshots (
        name ${T} PRIMARY KEY, version ${T} NOT NULL, snapshot ${T} NOT NULL, published_at ${T} NOT NULL);
      CREATE TABLE snapshot_history (
        name ${T} NOT NULL, version ${T} NOT NULL, snapshot ${T} NOT NULL, published_at ${T} NOT NULL,
        PRIMARY KEY (name, version));
      CREATE TABLE runs (
        run_id ${T} PRIMARY KEY, seq BIGINT GENERATED ALWAYS AS IDENTITY, workflow_id ${T} NOT NULL, selection ${T} NOT NULL,
        tags ${T} NOT NULL, status ${T} NOT NULL, step_count INTEGER NOT NULL, started_at ${T} NOT NULL, finished_at ${T}, summary ${T});
      CREATE INDEX runs_by_start ON runs (started_at, seq);
      CREATE TABLE step_results (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, run_id ${T} NOT NULL, asset_key ${T} NOT NULL, status ${T} NOT NULL,
        error ${T}, attempt INTEGER NOT NULL, at ${T} NOT NULL, UNIQUE (run_id, asset_key));
      CREATE INDEX step_results_by_asset ON step_results (asset_key, at);
      CREATE TABLE logs (
        run_id ${T} NOT NULL, asset_key ${T} NOT NULL, attempt INTEGER NOT NULL, seq BIGINT NOT NULL,
        level ${T} NOT NULL, message ${T} NOT NULL, at ${T} NOT NULL, PRIMARY KEY (run_id, asset_key, attempt, seq));`,
  },
  {
    version: 2,
    name: 'event log, run index, latest-event pointers',
    sql: `
      CREATE TABLE events (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_key ${T} NOT NULL UNIQUE, type ${T} NOT NULL, asset_key ${T},
        partition ${T}, partition_key ${T} NOT NULL DEFAULT '', run_id ${T}, attempt INTEGER NOT NULL DEFAULT 1,
        at ${T} NOT NULL, metadata ${T} NOT NULL DEFAULT '{}', code_version ${T}, data_version ${T},
        input_data_versions ${T}, code_location ${T}, source ${T} NOT NULL DEFAULT 'run',
        check_name ${T} NOT NULL DEFAULT '', check_result ${T}, run_status ${T});
      CREATE INDEX events_by_asset ON events (asset_key, type, id);
      CREATE INDEX events_by_run ON events (run_id, id);
      CREATE INDEX events_by_time ON events (at);
      CREATE TABLE asset_latest (
        asset_key ${T} NOT NULL, kind ${T} NOT NULL, ref_id BIGINT NOT NULL, at ${T} NOT NULL, PRIMARY KEY (asset_key, kind));
      INSERT INTO asset_latest (asset_key, kind, ref_id, at)
        SELECT DISTINCT ON (asset_key) asset_key, 'step', id, at FROM step_results ORDER BY asset_key, at DESC, id DESC;
      ALTER TABLE runs ADD COLUMN run_trigger ${T} NOT NULL DEFAULT 'manual';
      ALTER TABLE runs ADD COLUMN locations ${T} NOT NULL DEFAULT '[]';
      ALTER TABLE runs ADD COLUMN partition ${T};
      ALTER TABLE runs ADD COLUMN parent_run_id ${T};
      ALTER TABLE runs ADD COLUMN root_run_id ${T};
      ALTER TABLE runs ADD COLUMN config ${T};
      CREATE INDEX runs_by_status ON runs (status, started_at);
      CREATE TABLE run_assets (run_id ${T} NOT NULL, asset_key ${T} NOT NULL, PRIMARY KEY (run_id, asset_key));
      CREATE INDEX run_assets_by_asset ON run_assets (asset_key, run_id);
      INSERT INTO run_assets (run_id, asset_key) SELECT run_id, asset_key FROM step_results ON CONFLICT DO NOTHING;`,
  },
  {
    version: 3,
    name: 'run partitions, dynamic partitions',
    // As in SQLite: a run that recorded one partition before schema 3 targeted that key; a range is not expanded.
    sql: `
      CREATE TABLE run_partitions (run_id ${T} NOT NULL, partition_key ${T} NOT NULL, PRIMARY KEY (run_id, partition_key));
      INSERT INTO run_partitions (run_id, partition_key)
        SELECT run_id, partition FROM runs WHERE partition IS NOT NULL AND partition <> '' AND strpos(partition, '...') = 0;
      CREATE TABLE dynamic_partitions (
        name ${T} NOT NULL, partition_key ${T} NOT NULL, seq BIGINT GENERATED ALWAYS AS IDENTITY, added_at ${T} NOT NULL,
        PRIMARY KEY (name, partition_key));
      CREATE INDEX dynamic_partitions_by_seq ON dynamic_partitions (name, seq);`,
  },
  {
    version: 4,
    name: 'latest check evaluations index',
    // Only check evaluations, so materializations and observations do not pay for it on write.
    sql: `CREATE INDEX events_by_check ON events (asset_key, check_name, id) WHERE type = 'check_evaluation';`,
  },
  {
    version: 5,
    name: 'automation evaluations, settings, latest materialization per partition index',
    // As in SQLite: the unique key leads with the evaluation, so one evaluation's rows go to one place in it; the
    // partial indexes make the latest requested evaluation and the latest materialization of a pair one probe.
    sql: `
      CREATE TABLE automation_evaluations (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, evaluation_id ${T} NOT NULL, at ${T} NOT NULL, asset_key ${T} NOT NULL,
        partition_key ${T} NOT NULL DEFAULT '', requested BOOLEAN NOT NULL, reason ${T} NOT NULL, run_workflow_id ${T},
        watermark BIGINT NOT NULL, UNIQUE (evaluation_id, asset_key, partition_key));
      CREATE INDEX automation_requests ON automation_evaluations (asset_key, partition_key, id) WHERE requested;
      CREATE INDEX automation_evaluations_by_asset ON automation_evaluations (asset_key, id);
      CREATE INDEX automation_evaluations_by_time ON automation_evaluations (at);
      CREATE TABLE settings (key ${T} PRIMARY KEY, value ${T} NOT NULL);
      CREATE INDEX events_materialization_by_partition ON events (asset_key, partition_key, id) WHERE type = 'materialization';`,
  },
];

/** The newest schema version this code knows. */
export const POSTGRES_SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

/** The distinct pairs of a pair lookup as the row source `p(asset_key, partition_key)`, from two text arrays `$1`, `$2`. */
const PAIRS = '(SELECT DISTINCT a, k FROM unnest($1::text[], $2::text[]) AS t(a, k)) AS p(asset_key, partition_key)';

/** PostgreSQL text cannot hold NUL characters (SQLite can): free text from user code is stored with U+FFFD instead. */
const text = (s: string): string => (s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s);

/** Removes the URL's password (raw and percent-decoded) from `message`, as a backstop to {@link redact}. */
function scrub(message: string, url: string): string {
  let password: string;
  try {
    password = new URL(url).password;
  } catch {
    password = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@]*)@/i.exec(url)?.[1] ?? '';
  }
  let out = message;
  for (const secret of new Set([password, safeDecode(password)])) {
    if (secret !== '') out = out.split(secret).join('***');
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const reasonOf = (err: unknown): string => (err instanceof Error ? err.message || err.name : String(err)) || 'unknown error';

type Client = pg.PoolClient;

/**
 * The shared catalog on PostgreSQL (through a `pg` pool), for deployments where workers run on several hosts.
 * Same tables and semantics as {@link SqliteCatalogStore}: ISO timestamps and JSON are TEXT, ids are BIGINT
 * identities, and every multi-statement write runs in one transaction.
 */
export class PostgresCatalogStore implements CatalogStore {
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly where: string,
  ) {}

  /**
   * Connects to `url` (`postgres://user:password@host:port/db`), then applies pending migrations. Fails with
   * CATALOG_UNAVAILABLE when the server cannot be reached, CATALOG_TOO_NEW when the catalog is newer than this code.
   */
  static async open(url: string, opts: { poolSize?: number } = {}): Promise<PostgresCatalogStore> {
    const where = `'${redact(url)}'`;
    const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? DEFAULT_POOL_SIZE, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    // An idle connection that breaks (server restart) must not crash the process; the next query reports it.
    pool.on('error', () => {});
    try {
      const client = await pool.connect();
      client.release();
    } catch (err) {
      await pool.end().catch(() => {});
      throw new CairnError(ErrorCodes.CatalogUnavailable, scrub(`cannot connect to the PostgreSQL catalog ${where}: ${reasonOf(err)}`, url), 'catalog url');
    }
    const store = new PostgresCatalogStore(pool, where);
    try {
      await store.migrate();
    } catch (err) {
      await store.close();
      if (err instanceof CairnError) throw err;
      throw new CairnError(ErrorCodes.CatalogUnavailable, scrub(`cannot migrate the PostgreSQL catalog ${where}: ${reasonOf(err)}`, url), 'catalog url');
    }
    return store;
  }

  private db(): pg.Pool {
    if (this.closed) throw new CairnError(ErrorCodes.CatalogUnavailable, `the PostgreSQL catalog ${this.where} is closed`, 'catalog');
    return this.pool;
  }

  private async all(sql: string, ...params: unknown[]): Promise<Row[]> {
    return (await this.db().query(sql, params)).rows as Row[];
  }

  /** Runs `fn` in one transaction on one pooled connection (ROLLBACK on error); retries deadlock victims. */
  private async write<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.db().connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // the connection is gone: drop it from the pool
        }
        const code = (err as { code?: unknown }).code;
        if (attempt < WRITE_ATTEMPTS && typeof code === 'string' && RETRYABLE_CODES.has(code)) continue;
        throw err;
      } finally {
        client.release(broken);
      }
    }
  }

  async migrate(): Promise<void> {
    await this.write(async (c) => {
      // Taken before anything else, so concurrent migrators wait here rather than race on CREATE TABLE.
      await c.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      const applied = new Set((await c.query('SELECT version FROM schema_migrations')).rows.map((r: Row) => Number(r.version)));
      const newest = Math.max(0, ...applied);
      // Thrown inside the transaction: the rollback undoes even the CREATE TABLE IF NOT EXISTS above.
      if (newest > POSTGRES_SCHEMA_VERSION) throw new CairnError(ErrorCodes.CatalogTooNew, tooNewMessage(this.where, newest, POSTGRES_SCHEMA_VERSION), 'catalog');
      for (const m of MIGRATIONS) {
        if (applied.has(m.version)) continue;
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, new Date().toISOString()]);
      }
    });
  }

  async schemaVersion(): Promise<number> {
    return Number((await this.all('SELECT max(version) AS v FROM schema_migrations'))[0]?.v ?? 0);
  }

  async publishSnapshot(snapshot: LocationSnapshot, at: string): Promise<void> {
    const params = [snapshot.name, snapshot.version, JSON.stringify(snapshot), at];
    await this.write(async (c) => {
      await c.query(
        `INSERT INTO location_snapshots (name, version, snapshot, published_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET version = excluded.version, snapshot = excluded.snapshot, published_at = excluded.published_at`,
        params,
      );
      await c.query(
        `INSERT INTO snapshot_history (name, version, snapshot, published_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name, version) DO NOTHING`,
        params,
      );
    });
  }

  async getSnapshots(): Promise<LocationSnapshot[]> {
    return (await this.all('SELECT snapshot FROM location_snapshots ORDER BY name')).map((r) => LocationSnapshotSchema.parse(JSON.parse(str(r.snapshot))));
  }

  async removeSnapshot(location: string): Promise<void> {
    await this.all('DELETE FROM location_snapshots WHERE name = $1', location);
  }

  async recordRunStarted(run: RunStart): Promise<void> {
    await this.write(async (c) => {
      const inserted = await c.query(
        `INSERT INTO runs (run_id, workflow_id, selection, tags, status, step_count, started_at, run_trigger, locations,
           partition, parent_run_id, root_run_id, config)
         VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (run_id) DO NOTHING`,
        [
          run.runId, run.workflowId, run.selection, JSON.stringify(run.tags), run.stepCount, run.startedAt, run.trigger ?? 'manual',
          JSON.stringify(run.locations ?? []), runPartitionColumn(run), run.parentRunId ?? null, run.rootRunId ?? null,
          run.config === undefined ? null : JSON.stringify(run.config),
        ],
      );
      if (inserted.rowCount === 0) return;
      if (run.assetKeys?.length) {
        await c.query(
          'INSERT INTO run_assets (run_id, asset_key) SELECT $1::text, k FROM unnest($2::text[]) AS k ON CONFLICT DO NOTHING',
          [run.runId, run.assetKeys],
        );
      }
      if (run.partitionKeys?.length) {
        await c.query(
          'INSERT INTO run_partitions (run_id, partition_key) SELECT $1::text, k FROM unnest($2::text[]) AS k ON CONFLICT DO NOTHING',
          [run.runId, run.partitionKeys.map(text)],
        );
      }
      await c.query(
        `INSERT INTO events (event_key, type, run_id, at) VALUES ($1, 'run_started', $2, $3) ON CONFLICT (event_key) DO NOTHING`,
        [`run_started:${run.runId}`, run.runId, run.startedAt],
      );
    });
  }

  async recordRunFinished(runId: string, status: Exclude<RunStatus, 'running'>, finishedAt: string, summary?: unknown): Promise<void> {
    await this.write(async (c) => {
      const updated = await c.query(
        `UPDATE runs SET status = $1, finished_at = $2, summary = $3 WHERE run_id = $4 AND status = 'running'`,
        [status, finishedAt, summary === undefined ? null : JSON.stringify(summary), runId],
      );
      if (updated.rowCount === 0) return;
      await c.query(
        `INSERT INTO events (event_key, type, run_id, at, run_status) VALUES ($1, 'run_finished', $2, $3, $4) ON CONFLICT (event_key) DO NOTHING`,
        [`run_finished:${runId}`, runId, finishedAt, status],
      );
    });
  }

  /**
   * One statement for the whole batch: the rows travel as column arrays (`unnest`), so 10,000 results are one round
   * trip. PostgreSQL cannot upsert one row twice in a statement, so a batch holding the same (run, asset) more than
   * once keeps the entry a row-by-row upsert would end with: the last one of the highest attempt. Ids follow the
   * input order (ties of `at` read back in that order, as in SQLite); the latest-step pointers move once per asset.
   */
  async recordStepResults(results: StepResultRecord[]): Promise<void> {
    if (results.length === 0) return;
    const cols = {
      runId: [] as string[], assetKey: [] as string[], status: [] as string[], error: [] as (string | null)[], attempt: [] as number[], at: [] as string[],
    };
    for (const r of results) {
      cols.runId.push(r.runId);
      cols.assetKey.push(r.assetKey);
      cols.status.push(r.status);
      cols.error.push(r.error === undefined ? null : text(r.error));
      cols.attempt.push(r.attempt);
      cols.at.push(r.at);
    }
    await this.write((c) =>
      c.query(
        `WITH input AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[])
             WITH ORDINALITY AS t(run_id, asset_key, status, error, attempt, at, ord)
         ), winners AS (
           SELECT DISTINCT ON (run_id, asset_key) * FROM input ORDER BY run_id, asset_key, attempt DESC, ord DESC
         ), upserted AS (
           INSERT INTO step_results (run_id, asset_key, status, error, attempt, at)
             SELECT run_id, asset_key, status, error, attempt, at FROM winners ORDER BY ord
           ON CONFLICT (run_id, asset_key) DO UPDATE SET status = excluded.status, error = excluded.error,
             attempt = excluded.attempt, at = excluded.at
           WHERE excluded.attempt >= step_results.attempt
           RETURNING id, asset_key, at
         )
         INSERT INTO asset_latest (asset_key, kind, ref_id, at)
           SELECT DISTINCT ON (asset_key) asset_key, 'step', id, at FROM upserted ORDER BY asset_key, at DESC, id DESC
         ON CONFLICT (asset_key, kind) DO UPDATE SET ref_id = excluded.ref_id, at = excluded.at
         WHERE (excluded.at, excluded.ref_id) >= (asset_latest.at, asset_latest.ref_id)`,
        [cols.runId, cols.assetKey, cols.status, cols.error, cols.attempt, cols.at],
      ),
    );
  }

  /** Moves the asset's latest-of-kind pointer to this row unless the current one is newer. */
  private async pointLatest(c: Client, assetKey: string, kind: string, id: number, at: string): Promise<void> {
    await c.query(
      `INSERT INTO asset_latest (asset_key, kind, ref_id, at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (asset_key, kind) DO UPDATE SET ref_id = excluded.ref_id, at = excluded.at
       WHERE (excluded.at, excluded.ref_id) >= (asset_latest.at, asset_latest.ref_id)`,
      [assetKey, kind, id, at],
    );
  }

  async recordAssetEvent(e: AssetEvent): Promise<{ inserted: boolean }> {
    const values = eventValues(e);
    return this.write(async (c) => {
      const inserted = (
        await c.query(
          `INSERT INTO events (${EVENT_COLUMNS.join(', ')}) VALUES (${EVENT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
           ON CONFLICT (event_key) DO NOTHING RETURNING id`,
          values,
        )
      ).rows[0] as Row | undefined;
      let id = inserted ? Number(inserted.id) : undefined;
      if (id === undefined && e.source === 'run') {
        // A retry of the same step: update the one row in place; an older attempt arriving late changes nothing.
        // A reported event with a known id is a duplicate report: the first one stands.
        const n = EVENT_UPDATABLE.length;
        const updated = (
          await c.query(
            `UPDATE events SET ${EVENT_UPDATABLE.map((col, i) => `${col} = $${i + 1}`).join(', ')}
             WHERE event_key = $${n + 1} AND attempt <= $${n + 2} RETURNING id`,
            [...EVENT_UPDATABLE.map((col) => values[EVENT_COLUMNS.indexOf(col)]), e.eventKey, e.attempt],
          )
        ).rows[0] as Row | undefined;
        id = updated ? Number(updated.id) : undefined;
      }
      if (id !== undefined && LATEST_KINDS.has(e.type)) await this.pointLatest(c, e.assetKey, e.type, id, e.at);
      return { inserted: inserted !== undefined };
    });
  }

  /** One statement per call (the lines travel as column arrays); a single statement is atomic on its own. */
  async appendLogs(runId: string, assetKey: string, attempt: number, lines: LogLine[]): Promise<void> {
    if (lines.length === 0) return;
    await this.all(
      `INSERT INTO logs (run_id, asset_key, attempt, seq, level, message, at)
         SELECT $1::text, $2::text, $3::int, seq, level, message, at FROM unnest($4::bigint[], $5::text[], $6::text[], $7::text[]) AS t(seq, level, message, at)
       ON CONFLICT (run_id, asset_key, attempt, seq) DO NOTHING`,
      runId, assetKey, attempt, lines.map((l) => l.seq), lines.map((l) => l.level), lines.map((l) => text(l.message)), lines.map((l) => l.at),
    );
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const [row] = await this.all('SELECT * FROM runs WHERE run_id = $1', runId);
    return row && toRun(row);
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    const rows = await this.all(
      `SELECT * FROM runs r
       WHERE ($1::text IS NULL OR EXISTS (SELECT 1 FROM run_assets a WHERE a.run_id = r.run_id AND a.asset_key = $1::text))
         AND ($2::text IS NULL OR status = $2::text) AND ($3::text IS NULL OR run_trigger = $3::text)
         AND ($4::text IS NULL OR started_at >= $4::text) AND ($5::text IS NULL OR started_at < $5::text)
       ORDER BY started_at DESC, seq DESC LIMIT $6::bigint`,
      filter.asset ?? null, filter.status ?? null, filter.trigger ?? null, filter.since ?? null, filter.until ?? null,
      filter.limit === undefined ? null : Math.max(0, Math.floor(filter.limit)),
    );
    return rows.map(toRun);
  }

  async getRunAssets(runId: string): Promise<string[]> {
    return (await this.all('SELECT asset_key FROM run_assets WHERE run_id = $1 ORDER BY asset_key', runId)).map((r) => str(r.asset_key));
  }

  async getStepResults(runId: string): Promise<StepResultRecord[]> {
    return (await this.all('SELECT * FROM step_results WHERE run_id = $1 ORDER BY at, id', runId)).map(toStep);
  }

  async getLogs(runId: string, assetKey?: string): Promise<(LogLine & { assetKey: string; attempt: number })[]> {
    const rows = await this.all(
      'SELECT * FROM logs WHERE run_id = $1 AND ($2::text IS NULL OR asset_key = $2::text) ORDER BY at, asset_key, attempt, seq',
      runId, assetKey ?? null,
    );
    return rows.map(toLogLine);
  }

  /** One statement: the keys travel as one array; identities follow their order, so `seq` keeps the order added. */
  async addDynamicPartitions(name: string, keys: readonly string[], at: string): Promise<{ added: string[] }> {
    checkPartitionArgs(name, keys);
    const unique = [...new Set(keys)];
    if (unique.length === 0) return { added: [] };
    const rows = await this.all(
      `INSERT INTO dynamic_partitions (name, partition_key, added_at)
         SELECT $1::text, k, $3::text FROM unnest($2::text[]) WITH ORDINALITY AS t(k, ord) ORDER BY ord
       ON CONFLICT (name, partition_key) DO NOTHING RETURNING partition_key`,
      name, unique.map(text), at,
    );
    const added = new Set(rows.map((r) => str(r.partition_key)));
    return { added: unique.filter((k) => added.has(text(k))) };
  }

  async removeDynamicPartitions(name: string, keys: readonly string[]): Promise<{ removed: string[] }> {
    checkPartitionArgs(name, keys);
    const unique = [...new Set(keys)];
    if (unique.length === 0) return { removed: [] };
    const rows = await this.all(
      'DELETE FROM dynamic_partitions WHERE name = $1::text AND partition_key = ANY($2::text[]) RETURNING partition_key',
      name, unique.map(text),
    );
    const removed = new Set(rows.map((r) => str(r.partition_key)));
    return { removed: unique.filter((k) => removed.has(text(k))) };
  }

  async dynamicPartitionKeys(name: string): Promise<string[]> {
    return (await this.all('SELECT partition_key FROM dynamic_partitions WHERE name = $1 ORDER BY seq', name)).map((r) => str(r.partition_key));
  }

  /**
   * The same three set-based reads as the SQLite store, run at once: the latest materialization of each partition,
   * the latest failed step of each partition a run targeted, and the partitions of running runs that plan the asset
   * and have not materialized it (probing each partition's unique event key, so a range run of 10,000 keys is
   * 10,000 index probes, not a scan of the run's events per key).
   */
  async partitionStates(assetKey: string): Promise<Map<string, PartitionState>> {
    const [materialized, failed, running] = await Promise.all([
      this.all(
        `SELECT DISTINCT ON (partition) partition AS partition_key, run_id, at FROM events
         WHERE asset_key = $1 AND type = 'materialization' AND partition IS NOT NULL
         ORDER BY partition, at DESC, id DESC`,
        assetKey,
      ),
      this.all(
        `SELECT DISTINCT ON (p.partition_key) p.partition_key, s.run_id, s.at
         FROM step_results s JOIN run_partitions p ON p.run_id = s.run_id
         WHERE s.asset_key = $1 AND s.status = 'failed'
         ORDER BY p.partition_key, s.at DESC, s.id DESC`,
        assetKey,
      ),
      this.all(
        `SELECT p.partition_key, r.run_id, r.started_at AS at
         FROM runs r JOIN run_assets a ON a.run_id = r.run_id AND a.asset_key = $1 JOIN run_partitions p ON p.run_id = r.run_id
         WHERE r.status = 'running'
           AND NOT EXISTS (SELECT 1 FROM events e WHERE e.event_key = ('materialization:' || r.run_id || ':' || $1::text || ':' || p.partition_key) COLLATE "C")`,
        assetKey,
      ),
    ]);
    return mergePartitionStates(materialized, failed, running);
  }

  async assetHistory(assetKey: string, query: AssetHistoryQuery = {}): Promise<AssetHistoryPage> {
    const limit = Math.max(1, Math.floor(query.limit ?? 50));
    const rows = await this.all(
      `SELECT * FROM events WHERE asset_key = $1 AND ($2::text[] IS NULL OR type = ANY($2::text[]))
         AND ($3::text IS NULL OR partition_key = $3::text) AND ($4::bigint IS NULL OR id < $4::bigint)
       ORDER BY id DESC LIMIT $5::bigint`,
      assetKey, query.types ?? null, query.partition === undefined ? null : (query.partition ?? ''), query.before ?? null, limit + 1,
    );
    const events = rows.slice(0, limit).map(toEvent);
    const last = events.at(-1);
    return { events, ...(rows.length > limit && last ? { nextCursor: last.id } : {}) };
  }

  async runEvents(runId: string, types?: AssetEventType[]): Promise<StoredAssetEvent[]> {
    return (
      await this.all(
        `SELECT * FROM events WHERE run_id = $1 AND asset_key IS NOT NULL AND ($2::text[] IS NULL OR type = ANY($2::text[])) ORDER BY id`,
        runId, types ?? null,
      )
    ).map(toEvent);
  }

  async runLifecycleEvents(runId: string): Promise<RunEvent[]> {
    return (await this.all('SELECT * FROM events WHERE run_id = $1 AND asset_key IS NULL ORDER BY id', runId)).map(toRunEvent);
  }

  async countAssetEvents(filter: { runId?: string; assetKey?: string; type?: AssetEventType } = {}): Promise<number> {
    const [row] = await this.all(
      `SELECT count(*) AS n FROM events WHERE asset_key IS NOT NULL AND ($1::text IS NULL OR run_id = $1::text)
         AND ($2::text IS NULL OR asset_key = $2::text) AND ($3::text IS NULL OR type = $3::text)`,
      filter.runId ?? null, filter.assetKey ?? null, filter.type ?? null,
    );
    return Number(row?.n ?? 0);
  }

  async assetStatuses(keys?: string[]): Promise<Map<string, AssetStatus>> {
    const out = new Map<string, AssetStatus>();
    for (const k of keys ?? []) out.set(k, {});
    const keyList = keys ?? null;
    const inKeys = '($1::text[] IS NULL OR l.asset_key = ANY($1::text[]))';
    const update = (key: string, patch: AssetStatus): void => {
      out.set(key, { ...out.get(key), ...patch });
    };
    // Thousands of latest rows come back as one JSON array built by the server: far fewer values for the driver
    // to convert one by one (`cairn status` over 10,000 assets reads 20,000 rows).
    const asJson = async (columns: readonly (readonly [string, string])[], from: string): Promise<Row[]> => {
      const pairs = columns.map(([name, expr]) => `'${name}', ${expr}`).join(', ');
      const [row] = await this.all(`SELECT coalesce(json_agg(json_build_object(${pairs})), '[]'::json) AS rows_json FROM ${from}`, keyList);
      return (row?.rows_json ?? []) as Row[];
    };
    const [events, steps, running] = await Promise.all([
      asJson(LATEST_EVENT_JSON_COLUMNS, `asset_latest l JOIN events e ON e.id = l.ref_id WHERE l.kind <> 'step' AND ${inKeys}`),
      asJson(STEP_JSON_COLUMNS, `asset_latest l JOIN step_results s ON s.id = l.ref_id WHERE l.kind = 'step' AND ${inKeys}`),
      this.all(
        `SELECT l.asset_key, r.run_id FROM runs r JOIN run_assets l ON l.run_id = r.run_id
         WHERE r.status = 'running' AND ${inKeys}
           AND NOT EXISTS (SELECT 1 FROM events e WHERE e.run_id = r.run_id AND e.asset_key = l.asset_key AND e.type = 'materialization')
         ORDER BY r.started_at, r.seq`,
        keyList,
      ),
    ]);
    for (const row of events) {
      const e = toEvent(row);
      update(e.assetKey, row.latest_kind === 'materialization' ? { lastMaterialization: e } : { lastObservation: e });
    }
    for (const row of steps) {
      const s = toStep(row);
      update(s.assetKey, { lastStep: s });
    }
    for (const row of running) update(str(row.asset_key), { inProgressRunId: str(row.run_id) });
    return out;
  }

  /**
   * The same skip scans of events_by_check as the SQLite store (PostgreSQL has no loose index scan of its own):
   * each `min`/`max` below is one probe of the partial index, so the cost follows the number of checks. The events
   * are then fetched by id from an array: joined to the recursive CTE, whose size the planner cannot estimate, they
   * were read with a sequential scan of the whole log.
   */
  async latestCheckEvaluations(keys?: string[]): Promise<StoredAssetEvent[]> {
    const assets = keys === undefined ? ALL_CHECKED_ASSETS_CTE : 'assets(asset_key) AS (SELECT DISTINCT k COLLATE "C" FROM unnest($1::text[]) AS k)';
    const rows = await this.all(
      `WITH RECURSIVE ${assets}, ${CHECK_NAMES_CTE}
       SELECT e.* FROM events e WHERE e.id = ANY (ARRAY(SELECT ${NEWEST_CHECK_EVENT} FROM checks c WHERE c.check_name IS NOT NULL))
       ORDER BY e.asset_key, e.check_name`,
      ...(keys === undefined ? [] : [keys]),
    );
    return rows.map(toEvent);
  }

  /**
   * The pairs travel as two arrays (`unnest`); each pair is one backward probe of the partial index
   * `events_materialization_by_partition` (LATERAL ... LIMIT 1), however many partitions and materializations
   * the asset has.
   */
  async latestMaterializationsOf(pairs: readonly AssetPartition[]): Promise<Map<string, MaterializationMark>> {
    const out = new Map<string, MaterializationMark>();
    if (pairs.length === 0) return out;
    const { assetKeys, partitionKeys } = pairColumns(pairs);
    const rows = await this.all(
      `SELECT p.asset_key, p.partition_key, e.id, e.at, e.run_id FROM ${PAIRS}
       CROSS JOIN LATERAL (SELECT x.id, x.at, x.run_id FROM events x
         WHERE x.type = 'materialization' AND x.asset_key = p.asset_key AND x.partition_key = p.partition_key ORDER BY x.id DESC LIMIT 1) e`,
      assetKeys, partitionKeys.map(text),
    );
    for (const r of rows) out.set(rowPairKey(r), { id: Number(r.id), at: str(r.at), runId: r.run_id === null ? null : str(r.run_id) });
    return out;
  }

  async eventWatermark(): Promise<number> {
    return Number((await this.all('SELECT coalesce(max(id), 0) AS w FROM events'))[0]?.w ?? 0);
  }

  /** One statement (the records travel as column arrays), so the batch is atomic; ids follow the input order. */
  async recordAutomationEvaluations(records: readonly AutomationEvaluationRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.all(
      `INSERT INTO automation_evaluations (evaluation_id, at, asset_key, partition_key, requested, reason, run_workflow_id, watermark)
         SELECT evaluation_id, at, asset_key, partition_key, requested, reason, run_workflow_id, watermark
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::text[], $7::text[], $8::bigint[])
           WITH ORDINALITY AS t(evaluation_id, at, asset_key, partition_key, requested, reason, run_workflow_id, watermark, ord)
         ORDER BY ord
       ON CONFLICT (evaluation_id, asset_key, partition_key) DO NOTHING`,
      records.map((r) => r.evaluationId), records.map((r) => r.at), records.map((r) => r.assetKey), records.map((r) => text(r.partition ?? '')),
      records.map((r) => r.requested), records.map((r) => text(r.reason)), records.map((r) => r.runWorkflowId ?? null), records.map((r) => r.watermark),
    );
  }

  /** Like {@link latestMaterializationsOf}: one probe of the partial index `automation_requests` per pair. */
  async lastAutomationRequests(pairs: readonly AssetPartition[]): Promise<Map<string, StoredAutomationEvaluation>> {
    const out = new Map<string, StoredAutomationEvaluation>();
    if (pairs.length === 0) return out;
    const { assetKeys, partitionKeys } = pairColumns(pairs);
    const rows = await this.all(
      `SELECT e.* FROM ${PAIRS}
       CROSS JOIN LATERAL (SELECT * FROM automation_evaluations x
         WHERE x.requested AND x.asset_key = p.asset_key AND x.partition_key = p.partition_key ORDER BY x.id DESC LIMIT 1) e`,
      assetKeys, partitionKeys.map(text),
    );
    for (const r of rows) out.set(rowPairKey(r), toAutomationEvaluation(r));
    return out;
  }

  async automationEvaluations(assetKey: string, opts: { partition?: string | null; limit?: number } = {}): Promise<StoredAutomationEvaluation[]> {
    const rows = await this.all(
      `SELECT * FROM automation_evaluations WHERE asset_key = $1 AND ($2::text IS NULL OR partition_key = $2::text)
       ORDER BY id DESC LIMIT $3::bigint`,
      assetKey, opts.partition === undefined ? null : text(opts.partition ?? ''), evaluationLimit(opts.limit),
    );
    return rows.map(toAutomationEvaluation);
  }

  async pruneAutomationEvaluations(before: string): Promise<number> {
    const result = await this.db().query(
      `DELETE FROM automation_evaluations a WHERE a.at < $1::text AND NOT (a.requested AND a.id = (SELECT max(x.id) FROM automation_evaluations x
         WHERE x.requested AND x.asset_key = a.asset_key AND x.partition_key = a.partition_key))`,
      [before],
    );
    return result.rowCount ?? 0;
  }

  async getSetting(key: string): Promise<string | undefined> {
    const [row] = await this.all('SELECT value FROM settings WHERE key = $1', key);
    return row === undefined ? undefined : str(row.value);
  }

  async setSetting(key: string, value: string | undefined): Promise<void> {
    if (value === undefined) await this.all('DELETE FROM settings WHERE key = $1', key);
    else await this.all('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, text(value));
  }

  async prune(before: string, opts: { dryRun?: boolean } = {}): Promise<PruneResult> {
    const keep = `SELECT max(id) FROM events WHERE asset_key IS NOT NULL GROUP BY asset_key, type, partition_key, check_name
                  UNION SELECT ref_id FROM asset_latest WHERE kind <> 'step'`;
    const eventWhere = `at < $1::text AND id NOT IN (${keep})`;
    const logWhere = `run_id IN (SELECT run_id FROM runs WHERE finished_at IS NOT NULL AND finished_at < $1::text)`;
    if (opts.dryRun) {
      const count = async (sql: string): Promise<number> => Number((await this.all(sql, before))[0]?.n ?? 0);
      const [events, logs] = await Promise.all([
        count(`SELECT count(*) AS n FROM events WHERE ${eventWhere}`),
        count(`SELECT count(*) AS n FROM logs WHERE ${logWhere}`),
      ]);
      return { events, logs };
    }
    return this.write(async (c) => ({
      events: (await c.query(`DELETE FROM events WHERE ${eventWhere}`, [before])).rowCount ?? 0,
      logs: (await c.query(`DELETE FROM logs WHERE ${logWhere}`, [before])).rowCount ?? 0,
    }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
