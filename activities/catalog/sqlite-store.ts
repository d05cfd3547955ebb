import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'libsql';
import { LocationSnapshotSchema, type LocationSnapshot } from '../../definitions/snapshot';
import type { AssetStatus, CatalogStore, LogLine, MaterializationRecord, RunRecord, RunStatus, StepResultRecord } from './catalog-store';

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
];

type Row = Record<string, unknown>;

/** Row objects from libsql may carry a `_metadata` property; strip it so rows are plain column maps. */
function clean(row: unknown): Row {
  const { _metadata, ...rest } = row as Row;
  void _metadata;
  return rest;
}

const str = (v: unknown): string => String(v);
/** `{ [name]: value }` when the column is not NULL, else `{}`: optional fields stay absent rather than undefined. */
const opt = <K extends string>(name: K, v: unknown): { [P in K]?: string } =>
  (v === null || v === undefined ? {} : { [name]: String(v) }) as { [P in K]?: string };
/** SQLite's `LIMIT -1` means no limit. */
const limitParam = (limit: number | undefined): number => (limit === undefined ? -1 : Math.max(0, Math.floor(limit)));

function toRun(r: Row): RunRecord {
  return {
    runId: str(r.run_id), workflowId: str(r.workflow_id), selection: str(r.selection),
    tags: JSON.parse(str(r.tags)) as Record<string, string>, status: str(r.status) as RunStatus,
    stepCount: Number(r.step_count), startedAt: str(r.started_at), ...opt('finishedAt', r.finished_at),
    ...(r.summary === null || r.summary === undefined ? {} : { summary: JSON.parse(str(r.summary)) as unknown }),
  };
}

function toStep(r: Row): StepResultRecord {
  return {
    runId: str(r.run_id), assetKey: str(r.asset_key), status: str(r.status) as StepResultRecord['status'],
    ...opt('error', r.error), attempt: Number(r.attempt), at: str(r.at),
  };
}

function toMaterialization(r: Row): MaterializationRecord {
  return {
    runId: str(r.run_id), assetKey: str(r.asset_key), partition: r.partition === null || r.partition === undefined ? null : str(r.partition),
    attempt: Number(r.attempt), metadata: JSON.parse(str(r.metadata)) as Record<string, unknown>,
    ...opt('codeVersion', r.code_version), at: str(r.at), ...opt('codeLocation', r.code_location),
  };
}

/**
 * The embedded catalog: one SQLite file shared by several processes (orchestrator worker, code-location
 * workers, CLI). Uses WAL, a 10 s busy timeout, `synchronous=NORMAL` and short `BEGIN IMMEDIATE` write
 * transactions so that concurrent writers queue instead of failing.
 */
export class SqliteCatalogStore implements CatalogStore {
  private closed = false;

  private constructor(private readonly db: Database.Database) {}

  /** Opens (creating it and its parent directories when missing) and migrates the catalog at `path`. */
  static async open(path: string): Promise<SqliteCatalogStore> {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      // busy_timeout first, so that switching a brand-new file to WAL waits for a concurrent opener.
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;`);
      const store = new SqliteCatalogStore(db);
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
      for (const m of MIGRATIONS) {
        if (applied.has(m.version)) continue;
        this.db.exec(m.sql);
        this.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', m.version, m.name, new Date().toISOString());
      }
    });
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

  async recordRunStarted(run: Omit<RunRecord, 'status' | 'finishedAt' | 'summary'>): Promise<void> {
    this.run(
      `INSERT INTO runs (run_id, workflow_id, selection, tags, status, step_count, started_at)
       VALUES (?, ?, ?, ?, 'running', ?, ?) ON CONFLICT (run_id) DO NOTHING`,
      run.runId, run.workflowId, run.selection, JSON.stringify(run.tags), run.stepCount, run.startedAt,
    );
  }

  async recordRunFinished(
    runId: string,
    status: Exclude<RunStatus, 'running'>,
    finishedAt: string,
    summary?: unknown,
  ): Promise<void> {
    this.run(
      `UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE run_id = ? AND status = 'running'`,
      status, finishedAt, summary === undefined ? null : JSON.stringify(summary), runId,
    );
  }

  async recordStepResults(results: StepResultRecord[]): Promise<void> {
    if (results.length === 0) return;
    this.write(() => {
      const stmt = this.prepared(
        `INSERT INTO step_results (run_id, asset_key, status, error, attempt, at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, asset_key) DO UPDATE SET status = excluded.status, error = excluded.error,
           attempt = excluded.attempt, at = excluded.at
         WHERE excluded.attempt >= step_results.attempt`,
      );
      for (const r of results) stmt.run([r.runId, r.assetKey, r.status, r.error ?? null, r.attempt, r.at]);
    });
  }

  async recordMaterialization(m: MaterializationRecord): Promise<{ inserted: boolean }> {
    const partitionKey = m.partition ?? '';
    const metadata = JSON.stringify(m.metadata);
    const [codeVersion, codeLocation] = [m.codeVersion ?? null, m.codeLocation ?? null];
    return this.write(() => {
      const insert = this.run(
        `INSERT INTO materializations
           (run_id, asset_key, partition, partition_key, attempt, metadata, code_version, code_location, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, asset_key, partition_key) DO NOTHING`,
        m.runId, m.assetKey, m.partition, partitionKey, m.attempt, metadata, codeVersion, codeLocation, m.at,
      );
      if (insert.changes > 0) return { inserted: true };
      // A retry of the same step: update the one row in place; an older attempt arriving late changes nothing.
      this.run(
        `UPDATE materializations SET attempt = ?, metadata = ?, code_version = ?, code_location = ?, at = ?
         WHERE run_id = ? AND asset_key = ? AND partition_key = ? AND attempt <= ?`,
        m.attempt, metadata, codeVersion, codeLocation, m.at, m.runId, m.assetKey, partitionKey, m.attempt,
      );
      return { inserted: false };
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

  async listRuns(limit?: number): Promise<RunRecord[]> {
    return this.all('SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?', limitParam(limit)).map(toRun);
  }

  async getStepResults(runId: string): Promise<StepResultRecord[]> {
    return this.all('SELECT * FROM step_results WHERE run_id = ? ORDER BY at, id', runId).map(toStep);
  }

  async getLogs(runId: string, assetKey?: string): Promise<(LogLine & { assetKey: string; attempt: number })[]> {
    const rows = this.all(
      'SELECT * FROM logs WHERE run_id = ?1 AND (?2 IS NULL OR asset_key = ?2) ORDER BY at, asset_key, attempt, seq',
      runId, assetKey ?? null,
    );
    return rows.map((r) => ({
      seq: Number(r.seq), level: str(r.level) as LogLine['level'], message: str(r.message), at: str(r.at),
      assetKey: str(r.asset_key), attempt: Number(r.attempt),
    }));
  }

  async listMaterializations(assetKey: string, limit?: number): Promise<MaterializationRecord[]> {
    return this.all(
      'SELECT * FROM materializations WHERE asset_key = ? ORDER BY at DESC, id DESC LIMIT ?',
      assetKey, limitParam(limit),
    ).map(toMaterialization);
  }

  async countMaterializations(filter: { runId?: string; assetKey?: string } = {}): Promise<number> {
    const [row] = this.all(
      'SELECT count(*) AS n FROM materializations WHERE (?1 IS NULL OR run_id = ?1) AND (?2 IS NULL OR asset_key = ?2)',
      filter.runId ?? null, filter.assetKey ?? null,
    );
    return Number(row?.n ?? 0);
  }

  async assetStatuses(keys?: string[]): Promise<Map<string, AssetStatus>> {
    const out = new Map<string, AssetStatus>();
    for (const k of keys ?? []) out.set(k, {});
    const keysJson = keys === undefined ? null : JSON.stringify(keys);
    const latest = (table: 'materializations' | 'step_results'): Row[] =>
      this.all(
        `SELECT * FROM (
           SELECT t.*, row_number() OVER (PARTITION BY asset_key ORDER BY at DESC, id DESC) AS rank_in_asset
           FROM ${table} t WHERE ?1 IS NULL OR asset_key IN (SELECT value FROM json_each(?1))
         ) WHERE rank_in_asset = 1`,
        keysJson,
      );
    for (const row of latest('materializations')) {
      const m = toMaterialization(row);
      out.set(m.assetKey, { ...out.get(m.assetKey), lastMaterialization: m });
    }
    for (const row of latest('step_results')) {
      const s = toStep(row);
      out.set(s.assetKey, { ...out.get(s.assetKey), lastStep: s });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
