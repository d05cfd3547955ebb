/**
 * `npm run bench -- overhead`: Cairn's orchestration overhead against a bare Temporal workflow.
 * A layered DAG of no-op assets is materialized by Cairn (plan activity, catalog writes, status) and the same
 * DAG of no-op activities is walked by a hand-written workflow with the same concurrency, on the same dev
 * server, alternating. Also times planning a 10,000-asset graph.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { SqliteCatalogStore } from '../activities/catalog/sqlite-store';
import { CairnClient } from '../client/cairn-client';
import { asset } from '../definitions/asset';
import { codeLocation } from '../definitions/code-location';
import { planRun } from '../definitions/plan';
import { locationSnapshot } from '../definitions/to-snapshot';
import { startDevServer } from '../workers/dev-server';
import { ensureRuntime } from '../workers/runtime';
import { CAIRN_HOME } from '../workers/settings';
import { median } from './stats';
import { benchWorkers } from './workers';

const ASSETS = Number(process.env.BENCH_ASSETS ?? 1000);
const WIDTH = Number(process.env.BENCH_WIDTH ?? 50);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** deps[i] for a layered DAG: each node depends on two nodes of the layer above. */
export function layeredDag(n: number, width: number): number[][] {
  return Array.from({ length: n }, (_, i) => {
    const layer = Math.floor(i / width);
    if (layer === 0) return [];
    const above = (layer - 1) * width;
    return [...new Set([above + (i % width), above + ((i * 7 + 3) % width)])].sort((a, b) => a - b);
  });
}


export async function overhead(): Promise<void> {
  process.env.CAIRN_TEMPORAL_LOG_LEVEL ??= 'ERROR';
  ensureRuntime();
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-'));
  const server = await startDevServer({ temporalBin: resolve(CAIRN_HOME, '.venv/bin/temporal'), port: 0, headless: true });
  const deps = layeredDag(ASSETS, WIDTH);
  const key = (i: number): string => `bench/l${Math.floor(i / WIDTH)}/n${i}`;
  const location = codeLocation({ name: 'bench', assets: deps.map((d, i) => asset({ key: key(i), deps: d.map(key), retry: { maxAttempts: 1 }, materialize: () => undefined })) });
  const catalog = await SqliteCatalogStore.open(join(dir, 'catalog.db'));
  const nc = await NativeConnection.connect({ address: server.address });
  const workers: Worker[] = [];
  try {
    workers.push(...(await benchWorkers({ connection: nc, catalog, location, dir, noop: async () => undefined })));
    const runs = workers.map((w) => w.run());
    const cairn = await CairnClient.connect({ address: server.address, namespace: 'default' });
    const bare = new Client({ connection: await Connection.connect({ address: server.address }) });

    const runCairn = async (): Promise<number> => {
      const t = performance.now();
      const run = await cairn.startRun({ selection: '*', maxConcurrency: CONCURRENCY });
      const summary = await cairn.result(run);
      if (summary.status !== 'succeeded' || summary.assets.length !== ASSETS) throw new Error(`cairn run did not succeed: ${summary.status}`);
      return performance.now() - t;
    };
    let bareRuns = 0;
    const runBare = async (): Promise<number> => {
      const t = performance.now();
      const done = await bare.workflow.execute('bareDag', { taskQueue: 'bench-bare', workflowId: `bare-${Date.now()}-${bareRuns++}`, args: [{ deps, maxConcurrency: CONCURRENCY, activityQueue: 'bench-bare-activities' }] });
      if (done !== ASSETS) throw new Error('bare run incomplete');
      return performance.now() - t;
    };
    // One unmeasured round of each warms the workers, the JIT and the server; then the two alternate, and
    // which goes first alternates too, so neither always runs on a machine the other just heated.
    await runCairn();
    await runBare();
    const cairnTimes: number[] = [];
    const bareTimes: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        cairnTimes.push(await runCairn());
        bareTimes.push(await runBare());
      } else {
        bareTimes.push(await runBare());
        cairnTimes.push(await runCairn());
      }
      console.log(`round ${r + 1}: cairn ${(cairnTimes.at(-1)! / 1000).toFixed(2)} s, bare ${(bareTimes.at(-1)! / 1000).toFixed(2)} s`);
    }
    const c = median(cairnTimes);
    const b = median(bareTimes);
    console.log(`\n${ASSETS} no-op assets, ${WIDTH} per layer, concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds (median):`);
    console.log(`  cairn materializeAssets: ${(c / 1000).toFixed(2)} s`);
    console.log(`  bare Temporal workflow:  ${(b / 1000).toFixed(2)} s`);
    console.log(`  ratio cairn/bare:        ${(c / b).toFixed(3)} (target <= 1.25)`);

    const bigDeps = layeredDag(10_000, 100);
    const bigKey = (i: number): string => `big/l${Math.floor(i / 100)}/n${i}`;
    const big = locationSnapshot(codeLocation({ name: 'big', assets: bigDeps.map((d, i) => asset({ key: bigKey(i), deps: d.map(bigKey), materialize: () => undefined })) }));
    const planTimes: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      const plan = planRun([big], '*');
      planTimes.push(performance.now() - t);
      if (plan.steps.length !== 10_000) throw new Error('plan incomplete');
    }
    console.log(`  planning 10,000 assets:  ${median(planTimes).toFixed(0)} ms median of 7 (target < 300 ms)`);

    for (const w of workers) w.shutdown();
    await Promise.all(runs);
    await cairn.close();
    await bare.connection.close();
  } finally {
    await nc.close();
    await catalog.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
