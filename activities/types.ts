import type { EvaluateAutomationInput, EvaluateAutomationOutput, WakeAutomationInput } from './automation-activities';
import type { AutomationEvaluationRecord } from './catalog/catalog-store';
/**
 * Activity contracts shared by workers (which implement them) and workflows (which import these TYPES only).
 * Everything here crosses Temporal as a payload, so it is small, plain data.
 */
import type { Metadata } from '../definitions/metadata';
import type { RunStart } from './catalog/catalog-store';
import type { RunPlan } from '../definitions/plan';
import type { BackfillPartitions, BackfillPlan, BackfillRunPolicy } from '../definitions/backfill-plan';
import type { SensorResult } from '../definitions/sensor';

export type StepOutcome = 'materialized' | 'failed' | 'skipped';

export interface StepInput {
  runId: string;
  assetKey: string;
  /** Validated against the asset's zod schema in the worker. */
  config?: unknown;
  tags?: Record<string, string>;
  /** For a partitioned run: the keys (one, or a range run's keys in order). */
  partition?: RunPartition;
  /** A multi-asset step (one `dbt build`): its name and the assets to produce (`assetKey` is the first). */
  multi?: string;
  assetKeys?: string[];
  /** The group's activity id (`dbt:jaffle`, `dbt:jaffle#2`): the step's own log lines are kept under it. */
  stepId?: string;
  /** Evaluate the asset's checks against its published value without materializing it. */
  checksOnly?: boolean;
}

/** What a multi-asset step reports per asset. */
export interface AssetOutcome {
  key: string;
  status: StepOutcome;
  error?: string;
  /**
   * The name of a blocking check that failed: its downstream in the run is skipped ("blocked by check <name>").
   * The asset is `materialized` when its value was published anyway (a dbt test runs after the model is
   * built), `failed` when the check kept the staged value from being published.
   */
  failedCheck?: string;
}

/** The partitions a run materializes: one key, or a range run's keys in order (`range: true`). */
export interface RunPartition {
  keys: string[];
  range?: boolean;
}

export interface StepOutput {
  assetKey: string;
  /** Small metadata (row count, table); the full record is in the catalog. */
  metadata: Metadata;
  durationMs: number;
  /** For a multi-asset step: the outcome of each asset. */
  assets?: AssetOutcome[];
}

export interface StepReport {
  key: string;
  status: StepOutcome;
  error?: string;
  /** The blocking check that failed (`not_null_x`), so its downstream was skipped. */
  failedCheck?: string;
  attempt?: number;
}

export interface RunSummary {
  runId: string;
  workflowId: string;
  status: 'succeeded' | 'failed' | 'canceled';
  /** A checks-only run: `materialized` means the asset's checks were evaluated; nothing was written. */
  checksOnly?: boolean;
  assets: StepReport[];
}

/** Re-run an earlier run: only its failed and skipped steps (`from-failure`), or its whole selection (`all`). */
export interface ReexecuteRequest {
  runId: string;
  mode: 'from-failure' | 'all';
}

export interface PlanRunInput {
  /** Required unless `reexecute` is given (then the original run's selection is used). */
  selection?: string;
  /** Keep only assets that are missing or stale. */
  staleOnly?: boolean;
  /** Keep only assets with checks (dbt tests included), to evaluate them without materializing. */
  checksOnly?: boolean;
  reexecute?: ReexecuteRequest;
  /** Run every selected asset for this partition key (they must all be partitioned, and it must be their key). */
  partition?: string;
  /** A job's name instead of a selection: its selection, tags and config. */
  job?: string;
  /** Run the partition whose window ended last at this time (ISO): a schedule's `partition: 'latest'`. */
  partitionAt?: string;
}

/** What planning returns to the workflow: the plan and what it inherits from a re-executed run. */
export interface PlannedRun {
  plan: RunPlan;
  selection: string;
  /** The original run's config and tags, for a re-execution. */
  config?: Record<string, unknown>;
  tags?: Record<string, string>;
  parentRunId?: string;
  rootRunId?: string;
  /** Whether the namespace has Cairn's search attributes registered (the workflow sets them only then). */
  searchAttributes: boolean;
  /** The run's partition, checked against every step's definition. */
  partition?: RunPartition;
}

export interface PlanBackfillInput {
  selection: string;
  partitions: BackfillPartitions;
  policy: BackfillRunPolicy;
}

export interface PlannedBackfill {
  plan: BackfillPlan;
  searchAttributes: boolean;
}

/** What the workflow records when a run starts; the fields it always knows are required. */
export type RunStartedInput = RunStart & Required<Pick<RunStart, 'trigger' | 'locations' | 'assetKeys'>>;

/** Activities of the orchestrator worker (task queue `cairn`). */
export interface OrchestratorActivities {
  planRun(input: PlanRunInput): Promise<PlannedRun>;
  recordRunStarted(input: RunStartedInput): Promise<void>;
  recordRunFinished(input: { runId: string; summary: RunSummary; finishedAt: string }): Promise<void>;
  planBackfill(input: PlanBackfillInput): Promise<PlannedBackfill>;
  /** Records a sensor's asset events and dynamic partitions, and checks its run requests by planning each. */
  applySensorResult(input: ApplySensorResultInput): Promise<{ accepted: AcceptedRunRequest[]; rejected: string[]; events: number }>;
  /** Evaluates every automated asset over the catalog (read only): the decisions and the runs to start. */
  evaluateAutomation(input: EvaluateAutomationInput): Promise<EvaluateAutomationOutput>;
  /** Records an evaluation's decisions (idempotent), pruning old ones when asked. */
  recordAutomation(input: { records: AutomationEvaluationRecord[]; prune: boolean }): Promise<void>;
  /** Wakes the automation workflow with the keys that changed (signal-with-start), unless automation is stopped. */
  wakeAutomation(input: WakeAutomationInput): Promise<boolean>;
}

/** Activities of a code-location worker (task queue `cairn-loc-<name>`). */
export interface LocationActivities {
  materializeStep(input: StepInput): Promise<StepOutput>;
  /** The partition key a schedule's `partition` function gives for a tick (ISO time). */
  schedulePartition(input: { schedule: string; tick: string }): Promise<string>;
  /** Runs a sensor's `evaluate` and checks its result (a malformed one fails with the bad fields named). */
  evaluateSensor(input: { sensor: string; cursor?: string; lastEvaluatedAt?: string }): Promise<SensorResult>;
}

/** A sensor's run request that passed planning, ready to start. */
export interface AcceptedRunRequest {
  selection?: string;
  job?: string;
  partition?: string;
  tags: Record<string, string>;
  runKey?: string;
}

export interface ApplySensorResultInput {
  location: string;
  sensor: string;
  /** Unique per evaluation (the sensor's first run id and its evaluation count): events are keyed by it. */
  tickId: string;
  /** The sensor's default target, for requests without a selection. */
  target: { selection?: string; job?: string };
  result: SensorResult;
}
