/**
 * Reconciles a code location's schedules into Temporal Schedules when its worker starts: creates the missing
 * ones, updates those whose definition changed (keeping a pause made in the UI or with `cairn schedules pause`),
 * and deletes the `cairn/<location>/...` schedules the code no longer declares. A schedule's action starts
 * `materializeAssets` on the orchestrator's queue with the target's selection, tags and config, and names the
 * schedule so the run can pick the tick's partition.
 */
import { ScheduleNotFoundError, type Client, type ScheduleOptions, type ScheduleOverlapPolicy } from '@temporalio/client';
import type { CodeLocationDefinition } from '../definitions/code-location';
import { fnv1a64, stableStringify } from '../definitions/hash';
import { ORCHESTRATOR_TASK_QUEUE } from '../definitions/plan-types';
import { scheduleId, type ScheduleDefinition, type ScheduleOverlap } from '../definitions/schedule';
import type { MaterializeAssetsInput } from '../workflows/materialize-assets';

const OVERLAP: Record<ScheduleOverlap, ScheduleOverlapPolicy> = {
  skip: 'SKIP', bufferOne: 'BUFFER_ONE', bufferAll: 'BUFFER_ALL', cancelOther: 'CANCEL_OTHER', terminateOther: 'TERMINATE_OTHER', allowAll: 'ALLOW_ALL',
};

/** The memo key holding the hash of the definition a schedule was created or updated from. */
const HASH_MEMO = 'cairnScheduleHash';

export interface ReconcileResult {
  created: string[];
  updated: string[];
  deleted: string[];
  unchanged: string[];
}

/** The Temporal Schedule a definition becomes, and the hash that tells whether it changed. */
export function temporalSchedule(location: string, s: ScheduleDefinition): { options: ScheduleOptions; hash: string } {
  const id = scheduleId(location, s.name);
  const input: MaterializeAssetsInput = {
    ...(s.job !== undefined ? { job: s.job } : { selection: s.selection }),
    trigger: 'schedule',
    tags: { ...s.tags, 'cairn/schedule': id },
    ...(s.job === undefined && s.config !== undefined ? { config: { ...s.config } } : {}),
    schedule: { location, name: s.name, ...(s.partition !== undefined ? { partition: s.partition === 'latest' ? 'latest' : 'function' } : {}) },
  };
  const spec = { cronExpressions: [s.cron], timezone: s.timezone };
  const hash = fnv1a64(stableStringify({ spec, input, overlap: s.overlap }));
  return {
    hash,
    options: {
      scheduleId: id,
      spec,
      action: { type: 'startWorkflow', workflowType: 'materializeAssets', taskQueue: ORCHESTRATOR_TASK_QUEUE, workflowId: id, args: [input], memo: { [HASH_MEMO]: hash } },
      policies: { overlap: OVERLAP[s.overlap] },
      ...(s.description !== undefined ? { state: { note: s.description } } : {}),
    },
  };
}

/** Makes the Temporal Schedules `cairn/<location>/*` match the location's schedules. */
export async function reconcileSchedules(client: Client, location: CodeLocationDefinition): Promise<ReconcileResult> {
  const result: ReconcileResult = { created: [], updated: [], deleted: [], unchanged: [] };
  const wanted = new Map((location.schedules ?? []).map((s) => [scheduleId(location.name, s.name), temporalSchedule(location.name, s)]));
  for (const [id, { options, hash }] of wanted) {
    const handle = client.schedule.getHandle(id);
    let current;
    try {
      current = await handle.describe();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
    if (!current) {
      await client.schedule.create(options);
      result.created.push(id);
    } else if (current.action.type === 'startWorkflow' && current.action.memo?.[HASH_MEMO] === hash) {
      result.unchanged.push(id);
    } else {
      // Keep the pause state (and its note) the schedule has now: pausing is an operator's decision.
      await handle.update((prev) => ({ ...prev, spec: options.spec, action: options.action, policies: { ...prev.policies, ...options.policies } }));
      result.updated.push(id);
    }
  }
  // Listing is eventually consistent: a schedule deleted a moment ago may still be listed (deleting it again is harmless).
  const prefix = `cairn/${location.name}/`;
  for await (const summary of client.schedule.list()) {
    if (!summary.scheduleId.startsWith(prefix) || wanted.has(summary.scheduleId)) continue;
    try {
      await client.schedule.getHandle(summary.scheduleId).delete();
      result.deleted.push(summary.scheduleId);
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  return result;
}
