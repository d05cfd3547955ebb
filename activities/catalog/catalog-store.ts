import type { LocationSnapshot } from '../../definitions/snapshot';

/** Lifecycle of a run: `running` until the run workflow records how it ended. */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'canceled';

/** Outcome of one asset's step within a run. */
export type StepStatus = 'materialized' | 'failed' | 'skipped';

/** One run of the run workflow, as the catalog remembers it. Timestamps are ISO-8601 strings. */
export interface RunRecord {
  runId: string;
  workflowId: string;
  /** The selection string the run was launched with. */
  selection: string;
  tags: Record<string, string>;
  status: RunStatus;
  /** Number of steps (assets) the plan holds. */
  stepCount: number;
  startedAt: string;
  finishedAt?: string;
  /** Free-form JSON summary written when the run finishes. */
  summary?: unknown;
}

/** The latest outcome of one asset's step within a run (one record per run and asset key). */
export interface StepResultRecord {
  runId: string;
  assetKey: string;
  status: StepStatus;
  error?: string;
  /** 1-based attempt number of the activity that produced this result. */
  attempt: number;
  at: string;
}

/**
 * One materialization of an asset (or of one partition of it) by a run. A run writes at most one record per
 * asset key and partition: a retried activity updates the record rather than adding a second one.
 */
export interface MaterializationRecord {
  runId: string;
  assetKey: string;
  /** Partition key, or null for an unpartitioned asset. */
  partition: string | null;
  attempt: number;
  metadata: Record<string, unknown>;
  codeVersion?: string;
  at: string;
  codeLocation?: string;
}

/** One captured log line of a step attempt; `seq` orders lines within that attempt. */
export interface LogLine {
  seq: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  at: string;
}

/** Per asset: its latest materialization and its latest step result (any status), each when there is one. */
export interface AssetStatus {
  lastMaterialization?: MaterializationRecord;
  lastStep?: StepResultRecord;
}

/**
 * Cairn's event store: code-location snapshots, runs, step results, materializations and step logs.
 *
 * Every write is idempotent, because activities that write here may be retried or replayed by Temporal.
 * The interface is asynchronous so that network-backed stores (PostgreSQL) implement it as well as the
 * embedded SQLite store does.
 */
export interface CatalogStore {
  /** Applies pending schema migrations (recorded in `schema_migrations`); idempotent, also run on open. */
  migrate(): Promise<void>;
  /** Makes `snapshot` the latest of its location (replacing the previous one) and keeps one history row per distinct version. */
  publishSnapshot(snapshot: LocationSnapshot, at: string): Promise<void>;
  /** The latest snapshot of each location, sorted by location name. */
  getSnapshots(): Promise<LocationSnapshot[]>;
  /** Forgets the latest snapshot of `location` (its history is kept). */
  removeSnapshot(location: string): Promise<void>;
  /** Records a run as `running`; a second call with the same `runId` changes nothing. */
  recordRunStarted(run: Omit<RunRecord, 'status' | 'finishedAt' | 'summary'>): Promise<void>;
  /** Records how a running run ended; once a run has finished, further calls change nothing. */
  recordRunFinished(runId: string, status: Exclude<RunStatus, 'running'>, finishedAt: string, summary?: unknown): Promise<void>;
  /** Upserts step results on (runId, assetKey) in one transaction; a later (or equal) attempt replaces an earlier one. */
  recordStepResults(results: StepResultRecord[]): Promise<void>;
  /**
   * Records a materialization, unique on (runId, assetKey, partition-or-empty). A retry updates metadata,
   * attempt and time of the existing record (unless it carries an older attempt) and reports `inserted: false`.
   */
  recordMaterialization(m: MaterializationRecord): Promise<{ inserted: boolean }>;
  /** Appends log lines of one step attempt; idempotent on (runId, assetKey, attempt, seq). */
  appendLogs(runId: string, assetKey: string, attempt: number, lines: LogLine[]): Promise<void>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** Runs, newest first (by start time); all of them when `limit` is undefined. */
  listRuns(limit?: number): Promise<RunRecord[]>;
  /** Step results of a run, ordered by time. */
  getStepResults(runId: string): Promise<StepResultRecord[]>;
  /** Log lines of a run (or of one of its assets) in time order, then asset, attempt and seq. */
  getLogs(runId: string, assetKey?: string): Promise<(LogLine & { assetKey: string; attempt: number })[]>;
  /** Materializations of an asset, newest first; all of them when `limit` is undefined. */
  listMaterializations(assetKey: string, limit?: number): Promise<MaterializationRecord[]>;
  countMaterializations(filter?: { runId?: string; assetKey?: string }): Promise<number>;
  /**
   * Per asset: the latest materialization, and the latest step result (any status) with its run. Without
   * `keys`, covers every asset the catalog has seen; with `keys`, holds exactly those keys (an empty status for
   * an asset that has neither).
   */
  assetStatuses(keys?: string[]): Promise<Map<string, AssetStatus>>;
  /** Closes the store; further calls fail. Closing twice is harmless. */
  close(): Promise<void>;
}
