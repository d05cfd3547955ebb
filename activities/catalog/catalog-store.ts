import type { Metadata } from '../../definitions/metadata';
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
  /** What started it: `cli`, `sdk`, `manual` (temporal CLI, no trigger given), `reexecution`, `schedule`, ... */
  trigger: string;
  /** Code locations that run steps of this run. */
  locations: string[];
  partition?: string;
  /** The run this one re-executes, and the first run of that chain. */
  parentRunId?: string;
  rootRunId?: string;
  /** Run config per asset key, as given at launch (re-execution reuses it). */
  config?: Record<string, unknown>;
}

export interface RunStart {
  runId: string;
  workflowId: string;
  selection: string;
  tags: Record<string, string>;
  stepCount: number;
  startedAt: string;
  trigger?: string;
  locations?: string[];
  partition?: string;
  parentRunId?: string;
  rootRunId?: string;
  config?: Record<string, unknown>;
  /** Asset keys the plan holds: the run index (`cairn runs --asset`) and IN_PROGRESS status read them. */
  assetKeys?: string[];
  /** Every partition key the run materializes (one, or each key of a range run); partition status reads them. */
  partitionKeys?: string[];
}

/** Where one partition of an asset stands: its latest outcome, or a running run that targets it. */
export type PartitionStatus = 'materialized' | 'failed' | 'in_progress';

export interface PartitionState {
  status: PartitionStatus;
  /** The run of that outcome (absent for a reported materialization). */
  runId?: string;
  at: string;
}

/** Filters of the run index; all optional, combined with AND. */
export interface RunFilter {
  asset?: string;
  status?: RunStatus;
  trigger?: string;
  /** ISO timestamps bounding `startedAt` (inclusive `since`, exclusive `until`). */
  since?: string;
  until?: string;
  limit?: number;
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

export type AssetEventType = 'materialization' | 'observation' | 'check_evaluation';

/** Result of one asset check, carried by a `check_evaluation` event. */
export interface CheckResult {
  name: string;
  passed: boolean;
  severity: 'ERROR' | 'WARN';
  description?: string;
}

/**
 * An event about one asset (or one partition of it): a materialization, an observation or a check evaluation,
 * written by a run's step or reported from outside (`cairn report`). `eventKey` makes writes idempotent:
 * a run's step uses `<type>:<run>:<asset>:<partition>[:<check>]`, so retries and replays update one row.
 */
export interface AssetEvent {
  eventKey: string;
  type: AssetEventType;
  assetKey: string;
  /** Partition key, or null for an unpartitioned asset. */
  partition: string | null;
  /** The run that produced it; null for a reported event. */
  runId: string | null;
  attempt: number;
  at: string;
  metadata: Metadata;
  codeVersion?: string;
  dataVersion?: string;
  /** Data versions of the inputs the step consumed (null: the upstream had no known version). */
  inputDataVersions?: Record<string, string | null>;
  codeLocation?: string;
  /** `run` for events written by a step, `report` for events reported from outside. */
  source: 'run' | 'report';
  check?: CheckResult;
}

/** A stored event: `id` is the store's increasing sequence number, the paging cursor of {@link AssetHistoryPage}. */
export type StoredAssetEvent = AssetEvent & { id: number };

export interface AssetHistoryQuery {
  types?: AssetEventType[];
  partition?: string | null;
  /** Return events older than this id (the previous page's `nextCursor`). */
  before?: number;
  /** Page size, default 50. */
  limit?: number;
}

export interface AssetHistoryPage {
  events: StoredAssetEvent[];
  /** Pass as `before` for the next page; absent on the last page. */
  nextCursor?: number;
}

/** Run-level events in the same log: started and finished. */
export interface RunEvent {
  type: 'run_started' | 'run_finished';
  runId: string;
  at: string;
  status?: RunStatus;
}

/** One captured log line of a step attempt; `seq` orders lines within that attempt. */
export interface LogLine {
  seq: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  at: string;
}

/** Per asset, the latest facts the catalog holds. */
export interface AssetStatus {
  lastMaterialization?: StoredAssetEvent;
  lastObservation?: StoredAssetEvent;
  lastStep?: StepResultRecord;
  /** A running run that has this asset in its plan and has not materialized it yet. */
  inProgressRunId?: string;
}

/** A materialization's place in the event log: `id` orders events by when the catalog recorded them. */
export interface MaterializationMark {
  id: number;
  at: string;
  runId: string | null;
}

/** An (asset, partition) pair; `partition` null for an unpartitioned asset's events. */
export interface AssetPartition {
  assetKey: string;
  partition: string | null;
}

/** The map key of an {@link AssetPartition} in the results of pair lookups. */
export { pairKey } from '../../definitions/automation-eval';

/**
 * One asset (or one partition of it) as one wake of the automation workflow judged it: whether it was
 * requested, and why (or why not). `cairn automation why <key>` reads these.
 */
export interface AutomationEvaluationRecord {
  /** The evaluation (one wake of the automation workflow): `<chain id>-<n>`. */
  evaluationId: string;
  at: string;
  assetKey: string;
  partition: string | null;
  requested: boolean;
  /** Why it was (or was not) requested, in words. */
  reason: string;
  /** The workflow id of the run started for it, when requested. */
  runWorkflowId?: string;
  /** The event log's highest id when the evaluation read the catalog: events after it are news to the next one. */
  watermark: number;
}

export type StoredAutomationEvaluation = AutomationEvaluationRecord & { id: number };

export interface PruneResult {
  events: number;
  logs: number;
}

/**
 * Cairn's event store: code-location snapshots, runs and the run index, step results, asset events
 * (materializations, observations, check evaluations, run started/finished) and step logs.
 *
 * Every write is idempotent, because activities that write here may be retried or replayed by Temporal.
 * Two implementations (SQLite, PostgreSQL) pass one conformance suite (`test/activities/catalog-conformance.ts`).
 */
export interface CatalogStore {
  /** Applies pending schema migrations (recorded in `schema_migrations`); idempotent, also run on open. Fails with CATALOG_TOO_NEW when the catalog has a newer schema than this code knows. */
  migrate(): Promise<void>;
  /** The highest schema version this catalog has applied. */
  schemaVersion(): Promise<number>;
  /** Makes `snapshot` the latest of its location (replacing the previous one) and keeps one history row per distinct version. */
  publishSnapshot(snapshot: LocationSnapshot, at: string): Promise<void>;
  /** The latest snapshot of each location, sorted by location name. */
  getSnapshots(): Promise<LocationSnapshot[]>;
  /** Forgets the latest snapshot of `location` (its history is kept). */
  removeSnapshot(location: string): Promise<void>;
  /** Records a run as `running` (and a `run_started` event); a second call with the same `runId` changes nothing. */
  recordRunStarted(run: RunStart): Promise<void>;
  /** Records how a running run ended (and a `run_finished` event); once a run has finished, further calls change nothing. */
  recordRunFinished(runId: string, status: Exclude<RunStatus, 'running'>, finishedAt: string, summary?: unknown): Promise<void>;
  /** Upserts step results on (runId, assetKey) in one transaction; a later (or equal) attempt replaces an earlier one. */
  recordStepResults(results: StepResultRecord[]): Promise<void>;
  /**
   * Records an asset event, unique on `eventKey`. A second write of a run's event with the same key updates
   * the row when it carries an equal or later attempt (a retry) and reports `inserted: false`; an older attempt
   * changes nothing. A second report (source `report`) with the same key changes nothing: the first stands.
   */
  recordAssetEvent(e: AssetEvent): Promise<{ inserted: boolean }>;
  /** Appends log lines of one step attempt; idempotent on (runId, assetKey, attempt, seq). */
  appendLogs(runId: string, assetKey: string, attempt: number, lines: LogLine[]): Promise<void>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** The run index, newest first (by start time). */
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /** Asset keys of a run's plan. */
  getRunAssets(runId: string): Promise<string[]>;
  /** Step results of a run, ordered by time. */
  getStepResults(runId: string): Promise<StepResultRecord[]>;
  /** Log lines of a run (or of one of its assets) in time order, then asset, attempt and seq. */
  getLogs(runId: string, assetKey?: string): Promise<(LogLine & { assetKey: string; attempt: number })[]>;
  /** Adds keys to dynamic partitions `name` (kept in the order added); keys already there are left alone. */
  addDynamicPartitions(name: string, keys: readonly string[], at: string): Promise<{ added: string[] }>;
  /** Removes keys from dynamic partitions `name`; keys not there are ignored. */
  removeDynamicPartitions(name: string, keys: readonly string[]): Promise<{ removed: string[] }>;
  /** The keys of dynamic partitions `name`, in the order they were added. */
  dynamicPartitionKeys(name: string): Promise<string[]>;
  /**
   * Per partition key of `assetKey` that has any record: `in_progress` while a running run that targets the
   * partition has the asset in its plan and has not materialized it; else the later of its latest
   * materialization (`materialized`) and its latest failed step (`failed`). Keys with no record are absent.
   */
  partitionStates(assetKey: string): Promise<Map<string, PartitionState>>;
  /** One page of an asset's events, newest first. */
  assetHistory(assetKey: string, query?: AssetHistoryQuery): Promise<AssetHistoryPage>;
  /** Asset events of a run, in id order. */
  runEvents(runId: string, types?: AssetEventType[]): Promise<StoredAssetEvent[]>;
  /** Run started/finished events of a run, in order. */
  runLifecycleEvents(runId: string): Promise<RunEvent[]>;
  countAssetEvents(filter?: { runId?: string; assetKey?: string; type?: AssetEventType }): Promise<number>;
  /**
   * Per asset: the latest materialization, observation and step result, and a running run that has it planned.
   * Without `keys`, covers every asset the catalog has seen; with `keys`, holds exactly those keys.
   */
  assetStatuses(keys?: string[]): Promise<Map<string, AssetStatus>>;
  /**
   * The latest result of every asset check: per (asset, check name), its newest `check_evaluation` event (the
   * highest id, whatever its partition; a run's retry updates its event in place and keeps the id), from a run
   * or reported. Without `keys`, covers every asset with a check result; with `keys`, only those assets (keys
   * without results add nothing). Ordered by asset key, then check name.
   */
  latestCheckEvaluations(keys?: string[]): Promise<StoredAssetEvent[]>;
  /**
   * The latest materialization of each given (asset, partition) pair, by event id; pairs never materialized are
   * absent. Keyed by {@link pairKey}. One set-based query (or a few), however many pairs.
   */
  latestMaterializationsOf(pairs: readonly AssetPartition[]): Promise<Map<string, MaterializationMark>>;
  /** The highest event id the catalog holds (0 when it has none). */
  eventWatermark(): Promise<number>;
  /** Records one evaluation's records in one transaction; idempotent on (evaluationId, assetKey, partition). */
  recordAutomationEvaluations(records: readonly AutomationEvaluationRecord[]): Promise<void>;
  /** Per given pair, its latest evaluation that requested it (by id); pairs never requested are absent. Keyed by {@link pairKey}. */
  lastAutomationRequests(pairs: readonly AssetPartition[]): Promise<Map<string, StoredAutomationEvaluation>>;
  /** An asset's evaluations, newest first (all partitions, or one with `partition`); default limit 20. */
  automationEvaluations(assetKey: string, opts?: { partition?: string | null; limit?: number }): Promise<StoredAutomationEvaluation[]>;
  /** Deletes evaluations recorded before `before`, keeping each pair's latest requested one; returns how many went. */
  pruneAutomationEvaluations(before: string): Promise<number>;
  /** A workspace setting (`automation.enabled`, ...); undefined when never set. */
  getSetting(key: string): Promise<string | undefined>;
  /** Sets (or with undefined, clears) a workspace setting. */
  setSetting(key: string, value: string | undefined): Promise<void>;
  /**
   * Deletes asset events (and run events) older than `before`, keeping each asset's latest event of each type
   * and partition, and log lines of runs that finished before it. Returns how many rows went (or would go, with
   * `dryRun`).
   */
  prune(before: string, opts?: { dryRun?: boolean }): Promise<PruneResult>;
  /** Closes the store; further calls fail. Closing twice is harmless. */
  close(): Promise<void>;
}

/** The idempotency key of an event written by a run's step. */
export function runEventKey(type: AssetEventType, runId: string, assetKey: string, partition: string | null, check?: string): string {
  return `${type}:${runId}:${assetKey}:${partition ?? ''}${check !== undefined ? `:${check}` : ''}`;
}
