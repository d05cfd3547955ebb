import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SqliteCatalogStore } from '../../activities/catalog/sqlite-store';
import type { CatalogStore } from '../../activities/catalog/catalog-store';
import { readOnlySensorCatalog } from '../../activities/sensor-activities';
import { asset } from '../../definitions/asset';
import {
  assetSensor, assetSensorResult, defaultAssetSensorName, EPOCH_CURSOR, failedRunsAfter, materializationsAfter, parseEventCursor, parseRunCursor,
  runCursor, runError, runFailureSensor, runMatches, type RunFailureContext,
} from '../../definitions/builtin-sensors';
import { codeLocation } from '../../definitions/code-location';
import { job } from '../../definitions/job';
import type { SensorAssetEvent, SensorCatalog, SensorContext, SensorDefinition, SensorResult, SensorRunRecord } from '../../definitions/sensor';
import { locationSnapshot } from '../../definitions/to-snapshot';

const nightly = job({ name: 'nightly', selection: '+marts/revenue', tags: { team: 'data' } });

function event(id: number, partition: string | null = null): SensorAssetEvent {
  return { id, type: 'materialization', assetKey: 'raw/orders', partition, runId: null, at: '2024-05-01T00:00:00.000Z', source: 'report', metadata: {} };
}

function run(runId: string, finishedAt: string, extra: Partial<SensorRunRecord> = {}): SensorRunRecord {
  return { runId, workflowId: `wf-${runId}`, selection: '+marts/revenue', tags: { team: 'data' }, status: 'failed', startedAt: '2024-05-01T00:00:00.000Z', finishedAt, trigger: 'cli', ...extra };
}

describe('assetSensor', () => {
  test('takes a key and a target, or options, and names itself after the asset', () => {
    const short = assetSensor('raw/orders', 'marts/revenue');
    const long = assetSensor({ name: 'orders-landed', asset: 'raw/orders', target: nightly, minimumInterval: '1m' });
    assert.deepEqual([short.name, short.selection, short.minimumInterval], ['asset-raw-orders', 'marts/revenue', '30s']);
    assert.deepEqual([long.name, long.job, long.selection, long.minimumInterval], ['orders-landed', 'nightly', '+marts/revenue', '1m']);
    assert.equal(defaultAssetSensorName('Raw/Orders.v2'), 'asset-raw-orders-v2');
    assert.equal(defaultAssetSensorName(`a/${'x'.repeat(80)}`).length, 63);
  });

  test('an asset sensor without a target, or with a bad key, is an error when it is declared', () => {
    assert.throws(() => assetSensor({ asset: 'raw/orders' } as never), /assetSensor for 'raw\/orders' needs a target \(a job or a selection string\)/);
    assert.throws(() => assetSensor('', 'x'), /assetSensor: /);
  });

  test('its cursor is an event id; anything else is an error that says how to fix it', () => {
    assert.equal(parseEventCursor(undefined, 's'), undefined);
    assert.equal(parseEventCursor('42', 's'), 42);
    assert.throws(() => parseEventCursor('latest', 'asset-raw'), /sensor 'asset-raw': cursor 'latest' is not an event id; set one with `cairn sensors cursor asset-raw --set <event id>`/);
  });

  test('each new event requests one run keyed by its id, oldest first, and the cursor moves to the last', () => {
    const result = assetSensorResult('raw/orders', 3, [event(4), event(7, '2024-05-01')]);
    assert.deepEqual(result, {
      runRequests: [
        { runKey: 'event-4', tags: { 'cairn/asset-event': 'raw/orders@4' } },
        { runKey: 'event-7', tags: { 'cairn/asset-event': 'raw/orders@7', 'cairn/asset-partition': '2024-05-01' } },
      ],
      cursor: '7',
    });
    assert.deepEqual(assetSensorResult('raw/orders', 7, []), { skipReason: 'no new materialization of raw/orders after event 7' });
  });
});

describe('runFailureSensor', () => {
  test('its cursor orders runs by finish time, then id, and also takes a bare time', () => {
    const a = run('a', '2024-05-01T10:00:00.000Z');
    const b = run('b', '2024-05-01T10:00:00.000Z');
    const c = run('c', '2024-05-01T09:00:00.000Z');
    const ok = run('d', '2024-05-01T11:00:00.000Z', { status: 'succeeded' });
    assert.deepEqual(failedRunsAfter([a, b, c, ok], undefined, 10).map((r) => r.runId), ['c', 'a', 'b']);
    assert.deepEqual(failedRunsAfter([a, b, c], parseRunCursor(runCursor(a), 's'), 10).map((r) => r.runId), ['b'], 'a run ending at the same time as the cursor is still new');
    assert.deepEqual(failedRunsAfter([a, b, c], parseRunCursor('2024-05-01T09:30:00Z', 's'), 1).map((r) => r.runId), ['a'], 'at most max, oldest first');
    assert.deepEqual(failedRunsAfter([a, b, c], parseRunCursor(EPOCH_CURSOR, 's'), 10).length, 3);
    assert.throws(() => parseRunCursor('yesterday|x', 'pager'), /sensor 'pager': cursor 'yesterday\|x' is not '<ISO time>\|<run id>'/);
  });

  test('a monitored job matches runs of its selection that carry its tags; no monitor matches every run', () => {
    const watched = [{ selection: nightly.selection, tags: nightly.tags }];
    assert.equal(runMatches(run('a', 't'), watched), true);
    assert.equal(runMatches(run('b', 't', { tags: {} }), watched), false, 'the same selection started by hand without the job tags');
    assert.equal(runMatches(run('c', 't', { selection: '*' }), watched), false);
    assert.equal(runMatches(run('c', 't', { selection: '*' }), []), true);
  });

  test('the error names each failed step, or the run when none failed', () => {
    const steps = [{ assetKey: 'raw/a', status: 'failed', error: 'boom' }, { assetKey: 'raw/b', status: 'skipped', error: 'skipped: upstream' }, { assetKey: 'raw/c', status: 'failed' }];
    assert.equal(runError(run('a', 't'), steps), 'raw/a: boom\nraw/c: failed');
    assert.equal(runError(run('a', 't'), []), 'run a failed');
  });

  test('onFailure must be a function', () => {
    assert.throws(() => runFailureSensor({ name: 'pager' } as never), /runFailureSensor 'pager': onFailure must be a function/);
  });
});

describe('built-in sensors evaluated against a real catalog', () => {
  let store: CatalogStore;
  let catalog: SensorCatalog;
  let seq = 0;
  before(async () => {
    store = await SqliteCatalogStore.open(':memory:');
    catalog = readOnlySensorCatalog(store);
    const location = codeLocation({ name: 'loc', assets: [asset({ key: 'marts/revenue', materialize: () => [] })], jobs: [nightly] });
    await store.publishSnapshot(locationSnapshot(location), '2024-05-01T00:00:00.000Z');
  });
  after(async () => store?.close());

  const evaluate = async (s: SensorDefinition, cursor: string | undefined): Promise<SensorResult> => {
    const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
    const ctx: SensorContext = { cursor, lastEvaluatedAt: undefined, log, resources: {}, catalog, signal: new AbortController().signal, heartbeat: () => undefined };
    return (await s.evaluate(ctx)) ?? {};
  };
  const materialize = async (key: string): Promise<void> => {
    seq++;
    await store.recordAssetEvent({ eventKey: `report:materialization:e${seq}`, type: 'materialization', assetKey: key, partition: null, runId: null, attempt: 1, at: new Date(Date.UTC(2024, 4, 1, 0, seq)).toISOString(), metadata: {}, source: 'report' });
  };
  const failRun = async (runId: string, finishedAt: string, selection = nightly.selection, tags: Record<string, string> = { ...nightly.tags }): Promise<void> => {
    await store.recordRunStarted({ runId, workflowId: `wf-${runId}`, selection, tags, stepCount: 1, startedAt: '2024-05-01T00:00:00.000Z' });
    await store.recordStepResults([{ runId, assetKey: 'marts/revenue', status: 'failed', error: `${runId} broke`, attempt: 1, at: finishedAt }]);
    await store.recordRunFinished(runId, 'failed', finishedAt, { failed: 1 });
  };

  test('the read-only catalog offers the reads only', () => {
    assert.deepEqual(Object.keys(catalog).sort(), ['assetHistory', 'getSnapshots', 'getStepResults', 'listRuns']);
  });

  test('an asset sensor starts after the latest existing event, then requests one run per new materialization', async () => {
    const s = assetSensor('raw/orders', 'marts/revenue');
    assert.deepEqual(await evaluate(s, undefined), { cursor: '0', skipReason: 'first evaluation: raw/orders has no materialization yet; each new one requests a run' });
    await materialize('raw/orders');
    await materialize('raw/other');
    const first = await evaluate(s, undefined);
    const existing = Number(first.cursor);
    assert.match(first.skipReason ?? '', new RegExp(`starting after the latest materialization of raw/orders \\(event ${existing}\\); only newer ones request runs`));
    assert.equal(first.runRequests, undefined, 'history requests nothing');
    await materialize('raw/orders');
    await materialize('raw/orders');
    const next = await evaluate(s, first.cursor);
    const ids = (await store.assetHistory('raw/orders')).events.map((e) => e.id).filter((id) => id > existing).sort((a, b) => a - b);
    assert.deepEqual(next.runRequests?.map((r) => r.runKey), ids.map((id) => `event-${id}`));
    assert.equal(next.cursor, String(ids.at(-1)));
    assert.match((await evaluate(s, next.cursor)).skipReason ?? '', /no new materialization of raw\/orders after event/);
  });

  test('a backlog is read across pages and worked off oldest first', async () => {
    for (let i = 0; i < 205; i++) await materialize('raw/backlog');
    const all = (await store.assetHistory('raw/backlog', { limit: 500 })).events.map((e) => e.id).sort((a, b) => a - b);
    const oldest = await materializationsAfter(catalog, 'raw/backlog', all[1] as number, 3);
    assert.deepEqual(oldest.map((e) => e.id), all.slice(2, 5));
    assert.equal((await materializationsAfter(catalog, 'raw/backlog', 0, 1000)).length, 205);
  });

  test('a run-failure sensor calls onFailure once per failed run of its job, after its first evaluation', async () => {
    const calls: RunFailureContext[] = [];
    const s = runFailureSensor({ name: 'pager', monitor: 'nightly', onFailure: (ctx) => void calls.push(ctx) });
    await failRun('old', '2024-05-01T01:00:00.000Z');
    const first = await evaluate(s, undefined);
    assert.equal(first.cursor, '2024-05-01T01:00:00.000Z|old');
    assert.match(first.skipReason ?? '', /first evaluation: 1 earlier failed run is not reported/);
    await failRun('new', '2024-05-01T02:00:00.000Z');
    await failRun('by-hand', '2024-05-01T02:30:00.000Z', nightly.selection, {});
    const second = await evaluate(s, first.cursor);
    assert.deepEqual(calls.map((c) => [c.run.runId, c.error]), [['new', 'marts/revenue: new broke']]);
    assert.deepEqual(second, { cursor: '2024-05-01T02:00:00.000Z|new' });
    await evaluate(s, second.cursor);
    assert.equal(calls.length, 1, 'handled once');
  });

  test('when onFailure throws, the runs handled before it keep their place and the failing one is retried', async () => {
    let failing = true;
    const handled: string[] = [];
    const s = runFailureSensor({ name: 'pager', monitor: nightly, onFailure: ({ run: r }) => {
      if (r.runId === 'second' && failing) throw new Error('slack is down');
      handled.push(r.runId);
    } });
    await failRun('first', '2024-05-02T01:00:00.000Z');
    await failRun('second', '2024-05-02T02:00:00.000Z');
    const partial = await evaluate(s, '2024-05-02T00:00:00Z');
    assert.equal(partial.cursor, '2024-05-02T01:00:00.000Z|first');
    assert.match(partial.skipReason ?? '', /onFailure threw for run second \(slack is down\); the next evaluation calls it again/);
    await assert.rejects(evaluate(s, partial.cursor), /slack is down/, 'nothing handled: the tick fails');
    failing = false;
    assert.deepEqual(await evaluate(s, partial.cursor), { cursor: '2024-05-02T02:00:00.000Z|second' });
    assert.deepEqual(handled, ['first', 'second']);
  });

  test('a monitored job name that no location publishes fails the evaluation, naming the known jobs', async () => {
    const s = runFailureSensor({ name: 'pager', monitor: 'weekly', onFailure: () => undefined });
    await assert.rejects(evaluate(s, EPOCH_CURSOR), /runFailureSensor 'pager' monitors job 'weekly', which no published code location declares \(jobs: nightly\)/);
  });
});
