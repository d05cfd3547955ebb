import { ALL_CHECKED_ASSETS_CTE, CHECK_NAMES_CTE, NEWEST_CHECK_EVENT } from './check-queries';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'libsql';
import { LocationSnapshotSchema, type LocationSnapshot } from '../../definitions/snapshot';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import type {
  AssetEvent, AssetEventType, AssetHistoryPage, AssetHistoryQuery, AssetPartition, AssetStatus, AutomationEvaluationRecord, CatalogStore, LogLine,
  MaterializationMark, PartitionState, PruneResult, RunEvent, RunFilter, RunRecord, RunStart, RunStatus, StepResultRecord, StoredAssetEvent,
  StoredAutomationEvaluation,
} from './catalog-store';
import { evaluationLimit, pairColumns, rowPairKey, toAutomationEvaluation } from './automation-rows';
import { checkPartitionArgs, mergePartitionStates, runPartitionColumn } from './partition-rows';
import { EVENT_COLUMNS, EVENT_UPDATABLE, eventValues, LATEST_EVENT_JSON_COLUMNS, LATEST_KINDS, STEP_JSON_COLUMNS, str, toEvent, toLogLine, toRun, toRunEvent, toStep, tooNewMessage, type Row } from './rows';

/** How long a connection waits for another process's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10_000;

/** Versioned schema migrations; append only, never edit an applied one. */
const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'initial catalog',
    sql: `
      CREATE TABLE location_snapshots (
        name TEXT PRIMARY KEY, version TEXT NOT NULL, snapshot TEXT NOT NULL, published_at TEXT NOT NULL);
      CREATE TABLE snapshot_history (
        name TEXT NOT NULL, version TEXT NOT NULL, snapshot TEXT NOT NULL, published_at TEXT NOT NULL,
        PRIMARY KEY (name, version));
      CREATE TABLE runs (
        run_id TEXT PRIMARY KEY, workflow_id TEXT NOT NULL, selection TEXT NOT NULL, tags TEXT NOT NULL,
        status TEXT NOT NULL, step_count INTEGER NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, summary TEXT);
      CREATE INDEX runs_by_start ON runs (started_at);
      CREATE TABLE step_results (
        id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, asset_key TEXT NOT NULL, status TEXT NOT NULL,
        error TEXT, attempt INTEGER NOT NULL, at TEXT NOT NULL, UNIQUE (run_id, asset_key));
      CREATE INDEX step_results_by_asset ON step_results (asset_key, at);
      CREATE TABLE materializations (
        id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, asset_key TEXT NOT NULL, partition TEXT,
        partition_key TEXT NOT NULL, attempt INTEGER NOT NULL, metadata TEXT NOT NULL, code_version TEXT,
        code_location TEXT, at TEXT NOT NULL, UNIQUE (run_id, asset_key, partition_key));
      CREATE INDEX materializations_by_asset ON materializations (asset_key, at);
      CREATE TABLE logs (
        run_id TEXT NOT NULL, asset_key TEXT NOT NULL, attempt INTEGER NOT NULL, seq INTEGER NOT NULL,
        level TEXT NOT NULL, message TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (run_id, asset_key, attempt, seq));`,
  },
  {
    version: 2,
    name: 'event log, run index, latest-event pointers',
    sql: `
      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, event_key TEXT NOT NULL UNIQUE, type TEXT NOT NULL, asset_key TEXT,
        partition TEXT, partition_key TEXT NOT NULL DEFAULT '', run_id TEXT, attempt INTEGER NOT NULL DEFAULT 1,
        at TEXT NOT NULL, metadata TEXT NOT NULL DEFAULT '{}', code_version TEXT, data_version TEXT,
        input_data_versions TEXT, code_location TEXT, source TEXT NOT NULL DEFAULT 'run',
        check_name TEXT NOT NULL DEFAULT '', check_result TEXT, run_status TEXT);
      CREATE INDEX events_by_asset ON events (asset_key, type, id);
      CREATE INDEX events_by_run ON events (run_id, id);
      CREATE INDEX events_by_time ON events (at);
      INSERT INTO events (event_key, type, asset_key, partition, partition_key, run_id, attempt, at, metadata, code_version, code_location, source)
        SELECT 'materialization:' || run_id || ':' || asset_key || ':' || partition_key, 'materialization', asset_key, partition,
          partition_key, run_id, attempt, at, metadata, code_version, code_location, 'run'
        FROM materializations ORDER BY id;
      DROP TABLE materializations;
      CREATE TABLE asset_latest (
        asset_key TEXT NOT NULL, kind TEXT NOT NULL, ref_id INTEGER NOT NULL, at TEXT NOT NULL, PRIMARY KEY (asset_key, kind));
      INSERT INTO asset_latest (asset_key, kind, ref_id, at)
        SELECT asset_key, type, id, at FROM events e
        WHERE id = (SELECT id FROM events x WHERE x.asset_key = e.asset_key AND x.type = e.type ORDER BY at DESC, id DESC LIMIT 1);
      INSERT INTO asset_latest (asset_key, kind, ref_id, at)
        SELECT asset_key, 'step', id, at FROM step_results s
        WHERE id = (SELECT id FROM step_results x WHERE x.asset_key = s.asset_key ORDER BY at DESC, id DESC LIMIT 1);
      ALTER TABLE runs ADD COLUMN run_trigger TEXT NOT NULL DEFAULT 'manual';
      ALTER TABLE runs ADD COLUMN locations TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE runs ADD COLUMN partition TEXT;
      ALTER TABLE runs ADD COLUMN parent_run_id TEXT;
      ALTER TABLE runs ADD COLUMN root_run_id TEXT;
      ALTER TABLE runs ADD COLUMN config TEXT;
      CREATE INDEX runs_by_status ON runs (status, started_at);
      CREATE TABLE run_assets (run_id TEXT NOT NULL, asset_key TEXT NOT NULL, PRIMARY KEY (run_id, asset_key));
      CREATE INDEX run_assets_by_asset ON run_assets (asset_key, run_id);
      INSERT INTO run_assets (run_id, asset_key) SELECT run_id, asset_key FROM step_results;`,
  },
  {
    version: 3,
    name: 'run partitions, dynamic partitions',
    // A run that recorded one partition before schema 3 targeted that key; a range (`<first>...<last>`) cannot be
    // expanded without its definition, so such runs get no rows.
    sql: `
      CREATE TABLE run_partitions (run_id TEXT NOT NULL, partition_key TEXT NOT NULL, PRIMARY KEY (run_id, partition_key));
      INSERT INTO run_partitions (run_id, partition_key)
        SELECT run_id, partition FROM runs WHERE partition IS NOT NULL AND partition <> '' AND instr(partition, '...') = 0;
      CREATE TABLE dynamic_partitions (
        name TEXT NOT NULL, partition_key TEXT NOT NULL, seq INTEGER NOT NULL, added_at TEXT NOT NULL, PRIMARY KEY (name, partition_key));
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
    // The unique key leads with the evaluation, so one evaluation's rows go to one place in it (a key leading with the
    // pair made recording 5,000 rows ~1.5x slower). The partial indexes make "the latest requested evaluation" and
    // "the latest materialization" of a pair one probe.
    sql: `
      CREATE TABLE automation_evaluations (
        id INTEGER PRIMARY KEY AUTOINCREMENT, evaluation_id TEXT NOT NULL, at TEXT NOT NULL, asset_key TEXT NOT NULL,
        partition_key TEXT NOT NULL DEFAULT '', requested INTEGER NOT NULL CHECK (requested IN (0, 1)), reason TEXT NOT NULL,
        run_workflow_id TEXT, watermark INTEGER NOT NULL, UNIQUE (evaluation_id, asset_key, partition_key));
      CREATE INDEX automation_requests ON automation_evaluations (asset_key, partition_key, id) WHERE requested = 1;
      CREATE INDEX automation_evaluations_by_asset ON automation_evaluations (asset_key, id);
      CREATE INDEX automation_evaluations_by_time ON automation_evaluations (at);
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE INDEX events_materialization_by_partition ON events (asset_key, partition_key, id) WHERE type = 'materialization';`,
  },
];

/** The newest schema version this code knows. */
export const SQLITE_SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

/** Row objects from libsql may carry a `_metadata` property; strip it so rows are plain column maps. */
function clean(row: unknown): Row {
  const { _metadata, ...rest } = row as Row;
  void _metadata;
  return rest;
}

/** The distinct pairs of a pair lookup as the row source `p(asset_key, partition_key)`, from {@link pairsParam} as `?1`. */
const PAIRS = `(SELECT DISTINCT json_extract(value, '$[0]') AS asset_key, json_extract(value, '$[1]') AS partition_key FROM json_each(?1)) p`;

/**
 * Row sources `p` (the pair) and `e` (its latest materialization event / requested evaluation) of the two pair
 * lookups; exported so that a test can check that each pair is one probe of a partial index.
 */
export const LATEST_MATERIALIZATION_OF_PAIRS = `${PAIRS} CROSS JOIN events e ON e.id = (SELECT max(x.id) FROM events x
  WHERE x.type = 'materialization' AND x.asset_key = p.asset_key AND x.partition_key = p.partition_key)`;
export const LAST_REQUEST_OF_PAIRS = `${PAIRS} CROSS JOIN automation_evaluations e ON e.id = (SELECT max(x.id) FROM automation_evaluations x
  WHERE x.requested = 1 AND x.asset_key = p.asset_key AND x.partition_key = p.partition_key)`;

/** The pairs as one JSON parameter: `[[asset, partition_key], ...]`, a null partition as `''`. */
function pairsParam(pairs: readonly AssetPartition[]): string {
  const { assetKeys, partitionKeys } = pairColumns(pairs);
  return JSON.stringify(assetKeys.map((k, i) => [k, partitionKeys[i]]));
}

/** Rows per transaction of `pruneAutomationEvaluations` (tens of milliseconds of work), and the pause between them. */
const PRUNE_CHUNK_ROWS = 2_000;
const PRUNE_PAUSE_MS = 5;

/** SQLite's `LIMIT -1` means no limit. */
const limitParam = (limit: number | undefined): number => (limit === undefined ? -1 : Math.max(0, Math.floor(limit)));

/**
 * The embedded catalog: one SQLite file shared by several processes (orchestrator worker, code-location
 * workers, CLI). Uses WAL, a 10 s busy timeout, `synchronous=NORMAL` and short `BEGIN IMMEDIATE` write
 * transactions so that concurrent writers queue instead of failing.
 */
export class SqliteCatalogStore implements CatalogStore {
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly where: string,
  ) {}

  /** Opens (creating it and its parent directories when missing) and migrates the catalog at `path`. */
  static async open(path: string): Promise<SqliteCatalogStore> {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      // busy_timeout first, so that switching a brand-new file to WAL waits for a concurrent opener.
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;`);
      const store = new SqliteCatalogStore(db, `'${path}'`);
      await store.migrate();
      return store;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Runs `fn` in a `BEGIN IMMEDIATE` transaction: takes the write lock up front (waiting up to the busy timeout). */
  private write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // Parameters always travel as one array: libsql treats a lone object argument (even `null`) as named parameters.
  private run(sql: string, ...params: unknown[]): Database.RunResult {
    return this.prepared(sql).run(params);
  }

  private all(sql: string, ...params: unknown[]): Row[] {
    return this.prepared(sql).all(params).map(clean);
  }

  /**
   * Rows of `SELECT <columns> FROM <from>` fetched as one JSON array built inside SQLite: for thousands of rows
   * this is 2-3x faster than libsql's per-cell conversion (`cairn status` over 10,000 assets reads 20,000 rows).
   */
  private allJson(columns: readonly (readonly [string, string])[], from: string, ...params: unknown[]): Row[] {
    const pairs = columns.map(([name, expr]) => `'${name}', ${expr}`).join(', ');
    const [row] = this.all(`SELECT json_group_array(json_object(${pairs})) AS rows_json FROM ${from}`, ...params);
    return JSON.parse(str(row?.rows_json ?? '[]')) as Row[];
  }

  /** Statements are compiled once per store: a step's catalog write is on every worker's hot path. */
  private readonly statements = new Map<string, Database.Statement>();
  private prepared(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  async migrate(): Promise<void> {
    this.write(() => {
      this.db.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
      const applied = new Set(this.all('SELECT version FROM schema_migrations').map((r) => Number(r.version)));
      const newest = Math.max(0, ...applied);
      if (newest > SQLITE_SCHEMA_VERSION) throw new CairnError(ErrorCodes.CatalogTooNew, tooNewMessage(this.where, newest, SQLITE_SCHEMA_VERSION), 'catalog');
      for (const m of MIGRATIONS) {
        if (applied.has(m.version)) continue;
        this.db.exec(m.sql);
        this.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', m.version, m.name, new Date().toISOString());
      }
    });
  }

  async schemaVersion(): Promise<number> {
    return Number(this.all('SELECT max(version) AS v FROM schema_migrations')[0]?.v ?? 0);
  }

  async publishSnapshot(snapshot: LocationSnapshot, at: string): Promise<void> {
    const body = JSON.stringify(snapshot);
    this.write(() => {
      this.run(
        `INSERT INTO location_snapshots (name, version, snapshot, published_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET version = excluded.version, snapshot = excluded.snapshot,
           published_at = excluded.published_at`,
        snapshot.name, snapshot.version, body, at,
      );
      this.run(
        `INSERT INTO snapshot_history (name, version, snapshot, published_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name, version) DO NOTHING`,
        snapshot.name, snapshot.version, body, at,
      );
    });
  }

  async getSnapshots(): Promise<LocationSnapshot[]> {
    return this.all('SELECT snapshot FROM location_snapshots ORDER BY name').map((r) =>
      LocationSnapshotSchema.parse(JSON.parse(str(r.snapshot))),
    );
  }

  async removeSnapshot(location: string): Promise<void> {
    this.run('DELETE FROM location_snapshots WHERE name = ?', location);
  }

  async recordRunStarted(run: RunStart): Promise<void> {
    this.write(() => {
      const inserted = this.run(
        `INSERT INTO runs (run_id, workflow_id, selection, tags, status, step_count, started_at, run_trigger, locations,
           partition, parent_run_id, root_run_id, config)
         VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING`,
        run.runId, run.workflowId, run.selection, JSON.stringify(run.tags), run.stepCount, run.startedAt, run.trigger ?? 'manual',
        JSON.stringify(run.locations ?? []), runPartitionColumn(run), run.parentRunId ?? null, run.rootRunId ?? null,
        run.config === undefined ? null : JSON.stringify(run.config),
      );
      if (inserted.changes === 0) return;
      const stmt = this.prepared('INSERT INTO run_assets (run_id, asset_key) VALUES (?, ?) ON CONFLICT DO NOTHING');
      for (const key of run.assetKeys ?? []) stmt.run([run.runId, key]);
      const partitions = this.prepared('INSERT INTO run_partitions (run_id, partition_key) VALUES (?, ?) ON CONFLICT DO NOTHING');
      for (const key of run.partitionKeys ?? []) partitions.run([run.runId, key]);
      this.run(
        `INSERT INTO events (event_key, type, run_id, at) VALUES (?, 'run_started', ?, ?) ON CONFLICT (event_key) DO NOTHING`,
        `run_started:${run.runId}`, run.runId, run.startedAt,
      );
    });
  }

  async recordRunFinished(runId: string, status: Exclude<RunStatus, 'running'>, finishedAt: string, summary?: unknown): Promise<void> {
    this.write(() => {
      const updated = this.run(
        `UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE run_id = ? AND status = 'running'`,
        status, finishedAt, summary === undefined ? null : JSON.stringify(summary), runId,
      );
      if (updated.changes === 0) return;
      this.run(
        `INSERT INTO events (event_key, type, run_id, at, run_status) VALUES (?, 'run_finished', ?, ?, ?) ON CONFLICT (event_key) DO NOTHING`,
        `run_finished:${runId}`, runId, finishedAt, status,
      );
    });
  }

  async recordStepResults(results: StepResultRecord[]): Promise<void> {
    if (results.length === 0) return;
    this.write(() => {
      const stmt = this.prepared(
        `INSERT INTO step_results (run_id, asset_key, status, error, attempt, at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, asset_key) DO UPDATE SET status = excluded.status, error = excluded.error,
           attempt = excluded.attempt, at = excluded.at
         WHERE excluded.attempt >= step_results.attempt
         RETURNING id, at`,
      );
      for (const r of results) {
        const row = stmt.get([r.runId, r.assetKey, r.status, r.error ?? null, r.attempt, r.at]) as Row | undefined;
        if (row) this.pointLatest(r.assetKey, 'step', Number(row.id), str(row.at));
      }
    });
  }

  /** Moves the asset's latest-of-kind pointer to this row unless the current one is newer. */
  private pointLatest(assetKey: string, kind: string, id: number, at: string): void {
    this.run(
      `INSERT INTO asset_latest (asset_key, kind, ref_id, at) VALUES (?, ?, ?, ?)
       ON CONFLICT (asset_key, kind) DO UPDATE SET ref_id = excluded.ref_id, at = excluded.at
       WHERE (excluded.at, excluded.ref_id) >= (asset_latest.at, asset_latest.ref_id)`,
      assetKey, kind, id, at,
    );
  }

  async recordAssetEvent(e: AssetEvent): Promise<{ inserted: boolean }> {
    const values = eventValues(e);
    return this.write(() => {
      const inserted = this.prepared(
        `INSERT INTO events (${EVENT_COLUMNS.join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')})
         ON CONFLICT (event_key) DO NOTHING RETURNING id`,
      ).get(values) as Row | undefined;
      let id = inserted ? Number(inserted.id) : undefined;
      if (id === undefined && e.source === 'run') {
        // A retry of the same step: update the one row in place; an older attempt arriving late changes nothing.
        // A reported event with a known id is a duplicate report: the first one stands.
        const updated = this.prepared(
          `UPDATE events SET ${EVENT_UPDATABLE.map((c) => `${c} = ?`).join(', ')} WHERE event_key = ? AND attempt <= ? RETURNING id`,
        ).get([...EVENT_UPDATABLE.map((c) => values[EVENT_COLUMNS.indexOf(c)]), e.eventKey, e.attempt]) as Row | undefined;
        id = updated ? Number(updated.id) : undefined;
      }
      if (id !== undefined && LATEST_KINDS.has(e.type)) this.pointLatest(e.assetKey, e.type, id, e.at);
      return { inserted: inserted !== undefined };
    });
  }

  async appendLogs(runId: string, assetKey: string, attempt: number, lines: LogLine[]): Promise<void> {
    if (lines.length === 0) return;
    this.write(() => {
      const stmt = this.prepared(
        `INSERT INTO logs (run_id, asset_key, attempt, seq, level, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, asset_key, attempt, seq) DO NOTHING`,
      );
      for (const l of lines) stmt.run([runId, assetKey, attempt, l.seq, l.level, l.message, l.at]);
    });
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const [row] = this.all('SELECT * FROM runs WHERE run_id = ?', runId);
    return row && toRun(row);
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    return this.all(
      `SELECT * FROM runs r
       WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM run_assets a WHERE a.run_id = r.run_id AND a.asset_key = ?1))
         AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR run_trigger = ?3)
         AND (?4 IS NULL OR started_at >= ?4) AND (?5 IS NULL OR started_at < ?5)
       ORDER BY started_at DESC, rowid DESC LIMIT ?6`,
      filter.asset ?? null, filter.status ?? null, filter.trigger ?? null, filter.since ?? null, filter.until ?? null, limitParam(filter.limit),
    ).map(toRun);
  }

  async getRunAssets(runId: string): Promise<string[]> {
    return this.all('SELECT asset_key FROM run_assets WHERE run_id = ? ORDER BY asset_key', runId).map((r) => str(r.asset_key));
  }

  async getStepResults(runId: string): Promise<StepResultRecord[]> {
    return this.all('SELECT * FROM step_results WHERE run_id = ? ORDER BY at, id', runId).map(toStep);
  }

  async getLogs(runId: string, assetKey?: string): Promise<(LogLine & { assetKey: string; attempt: number })[]> {
    const rows = this.all(
      'SELECT * FROM logs WHERE run_id = ?1 AND (?2 IS NULL OR asset_key = ?2) ORDER BY at, asset_key, attempt, seq',
      runId, assetKey ?? null,
    );
    return rows.map(toLogLine);
  }

  async addDynamicPartitions(name: string, keys: readonly string[], at: string): Promise<{ added: string[] }> {
    checkPartitionArgs(name, keys);
    return this.write(() => {
      // The next position of `name` is read inside the write transaction, so concurrent adders cannot share one.
      const stmt = this.prepared(
        `INSERT INTO dynamic_partitions (name, partition_key, seq, added_at)
         VALUES (?1, ?2, (SELECT coalesce(max(seq), 0) + 1 FROM dynamic_partitions WHERE name = ?1), ?3)
         ON CONFLICT (name, partition_key) DO NOTHING`,
      );
      const added: string[] = [];
      for (const key of new Set(keys)) {
        if (stmt.run([name, key, at]).changes > 0) added.push(key);
      }
      return { added };
    });
  }

  async removeDynamicPartitions(name: string, keys: readonly string[]): Promise<{ removed: string[] }> {
    checkPartitionArgs(name, keys);
    return this.write(() => {
      const stmt = this.prepared('DELETE FROM dynamic_partitions WHERE name = ? AND partition_key = ?');
      return { removed: [...new Set(keys)].filter((key) => stmt.run([name, key]).changes > 0) };
    });
  }

  async dynamicPartitionKeys(name: string): Promise<string[]> {
    return this.all('SELECT partition_key FROM dynamic_partitions WHERE name = ? ORDER BY seq', name).map((r) => str(r.partition_key));
  }

  async partitionStates(assetKey: string): Promise<Map<string, PartitionState>> {
    // Three set-based reads, each walking an index from the asset key: the latest materialization of each
    // partition (events_by_asset), the latest failed step of each partition a run targeted (step_results_by_asset,
    // then the run's partitions), and the partitions of running runs that plan the asset and have not materialized
    // it (from the few running runs, probing each partition's unique event key).
    const materialized = this.allJson(
      [['partition_key', 'partition'], ['run_id', 'run_id'], ['at', 'at']],
      `(SELECT partition, run_id, at, row_number() OVER (PARTITION BY partition ORDER BY at DESC, id DESC) AS n
        FROM events WHERE asset_key = ?1 AND type = 'materialization' AND partition IS NOT NULL) WHERE n = 1`,
      assetKey,
    );
    const failed = this.allJson(
      [['partition_key', 'partition_key'], ['run_id', 'run_id'], ['at', 'at']],
      `(SELECT p.partition_key, s.run_id, s.at, row_number() OVER (PARTITION BY p.partition_key ORDER BY s.at DESC, s.id DESC) AS n
        FROM step_results s CROSS JOIN run_partitions p ON p.run_id = s.run_id
        WHERE s.asset_key = ?1 AND s.status = 'failed') WHERE n = 1`,
      assetKey,
    );
    const running = this.allJson(
      [['partition_key', 'p.partition_key'], ['run_id', 'r.run_id'], ['at', 'r.started_at']],
      `runs r CROSS JOIN run_assets a ON a.run_id = r.run_id AND a.asset_key = ?1 CROSS JOIN run_partitions p ON p.run_id = r.run_id
       WHERE r.status = 'running'
         AND NOT EXISTS (SELECT 1 FROM events e WHERE e.event_key = 'materialization:' || r.run_id || ':' || ?1 || ':' || p.partition_key)`,
      assetKey,
    );
    return mergePartitionStates(materialized, failed, running);
  }

  async assetHistory(assetKey: string, query: AssetHistoryQuery = {}): Promise<AssetHistoryPage> {
    const limit = Math.max(1, Math.floor(query.limit ?? 50));
    const rows = this.all(
      `SELECT * FROM events WHERE asset_key = ?1 AND (?2 IS NULL OR type IN (SELECT value FROM json_each(?2)))
         AND (?3 IS NULL OR partition_key = ?3) AND (?4 IS NULL OR id < ?4)
       ORDER BY id DESC LIMIT ?5`,
      assetKey, query.types ? JSON.stringify(query.types) : null,
      query.partition === undefined ? null : (query.partition ?? ''), query.before ?? null, limit + 1,
    );
    const events = rows.slice(0, limit).map(toEvent);
    const last = events.at(-1);
    return { events, ...(rows.length > limit && last ? { nextCursor: last.id } : {}) };
  }

  async runEvents(runId: string, types?: AssetEventType[]): Promise<StoredAssetEvent[]> {
    return this.all(
      `SELECT * FROM events WHERE run_id = ?1 AND asset_key IS NOT NULL
         AND (?2 IS NULL OR type IN (SELECT value FROM json_each(?2))) ORDER BY id`,
      runId, types ? JSON.stringify(types) : null,
    ).map(toEvent);
  }

  async runLifecycleEvents(runId: string): Promise<RunEvent[]> {
    return this.all(`SELECT * FROM events WHERE run_id = ? AND asset_key IS NULL ORDER BY id`, runId).map(toRunEvent);
  }

  async countAssetEvents(filter: { runId?: string; assetKey?: string; type?: AssetEventType } = {}): Promise<number> {
    const [row] = this.all(
      `SELECT count(*) AS n FROM events WHERE asset_key IS NOT NULL AND (?1 IS NULL OR run_id = ?1)
         AND (?2 IS NULL OR asset_key = ?2) AND (?3 IS NULL OR type = ?3)`,
      filter.runId ?? null, filter.assetKey ?? null, filter.type ?? null,
    );
    return Number(row?.n ?? 0);
  }

  async assetStatuses(keys?: string[]): Promise<Map<string, AssetStatus>> {
    const out = new Map<string, AssetStatus>();
    for (const k of keys ?? []) out.set(k, {});
    const update = (key: string, patch: AssetStatus): void => {
      out.set(key, { ...out.get(key), ...patch });
    };
    // Two shapes of each query rather than `(? IS NULL OR ...)`, which would keep SQLite from using the indexes:
    // with keys, drive from the key list (CROSS JOIN fixes SQLite's join order) into the primary keys.
    const params = keys === undefined ? [] : [JSON.stringify(keys)];
    const latest = keys === undefined ? 'asset_latest l' : 'json_each(?1) k CROSS JOIN asset_latest l ON l.asset_key = k.value';
    for (const row of this.allJson(LATEST_EVENT_JSON_COLUMNS, `${latest} JOIN events e ON e.id = l.ref_id WHERE l.kind <> 'step'`, ...params)) {
      const e = toEvent(row);
      update(e.assetKey, row.latest_kind === 'materialization' ? { lastMaterialization: e } : { lastObservation: e });
    }
    for (const row of this.allJson(STEP_JSON_COLUMNS, `${latest} JOIN step_results s ON s.id = l.ref_id WHERE l.kind = 'step'`, ...params)) {
      const s = toStep(row);
      update(s.assetKey, { lastStep: s });
    }
    // Few runs are running at once: start from them, then look up each planned asset's materialization of that
    // run by its unique event key (an index probe, however many events the run has written). A partitioned run
    // writes one event per key, all at once: probing for any one of its keys is enough.
    const planned = keys === undefined
      ? 'runs r CROSS JOIN run_assets l ON l.run_id = r.run_id'
      : 'runs r CROSS JOIN json_each(?1) k CROSS JOIN run_assets l ON l.run_id = r.run_id AND l.asset_key = k.value';
    for (const row of this.all(
      `SELECT l.asset_key, r.run_id FROM ${planned}
       WHERE r.status = 'running'
         AND NOT EXISTS (SELECT 1 FROM events e WHERE e.event_key = 'materialization:' || r.run_id || ':' || l.asset_key || ':'
           || coalesce((SELECT p.partition_key FROM run_partitions p WHERE p.run_id = r.run_id LIMIT 1), ''))
       ORDER BY r.started_at`,
      ...params,
    )) {
      update(str(row.asset_key), { inProgressRunId: str(row.run_id) });
    }
    return out;
  }

  async latestCheckEvaluations(keys?: string[]): Promise<StoredAssetEvent[]> {
    const assets = keys === undefined ? ALL_CHECKED_ASSETS_CTE : 'assets(asset_key) AS (SELECT DISTINCT value FROM json_each(?1))';
    return this.all(
      `WITH RECURSIVE ${assets}, ${CHECK_NAMES_CTE}
       SELECT e.* FROM checks c CROSS JOIN events e ON e.id = ${NEWEST_CHECK_EVENT}
       WHERE c.check_name IS NOT NULL
       ORDER BY e.asset_key, e.check_name`,
      ...(keys === undefined ? [] : [JSON.stringify(keys)]),
    ).map(toEvent);
  }

  /**
   * The pairs travel as one JSON array of `[asset, partition_key]`; CROSS JOIN keeps them the outer loop, so each
   * pair is one probe of the partial index `events_materialization_by_partition` (its max id), however many
   * partitions and materializations the asset has.
   */
  async latestMaterializationsOf(pairs: readonly AssetPartition[]): Promise<Map<string, MaterializationMark>> {
    const out = new Map<string, MaterializationMark>();
    if (pairs.length === 0) return out;
    const rows = this.allJson(
      [['asset_key', 'p.asset_key'], ['partition_key', 'p.partition_key'], ['id', 'e.id'], ['at', 'e.at'], ['run_id', 'e.run_id']],
      LATEST_MATERIALIZATION_OF_PAIRS, pairsParam(pairs),
    );
    for (const r of rows) out.set(rowPairKey(r), { id: Number(r.id), at: str(r.at), runId: r.run_id === null ? null : str(r.run_id) });
    return out;
  }

  async eventWatermark(): Promise<number> {
    return Number(this.all('SELECT coalesce(max(id), 0) AS w FROM events')[0]?.w ?? 0);
  }

  async recordAutomationEvaluations(records: readonly AutomationEvaluationRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.write(() => {
      const stmt = this.prepared(
        `INSERT INTO automation_evaluations (evaluation_id, at, asset_key, partition_key, requested, reason, run_workflow_id, watermark)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (evaluation_id, asset_key, partition_key) DO NOTHING`,
      );
      for (const r of records) {
        stmt.run([r.evaluationId, r.at, r.assetKey, r.partition ?? '', r.requested ? 1 : 0, r.reason, r.runWorkflowId ?? null, r.watermark]);
      }
    });
  }

  /** Like {@link latestMaterializationsOf}: one probe of the partial index `automation_requests` per pair. */
  async lastAutomationRequests(pairs: readonly AssetPartition[]): Promise<Map<string, StoredAutomationEvaluation>> {
    const out = new Map<string, StoredAutomationEvaluation>();
    if (pairs.length === 0) return out;
    const rows = this.all(`SELECT e.* FROM ${LAST_REQUEST_OF_PAIRS}`, pairsParam(pairs));
    for (const r of rows) out.set(rowPairKey(r), toAutomationEvaluation(r));
    return out;
  }

  async automationEvaluations(assetKey: string, opts: { partition?: string | null; limit?: number } = {}): Promise<StoredAutomationEvaluation[]> {
    // Walks the asset's rows newest first (automation_evaluations_by_asset); a partition is a filter on that walk.
    const rows = this.all(
      'SELECT * FROM automation_evaluations WHERE asset_key = ?1 AND (?2 IS NULL OR partition_key = ?2) ORDER BY id DESC LIMIT ?3',
      assetKey, opts.partition === undefined ? null : (opts.partition ?? ''), evaluationLimit(opts.limit),
    );
    return rows.map(toAutomationEvaluation);
  }

  /**
   * Deletes in chunks, each its own short write transaction with a pause after it: a first prune of a big table
   * (600,000 rows took ~12 s in one statement) must not hold the write lock past the busy timeout of the other
   * processes, and the pause lets their retries in. The chunk walks the old rows by time; only a requested one
   * costs a probe, to see whether it is its pair's latest.
   */
  async pruneAutomationEvaluations(before: string): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = this.run(
        `DELETE FROM automation_evaluations WHERE id IN (SELECT a.id FROM automation_evaluations a WHERE a.at < ?1
           AND NOT (a.requested = 1 AND a.id = (SELECT max(x.id) FROM automation_evaluations x
             WHERE x.requested = 1 AND x.asset_key = a.asset_key AND x.partition_key = a.partition_key))
           LIMIT ?2)`,
        before, PRUNE_CHUNK_ROWS,
      ).changes;
      total += deleted;
      if (deleted < PRUNE_CHUNK_ROWS) return total;
      await new Promise((resolve) => setTimeout(resolve, PRUNE_PAUSE_MS));
    }
  }

  async getSetting(key: string): Promise<string | undefined> {
    const [row] = this.all('SELECT value FROM settings WHERE key = ?', key);
    return row === undefined ? undefined : str(row.value);
  }

  async setSetting(key: string, value: string | undefined): Promise<void> {
    if (value === undefined) this.run('DELETE FROM settings WHERE key = ?', key);
    else this.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value);
  }

  async prune(before: string, opts: { dryRun?: boolean } = {}): Promise<PruneResult> {
    const keep = `SELECT max(id) FROM events WHERE asset_key IS NOT NULL GROUP BY asset_key, type, partition_key, check_name
                  UNION SELECT ref_id FROM asset_latest WHERE kind <> 'step'`;
    const eventWhere = `at < ?1 AND id NOT IN (${keep})`;
    const logWhere = `run_id IN (SELECT run_id FROM runs WHERE finished_at IS NOT NULL AND finished_at < ?1)`;
    if (opts.dryRun) {
      const count = (sql: string): number => Number(this.all(sql, before)[0]?.n ?? 0);
      return { events: count(`SELECT count(*) AS n FROM events WHERE ${eventWhere}`), logs: count(`SELECT count(*) AS n FROM logs WHERE ${logWhere}`) };
    }
    return this.write(() => ({
      events: this.run(`DELETE FROM events WHERE ${eventWhere}`, before).changes,
      logs: this.run(`DELETE FROM logs WHERE ${logWhere}`, before).changes,
    }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

