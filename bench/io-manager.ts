/**
 * `npm run bench -- io-manager`: peak resident memory and throughput of a location worker storing one
 * BENCH_IO_ROWS-row asset (default 10,000,000) through the DuckDB IO manager, in SQL mode (`create table … as`,
 * no row passes through Node) and in streaming mode (an async generator of 10,000-row batches computed in JS,
 * written with DuckDB's appender). Each mode runs in a fresh child process (`bench/io-child.ts`), so the peak
 * RSS is that step's alone; a third child only opens DuckDB, for the fixed cost. A mode over the 300 MB target
 * runs once more with DuckDB's `memory_limit` set (BENCH_IO_MEMORY_LIMIT, default 100MB), to show how much of
 * the peak is DuckDB's buffer pool. MB here is 10^6 bytes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildReport } from './io-child';

const ROWS = Number(process.env.BENCH_IO_ROWS ?? 10_000_000);
const MEMORY_LIMIT = process.env.BENCH_IO_MEMORY_LIMIT ?? '100MB';
const TARGET_BYTES = 300e6;
const CHILD = fileURLToPath(new URL('./io-child.ts', import.meta.url));
const ROOT = dirname(dirname(CHILD));

const mb = (bytes: number): string => (bytes / 1e6).toFixed(0);
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Runs one child on its own warehouse file; throws with its stderr when it fails (e.g. a row count mismatch). */
function runChild(dir: string, mode: ChildReport['mode'], memoryLimit?: string): ChildReport {
  const file = join(dir, `${mode}${memoryLimit ? '-limited' : ''}.duckdb`);
  const args = ['--import', 'tsx', CHILD, mode, String(ROWS), file, ...(memoryLimit ? [memoryLimit] : [])];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
  rmSync(file, { force: true });
  rmSync(`${file}.wal`, { force: true });
  if (r.status !== 0) throw new Error(`io-manager bench: the ${mode} child failed (exit ${r.status ?? r.signal}):\n${r.stderr.slice(-3000)}`);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as ChildReport;
}

export async function ioManager(): Promise<void> {
  if (!Number.isSafeInteger(ROWS) || ROWS < 1) throw new Error(`BENCH_IO_ROWS must be a positive integer, got '${process.env.BENCH_IO_ROWS}'`);
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-io-'));
  try {
    const baseline = runChild(dir, 'baseline');
    const measured: { label: string; report: ChildReport }[] = [];
    for (const mode of ['sql', 'stream'] as const) {
      const report = runChild(dir, mode);
      measured.push({ label: mode, report });
      console.log(`${mode}: ${report.seconds.toFixed(1)} s, peak RSS ${mb(report.maxRssBytes)} MB`);
    }
    for (const { label, report } of [...measured]) {
      if (report.maxRssBytes <= TARGET_BYTES) continue;
      const limited = runChild(dir, report.mode, MEMORY_LIMIT);
      measured.push({ label: `${label}, memory_limit ${limited.memoryLimit}`, report: limited });
      console.log(`${label} with DuckDB memory_limit ${limited.memoryLimit}: ${limited.seconds.toFixed(1)} s, peak RSS ${mb(limited.maxRssBytes)} MB`);
    }

    console.log(`\n${int(ROWS)}-row asset through DuckDBIOManager.handleOutput, each mode in a fresh worker process.`);
    console.log(`Step path: ${measured[0]?.report.path}.`);
    console.log(`Baseline (${baseline.path}): peak RSS ${mb(baseline.maxRssBytes)} MB, heap used ${mb(baseline.peakHeapUsedBytes)} MB, DuckDB memory_limit ${baseline.memoryLimit}.`);
    console.log('Peak RSS is process.resourceUsage().maxRSS; "sampled" is the highest process.memoryUsage().rss of 50 ms samples.');
    console.log('\n| mode | rows | time | rows/s | peak RSS | sampled peak | over baseline | JS heap used / committed (peak) | max event-loop gap | vs 300 MB target |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const { label, report: r } of measured) {
      const verdict = r.maxRssBytes <= TARGET_BYTES ? 'PASS' : 'OVER';
      console.log(
        `| ${label} | ${int(r.rows)} | ${r.seconds.toFixed(2)} s | ${int(r.rows / r.seconds)} | ${mb(r.maxRssBytes)} MB | ${mb(r.sampledPeakRssBytes)} MB | ` +
          `+${mb(r.maxRssBytes - baseline.maxRssBytes)} MB | ${mb(r.peakHeapUsedBytes)} / ${mb(r.peakHeapTotalBytes)} MB | ${int(r.maxSampleGapMs)} ms | ${verdict} |`,
      );
    }
    const sql = measured.find((m) => m.label === 'sql')?.report;
    const stream = measured.find((m) => m.label === 'stream')?.report;
    if (sql && stream) {
      console.log(`\nratio streaming/SQL time: ${(stream.seconds / sql.seconds).toFixed(2)}; peak RSS over baseline, streaming/SQL: ${((stream.maxRssBytes - baseline.maxRssBytes) / (sql.maxRssBytes - baseline.maxRssBytes)).toFixed(2)}`);
      console.log(`warehouse file after the step: SQL ${mb(sql.warehouseBytes)} MB, streaming ${mb(stream.warehouseBytes)} MB; every table verified with select count(*)`);
    }
    for (const { label, report } of measured.slice(2)) {
      const unlimited = measured.find((m) => m.label === report.mode)?.report;
      const delta = unlimited ? (report.maxRssBytes - unlimited.maxRssBytes) / 1e6 : NaN;
      console.log(
        `${label}: run again with 'set memory_limit = ${MEMORY_LIMIT}' on an extra lease held around the step (the resource has no option ` +
          `for DuckDB settings); its peak RSS moved by ${delta >= 0 ? '+' : ''}${delta.toFixed(0)} MB against DuckDB's default limit.`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
