/**
 * `npm run bench -- dbt-build`: the per-model overhead of a real `dbt build` run through Cairn against the same
 * `dbt build` run directly. A generated dbt-duckdb project (BENCH_DBT_MODELS models in layers, one not_null
 * test each) is built, alternating, by `.venv/bin/dbt build` and by a Cairn run (plan activity, one dbt
 * activity streaming every event into the SQLite catalog, run records) on a real dev server.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { SqliteCatalogStore } from '../activities/catalog/sqlite-store';
import { dbtAssets } from '../activities/dbt';
import { dbtEnv, findDbtExecutable } from '../activities/dbt/project';
import { duckdb } from '../activities/duckdb';
import { CairnClient } from '../client/cairn-client';
import { codeLocation } from '../definitions/code-location';
import { startDevServer } from '../workers/dev-server';
import { createLocationWorker } from '../workers/location-worker';
import { createOrchestratorWorker } from '../workers/orchestrator-worker';
import { ensureRuntime } from '../workers/runtime';
import { CAIRN_HOME } from '../workers/settings';
import { loadWorkflowBundle } from '../workers/workflow-bundle';
import { layeredDag } from './overhead';
import { median } from './stats';

const MODELS = Number(process.env.BENCH_DBT_MODELS ?? 60);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** A dbt-duckdb project of `n` table models in layers of 10, each with a not_null test. */
function writeProject(dir: string, n: number): void {
  mkdirSync(join(dir, 'models'), { recursive: true });
  writeFileSync(join(dir, 'dbt_project.yml'), "name: bench\nversion: '1.0.0'\nconfig-version: 2\nprofile: bench\nmodels:\n  bench:\n    +materialized: table\n");
  writeFileSync(join(dir, 'profiles.yml'), "bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: \"{{ env_var('CAIRN_WAREHOUSE_PATH') }}\"\n      threads: 2\n");
  const deps = layeredDag(n, 10);
  const tests: string[] = [];
  deps.forEach((d, i) => {
    const from = d.length === 0 ? 'select range as id from range(100)' : d.map((p) => `select id from {{ ref('m${p}') }}`).join(' union all ');
    writeFileSync(join(dir, 'models', `m${i}.sql`), `select distinct id from (${from}) t\n`);
    tests.push(`  - name: m${i}\n    columns:\n      - name: id\n        data_tests: [not_null]`);
  });
  writeFileSync(join(dir, 'models', 'schema.yml'), `version: 2\nmodels:\n${tests.join('\n')}\n`);
}

export async function dbtBuild(): Promise<void> {
  process.env.CAIRN_TEMPORAL_LOG_LEVEL ??= 'ERROR';
  ensureRuntime();
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-dbt-'));
  const project = join(dir, 'project');
  writeProject(project, MODELS);
  const warehousePath = join(dir, 'warehouse.duckdb');
  process.env.CAIRN_WAREHOUSE_PATH = warehousePath;
  const dbt = findDbtExecutable();
  const server = await startDevServer({ temporalBin: resolve(CAIRN_HOME, '.venv/bin/temporal'), port: 0, headless: true });
  const catalog = await SqliteCatalogStore.open(join(dir, 'catalog.db'));
  const nc = await NativeConnection.connect({ address: server.address });
  const workers: Worker[] = [];
  try {
    const parseStarted = Date.now();
    const location = codeLocation({ name: 'benchdbt', assets: [dbtAssets({ project })], resources: { warehouse: duckdb({ path: warehousePath }) } });
    console.log(`dbt project: ${MODELS} models, ${MODELS} tests; dbtAssets() with dbt parse: ${Date.now() - parseStarted} ms`);
    workers.push(await createOrchestratorWorker({ connection: nc, namespace: 'default', catalog, workflowBundle: await loadWorkflowBundle(resolve(CAIRN_HOME, '.cairn/cache')) }));
    workers.push((await createLocationWorker({ connection: nc, namespace: 'default', location, catalog, warehousePath })).worker);
    const runs = workers.map((w) => w.run());
    const cairn = await CairnClient.connect({ address: server.address, namespace: 'default' });
    const direct: number[] = [];
    const viaCairn: number[] = [];
    // One target path for every direct build, so dbt reuses its partial-parse state as it does for a user.
    const target = join(dir, 'direct-target');
    const directBuild = (): number => {
      const t0 = performance.now();
      const r = spawnSync(dbt, ['build', '--project-dir', project, '--profiles-dir', project, '--target-path', target, '--log-path', target, '--log-format', 'json'], { env: dbtEnv(), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`direct dbt build failed: ${r.stdout.slice(-2000)}`);
      return ms;
    };
    directBuild(); // warm-up: the OS file cache and dbt's partial parse
    for (let round = 0; round < ROUNDS; round++) {
      direct.push(directBuild());
      const t0 = performance.now();
      const summary = await cairn.result(await cairn.startRun({ selection: '*', trigger: 'bench' }));
      viaCairn.push(performance.now() - t0);
      if (summary.status !== 'succeeded') throw new Error(`Cairn run ${summary.status}: ${JSON.stringify(summary.assets.find((a) => a.status !== 'materialized'))}`);
    }
    const d = median(direct);
    const c = median(viaCairn);
    console.log(`dbt build directly:     ${(d / 1000).toFixed(2)} s (median of ${ROUNDS})`);
    console.log(`dbt build through Cairn: ${(c / 1000).toFixed(2)} s (median of ${ROUNDS}; run start to result, every model and test recorded)`);
    console.log(`overhead: ${((c - d) / 1000).toFixed(2)} s per run, ${((c - d) / MODELS).toFixed(1)} ms per model; ratio Cairn/direct ${(c / d).toFixed(2)}`);
    await cairn.close();
    for (const w of workers) w.shutdown();
    await Promise.all(runs);
  } finally {
    await nc.close();
    await catalog.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
