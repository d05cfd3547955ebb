/**
 * A sensor: a long-running workflow (`cairn/sensor/<location>/<name>`) that evaluates the sensor in its
 * location's worker, records what it reports, starts the runs it asks for, waits, and does it again. The cursor
 * lives in the workflow, so it survives worker restarts, and continue-as-new carries it along with the recent
 * ticks. An evaluation error is recorded on its tick and the next tick tries again.
 */
import * as wf from '@temporalio/workflow';
import type { AcceptedRunRequest, LocationActivities, OrchestratorActivities } from '../activities/types';
import { locationTaskQueue, ORCHESTRATOR_TASK_QUEUE } from '../definitions/plan-types';
import { failureMessage } from './failures';
import { WAKE_AUTOMATION_PATCH, type MaterializeAssetsInput } from './materialize-assets';
import { pauseSensorSignal, resetSensorCursorSignal, resumeSensorSignal, sensorTicksQuery, type SensorTick, type SensorView } from './messages';

export interface SensorInput {
  location: string;
  sensor: string;
  intervalMs: number;
  /** The sensor's target, for run requests without a selection. */
  target: { selection?: string; job?: string };
  /** Evaluations per execution before continuing as new; default 200 (tests set a small one). */
  evaluationsPerExecution?: number;
  /** Carried across continue-as-new. */
  state?: { cursor?: string; lastEvaluatedAt?: string; paused: boolean; evaluations: number; ticks: SensorTick[] };
}

const KEPT_TICKS = 50;
/** Evaluations per execution before continuing as new (each costs a handful of history events). */
const EVALUATIONS_PER_EXECUTION = 200;

const orchestrator = wf.proxyActivities<OrchestratorActivities>({ startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 5 } });

/** The workflow id of a run a sensor requests: derived from its runKey, so a repeated request is refused. */
export function sensorRunId(sensorWorkflowId: string, request: AcceptedRunRequest, fallback: string): string {
  return `${sensorWorkflowId}/run/${request.runKey ?? fallback}`;
}

export async function sensor(input: SensorInput): Promise<never> {
  const info = wf.workflowInfo();
  const evaluate = wf.proxyActivities<LocationActivities>({
    taskQueue: locationTaskQueue(input.location),
    // No fixed cap: a long evaluation heartbeats (every 5 s) and may run for an hour.
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '30 seconds',
    retry: { maximumAttempts: 1 },
  }).evaluateSensor;
  const state = input.state ?? { paused: false, evaluations: 0, ticks: [] };
  let wake = false;
  wf.setHandler(sensorTicksQuery, (): SensorView => ({ paused: state.paused, ...(state.cursor !== undefined ? { cursor: state.cursor } : {}), evaluations: state.evaluations, ticks: state.ticks }));
  wf.setHandler(pauseSensorSignal, () => {
    state.paused = true;
  });
  wf.setHandler(resumeSensorSignal, () => {
    state.paused = false;
    wake = true;
  });
  wf.setHandler(resetSensorCursorSignal, (cursor) => {
    if (cursor === undefined) delete state.cursor;
    else state.cursor = cursor;
    wake = true;
  });

  const perExecution = input.evaluationsPerExecution ?? EVALUATIONS_PER_EXECUTION;
  for (let n = 0; n < perExecution; n++) {
    if (state.paused) await wf.condition(() => !state.paused);
    wake = false;
    const at = new Date().toISOString();
    const tick: SensorTick = { at, status: 'empty', runs: [], dropped: [], events: 0 };
    try {
      const result = await evaluate({ sensor: input.sensor, ...(state.cursor !== undefined ? { cursor: state.cursor } : {}), ...(state.lastEvaluatedAt ? { lastEvaluatedAt: state.lastEvaluatedAt } : {}) });
      const applied = await orchestrator.applySensorResult({ location: input.location, sensor: input.sensor, tickId: `${info.firstExecutionRunId}:${state.evaluations}`, target: input.target, result });
      tick.events = applied.events;
      if (applied.events > 0 && wf.patched(WAKE_AUTOMATION_PATCH)) {
        // Reported materializations wake automation, so their downstream reacts now, not at a tick.
        try {
          await orchestrator.wakeAutomation({ keys: [...new Set((result.assetEvents ?? []).map((e) => e.key))], source: `sensor:${input.location}/${input.sensor}` });
        } catch {
          // automation catches up at its next wake
        }
      }
      tick.dropped.push(...applied.rejected);
      for (const [i, request] of applied.accepted.entries()) {
        const workflowId = sensorRunId(info.workflowId, request, `${info.firstExecutionRunId}-${state.evaluations}-${i}`);
        const runInput: MaterializeAssetsInput = {
          ...(request.job !== undefined ? { job: request.job } : { selection: request.selection as string }),
          trigger: 'sensor', tags: request.tags, ...(request.partition !== undefined ? { partition: request.partition } : {}),
        };
        try {
          await wf.startChild('materializeAssets', {
            workflowId, taskQueue: ORCHESTRATOR_TASK_QUEUE, args: [runInput],
            parentClosePolicy: 'ABANDON',
            // A runKey names the run for good: the same request again is refused, even after the first run ended.
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
          });
          tick.runs.push(workflowId);
        } catch (err) {
          if (!(err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError')) throw err;
          tick.dropped.push(`runKey '${request.runKey ?? ''}' already ran (${workflowId})`);
        }
      }
      if (result.cursor !== undefined) state.cursor = result.cursor;
      tick.status = tick.runs.length > 0 ? 'requested' : result.skipReason ? 'skipped' : 'empty';
      if (result.skipReason) tick.skipReason = result.skipReason;
    } catch (err) {
      tick.status = 'failed';
      tick.error = failureMessage(err);
    }
    if (state.cursor !== undefined) tick.cursor = state.cursor;
    state.lastEvaluatedAt = at;
    state.evaluations++;
    state.ticks = [...state.ticks, tick].slice(-KEPT_TICKS);
    await wf.condition(() => wake || state.paused, input.intervalMs);
  }
  return await wf.continueAsNew<typeof sensor>({ ...input, state });
}
