/**
 * Starts a code location's sensors when its worker starts: each is the workflow `cairn/sensor/<location>/<name>`
 * on the orchestrator's queue. A sensor that is already running is left as it is (its cursor and pause stay).
 */
import type { Client } from '@temporalio/client';
import type { CodeLocationDefinition } from '../definitions/code-location';
import { parseDuration } from '../definitions/freshness';
import { ORCHESTRATOR_TASK_QUEUE } from '../definitions/plan-types';
import { sensorWorkflowId } from '../definitions/sensor';
import type { SensorInput } from '../workflows/sensor';

export async function startSensors(client: Client, location: CodeLocationDefinition): Promise<string[]> {
  const started: string[] = [];
  for (const s of location.sensors ?? []) {
    const input: SensorInput = {
      location: location.name,
      sensor: s.name,
      intervalMs: parseDuration(s.minimumInterval),
      target: { ...(s.job !== undefined ? { job: s.job } : s.selection !== undefined ? { selection: s.selection } : {}) },
    };
    const handle = await client.workflow.start('sensor', {
      workflowId: sensorWorkflowId(location.name, s.name),
      taskQueue: ORCHESTRATOR_TASK_QUEUE,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    started.push(handle.workflowId);
  }
  return started;
}
