import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { asset } from '../../definitions/asset';
import { codeLocation } from '../../definitions/code-location';
import { NonRetryableError } from '../../definitions/errors';
import { dailyPartitions, singleRun, timeWindowMapping } from '../../definitions/partitions';
import type { TableInput } from '../../activities/duckdb';
import { sleep, startHarness, type Harness } from './harness';

/**
 * Backfills on a real dev server whose continue-as-new suggestion comes early (200 events), so every backfill
 * here that runs more than a few dozen children continues as new several times.
 */
const daily = dailyPartitions({ start: '2024-01-01', end: '2024-12-31' });

/** Per asset, the partitions in the order their steps started and ended. */
const spans: { key: string; partition: string; start: number; end: number }[] = [];
const failOn = new Set<string>();
/** The running total each partition computed. */
const computed = new Map<string, number>();

const chain = codeLocation({
  name: 'chain',
  assets: [
    asset({
      key: 'chain/raw',
      partitions: daily,
      retry: { maxAttempts: 1 },
      materialize: ({ partition }) => [{ day: partition!.key, value: Number(partition!.key!.slice(-2)) }],
    }),
    asset({
      key: 'chain/running_total',
      partitions: daily,
      retry: { maxAttempts: 1 },
      ins: { raw: 'chain/raw', prev: { asset: 'chain/running_total', mapping: timeWindowMapping({ startOffset: -1, endOffset: -1 }) } },
      async materialize({ partition, ins }) {
        const start = Date.now();
        if (failOn.has(`running_total:${partition!.key}`)) throw new NonRetryableError(`the ledger for ${partition!.key} does not balance`);
        const raw = await (ins.raw as TableInput).rows<{ value: number }>();
        const prev = ins.prev === null ? [] : await (ins.prev as TableInput).rows<{ total: number }>();
        await sleep(20);
        spans.push({ key: 'running_total', partition: partition!.key!, start, end: Date.now() });
        assert.ok(raw.length === 1 && prev.length <= 1, `one raw row and at most one previous total, got ${raw.length} and ${prev.length}`);
        const total = Number(prev[0]?.total ?? 0) + Number(raw[0]!.value);
        computed.set(partition!.key!, total);
        return [{ day: partition!.key, total }];
      },
    }),
    asset({
      key: 'chain/report',
      partitions: daily,
      retry: { maxAttempts: 1 },
      ins: { total: 'chain/running_total' },
      async materialize({ partition, ins }) {
        const rows = await (ins.total as TableInput).rows<{ total: number }>();
        return [{ day: partition!.key, total: rows[0]!.total }];
      },
    }),
  ],
});

const rangeContexts: { key?: string; keys: string[]; range: { start: string; end: string }; start: string; end: string }[] = [];
let slowStarted = 0;
/** Partitions of slow/day whose step is running now. */
const slowInFlight = new Set<string>();
const slow = codeLocation({
  name: 'slow',
  assets: [
    asset({
      key: 'slow/day',
      partitions: daily,
      retry: { maxAttempts: 1 },
      async materialize({ partition, signal }) {
        slowStarted++;
        slowInFlight.add(partition!.key!);
        try {
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, 3000);
            signal.addEventListener('abort', () => {
              clearTimeout(t);
              reject(new Error('aborted'));
            });
          });
        } finally {
          slowInFlight.delete(partition!.key!);
        }
        return [{ day: partition!.key }];
      },
    }),
  ],
});

const independent = codeLocation({
  name: 'independent',
  assets: [
    asset({
      key: 'ind/a',
      partitions: daily,
      retry: { maxAttempts: 1 },
      materialize: ({ partition }) => {
        if (failOn.has(`a:${partition!.key}`)) throw new NonRetryableError(`no export for ${partition!.key}`);
        return [{ day: partition!.key }];
      },
    }),
    asset({ key: 'ind/b', partitions: daily, deps: ['ind/a'], retry: { maxAttempts: 1 }, materialize: ({ partition }) => [{ day: partition!.key }] }),
    asset({ key: 'noop/x', partitions: daily, retry: { maxAttempts: 1 }, materialize: () => undefined }),
    asset({
      key: 'range/days',
      partitions: daily,
      backfillPolicy: singleRun(),
      retry: { maxAttempts: 1 },
      materialize: ({ partition }) => {
        rangeContexts.push({ key: partition!.key, keys: [...partition!.keys], range: { ...partition!.range }, start: partition!.start!.toISOString(), end: partition!.end!.toISOString() });
        return partition!.keys.map((k) => ({ partition_key: k, n: 1 }));
      },
    }),
  ],
});

let h: Harness;
before(async () => {
  h = await startHarness({ serverArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=200'] });
  await h.startLocations([chain, slow, independent]);
});
after(async () => {
  await h?.close();
});

async function materializedCount(assetKey: string): Promise<number> {
  return [...(await h.catalog.partitionStates(assetKey)).values()].filter((s) => s.status === 'materialized').length;
}

describe('backfills on a real Temporal dev server', { timeout: 600_000 }, () => {
  test('a 90-day backfill of a three-asset chain with a self-dependent asset runs day after day, across continue-as-new', async () => {
    spans.length = 0;
    const { backfillId } = await h.client.startBackfill({ selection: 'chain/*', partitions: { range: ['2024-01-01', '2024-03-30'] }, maxConcurrency: 8 }, { backfillId: 'bf-chain' });
    const summary = await h.client.backfillResult(backfillId);
    assert.equal(summary.status, 'succeeded', JSON.stringify(summary));
    assert.equal(summary.total, 90);
    assert.equal(summary.counts.succeeded, 90);
    for (const k of ['chain/raw', 'chain/running_total', 'chain/report']) assert.equal(await materializedCount(k), 90, k);
    // Day after day: each running_total step started after the previous day's ended.
    const totals = spans.filter((s) => s.key === 'running_total');
    assert.equal(totals.length, 90);
    for (let i = 1; i < totals.length; i++) {
      assert.ok(totals[i]!.partition > totals[i - 1]!.partition, `order: ${totals[i - 1]!.partition} then ${totals[i]!.partition}`);
      assert.ok(totals[i]!.start >= totals[i - 1]!.end, `${totals[i]!.partition} started before ${totals[i - 1]!.partition} ended`);
    }
    // The totals read exactly the previous partition: the sum of the day-of-month values so far.
    const progress = await h.client.backfillProgress(backfillId);
    assert.ok(progress.generation >= 2, `continued as new ${progress.generation} times`);
    // Every partition once: one materialization event per (asset, partition), one child run per day.
    for (const k of ['chain/raw', 'chain/running_total', 'chain/report']) {
      const history = await h.catalog.assetHistory(k, { types: ['materialization'], limit: 500 });
      assert.equal(history.events.length, 90, `${k}: ${history.events.length} events`);
      assert.equal(new Set(history.events.map((e) => e.partition)).size, 90);
    }
    const runs = await h.catalog.listRuns({ limit: 500 });
    const children = runs.filter((r) => r.tags['cairn/backfill'] === backfillId);
    assert.equal(children.length, 90);
    assert.deepEqual(new Set(children.map((r) => r.status)), new Set(['succeeded']));
    assert.ok(children.every((r) => r.workflowId === `${backfillId}/${r.partition}`));
  });

  test('the running totals are right: each partition read its own raw day and the previous total', async () => {
    const expected = new Map<string, number>();
    let total = 0;
    for (let d = new Date('2024-01-01T00:00:00Z'); d <= new Date('2024-03-30T00:00:00Z'); d = new Date(d.getTime() + 86_400_000)) {
      total += d.getUTCDate();
      expected.set(d.toISOString().slice(0, 10), total);
    }
    for (const [day, value] of expected) assert.equal(computed.get(day), value, day);
  });

  test('a failing day skips the days that depend on it; independent days go on; `failed` re-runs only what failed', async () => {
    failOn.add('running_total:2024-02-04');
    const { backfillId } = await h.client.startBackfill({ selection: 'chain/*', partitions: { range: ['2024-02-01', '2024-02-08'] }, maxConcurrency: 4 }, { backfillId: 'bf-fail' });
    const summary = await h.client.backfillResult(backfillId);
    assert.equal(summary.status, 'failed');
    assert.deepEqual(summary.failed.map((f) => f.label), ['2024-02-04']);
    assert.match(summary.failed[0]!.error, /does not balance/);
    assert.deepEqual(summary.skipped.map((s) => s.label), ['2024-02-05', '2024-02-06', '2024-02-07', '2024-02-08']);
    assert.match(summary.skipped[0]!.reason, /upstream run '2024-02-04' did not succeed/);
    assert.equal(summary.counts.succeeded, 3);
    const states = await h.catalog.partitionStates('chain/running_total');
    assert.equal(states.get('2024-02-04')?.status, 'failed');

    // Independent days: a failing day of ind/a does not stop the others.
    failOn.add('a:2024-01-03');
    const ind = await h.client.startBackfill({ selection: 'ind/*', partitions: { range: ['2024-01-01', '2024-01-06'] }, maxConcurrency: 3 }, { backfillId: 'bf-ind' });
    const indSummary = await h.client.backfillResult(ind.backfillId);
    assert.deepEqual(indSummary.failed.map((f) => f.label), ['2024-01-03']);
    assert.equal(indSummary.counts.succeeded, 5);
    assert.equal(indSummary.counts.skipped, 0);
    assert.equal(await materializedCount('ind/b'), 5);

    // `failed` re-runs exactly the failed partition of the failed asset.
    failOn.clear();
    const retry = await h.client.startBackfill({ selection: 'chain/*', partitions: 'failed' }, { backfillId: 'bf-fail-retry' });
    const retrySummary = await h.client.backfillResult(retry.backfillId);
    assert.equal(retrySummary.status, 'succeeded');
    assert.equal(retrySummary.total, 1);
    const runs = (await h.catalog.listRuns({ limit: 500 })).filter((r) => r.tags['cairn/backfill'] === retry.backfillId);
    assert.deepEqual(runs.map((r) => [r.partition, r.workflowId]), [['2024-02-04', 'bf-fail-retry/2024-02-04']]);
    assert.deepEqual(await h.catalog.getRunAssets(runs[0]!.runId), ['chain/running_total']);
    assert.equal((await h.catalog.partitionStates('chain/running_total')).get('2024-02-04')?.status, 'materialized');
  });

  test('cancelling a backfill midway cancels its running children and starts nothing more', async () => {
    slowStarted = 0;
    const { backfillId } = await h.client.startBackfill({ selection: 'slow/day', partitions: { range: ['2024-01-01', '2024-01-30'] }, maxConcurrency: 2 }, { backfillId: 'bf-cancel' });
    const deadline = Date.now() + 60_000;
    // Cancel while a step is running (between two launches nothing would be running to cancel).
    while (((await materializedCount('slow/day')) < 3 || slowInFlight.size === 0) && Date.now() < deadline) await sleep(100);
    const runningAtCancel = [...slowInFlight];
    await h.client.cancelBackfill(backfillId);
    const summary = await h.client.backfillResult(backfillId);
    assert.equal(summary.status, 'canceled');
    const done = await materializedCount('slow/day');
    assert.ok(done >= 3 && done < 30, `${done} materialized`);
    const started = slowStarted;
    await sleep(3000);
    assert.equal(slowStarted, started, 'no step started after the cancellation');
    assert.equal(await materializedCount('slow/day'), done);
    // The children that were running were canceled; none is left running. A child canceled before it recorded its
    // run has no run record, so ask Temporal.
    const describe = (key: string) => h.client.client.workflow.getHandle(`${backfillId}/${key}`).describe().then((x) => x.status.name, () => undefined);
    assert.ok(runningAtCancel.length > 0);
    for (const key of runningAtCancel) assert.equal(await describe(key), 'CANCELLED', `the child for ${key}, running at the cancellation`);
    const closed: string[] = [];
    for (let d = 1; d <= 30; d++) {
      const status = await describe(`2024-01-${String(d).padStart(2, '0')}`);
      if (status) closed.push(status);
    }
    assert.ok(!closed.includes('RUNNING'), `child statuses: ${closed.join(',')}`);
    const children = (await h.catalog.listRuns({ limit: 500 })).filter((r) => r.tags['cairn/backfill'] === backfillId);
    assert.ok(children.every((r) => r.status !== 'running'), `runs: ${children.map((r) => r.status).join(',')}`);
    // A run canceled right after its step materialized counts as canceled, so succeeded may be below `done`.
    assert.ok(summary.counts.succeeded <= done && summary.counts.succeeded >= 3, JSON.stringify(summary.counts));
    assert.equal(summary.counts.succeeded + summary.counts.canceled, 30, JSON.stringify(summary.counts));
  });

  test('an asset with backfillPolicy singleRun() gets one range run with partition.keys and .range', async () => {
    const { backfillId } = await h.client.startBackfill({ selection: 'range/days', partitions: { range: ['2024-01-01', '2024-01-10'] } }, { backfillId: 'bf-range' });
    const summary = await h.client.backfillResult(backfillId);
    assert.equal(summary.status, 'succeeded');
    assert.equal(summary.total, 1);
    assert.deepEqual(rangeContexts, [{
      key: undefined,
      keys: ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-06', '2024-01-07', '2024-01-08', '2024-01-09', '2024-01-10'],
      range: { start: '2024-01-01', end: '2024-01-10' },
      start: '2024-01-01T00:00:00.000Z',
      end: '2024-01-11T00:00:00.000Z',
    }]);
    assert.equal(await materializedCount('range/days'), 10);
    const [child] = (await h.catalog.listRuns({ limit: 500 })).filter((r) => r.tags['cairn/backfill'] === backfillId);
    assert.equal(child?.workflowId, 'bf-range/2024-01-01...2024-01-10');
    assert.equal(child?.partition, '2024-01-01...2024-01-10');
  });

  test('bad input fails the backfill with a clear error before anything starts', async () => {
    const { backfillId } = await h.client.startBackfill({ selection: 'chain/*', partitions: { range: ['2024-13-01', '2024-02-01'] } }, { backfillId: 'bf-bad' });
    await assert.rejects(h.client.backfillResult(backfillId), /chain\/raw.*2024-13-01.*expected yyyy-MM-dd/);
  });
});
