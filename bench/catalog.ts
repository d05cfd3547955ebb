/**
 * `npm run bench -- catalog` (or `BENCH_ONLY=catalog npm run bench`): the catalog stores under a 10,000-asset run.
 *
 * For SQLite (a file in a temp dir) and PostgreSQL (a private server from test/support/postgres-server):
 * 1. one run writing 10,000 materializations the way a run does (run start with every asset key, one
 *    `recordAssetEvent` per step, awaited in turn, step results and run finish at the end), timing every event,
 *    so the first 1,000 and the last 1,000 can be compared; then a second run of the same 10,000 assets
 *    written by 8 writers in parallel;
 * 2. `cairn status` (`assetStates`) over the 10,000-asset graph: the catalog query alone and the total with
 *    staleness, median of 5 after a warm-up;
 * 3. a third run of the 10,000 assets with full steps: each step first reads its inputs' data versions
 *    (`assetStatuses(deps)`, as `materializeStep` does) and then writes its event, timed per step; half way
 *    through, `cairn status` again (median of 3 after a warm-up), with half the assets in progress.
 * Before each store is measured, a throwaway catalog takes 500 events, so the JIT and the driver are warm.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assetStates } from '../activities/asset-states';
import { runEventKey, type AssetEvent, type AssetStatus, type CatalogStore } from '../activities/catalog/catalog-store';
import { PostgresCatalogStore } from '../activities/catalog/postgres-store';
import { SqliteCatalogStore } from '../activities/catalog/sqlite-store';
import { AssetGraph, type GraphNode } from '../definitions/graph';
import { createDatabase, startPostgres } from '../test/support/postgres-server';
import { layeredDag } from './overhead';
import { median } from './stats';

const ASSETS = Number(process.env.BENCH_CATALOG_ASSETS ?? 10_000);
const WIDTH = 100;
const WRITERS = 8;
const WINDOW = 1_000;
const STATUS_ROUNDS = 5;
const MID_RUN_STATUS_ROUNDS = 3;
const WARMUP_EVENTS = 500;
const QUERY_TARGET_MS = 200;
const CODE_VERSION = 'v1';

const deps = layeredDag(ASSETS, WIDTH);
const key = (i: number): string => `cat/l${Math.floor(i / WIDTH)}/n${i}`;
const dataVersion = (i: number): string => `dv-${i}`;

interface StoreFigures {
  runStartMs: number;
  seq: { totalMs: number; perEvent: Float64Array };
  finishMs: number;
  par: { totalMs: number; perEvent: Float64Array };
  status: { queryMs: number; totalMs: number };
  steps: { totalMs: number; perEvent: Float64Array };
  statusMidRun: { queryMs: number; totalMs: number };
}

const mean = (xs: Float64Array, from: number, to: number): number => {
  let sum = 0;
  for (let i = from; i < to; i++) sum += xs[i]!;
  return sum / (to - from);
};
const percentile = (xs: Float64Array, p: number): number => {
  const sorted = Float64Array.from(xs).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
};

function materialization(runId: string, i: number, inputs?: Record<string, string | null>): AssetEvent {
  const k = key(i);
  return {
    eventKey: runEventKey('materialization', runId, k, null),
    type: 'materialization',
    assetKey: k,
    partition: null,
    runId,
    attempt: 1,
    at: new Date().toISOString(),
    metadata: { rowCount: { type: 'row_count', value: i }, table: { type: 'text', value: `main.${k.replaceAll('/', '_')}` } },
    codeVersion: CODE_VERSION,
    dataVersion: dataVersion(i),
    inputDataVersions: inputs ?? Object.fromEntries(deps[i]!.map((d) => [key(d), dataVersion(d)])),
    codeLocation: 'bench',
    source: 'run',
  };
}

async function startRun(catalog: CatalogStore, runId: string): Promise<number> {
  const t = performance.now();
  await catalog.recordRunStarted({
    runId, workflowId: `wf-${runId}`, selection: '*', tags: {}, stepCount: ASSETS, startedAt: new Date().toISOString(),
    trigger: 'bench', locations: ['bench'], assetKeys: deps.map((_, i) => key(i)),
  });
  return performance.now() - t;
}

async function finishRun(catalog: CatalogStore, runId: string): Promise<number> {
  const t = performance.now();
  const at = new Date().toISOString();
  await catalog.recordStepResults(deps.map((_, i) => ({ runId, assetKey: key(i), status: 'materialized' as const, attempt: 1, at })));
  await catalog.recordRunFinished(runId, 'succeeded', new Date().toISOString());
  return performance.now() - t;
}

/**
 * Writes the events of `indices` one after another, recording each one's time at its asset's index. With
 * `readInputs`, each step first reads its inputs' current data versions from the catalog, as a real step does.
 */
async function writeEvents(catalog: CatalogStore, runId: string, indices: Iterable<number>, perEvent: Float64Array, readInputs = false): Promise<void> {
  for (const i of indices) {
    const t = performance.now();
    let inputs: Record<string, string | null> | undefined;
    if (readInputs && deps[i]!.length > 0) {
      const statuses = await catalog.assetStatuses(deps[i]!.map(key));
      inputs = Object.fromEntries(deps[i]!.map((d) => [key(d), statuses.get(key(d))?.lastMaterialization?.dataVersion ?? null]));
    }
    const { inserted } = await catalog.recordAssetEvent(materialization(runId, i, inputs));
    perEvent[i] = performance.now() - t;
    if (!inserted) throw new Error(`event ${i} of ${runId} was not inserted`);
  }
}

function* range(from: number, to: number, step = 1): Generator<number> {
  for (let i = from; i < to; i += step) yield i;
}

/** `assetStates` with the `assetStatuses` call timed on its own: median of `rounds` after one warm-up. */
async function timeStatus(catalog: CatalogStore, graph: AssetGraph, rounds: number, expect: (states: Map<string, number>) => void): Promise<{ queryMs: number; totalMs: number }> {
  let queryMs = 0;
  const timed = new Proxy(catalog, {
    get(target, prop) {
      if (prop === 'assetStatuses') {
        return async (keys?: string[]): Promise<Map<string, AssetStatus>> => {
          const t = performance.now();
          const out = await target.assetStatuses(keys);
          queryMs = performance.now() - t;
          return out;
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const queries: number[] = [];
  const totals: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    const t = performance.now();
    const rows = await assetStates(timed, graph);
    const total = performance.now() - t;
    if (r === 0) {
      const counts = new Map<string, number>();
      for (const row of rows) counts.set(row.state, (counts.get(row.state) ?? 0) + 1);
      expect(counts);
      continue;
    }
    queries.push(queryMs);
    totals.push(total);
  }
  return { queryMs: median(queries), totalMs: median(totals) };
}

function expectStates(want: Record<string, number>): (counts: Map<string, number>) => void {
  return (counts) => {
    const got = Object.fromEntries(counts);
    if (JSON.stringify(Object.entries(got).sort()) !== JSON.stringify(Object.entries(want).sort())) {
      throw new Error(`unexpected asset states ${JSON.stringify(got)}, wanted ${JSON.stringify(want)}`);
    }
  };
}

async function warmUp(catalog: CatalogStore): Promise<void> {
  const perEvent = new Float64Array(ASSETS);
  await startRun(catalog, 'warmup');
  await writeEvents(catalog, 'warmup', range(0, Math.min(WARMUP_EVENTS, ASSETS)), perEvent);
  await catalog.assetStatuses(deps.map((_, i) => key(i)));
}

async function measure(label: string, catalog: CatalogStore, graph: AssetGraph): Promise<StoreFigures> {
  process.stdout.write(`${label}: sequential run`);
  const runStartMs = await startRun(catalog, 'run-seq');
  const seqPerEvent = new Float64Array(ASSETS);
  let t = performance.now();
  await writeEvents(catalog, 'run-seq', range(0, ASSETS), seqPerEvent);
  const seqTotal = performance.now() - t;
  const finishMs = await finishRun(catalog, 'run-seq');

  process.stdout.write(`, ${WRITERS} writers`);
  await startRun(catalog, 'run-par');
  const parPerEvent = new Float64Array(ASSETS);
  t = performance.now();
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writeEvents(catalog, 'run-par', range(w, ASSETS, WRITERS), parPerEvent)));
  const parTotal = performance.now() - t;
  await finishRun(catalog, 'run-par');
  for (const runId of ['run-seq', 'run-par']) {
    const n = await catalog.countAssetEvents({ runId, type: 'materialization' });
    if (n !== ASSETS) throw new Error(`${label}: ${runId} holds ${n} materializations, expected ${ASSETS}`);
  }

  process.stdout.write(', status');
  const status = await timeStatus(catalog, graph, STATUS_ROUNDS, expectStates({ FRESH: ASSETS }));

  // A third run of every asset with full steps (read inputs, then write). Half way, half the assets are in
  // progress, which the status query must find.
  process.stdout.write(', full steps');
  await startRun(catalog, 'run-steps');
  const half = Math.floor(ASSETS / 2);
  const stepPerEvent = new Float64Array(ASSETS);
  await writeEvents(catalog, 'run-steps', range(0, half), stepPerEvent, true);
  process.stdout.write(', status mid-run');
  const statusMidRun = await timeStatus(catalog, graph, MID_RUN_STATUS_ROUNDS, expectStates({ FRESH: half, IN_PROGRESS: ASSETS - half }));
  process.stdout.write(', full steps');
  await writeEvents(catalog, 'run-steps', range(half, ASSETS), stepPerEvent, true);
  await finishRun(catalog, 'run-steps');
  process.stdout.write('\n');
  return {
    runStartMs, seq: { totalMs: seqTotal, perEvent: seqPerEvent }, finishMs, par: { totalMs: parTotal, perEvent: parPerEvent }, status,
    steps: { totalMs: stepPerEvent.reduce((a, b) => a + b, 0), perEvent: stepPerEvent }, statusMidRun,
  };
}

function report(sqlite: StoreFigures, postgres: StoreFigures): void {
  const last = ASSETS - WINDOW;
  const n = (x: number): string => x.toLocaleString('en-US');
  const ms = (digits: number) => (x: number): string => `${x.toFixed(digits)} ms`;
  const max = (xs: Float64Array): number => xs.reduce((a, b) => Math.max(a, b), 0);
  // label, the figure of one store, how to print it, and whether the PG/SQLite ratio is shown
  type Row = [label: string, value: (f: StoreFigures) => number, show: (x: number, f: StoreFigures) => string, ratio?: false];
  const rows: Row[] = [
    [`run start (${n(ASSETS)} asset keys)`, (f) => f.runStartMs, ms(0)],
    [`sequential: ${n(ASSETS)} events`, (f) => f.seq.totalMs / 1000, (x) => `${x.toFixed(2)} s`],
    ['sequential: events/s', (f) => ASSETS / (f.seq.totalMs / 1000), (x) => x.toFixed(0)],
    [`  mean per event, first ${n(WINDOW)}`, (f) => mean(f.seq.perEvent, 0, WINDOW), ms(3)],
    [`  mean per event, last ${n(WINDOW)}`, (f) => mean(f.seq.perEvent, last, ASSETS), ms(3)],
    ['  last/first', (f) => mean(f.seq.perEvent, last, ASSETS) / mean(f.seq.perEvent, 0, WINDOW), (x) => x.toFixed(2), false],
    ['  p99 / max per event (ms)', (f) => percentile(f.seq.perEvent, 0.99), (x, f) => `${x.toFixed(2)} / ${max(f.seq.perEvent).toFixed(1)}`],
    [`step results + run finish (${n(ASSETS)})`, (f) => f.finishMs, ms(0)],
    [`${WRITERS} writers: ${n(ASSETS)} events`, (f) => f.par.totalMs / 1000, (x) => `${x.toFixed(2)} s`],
    [`${WRITERS} writers: events/s`, (f) => ASSETS / (f.par.totalMs / 1000), (x) => x.toFixed(0)],
    [`  mean latency, first ${n(WINDOW)}`, (f) => mean(f.par.perEvent, 0, WINDOW), ms(3)],
    [`  mean latency, last ${n(WINDOW)}`, (f) => mean(f.par.perEvent, last, ASSETS), ms(3)],
    [`status: catalog query (target < ${QUERY_TARGET_MS} ms)`, (f) => f.status.queryMs, ms(0)],
    ['status: total with staleness', (f) => f.status.totalMs, ms(0)],
    [`full steps (read inputs + write): ${n(ASSETS)}`, (f) => f.steps.totalMs / 1000, (x) => `${x.toFixed(2)} s`],
    [`  mean per step, first ${n(WINDOW)}`, (f) => mean(f.steps.perEvent, 0, WINDOW), ms(3)],
    [`  mean per step, last ${n(WINDOW)}`, (f) => mean(f.steps.perEvent, last, ASSETS), ms(3)],
    ['  last/first', (f) => mean(f.steps.perEvent, last, ASSETS) / mean(f.steps.perEvent, 0, WINDOW), (x) => x.toFixed(2), false],
    [`status mid-run: catalog query (median of ${MID_RUN_STATUS_ROUNDS})`, (f) => f.statusMidRun.queryMs, ms(0)],
    ['status mid-run: total', (f) => f.statusMidRun.totalMs, ms(0)],
  ];
  const w = Math.max(...rows.map((r) => r[0].length)) + 2;
  console.log(`\n${n(ASSETS)} assets (layered DAG, ${WIDTH} per layer), three runs per store; status: median of ${STATUS_ROUNDS} after a warm-up:`);
  console.log(`  ${''.padEnd(w)}${'SQLite'.padStart(14)}${'PostgreSQL'.padStart(14)}${'PG/SQLite'.padStart(11)}`);
  for (const [label, value, show, ratio] of rows) {
    const s = value(sqlite);
    const p = value(postgres);
    console.log(`  ${label.padEnd(w)}${show(s, sqlite).padStart(14)}${show(p, postgres).padStart(14)}${(ratio === false ? '' : (p / s).toFixed(2)).padStart(11)}`);
  }
  const blocks = (xs: Float64Array): string =>
    Array.from({ length: Math.ceil(ASSETS / WINDOW) }, (_, b) => mean(xs, b * WINDOW, Math.min(ASSETS, (b + 1) * WINDOW)).toFixed(3)).join(' ');
  console.log(`  mean ms per event, by block of ${n(WINDOW)}:`);
  console.log(`    sequential, SQLite      ${blocks(sqlite.seq.perEvent)}`);
  console.log(`    sequential, PostgreSQL  ${blocks(postgres.seq.perEvent)}`);
  console.log(`    full steps, SQLite      ${blocks(sqlite.steps.perEvent)}`);
  console.log(`    full steps, PostgreSQL  ${blocks(postgres.steps.perEvent)}`);
  for (const [name, f] of [['SQLite', sqlite], ['PostgreSQL', postgres]] as const) {
    const verdict = f.status.queryMs < QUERY_TARGET_MS ? 'PASS' : 'over target';
    console.log(`  status query, ${name}: ${f.status.queryMs.toFixed(0)} ms: ${verdict} (target < ${QUERY_TARGET_MS} ms)`);
  }
}

export async function catalog(): Promise<void> {
  const nodes: GraphNode[] = deps.map((d, i) => ({
    key: key(i), deps: d.map(key), group: 'bench', kinds: [], owners: [], tags: {}, codeLocation: 'bench', codeVersion: CODE_VERSION,
  }));
  const graph = AssetGraph.fromNodes(nodes);
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-catalog-'));
  const stores: CatalogStore[] = [];
  const open = async <S extends CatalogStore>(store: Promise<S>): Promise<S> => {
    const s = await store;
    stores.push(s);
    return s;
  };
  let server: Awaited<ReturnType<typeof startPostgres>> | undefined;
  try {
    await warmUp(await open(SqliteCatalogStore.open(join(dir, 'warmup.db'))));
    const sqlite = await measure('SQLite', await open(SqliteCatalogStore.open(join(dir, 'catalog.db'))), graph);

    server = await startPostgres({ database: 'cairn_bench' });
    await warmUp(await open(PostgresCatalogStore.open(await createDatabase(server, 'cairn_bench_warmup'))));
    const postgres = await measure('PostgreSQL', await open(PostgresCatalogStore.open(server.url)), graph);
    report(sqlite, postgres);
  } finally {
    for (const s of stores) await s.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
