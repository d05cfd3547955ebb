import { Worker, type NativeConnection } from '@temporalio/worker';
import type { CatalogStore, LogLine } from '../activities/catalog/catalog-store';
import { locationIOManager } from '../activities/location-io';
import { createLocationActivities } from '../activities/location-activities';
import type { CodeLocationDefinition } from '../definitions/code-location';
import type { LocationSnapshot } from '../definitions/snapshot';
import { locationSnapshot } from '../definitions/to-snapshot';

export interface LocationWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  location: CodeLocationDefinition;
  catalog: CatalogStore;
  /** The default warehouse, used when the location brings no DuckDB resource or `io` of its own. */
  warehousePath: string;
  echo?: (line: LogLine, assetKey: string) => void;
  maxConcurrentSteps?: number;
}

export interface LocationWorker {
  worker: Worker;
  snapshot: LocationSnapshot;
  /** Closes what the location's resources hold open (the warehouse file). */
  dispose(): Promise<void>;
}

/**
 * A code location's worker on task queue `cairn-loc-<name>`: publishes the location's snapshot to the
 * catalog, then executes its steps.
 */
export async function createLocationWorker(opts: LocationWorkerOptions): Promise<LocationWorker> {
  const snapshot = locationSnapshot(opts.location);
  const { io, owned } = locationIOManager(opts.location, opts.warehousePath);
  const worker = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: snapshot.taskQueue,
    activities: createLocationActivities({ location: opts.location, catalog: opts.catalog, io, resources: { ...opts.location.resources }, ...(opts.echo ? { echo: opts.echo } : {}) }),
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentSteps ?? 100,
  });
  await opts.catalog.publishSnapshot(snapshot, new Date().toISOString());
  const dispose = async (): Promise<void> => {
    for (const r of Object.values(opts.location.resources)) {
      const closer = (r as { close?: () => unknown; dispose?: () => unknown } | null);
      if (closer && typeof closer.close === 'function') await closer.close();
      else if (closer && typeof closer.dispose === 'function') await closer.dispose();
    }
    await owned?.close();
  };
  return { worker, snapshot, dispose };
}
