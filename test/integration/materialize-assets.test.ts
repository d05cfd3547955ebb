import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { asset } from '../../definitions/asset';
import { codeLocation } from '../../definitions/code-location';
import { NonRetryableError } from '../../definitions/errors';
import { runStatusQuery } from '../../workflows/messages';
import { sleep, startHarness, type Harness } from './harness';

/** Start and end times of each step, recorded by the assets themselves. */
const spans = new Map<string, { start: number; end: number }>();
function timed(key: string, deps: string[], ms: number, extra: Partial<Parameters<typeof asset>[0]> = {}) {
  return asset({
    key,
    deps,
    retry: { maxAttempts: 1 },
    ...extra,
    async materialize() {
      const start = Date.now();
      await sleep(ms);
      spans.set(key, { start, end: Date.now() });
      return [{ key, at: start }];
    },
  });
}

let flakyAttempts = 0;
let longStepAborted = false;
let longStepStarted = false;
let afterLongRan = false;

const diamond = codeLocation({
  name: 'diamond',
  assets: [timed('d/top', [], 50), timed('d/left', ['d/top'], 1500), timed('d/right', ['d/top'], 1500), timed('d/bottom', ['d/left', 'd/right'], 50)],
});

const failing = codeLocation({
  name: 'failing',
  assets: [
    timed('f/source', [], 10),
    asset({ key: 'f/broken', deps: ['f/source'], retry: { maxAttempts: 1 }, materialize: () => { throw new Error('the upstream export is malformed'); } }),
    timed('f/after_broken', ['f/broken'], 10),
    timed('f/after_after', ['f/after_broken'], 10),
    timed('f/independent', ['f/source'], 300),
    timed('f/independent_child', ['f/independent'], 10),
  ],
});

const flaky = codeLocation({
  name: 'flaky',
  assets: [
    asset({
      key: 'x/flaky',
      retry: { maxAttempts: 3, initialIntervalMs: 100, backoffCoefficient: 1 },
      materialize({ attempt, log }) {
        flakyAttempts++;
        log.info(`attempt ${attempt}`);
        if (attempt < 3) throw new Error(`transient failure on attempt ${attempt}`);
        return [{ ok: true }];
      },
    }),
    asset({ key: 'x/fatal', retry: { maxAttempts: 5, initialIntervalMs: 100 }, materialize: () => { throw new NonRetryableError('bad input that no retry fixes'); } }),
  ],
});

const long = codeLocation({
  name: 'long',
  assets: [
    asset({
      key: 'l/long',
      retry: { maxAttempts: 1 },
      async materialize({ signal }) {
        longStepStarted = true;
        const started = Date.now();
        while (!signal.aborted && Date.now() - started < 60_000) await sleep(50);
        longStepAborted = signal.aborted;
      },
    }),
    asset({ key: 'l/after', deps: ['l/long'], materialize: () => { afterLongRan = true; } }),
  ],
});

const wideCount = 30;
const wide = codeLocation({
  name: 'wide',
  assets: Array.from({ length: wideCount }, (_, i) => asset({ key: `w/n${String(i).padStart(2, '0')}`, deps: i >= 10 ? [`w/n${String(i - 10).padStart(2, '0')}`] : [], materialize: () => undefined })),
});

describe('materializeAssets on a real Temporal dev server', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.startLocations([diamond, failing, flaky, long, wide]);
  });
  after(async () => {
    await h?.close();
  });

  test('a diamond runs in dependency order with the two middle steps overlapping in time', async () => {
    const run = await h.client.startRun({ selection: 'd/*', maxConcurrency: 4 });
    const summary = await h.client.result(run);
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual(summary.assets.map((a) => [a.key, a.status]), [['d/top', 'materialized'], ['d/left', 'materialized'], ['d/right', 'materialized'], ['d/bottom', 'materialized']]);
    const [top, left, right, bottom] = ['d/top', 'd/left', 'd/right', 'd/bottom'].map((k) => spans.get(k)!);
    assert.ok(top!.end <= left!.start && top!.end <= right!.start, 'the middle steps start after the top one ends');
    assert.ok(left!.start < right!.end && right!.start < left!.end, `the middle steps overlap: left ${JSON.stringify(left)} right ${JSON.stringify(right)}`);
    assert.ok(bottom!.start >= Math.max(left!.end, right!.end), 'the bottom step starts after both middle steps end');
    assert.equal(await h.catalog.countAssetEvents({ type: 'materialization', runId: run.runId }), 4);
  });

  test('a failing step skips exactly its downstream while independent branches finish, and the workflow fails', async () => {
    const run = await h.client.startRun({ selection: 'f/*' });
    await assert.rejects(run.handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(String(err.cause?.message), /1 of 6 steps failed \(f\/broken\); 2 skipped/);
      return true;
    });
    const summary = await h.client.result(run);
    const status = Object.fromEntries(summary.assets.map((a) => [a.key, a.status]));
    assert.deepEqual(status, {
      'f/source': 'materialized',
      'f/broken': 'failed',
      'f/after_broken': 'skipped',
      'f/after_after': 'skipped',
      'f/independent': 'materialized',
      'f/independent_child': 'materialized',
    });
    const broken = summary.assets.find((a) => a.key === 'f/broken');
    assert.match(broken?.error ?? '', /the upstream export is malformed/);
    assert.match(summary.assets.find((a) => a.key === 'f/after_after')?.error ?? '', /upstream 'f\/broken' failed/);
    const desc = await run.handle.describe();
    assert.equal(desc.status.name, 'FAILED');
    const recorded = await h.catalog.getRun(run.runId);
    assert.equal(recorded?.status, 'failed');
    const steps = await h.catalog.getStepResults(run.runId);
    assert.equal(steps.find((s) => s.assetKey === 'f/after_broken')?.status, 'skipped');
  });

  test('a flaky asset succeeds on retry with exactly one catalog row, and a non-retryable error is not retried', async () => {
    flakyAttempts = 0;
    const run = await h.client.startRun({ selection: 'x/*' });
    const summary = await h.client.result(run);
    assert.equal(summary.assets.find((a) => a.key === 'x/flaky')?.status, 'materialized');
    assert.equal(flakyAttempts, 3);
    assert.equal(await h.catalog.countAssetEvents({ type: 'materialization', runId: run.runId, assetKey: 'x/flaky' }), 1);
    const [m] = (await h.catalog.assetHistory('x/flaky')).events;
    assert.equal(m?.attempt, 3);
    const logs = await h.catalog.getLogs(run.runId, 'x/flaky');
    assert.deepEqual(logs.filter((l) => l.message.startsWith('attempt')).map((l) => l.message), ['attempt 1', 'attempt 2', 'attempt 3']);
    const fatal = summary.assets.find((a) => a.key === 'x/fatal');
    assert.equal(fatal?.status, 'failed');
    assert.match(fatal?.error ?? '', /bad input that no retry fixes/);
    const history = await run.handle.fetchHistory();
    const fatalStarts = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 1) > 1);
    // x/flaky's final started event carries attempt 3; x/fatal never gets a second attempt
    assert.equal(fatalStarts.length, 1);
  });

  test('cancelling the run cancels the long step, skips its downstream and records the run as canceled', async () => {
    longStepStarted = false;
    const run = await h.client.startRun({ selection: 'l/*' });
    const deadline = Date.now() + 20_000;
    while (!longStepStarted && Date.now() < deadline) await sleep(50);
    assert.ok(longStepStarted, 'the long step started');
    const live = await run.handle.query(runStatusQuery);
    assert.deepEqual(live.steps.map((s) => [s.key, s.status]), [['l/long', 'running'], ['l/after', 'pending']]);
    await run.handle.cancel();
    const summary = await h.client.result(run);
    assert.equal(summary.status, 'canceled');
    // Cancellation reaches the activity through its heartbeat; the step's signal aborted well before its 60 s loop ended.
    const until = Date.now() + 15_000;
    while (!longStepAborted && Date.now() < until) await sleep(50);
    assert.equal(longStepAborted, true);
    assert.equal(afterLongRan, false);
    assert.equal((await run.handle.describe()).status.name, 'CANCELLED');
    assert.equal((await h.catalog.getRun(run.runId))?.status, 'canceled');
  });

  test('a run longer than its history budget continues as new, keeps its run id and records every step once', async () => {
    const run = await h.client.startRun({ selection: 'w/*', maxConcurrency: 4, historyEventLimit: 40 });
    const summary = await h.client.result(run);
    assert.equal(summary.status, 'succeeded');
    assert.equal(summary.runId, run.runId);
    assert.equal(summary.assets.length, wideCount);
    assert.ok(summary.assets.every((a) => a.status === 'materialized'));
    const latest = await h.client.client.workflow.getHandle(run.workflowId).describe();
    assert.notEqual(latest.runId, run.runId, 'the run continued as new at least once');
    assert.equal(await h.catalog.countAssetEvents({ type: 'materialization', runId: run.runId }), wideCount);
    assert.equal((await h.catalog.getRun(run.runId))?.status, 'succeeded');
  });

  test('a selection that matches nothing fails the workflow with a message naming it', async () => {
    const run = await h.client.startRun({ selection: 'group:nope' });
    await assert.rejects(run.handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(String(err.cause?.message), /matched no assets/);
      return true;
    });
  });
});
