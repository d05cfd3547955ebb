/**
 * Activity contracts shared by workers (which implement them) and workflows (which import these TYPES only).
 * Everything here crosses Temporal as a payload, so it is small, plain data.
 */
import type { RunPlan } from '../definitions/plan';

export type StepOutcome = 'materialized' | 'failed' | 'skipped';

export interface StepInput {
  runId: string;
  assetKey: string;
  /** Validated against the asset's zod schema in the worker. */
  config?: unknown;
  tags?: Record<string, string>;
}

export interface StepOutput {
  assetKey: string;
  /** Small metadata (row count, table); the full record is in the catalog. */
  metadata: Record<string, unknown>;
  durationMs: number;
}

export interface StepReport {
  key: string;
  status: StepOutcome;
  error?: string;
  attempt?: number;
}

export interface RunSummary {
  runId: string;
  workflowId: string;
  status: 'succeeded' | 'failed' | 'canceled';
  assets: StepReport[];
}

/** Activities of the orchestrator worker (task queue `cairn`). */
export interface OrchestratorActivities {
  planRun(input: { selection: string }): Promise<RunPlan>;
  recordRunStarted(input: { runId: string; workflowId: string; selection: string; tags: Record<string, string>; stepCount: number; startedAt: string }): Promise<void>;
  recordRunFinished(input: { runId: string; summary: RunSummary; finishedAt: string }): Promise<void>;
}

/** Activities of a code-location worker (task queue `cairn-loc-<name>`). */
export interface LocationActivities {
  materializeStep(input: StepInput): Promise<StepOutput>;
}
