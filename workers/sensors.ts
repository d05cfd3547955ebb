/**
 * Starts a code location's sensors when its worker starts: each is the workflow `cairn/sensor/<location>/<name>`
 * on the orchestrator's queue. A sensor that is already running is left as it is (its cursor and pause stay, so
 * a sensor stopped with `cairn sensors stop` stays stopped). The running sensor workflows of the location whose
 * sensor the code no longer defines are terminated.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { CodeLocationDefinition } from '../definitions/code-location';
import { parseDuration } from '../definitions/freshness';
import { ORCHESTRATOR_TASK_QUEUE } from '../definitions/plan-types';
import { sensorWorkflowId, type SensorDefinition } from '../definitions/sensor';
import type { SensorInput } from '../workflows/sensor';

export interface StartSensorsResult {
  /** Workflow ids of the location's sensors (started now, or already running). */
  started: string[];
  /** Workflow ids of removed sensors that were terminated. */
  stopped: string[];
}

/** The sensor workflow's input for a sensor of `location` (the worker and `cairn sensors start` build the same). */
export function sensorInput(location: string, s: SensorDefinition): SensorInput {
  return {
    location,
    sensor: s.name,
    intervalMs: parseDuration(s.minimumInterval),
    target: { ...(s.job !== undefined ? { job: s.job } : s.selection !== undefined ? { selection: s.selection } : {}) },
  };
}

/** Starts the sensor's workflow, or leaves the running one as it is (`USE_EXISTING`). */
export async function startSensorWorkflow(client: Client, location: string, s: SensorDefinition): Promise<string> {
  const handle = await client.workflow.start('sensor', {
    workflowId: sensorWorkflowId(location, s.name),
    taskQueue: ORCHESTRATOR_TASK_QUEUE,
    args: [sensorInput(location, s)],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return handle.workflowId;
}

export async function startSensors(client: Client, location: CodeLocationDefinition): Promise<StartSensorsResult> {
  const started: string[] = [];
  for (const s of location.sensors ?? []) started.push(await startSensorWorkflow(client, location.name, s));
  return { started, stopped: await stopRemovedSensors(client, location) };
}

/**
 * Terminates the running `cairn/sensor/<location>/...` workflows whose sensor the location no longer defines.
 * Visibility is eventually consistent: a sensor started a moment ago by an older worker may be missed; the next
 * start of the worker catches it, and its evaluations fail with UNKNOWN_SENSOR until then.
 */
async function stopRemovedSensors(client: Client, location: CodeLocationDefinition): Promise<string[]> {
  const prefix = sensorWorkflowId(location.name, '');
  const defined = new Set((location.sensors ?? []).map((s) => sensorWorkflowId(location.name, s.name)));
  const removed: string[] = [];
  for await (const w of client.workflow.list({ query: "WorkflowType = 'sensor' AND ExecutionStatus = 'Running'" })) {
    if (w.workflowId.startsWith(prefix) && !defined.has(w.workflowId)) removed.push(w.workflowId);
  }
  const stopped: string[] = [];
  for (const id of removed) {
    const name = id.slice(prefix.length);
    try {
      await client.workflow.getHandle(id).terminate(`sensor '${name}' is no longer defined in code location '${location.name}'; its worker stopped it when it started`);
      stopped.push(id);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return stopped;
}
