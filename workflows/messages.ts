import { defineQuery } from '@temporalio/workflow';

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
