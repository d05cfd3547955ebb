import { Client } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { reconcileSchedules, type ReconcileResult } from './schedules';
import { startSensors } from './sensors';
import { wakeAutomation } from '../activities/automation-activities';
import type { CatalogStore, LogLine } from '../activities/catalog/catalog-store';
import { locationIOManager } from '../activities/location-io';
import { createLocationActivities } from '../activities/location-activities';
import { createRedactor } from '../activities/redact';
import { redactingCatalog } from '../activities/redacting-catalog';
import { initResources } from '../activities/resources';
import { cairnDataConverter } from '../client/encryption';
import type { CodeLocationDefinition } from '../definitions/code-location';
import { isResourceDefinition } from '../definitions/resource';
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
  /** What reconciling the location's schedules into Temporal Schedules did. */
  schedules: ReconcileResult;
  /** Closes what the location's resources hold open (the warehouse file). */
  dispose(): Promise<void>;
}

/**
 * A code location's worker on task queue `cairn-loc-<name>`: publishes the location's snapshot to the
 * catalog, then executes its steps.
 */
export async function createLocationWorker(opts: LocationWorkerOptions): Promise<LocationWorker> {
  const snapshot = locationSnapshot(opts.location);
  // Declared resources are built once per worker, before it polls: bad config or a missing variable fails here.
  const built = await initResources(opts.location);
  const redactor = createRedactor(built.secrets);
  const echo = opts.echo;
  try {
    const { io, ioFor, owned } = locationIOManager(opts.location, opts.warehousePath, built.resources);
    const worker = await Worker.create({
      connection: opts.connection,
      namespace: opts.namespace,
      taskQueue: snapshot.taskQueue,
      activities: createLocationActivities({
        location: opts.location,
        catalog: redactingCatalog(opts.catalog, redactor),
        io,
        ioFor,
        resources: built.resources,
        redactor,
        ...(echo ? { echo: (line: LogLine, key: string) => echo(redactor.active ? { ...line, message: redactor.text(line.message) } : line, key) } : {}),
      }),
      maxConcurrentActivityTaskExecutions: opts.maxConcurrentSteps ?? 100,
      dataConverter: cairnDataConverter(),
    });
    await opts.catalog.publishSnapshot(snapshot, new Date().toISOString());
    // After publishing: a scheduled run plans over the snapshots, so its jobs must be there first.
    const client = new Client({ connection: opts.connection, namespace: opts.namespace, dataConverter: cairnDataConverter() });
    const schedules = await reconcileSchedules(client, opts.location);
    await startSensors(client, opts.location);
    // Starts automation (when on and some asset has a condition), so its cron timers run without any event.
    await wakeAutomation(client, opts.catalog, { keys: [], source: `worker-start:${opts.location.name}` });
    const dispose = async (): Promise<void> => {
      // Plain resource objects are closed here; declared ones by their own `dispose`, in `built.dispose()`.
      for (const r of Object.values(opts.location.resources)) {
        if (isResourceDefinition(r)) continue;
        const closer = (r as { close?: () => unknown; dispose?: () => unknown } | null);
        if (closer && typeof closer.close === 'function') await closer.close();
        else if (closer && typeof closer.dispose === 'function') await closer.dispose();
      }
      await built.dispose();
      await owned?.close();
    };
    return { worker, snapshot, schedules, dispose };
  } catch (err) {
    await built.dispose().catch(() => undefined);
    throw err;
  }
}

