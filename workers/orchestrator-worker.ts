import { Worker, type NativeConnection } from '@temporalio/worker';
import type { CatalogStore } from '../activities/catalog/catalog-store';
import { createOrchestratorActivities } from '../activities/orchestrator-activities';
import { cairnDataConverter } from '../client/encryption';
import { ORCHESTRATOR_TASK_QUEUE } from '../definitions/snapshot';
import { ensureSearchAttributes } from './search-attributes';

export interface OrchestratorWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  catalog: CatalogStore;
  workflowBundle: { code: string };
  taskQueue?: string;
  /** Whether Cairn's search attributes are registered; default: register them now when missing. */
  searchAttributes?: boolean;
}

/** The orchestrator: run workflows and the plan/catalog activities, on task queue `cairn`. */
export async function createOrchestratorWorker(opts: OrchestratorWorkerOptions): Promise<Worker> {
  const searchAttributes = opts.searchAttributes ?? (await ensureSearchAttributes(opts.connection, opts.namespace));
  return await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? ORCHESTRATOR_TASK_QUEUE,
    workflowBundle: opts.workflowBundle,
    activities: createOrchestratorActivities({ catalog: opts.catalog, searchAttributes }),
    maxConcurrentWorkflowTaskExecutions: 40,
    dataConverter: cairnDataConverter(),
  });
}
