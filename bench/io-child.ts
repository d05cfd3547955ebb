/**
 * One measured "worker" for `bench/io-manager.ts`, run as its own process so its peak RSS is its own:
 * `node --import tsx bench/io-child.ts <sql|stream|baseline> <rows> <warehouse file> [DuckDB memory_limit]`.
 *
 * `sql` and `stream` do what a location worker's `materializeStep` does for one asset: the IO manager comes from
 * `locationIOManager` (as in `createLocationWorker`), over the location's DuckDB resource on a warehouse file,
 * and the step runs through the real `executeStep` with the worker's heartbeat interval. `baseline` only loads
 * the same modules, creates the resource and opens DuckDB, for the fixed cost. With a memory limit (`'100MB'`),
 * the child holds one extra lease around the step so the instance it `SET`s stays open for the step's own
 * leases: the resource has no option for DuckDB settings, and closes the file when its last lease ends.
 * Prints one JSON line ({@link ChildReport}) on stdout; exits non-zero when the table's row count is not the
 * asked one.
 */
import { statSync } from 'node:fs';
import { duckdb } from '../activities/duckdb';
import { executeStep } from '../activities/execute-step';
import { locationIOManager } from '../activities/location-io';
import { asset } from '../definitions/asset';
import { codeLocation } from '../definitions/code-location';
import { sql } from '../definitions/sql';

/** What a child prints: RSS and heap in bytes, `maxRssBytes` from `process.resourceUsage().maxRSS`. */
export interface ChildReport {
  mode: 'sql' | 'stream' | 'baseline';
  rows: number;
  seconds: number;
  maxRssBytes: number;
  sampledPeakRssBytes: number;
  peakHeapUsedBytes: number;
  /** Highest V8 heap committed (`heapTotal`), the part of the RSS that is the JS heap. */
  peakHeapTotalBytes: number;
  /** Longest gap between two 50 ms samples: how long the event loop was blocked at worst. */
  maxSampleGapMs: number;
  samples: number;
  warehouseBytes: number;
  path: string;
  /** DuckDB's memory_limit during the step, as DuckDB reports it. */
  memoryLimit: string;
}

const BATCH = 10_000;
const SAMPLE_MS = 50;

/** The streaming asset's rows: the same four columns as the SQL query, computed in JS. */
async function* orderBatches(rows: number): AsyncGenerator<Record<string, unknown>[]> {
  for (let start = 0; start < rows; start += BATCH) {
    const end = Math.min(rows, start + BATCH);
    const batch: Record<string, unknown>[] = new Array(end - start);
    for (let i = start; i < end; i++) batch[i - start] = { id: i, customer_id: i % 1000, amount: ((i * 7) % 10000) / 100, label: `order-${i}` };
    // Computed rows, no I/O between batches: the IO manager's append loop yields to the event loop itself, so the
    // sampler here (and a worker's heartbeat) keeps firing.
    yield batch;
  }
}

async function main(): Promise<void> {
  const [modeArg, rowsArg, warehousePath, memoryLimit] = process.argv.slice(2);
  const mode = modeArg as ChildReport['mode'];
  const rows = Number(rowsArg);
  if (!['sql', 'stream', 'baseline'].includes(mode) || !Number.isSafeInteger(rows) || rows < 1 || !warehousePath) {
    throw new Error('usage: io-child.ts <sql|stream|baseline> <rows> <warehouse file> [DuckDB memory_limit]');
  }
  let sampledPeak = 0;
  let peakHeap = 0;
  let peakHeapTotal = 0;
  let maxGap = 0;
  let samples = 0;
  let last = performance.now();
  const sample = (): void => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    const m = process.memoryUsage();
    sampledPeak = Math.max(sampledPeak, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakHeapTotal = Math.max(peakHeapTotal, m.heapTotal);
    samples++;
  };
  const sampler = setInterval(sample, SAMPLE_MS);
  sample();

  const warehouse = duckdb({ path: warehousePath });
  const orders = asset({
    key: 'bench/orders',
    resources: ['warehouse'],
    materialize: () =>
      mode === 'sql'
        ? sql`select i as id, i % 1000 as customer_id, (i * 7 % 10000) / 100.0 as amount, 'order-' || i as label from range(${rows}) t(i)`
        : orderBatches(rows),
  });
  const location = codeLocation({ name: 'bench-io', assets: [orders], resources: { warehouse } });
  const { io } = locationIOManager(location, warehousePath);

  let path = 'duckdb() resource on a warehouse file, one connection opened (no asset)';
  let memoryLimitSeen = '';
  let seconds = 0;
  const step = async (): Promise<void> => {
    memoryLimitSeen = (await warehouse.query<{ v: string }>("select current_setting('memory_limit') as v"))[0]?.v ?? '?';
    const started = performance.now();
    if (mode === 'baseline') {
      await warehouse.withConnection(() => new Promise((r) => setTimeout(r, 4 * SAMPLE_MS)));
    } else {
      const result = await executeStep(orders, {
        runId: `bench-io-${mode}`,
        attempt: 1,
        resources: location.resources as Record<string, unknown>,
        io,
        signal: new AbortController().signal,
        heartbeat: () => undefined,
        heartbeatEveryMs: 5000,
        flushLogs: async () => undefined,
      });
      const reported = (result.metadata.rowCount as { value?: unknown } | undefined)?.value;
      if (reported !== rows) throw new Error(`${mode}: the IO manager reported rowCount ${String(reported)}, expected ${rows}`);
      path = 'executeStep (activities/execute-step.ts) with the IO manager from locationIOManager, as materializeStep runs it';
    }
    seconds = (performance.now() - started) / 1000;
  };
  if (memoryLimit) {
    await warehouse.withConnection(async (conn) => {
      await conn.run(`set memory_limit = '${memoryLimit.replace(/'/g, '')}'`);
      await step();
    });
  } else await step();
  sample();
  clearInterval(sampler);
  // Read before the check below, so the verification query is not part of the peak.
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;

  if (mode !== 'baseline') {
    const [count] = await warehouse.query<{ n: number }>('select count(*) as n from bench.orders');
    if (count?.n !== rows) throw new Error(`${mode}: bench.orders has ${String(count?.n)} rows, expected ${rows}`);
  }
  await warehouse.close();
  const report: ChildReport = {
    mode,
    rows: mode === 'baseline' ? 0 : rows,
    seconds,
    maxRssBytes,
    sampledPeakRssBytes: sampledPeak,
    peakHeapUsedBytes: peakHeap,
    peakHeapTotalBytes: peakHeapTotal,
    maxSampleGapMs: maxGap,
    samples,
    warehouseBytes: statSync(warehousePath).size,
    path,
    memoryLimit: memoryLimitSeen,
  };
  console.log(JSON.stringify(report));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
