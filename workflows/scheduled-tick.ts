/**
 * The time a Temporal Schedule meant a run to start: the `TemporalScheduledStartTime` search attribute the
 * schedule sets, else the timestamp it appends to the workflow id (`cairn/<location>/<name>-2024-01-05T00:00:00Z`).
 */
import type { WorkflowInfo } from '@temporalio/workflow';

const ID_SUFFIX = /-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)$/;

export function scheduledTick(info: Pick<WorkflowInfo, 'searchAttributes' | 'workflowId'>): Date | undefined {
  const raw = (info.searchAttributes as Record<string, unknown[] | undefined> | undefined)?.TemporalScheduledStartTime?.[0];
  if (raw instanceof Date && !Number.isNaN(raw.getTime())) return raw;
  if (typeof raw === 'string' && !Number.isNaN(Date.parse(raw))) return new Date(raw);
  const m = ID_SUFFIX.exec(info.workflowId);
  return m?.[1] ? new Date(m[1]) : undefined;
}
