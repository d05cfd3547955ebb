import { defineQuery, defineSignal } from '@temporalio/workflow';

export type LiveStepStatus = 'pending' | 'running' | 'materialized' | 'failed' | 'skipped';

export interface LiveStep {
  key: string;
  status: LiveStepStatus;
  error?: string;
}

export interface RunStatusView {
  runId: string;
  selection: string;
  phase: 'planning' | 'running' | 'finished';
  steps: LiveStep[];
}

/** Live per-step status of a run; the CLI's progress display and the UI poll it. */
export const runStatusQuery = defineQuery<RunStatusView>('runStatus');

/** What a backfill's child run tells its backfill when it ends (by signal, so it reaches later generations too). */
export interface UnitFinished {
  unit: number;
  status: 'succeeded' | 'failed' | 'canceled';
  error?: string;
}

export const unitFinishedSignal = defineSignal<[UnitFinished]>('backfillUnitFinished');

export type UnitStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'canceled';

/** Live progress of a backfill: counts per unit status and the units that failed or were skipped (first 100). */
export interface BackfillProgress {
  backfillId: string;
  selection: string;
  phase: 'planning' | 'running' | 'canceling' | 'finished';
  /** Child runs in the plan, and (asset, partition) pairs they cover. */
  total: number;
  assetPartitions: number;
  counts: Record<UnitStatus, number>;
  failed: { label: string; error: string }[];
  skipped: { label: string; reason: string }[];
  running: string[];
  /** Continue-as-new generations so far (0 for the first). */
  generation: number;
}

export const backfillProgressQuery = defineQuery<BackfillProgress>('backfillProgress');
