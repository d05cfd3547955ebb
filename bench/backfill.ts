/**
 * `npm run bench -- backfill`: backfills at scale.
 *  1. Planning (pure, no Temporal): 35 daily-partitioned assets over 2,000 days, a tree of deps, through
 *     `resolveBackfillTargets` + `planBackfill` for the full range.
 *  2. A Cairn backfill of BENCH_BACKFILL_PARTITIONS (default 10,000) partitions of one no-op asset, one child
 *     `materializeAssets` run per partition, BENCH_BACKFILL_CONCURRENCY (default 50) at once, on a dev server.
 *  3. The same number of children from a bare Temporal parent (bench/bare/backfill-workflows.ts) on the same
 *     server with the same concurrency: each child runs one no-op activity and signals the parent.
 * Where the time goes is read from the histories of a sample of children of both, plus CPU seconds of this
 * process (workers and client) and of the Temporal server, and the time spent in catalog calls.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import type { CatalogStore } from '../activities/catalog/catalog-store';
import { SqliteCatalogStore } from '../activities/catalog/sqlite-store';
import { CairnClient } from '../client/cairn-client';
import { asset } from '../definitions/asset';
import { backfillAssets, planBackfill, resolveBackfillTargets } from '../definitions/backfill-plan';
import { codeLocation } from '../definitions/code-location';
import { dailyPartitions } from '../definitions/partitions';
import { locationSnapshot } from '../definitions/to-snapshot';
import { startDevServer, type DevServer } from '../workers/dev-server';
import { createLocationWorker, type LocationWorker } from '../workers/location-worker';
import { createOrchestratorWorker } from '../workers/orchestrator-worker';
import { ensureRuntime } from '../workers/runtime';
import { CAIRN_HOME } from '../workers/settings';
import { loadWorkflowBundle } from '../workers/workflow-bundle';
import type { BareBackfillInput, BareBackfillResult } from './bare/backfill-workflows';
import { median } from './stats';

const PARTITIONS = Number(process.env.BENCH_BACKFILL_PARTITIONS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_BACKFILL_CONCURRENCY ?? 50);
/** Children per generation of the bare parent (it also continues as new when Temporal suggests it). */
const BARE_GENERATION = 2_000;
/** Children whose histories are read for the profile, per side. */
const SAMPLES = 40;
const WARMUP = 20;
const PLAN_TARGET_MS = 1_000;
/** Dagster's backfill daemon submits about one run per second (reported); the comparison is to that. */
const DAGSTER_RUNS_PER_S = 1;
/** Early enough that 10,000 days have ended by now (2000-01-01 + 10,000 days is 2027-05-19). */
const NOOP_START = '1990-01-01';
const DAY_MS = 86_400_000;
const NOOP_KEY = 'bf/noop';

const dayKey = (start: string, i: number): string => new Date(Date.parse(`${start}T00:00:00Z`) + i * DAY_MS).toISOString().slice(0, 10);
const sec = (ms: number): string => (ms / 1000).toFixed(2);

// ------------------------------------------------------------------------------------------- planning

interface PlanningFigures { ms: number; runs: number[]; targetsMs: number; planMs: number; units: number; assetPartitions: number; groups: number; days: number; assets: number }

function planningBench(): PlanningFigures {
  const ASSETS = 35;
  const from = '2019-01-01';
  const end = dayKey(from, 2_000); // exclusive: 2,000 daily keys
  const to = dayKey(from, 1_999);
  const daily = dailyPartitions({ start: from, end });
  const key = (i: number): string => `plan/a${String(i).padStart(2, '0')}`;
  // A tree: each asset depends on the one before it and on its "parent" half-way back (1-2 earlier assets).
  const deps = (i: number): number[] => (i === 0 ? [] : [...new Set([i - 1, Math.floor((i - 1) / 2)])]);
  const location = codeLocation({ name: 'plan', assets: Array.from({ length: ASSETS }, (_, i) => asset({ key: key(i), deps: deps(i).map(key), partitions: daily, materialize: () => undefined })) });
  const snapshots = [locationSnapshot(location)];
  const options = { now: new Date('2025-01-01T00:00:00Z') };
  const split = { targets: [] as number[], plan: [] as number[] };
  const once = () => {
    const t = performance.now();
    const { nodes } = backfillAssets(snapshots, '*');
    const targets = resolveBackfillTargets(nodes, { range: [from, to] }, options);
    const t1 = performance.now();
    const plan = planBackfill(snapshots, '*', targets, 'perPartition', options);
    split.targets.push(t1 - t);
    split.plan.push(performance.now() - t1);
    return plan;
  };
  const warm = once();
  split.targets.length = split.plan.length = 0;
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const plan = once();
    runs.push(performance.now() - t);
    if (plan.units.length !== warm.units.length) throw new Error('planning is not deterministic');
  }
  if (warm.units.length !== 2_000 || warm.assetPartitions !== 2_000 * ASSETS) throw new Error(`unexpected plan: ${warm.units.length} units, ${warm.assetPartitions} asset-partitions`);
  return { ms: median(runs), runs, targetsMs: median(split.targets), planMs: median(split.plan), units: warm.units.length, assetPartitions: warm.assetPartitions, groups: warm.groups.length, days: 2_000, assets: ASSETS };
}

// ------------------------------------------------------------------------------------------- profiling

/** CPU seconds of this process and of the dev server, since `start()`. */
function cpuMeter(server: DevServer) {
  let tick = 100;
  try {
    tick = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    // Linux default
  }
  const serverCpu = (): number => {
    try {
      const stat = readFileSync(`/proc/${server.process.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / tick; // utime, stime (fields 14, 15)
    } catch {
      return NaN;
    }
  };
  return {
    start() {
      const node = process.cpuUsage();
      const srv = serverCpu();
      return () => {
        const d = process.cpuUsage(node);
        return { nodeS: (d.user + d.system) / 1e6, serverS: serverCpu() - srv };
      };
    },
  };
}

type CatalogStats = Map<string, { calls: number; ms: number }>;

/** The catalog with every call timed (libsql is synchronous, so this is time the worker's event loop spends in SQLite). */
function timedCatalog(inner: CatalogStore): { catalog: CatalogStore; stats: CatalogStats } {
  const stats: CatalogStats = new Map();
  const record = (name: string, t: number): void => {
    const s = stats.get(name) ?? { calls: 0, ms: 0 };
    s.calls++;
    s.ms += performance.now() - t;
    stats.set(name, s);
  };
  const catalog = new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        const t = performance.now();
        const out = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (out instanceof Promise) return out.finally(() => record(prop, t));
        record(prop, t);
        return out;
      };
    },
  });
  return { catalog, stats };
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const eventMs = (e: HistoryEvent): number => {
  const t = e.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : NaN;
};

interface ChildProfile {
  samples: number;
  /** Mean ms per child, by phase. */
  totalMs: number;
  wftQueueMs: number;
  wftRunMs: number;
  wfts: number;
  activities: Record<string, { queueMs: number; runMs: number }>;
  signalMs: number;
  otherMs: number;
  events: number;
}

/** Mean time per child in each phase, from the server's event times in the children's histories. */
async function profileChildren(client: Client, ids: string[]): Promise<ChildProfile> {
  const acc = { total: 0, wftQueue: 0, wftRun: 0, wfts: 0, signal: 0, events: 0 };
  const activities: Record<string, { queueMs: number; runMs: number }> = {};
  for (const id of ids) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    const events = history.events ?? [];
    const byId = new Map<number, HistoryEvent>(events.map((e) => [Number(e.eventId), e]));
    const at = (id: unknown): number => eventMs(byId.get(Number(id))!);
    acc.total += eventMs(events.at(-1)!) - eventMs(events[0]!);
    acc.events += events.length;
    for (const e of events) {
      if (e.workflowTaskStartedEventAttributes) {
        const a = e.workflowTaskStartedEventAttributes;
        acc.wftQueue += eventMs(e) - at(a.scheduledEventId);
      } else if (e.workflowTaskCompletedEventAttributes) {
        acc.wftRun += eventMs(e) - at(e.workflowTaskCompletedEventAttributes.startedEventId);
        acc.wfts++;
      } else if (e.activityTaskCompletedEventAttributes) {
        const a = e.activityTaskCompletedEventAttributes;
        const scheduled = byId.get(Number(a.scheduledEventId))!;
        const name = scheduled.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
        const s = (activities[name] ??= { queueMs: 0, runMs: 0 });
        s.queueMs += at(a.startedEventId) - eventMs(scheduled);
        s.runMs += eventMs(e) - at(a.startedEventId);
      } else if (e.externalWorkflowExecutionSignaledEventAttributes) {
        acc.signal += eventMs(e) - at(e.externalWorkflowExecutionSignaledEventAttributes.initiatedEventId);
      }
    }
  }
  const n = ids.length;
  const acts = Object.fromEntries(Object.entries(activities).map(([k, v]) => [k, { queueMs: v.queueMs / n, runMs: v.runMs / n }]));
  const accounted = acc.wftQueue + acc.wftRun + acc.signal + Object.values(activities).reduce((s, v) => s + v.queueMs + v.runMs, 0);
  return {
    samples: n,
    totalMs: acc.total / n,
    wftQueueMs: acc.wftQueue / n,
    wftRunMs: acc.wftRun / n,
    wfts: acc.wfts / n,
    activities: acts,
    signalMs: acc.signal / n,
    otherMs: (acc.total - accounted) / n,
    events: acc.events / n,
  };
}

/** When the server recorded the start of workflow `id` (epoch ms). */
async function startedAt(client: Client, id: string): Promise<number> {
  const history = await client.workflow.getHandle(id).fetchHistory();
  return eventMs(history.events![0]!);
}

const sampleIndexes = (n: number): number[] => [...new Set(Array.from({ length: Math.min(SAMPLES, n) }, (_, k) => Math.floor((k * n) / Math.min(SAMPLES, n))))];

interface SideFigures {
  totalS: number;
  runsPerS: number;
  firstChildS: number;
  generations: number;
  nodeCpuS: number;
  serverCpuS: number;
  /** Only for the measured runs. */
  profile?: ChildProfile;
}

function printProfile(name: string, f: SideFigures): void {
  const p = f.profile;
  if (!p) return;
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  const acts = Object.entries(p.activities).map(([k, v]) => `${k} ${ms(v.queueMs)} queued + ${ms(v.runMs)} running`).join('; ');
  console.log(`  ${name}: mean child ${ms(p.totalMs)} from start to close (${p.events.toFixed(0)} events, sample of ${p.samples}):`);
  console.log(`    workflow tasks: ${p.wfts.toFixed(1)} per child, ${ms(p.wftQueueMs)} queued + ${ms(p.wftRunMs)} running`);
  console.log(`    activities: ${acts}`);
  console.log(`    signal to parent: ${ms(p.signalMs)}; between events (server, commands to tasks): ${ms(p.otherMs)}`);
  console.log(`    children in flight (rate x mean child time): ${((f.runsPerS * p.totalMs) / 1000).toFixed(1)} of ${CONCURRENCY}`);
  console.log(`    CPU: this process (workers, client) ${f.nodeCpuS.toFixed(1)} s, Temporal server ${f.serverCpuS.toFixed(1)} s, of ${(f.totalS * 2).toFixed(1)} core-s on 2 cores`);
}

// ------------------------------------------------------------------------------------------- the bench

export async function backfill(): Promise<void> {
  if (!Number.isInteger(PARTITIONS) || PARTITIONS < 1) throw new Error(`BENCH_BACKFILL_PARTITIONS must be a whole number >= 1, got ${process.env.BENCH_BACKFILL_PARTITIONS}`);
  if (!Number.isInteger(CONCURRENCY) || CONCURRENCY < 1 || CONCURRENCY > 500) throw new Error(`BENCH_BACKFILL_CONCURRENCY must be 1..500, got ${process.env.BENCH_BACKFILL_CONCURRENCY}`);
  const lastKey = dayKey(NOOP_START, PARTITIONS - 1);
  if (Date.parse(`${lastKey}T00:00:00Z`) + DAY_MS > Date.now()) throw new Error(`${PARTITIONS} days from ${NOOP_START} have not all ended yet`);

  const planning = planningBench();
  console.log(
    `planning: ${planning.assets} daily assets (a tree of deps) x ${planning.days} days: ${planning.units} units (child runs), ${planning.assetPartitions} asset-partitions, ${planning.groups} group(s): ` +
      `${planning.ms.toFixed(0)} ms median of 5 after a warm-up (${planning.ms < PLAN_TARGET_MS ? 'under' : 'OVER'} the ${PLAN_TARGET_MS} ms target; runs ${planning.runs.map((r) => r.toFixed(0)).join(', ')} ms)`,
  );
  console.log(`  of which backfillAssets + resolveBackfillTargets ${planning.targetsMs.toFixed(0)} ms, planBackfill ${planning.planMs.toFixed(0)} ms (medians)`);

  process.env.CAIRN_TEMPORAL_LOG_LEVEL ??= 'ERROR';
  ensureRuntime();
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-'));
  let server: DevServer | undefined;
  let nc: NativeConnection | undefined;
  let sqlite: SqliteCatalogStore | undefined;
  let lw: LocationWorker | undefined;
  let cairn: CairnClient | undefined;
  let temporal: Client | undefined;
  const workers: Worker[] = [];
  const runs: Promise<void>[] = [];
  try {
    server = await startDevServer({ temporalBin: resolve(CAIRN_HOME, '.venv/bin/temporal'), port: 0, headless: true });
    sqlite = await SqliteCatalogStore.open(join(dir, 'catalog.db'));
    const { catalog, stats } = timedCatalog(sqlite);
    const location = codeLocation({
      name: 'bf',
      assets: [asset({ key: NOOP_KEY, partitions: dailyPartitions({ start: NOOP_START }), retry: { maxAttempts: 1 }, materialize: () => undefined })],
    });
    nc = await NativeConnection.connect({ address: server.address });
    const connection = nc;
    const run = (w: Worker): void => {
      workers.push(w);
      runs.push(w.run());
    };
    run(await createOrchestratorWorker({ connection, namespace: 'default', catalog, workflowBundle: await loadWorkflowBundle(resolve(CAIRN_HOME, '.cairn/cache')) }));
    lw = await createLocationWorker({ connection, namespace: 'default', location, catalog, warehousePath: join(dir, 'w.duckdb') });
    run(lw.worker);
    const bareBundle = await bundleWorkflowCode({ workflowsPath: resolve(CAIRN_HOME, 'bench/bare/backfill-workflows.ts'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } });
    // The same worker limits as Cairn's: 40 workflow tasks at once (orchestrator), 100 activities (location).
    run(await Worker.create({ connection, taskQueue: 'bench-bare-backfill', workflowBundle: bareBundle, maxConcurrentWorkflowTaskExecutions: 40 }));
    run(await Worker.create({ connection, taskQueue: 'bench-bare-backfill-activities', activities: { noop: async () => undefined }, maxConcurrentActivityTaskExecutions: 100 }));
    cairn = await CairnClient.connect({ address: server.address, namespace: 'default' });
    temporal = new Client({ connection: await Connection.connect({ address: server.address }) });
    const bare = temporal;
    const cpu = cpuMeter(server);

    const every = (ms: number, f: () => Promise<void>): (() => void) => {
      const timer = setInterval(() => void f().catch(() => undefined), ms);
      return () => clearInterval(timer);
    };

    const runCairn = async (n: number, profile: boolean): Promise<SideFigures> => {
      const backfillId = `bench-backfill-${Date.now()}`;
      const meter = cpu.start();
      const t0 = Date.now();
      const t = performance.now();
      await cairn!.startBackfill({ selection: '*', partitions: { range: [NOOP_START, dayKey(NOOP_START, n - 1)] }, maxConcurrency: CONCURRENCY }, { backfillId });
      const stop = profile
        ? every(30_000, async () => {
            const p = await cairn!.backfillProgress(backfillId);
            console.log(`  cairn: ${p.counts.succeeded}/${p.total} after ${sec(performance.now() - t)} s (generation ${p.generation})`);
          })
        : () => undefined;
      const summary = await cairn!.backfillResult(backfillId).finally(stop);
      const totalMs = performance.now() - t;
      const { nodeS, serverS } = meter();
      if (summary.status !== 'succeeded' || summary.counts.succeeded !== n) throw new Error(`cairn backfill did not succeed: ${JSON.stringify(summary.counts)}`);
      const progress = await cairn!.backfillProgress(backfillId);
      const firstChild = (await startedAt(bare, `${backfillId}/${NOOP_START}`)) - t0;
      const figures: SideFigures = { totalS: totalMs / 1000, runsPerS: n / (totalMs / 1000), firstChildS: firstChild / 1000, generations: progress.generation + 1, nodeCpuS: nodeS, serverCpuS: serverS };
      if (profile) figures.profile = await profileChildren(bare, sampleIndexes(n).map((i) => `${backfillId}/${dayKey(NOOP_START, i)}`));
      return figures;
    };

    const runBare = async (n: number, profile: boolean): Promise<SideFigures> => {
      const parentId = `bench-bare-backfill-${Date.now()}`;
      const input: BareBackfillInput = { total: n, maxConcurrency: CONCURRENCY, activityQueue: 'bench-bare-backfill-activities', generationSize: BARE_GENERATION };
      const meter = cpu.start();
      const t0 = Date.now();
      const t = performance.now();
      const handle = await bare.workflow.start('bareBackfill', { taskQueue: 'bench-bare-backfill', workflowId: parentId, args: [input] });
      const stop = profile
        ? every(30_000, async () => {
            const p = await handle.query<{ next: number; done: number; generation: number }>('bareProgress');
            console.log(`  bare: ${p.done}/${n} after ${sec(performance.now() - t)} s (generation ${p.generation})`);
          })
        : () => undefined;
      const result = (await handle.result().finally(stop)) as BareBackfillResult;
      const totalMs = performance.now() - t;
      const { nodeS, serverS } = meter();
      if (result.done !== n) throw new Error(`bare backfill incomplete: ${result.done} of ${n}`);
      const firstChild = (await startedAt(bare, `${parentId}/0`)) - t0;
      const figures: SideFigures = { totalS: totalMs / 1000, runsPerS: n / (totalMs / 1000), firstChildS: firstChild / 1000, generations: result.generations, nodeCpuS: nodeS, serverCpuS: serverS };
      if (profile) figures.profile = await profileChildren(bare, sampleIndexes(n).map((i) => `${parentId}/${i}`));
      return figures;
    };

    // An unmeasured small backfill of each warms the workers, the JIT and the server.
    await runCairn(Math.min(WARMUP, PARTITIONS), false);
    await runBare(Math.min(WARMUP, PARTITIONS), false);
    stats.clear();

    console.log(`\n${PARTITIONS} partitions of one no-op daily asset, concurrency ${CONCURRENCY}:`);
    const c = await runCairn(PARTITIONS, true);
    const catalogStats = new Map(stats);
    console.log(`  cairn: ${sec(c.totalS * 1000)} s`);
    const b = await runBare(PARTITIONS, true);
    console.log(`  bare:  ${sec(b.totalS * 1000)} s`);
    const states = await sqlite.partitionStates(NOOP_KEY);
    if (states.size < PARTITIONS) throw new Error(`the catalog has ${states.size} partitions of ${NOOP_KEY}, expected ${PARTITIONS}`);

    const ratio = c.totalS / b.totalS;
    const w = 44;
    const row = (label: string, value: string): void => console.log(`  ${label.padEnd(w)}${value}`);
    console.log(`\nbackfill figures (${PARTITIONS} partitions, concurrency ${CONCURRENCY}):`);
    row(`planning ${planning.assets} assets x ${planning.days} days`, `${planning.ms.toFixed(0)} ms (${planning.units} units, ${planning.assetPartitions} asset-partitions; target < ${PLAN_TARGET_MS} ms: ${planning.ms < PLAN_TARGET_MS ? 'met' : 'NOT met'})`);
    row('cairn backfill total', `${c.totalS.toFixed(1)} s, ${c.runsPerS.toFixed(1)} runs/s, first child after ${c.firstChildS.toFixed(2)} s, ${c.generations} generation(s)`);
    row('bare Temporal parent total', `${b.totalS.toFixed(1)} s, ${b.runsPerS.toFixed(1)} runs/s, first child after ${b.firstChildS.toFixed(2)} s, ${b.generations} generation(s)`);
    row('ratio cairn/bare total time', ratio.toFixed(2));
    row("vs Dagster's backfill daemon", `${(c.runsPerS / DAGSTER_RUNS_PER_S).toFixed(1)}x Dagster's submission rate (Dagster's backfill daemon submits about 1 run/s (reported))`);
    console.log('\n  what each side does per partition:');
    console.log('    cairn: the backfill workflow (planBackfill activity first) starts a child materializeAssets run (abandoned on close) with the');
    console.log('           plan prepared; the child upserts search attributes, runs recordRunStarted (catalog), the no-op step on the location');
    console.log('           worker (which records the materialization in the catalog), recordRunFinished (catalog), then signals the backfill;');
    console.log('           the backfill also awaits each child result and continues as new at 10,000 events or when Temporal suggests it.');
    console.log(`    bare:  a parent starts a child (abandoned on close) that runs one no-op activity and signals the parent; the parent`);
    console.log(`           continues as new every ${BARE_GENERATION} children or when Temporal suggests it, waiting only for children still starting.`);
    console.log('\n  where the time goes (from the children\'s histories; server event times):');
    printProfile('cairn', c);
    printProfile('bare', b);
    const catalogRows = [...catalogStats.entries()].sort((x, y) => y[1].ms - x[1].ms);
    const catalogMs = catalogRows.reduce((s, [, v]) => s + v.ms, 0);
    console.log(`  catalog calls during the cairn backfill: ${(catalogMs / 1000).toFixed(1)} s in total (${((catalogMs / 1000 / c.totalS) * 100).toFixed(0)}% of the wall time, on the workers' event loop)`);
    for (const [name, v] of catalogRows.slice(0, 6)) console.log(`    ${name.padEnd(22)} ${String(v.calls).padStart(7)} calls, ${(v.ms / v.calls).toFixed(2)} ms each, ${(v.ms / 1000).toFixed(1)} s`);

    const figures = {
      partitions: PARTITIONS,
      concurrency: CONCURRENCY,
      planning: { assets: planning.assets, days: planning.days, units: planning.units, assetPartitions: planning.assetPartitions, ms: Number(planning.ms.toFixed(1)), resolveTargetsMs: Number(planning.targetsMs.toFixed(1)), planBackfillMs: Number(planning.planMs.toFixed(1)), targetMs: PLAN_TARGET_MS },
      cairn: { totalS: Number(c.totalS.toFixed(2)), runsPerS: Number(c.runsPerS.toFixed(2)), firstChildS: Number(c.firstChildS.toFixed(2)), generations: c.generations, nodeCpuS: Number(c.nodeCpuS.toFixed(1)), serverCpuS: Number(c.serverCpuS.toFixed(1)), meanChildMs: Number((c.profile?.totalMs ?? NaN).toFixed(1)) },
      bare: { totalS: Number(b.totalS.toFixed(2)), runsPerS: Number(b.runsPerS.toFixed(2)), firstChildS: Number(b.firstChildS.toFixed(2)), generations: b.generations, nodeCpuS: Number(b.nodeCpuS.toFixed(1)), serverCpuS: Number(b.serverCpuS.toFixed(1)), meanChildMs: Number((b.profile?.totalMs ?? NaN).toFixed(1)) },
      ratioCairnOverBare: Number(ratio.toFixed(3)),
      dagsterRunsPerS: DAGSTER_RUNS_PER_S,
      xDagsterSubmissionRate: Number((c.runsPerS / DAGSTER_RUNS_PER_S).toFixed(1)),
    };
    console.log(`\n${JSON.stringify(figures)}`);
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(runs);
    await lw?.dispose();
    await cairn?.close();
    await temporal?.connection.close();
    await nc?.close();
    await sqlite?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
