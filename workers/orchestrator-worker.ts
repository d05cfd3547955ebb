import { Worker, type NativeConnection } from '@temporalio/worker';
import type { CatalogStore } from '../activities/catalog/catalog-store';
import { createOrchestratorActivities } from '../activities/orchestrator-activities';
import { ORCHESTRATOR_TASK_QUEUE } from '../definitions/snapshot';

export interface OrchestratorWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  catalog: CatalogStore;
  workflowBundle: { code: string };
  taskQueue?: string;
}

/** The orchestrator: run workflows and the plan/catalog activities, on task queue `cairn`. */
export async function createOrchestratorWorker(opts: OrchestratorWorkerOptions): Promise<Worker> {
  return await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? ORCHESTRATOR_TASK_QUEUE,
    workflowBundle: opts.workflowBundle,
    activities: createOrchestratorActivities({ catalog: opts.catalog }),
    maxConcurrentWorkflowTaskExecutions: 40,
  });
}
