/**
 * The workers a benchmark against bare Temporal needs: Cairn's orchestrator and one code location's worker, and
 * the bare baseline's workflow worker (`bench/bare/workflows.ts`) and its activity worker.
 */
import { join, resolve } from 'node:path';
import { bundleWorkflowCode, Worker, type NativeConnection } from '@temporalio/worker';
import type { CatalogStore } from '../activities/catalog/catalog-store';
import type { CodeLocationDefinition } from '../definitions/code-location';
import { createLocationWorker } from '../workers/location-worker';
import { createOrchestratorWorker } from '../workers/orchestrator-worker';
import { CAIRN_HOME } from '../workers/settings';
import { loadWorkflowBundle } from '../workers/workflow-bundle';

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };

export async function benchWorkers(opts: { connection: NativeConnection; catalog: CatalogStore; location: CodeLocationDefinition; dir: string; noop: () => Promise<void> }): Promise<Worker[]> {
  const { connection, catalog } = opts;
  return [
    await createOrchestratorWorker({ connection, namespace: 'default', catalog, workflowBundle: await loadWorkflowBundle(resolve(CAIRN_HOME, '.cairn/cache')) }),
    (await createLocationWorker({ connection, namespace: 'default', location: opts.location, catalog, warehousePath: join(opts.dir, 'w.duckdb') })).worker,
    await Worker.create({ connection, taskQueue: 'bench-bare', workflowBundle: await bundleWorkflowCode({ workflowsPath: resolve(CAIRN_HOME, 'bench/bare/workflows.ts'), logger: quiet }) }),
    await Worker.create({ connection, taskQueue: 'bench-bare-activities', activities: { noop: opts.noop }, maxConcurrentActivityTaskExecutions: 100 }),
  ];
}
