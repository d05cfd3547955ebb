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

/** One evaluation of a sensor, as its `sensorTicks` query shows it (the last 50 are kept). */
export interface SensorTick {
  at: string;
  status: 'requested' | 'skipped' | 'empty' | 'failed';
  /** Workflow ids of the runs started by this tick (a duplicate runKey starts none). */
  runs: string[];
  /** Run requests not started, and why (a duplicate runKey, a selection that matches nothing). */
  dropped: string[];
  events: number;
  skipReason?: string;
  error?: string;
  cursor?: string;
}

export interface SensorView {
  paused: boolean;
  cursor?: string;
  evaluations: number;
  ticks: SensorTick[];
}

export const sensorTicksQuery = defineQuery<SensorView>('sensorTicks');
export const pauseSensorSignal = defineSignal('pauseSensor');
export const resumeSensorSignal = defineSignal('resumeSensor');
/** Sets the cursor (undefined: the next evaluation starts from scratch) and evaluates at once. */
export const resetSensorCursorSignal = defineSignal<[string | undefined]>('resetSensorCursor');

/** Sent by every finished run, reported event, sensor and worker start: these keys changed, evaluate now. */
export const automationWakeSignal = defineSignal<[{ keys: string[]; source: string }]>('automationWake');
/** Asks the automation workflow to finish its current evaluation and end (`cairn automation stop`). */
export const stopAutomationSignal = defineSignal('stopAutomation');

/** One wake of the automation workflow. */
export interface AutomationTick {
  evaluationId: string;
  at: string;
  /** What woke it, and the keys that changed (up to 20). */
  sources: string[];
  changed: string[];
  evaluated: number;
  requested: number;
  /** Workflow ids of the runs it started. */
  runs: string[];
  problems: string[];
  durationMs: number;
  error?: string;
}

export interface AutomationView {
  activeSince: string;
  evaluations: number;
  nextWakeAt?: string;
  stopping: boolean;
  /** The last 20 wakes, oldest first. */
  ticks: AutomationTick[];
}

export const automationStatusQuery = defineQuery<AutomationView>('automationStatus');
