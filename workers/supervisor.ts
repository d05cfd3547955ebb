import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { NativeConnection, type Worker } from '@temporalio/worker';
import pc from 'picocolors';
import type { CatalogStore } from '../activities/catalog/catalog-store';
import { openCatalog } from '../activities/catalog/open-catalog';
import { startDevServer, temporalAnswers, type DevServer } from './dev-server';
import { createOrchestratorWorker } from './orchestrator-worker';
import { ensureRuntime } from './runtime';
import { CAIRN_HOME, findTemporalBin, type Settings } from './settings';
import { loadWorkflowBundle } from './workflow-bundle';
import type { LoadedWorkspace } from './workspace-loader';

export interface Stack {
  address: string;
  uiUrl: string;
  startedServer: boolean;
  catalog: CatalogStore;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Print location workers' output (step logs) prefixed by location name. */
  echoWorkers: boolean;
  say: (line: string) => void;
}

const READY_TIMEOUT_MS = 120_000;

/** Spawns one code location's worker as its own process and waits until it has published its snapshot. */
function spawnLocationWorker(ws: LoadedWorkspace, name: string, address: string, opts: StackOptions): Promise<ChildProcess> {
  const child = spawn(process.execPath, [resolve(CAIRN_HOME, 'bin/cairn.js'), '--workspace', ws.file, 'worker', 'location', name], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, TEMPORAL_ADDRESS: address },
  });
  const prefix = pc.dim(`[${name}] `);
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    const rl = createInterface({ input: stream });
    const isErr = stream === child.stderr;
    rl.on('line', (line) => {
      if (opts.echoWorkers || isErr) (isErr ? process.stderr : process.stdout).write(`${prefix}${line}\n`);
    });
  }
  return new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the worker of code location '${name}' did not become ready within ${READY_TIMEOUT_MS / 1000} s`));
    }, READY_TIMEOUT_MS);
    let ready = false;
    child.on('message', (m: { type?: string }) => {
      if (m?.type === 'ready') {
        ready = true;
        clearTimeout(timer);
        resolveReady(child);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`the worker of code location '${name}' exited with code ${code} before it was ready (its errors are above)`));
      else if (code !== 0 && signal !== 'SIGTERM') process.stderr.write(`${prefix}${pc.red(`worker exited (${signal ?? `code ${code}`}); its steps wait on task queue cairn-loc-${name} until a worker polls it again`)}\n`);
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Brings up everything a workspace needs on this machine: the Temporal dev server (unless one answers at
 * the configured address), the orchestrator worker in this process, and one worker process per code location.
 */
export async function startStack(ws: LoadedWorkspace & { settings: Settings }, opts: StackOptions): Promise<Stack> {
  ensureRuntime();
  const s = ws.settings;
  let server: DevServer | undefined;
  if (!(await temporalAnswers(s.temporalAddress))) {
    const [host, portText] = splitAddress(s.temporalAddress);
    if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`Temporal does not answer at ${s.temporalAddress}, and Cairn starts a dev server only on localhost`);
    opts.say(`starting the Temporal dev server on ${s.temporalAddress} (state in ${resolve(s.stateDir, 'temporal.db')})`);
    server = await startDevServer({
      temporalBin: findTemporalBin(ws.root),
      port: Number(portText),
      uiPort: Number(new URL(s.uiUrl).port),
      dbFile: resolve(s.stateDir, 'temporal.db'),
      logFile: resolve(s.stateDir, 'logs/temporal.log'),
    });
  } else {
    opts.say(`using the Temporal server at ${s.temporalAddress}`);
  }
  const catalog = await openCatalog({ url: s.catalogUrl, root: s.root });
  const children: ChildProcess[] = [];
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let connection: NativeConnection | undefined;
  const stop = async (): Promise<void> => {
    await Promise.all(children.map(stopChild));
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await connection?.close();
    await catalog.close();
    await server?.stop();
  };
  try {
    const bundleStarted = Date.now();
    const [bundle, conn] = await Promise.all([loadWorkflowBundle(resolve(s.stateDir, 'cache')), NativeConnection.connect({ address: s.temporalAddress })]);
    connection = conn;
    worker = await createOrchestratorWorker({ connection, namespace: s.namespace, catalog, workflowBundle: bundle });
    running = worker.run();
    opts.say(`orchestrator worker polling task queue 'cairn' (workflows ready in ${Date.now() - bundleStarted} ms)`);
    const started = await Promise.all(ws.locations.map(({ location }) => spawnLocationWorker(ws, location.name, s.temporalAddress, opts)));
    children.push(...started);
    opts.say(`code location workers ready: ${ws.locations.map(({ location }) => `${location.name} (cairn-loc-${location.name})`).join(', ')}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address: s.temporalAddress, uiUrl: s.uiUrl, startedServer: !!server, catalog, stop };
}

export function splitAddress(address: string): [string, string] {
  const i = address.lastIndexOf(':');
  return i < 0 ? [address, '7233'] : [address.slice(0, i), address.slice(i + 1)];
}
