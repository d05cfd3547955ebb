import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { asset, externalAsset } from '../../definitions/asset';
import { codeLocation } from '../../definitions/code-location';
import { CairnErrors, ErrorCodes, SelectionError } from '../../definitions/errors';
import { downstreamSteps, planRun } from '../../definitions/plan';
import { locationSnapshot } from '../../definitions/to-snapshot';

const noop = () => undefined;
const a = (key: string, deps: string[] = [], extra: Record<string, unknown> = {}) => asset({ key, deps, materialize: noop, ...extra });

const ingest = locationSnapshot(codeLocation({ name: 'ingest', assets: [externalAsset({ key: 'raw/ext' }), a('raw/orders'), a('raw/customers')] }));
const analytics = locationSnapshot(
  codeLocation({
    name: 'analytics',
    assets: [
      a('stg/orders', ['raw/orders', 'raw/ext']),
      a('stg/customers', ['raw/customers']),
      a('marts/revenue', ['stg/orders', 'stg/customers'], { retry: { maxAttempts: 5, initialIntervalMs: 200 } }),
      a('ml/scores', ['marts/revenue']),
    ],
  }),
);

describe('the planner', () => {
  test('plans every runnable asset across locations in a stable topological order, with queues and deps', () => {
    const plan = planRun([analytics, ingest], '*');
    assert.deepEqual(plan.steps.map((s) => s.key), ['raw/customers', 'raw/orders', 'stg/customers', 'stg/orders', 'marts/revenue', 'ml/scores']);
    assert.deepEqual(plan.external, ['raw/ext']);
    const byKey = Object.fromEntries(plan.steps.map((s, i) => [s.key, { ...s, i }]));
    assert.equal(byKey['raw/orders']?.taskQueue, 'cairn-loc-ingest');
    assert.equal(byKey['marts/revenue']?.taskQueue, 'cairn-loc-analytics');
    assert.deepEqual(byKey['marts/revenue']?.deps.map((d) => plan.steps[d]?.key), ['stg/customers', 'stg/orders']);
    assert.deepEqual(byKey['marts/revenue']?.retry, { maxAttempts: 5, initialIntervalMs: 200, backoffCoefficient: 2 });
  });

  test('a plan round-trips through JSON unchanged', () => {
    const plan = planRun([ingest, analytics], '+ml/scores');
    assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
  });

  test('a subset waits for selected ancestors through unselected ones', () => {
    const plan = planRun([ingest, analytics], 'raw/orders or ml/scores');
    assert.deepEqual(plan.steps.map((s) => s.key), ['raw/orders', 'ml/scores']);
    assert.deepEqual(plan.steps[1]?.deps, [0]);
  });

  test('downstream steps of a failed step are found transitively', () => {
    const plan = planRun([ingest, analytics], '*');
    const i = plan.steps.findIndex((s) => s.key === 'stg/orders');
    assert.deepEqual(downstreamSteps(plan, i).map((d) => plan.steps[d]?.key), ['marts/revenue', 'ml/scores']);
  });

  test('an empty selection is an error', () => {
    assert.throws(() => planRun([ingest, analytics], 'group:nothing'), (e: unknown) => e instanceof SelectionError && e.code === ErrorCodes.EmptySelection);
  });

  test('no published snapshots is an error that says to start the workers', () => {
    assert.throws(() => planRun([], '*'), /start the workers/);
  });

  test('a dep on an asset that no location published is an error naming it', () => {
    const orphan = locationSnapshot(codeLocation({ name: 'orphan', assets: [a('o/x', ['gone/away'])] }));
    assert.throws(() => planRun([orphan], '*'), (e: unknown) => e instanceof CairnErrors && /unknown asset 'gone\/away'/.test(e.message));
  });

  test('planning 10,000 assets is correct (speed is measured in npm run bench)', () => {
    const assets = Array.from({ length: 10_000 }, (_, i) => a(`big/n${i}`, i >= 100 ? [`big/n${i - 100}`, `big/n${Math.max(0, i - 100 - (i % 37))}`] : []));
    const plan = planRun([locationSnapshot(codeLocation({ name: 'big', assets }))], '*');
    assert.equal(plan.steps.length, 10_000);
    const pos = new Map(plan.steps.map((s, i) => [s.key, i]));
    for (const [i, s] of plan.steps.entries()) for (const d of s.deps) assert.ok(d < i && pos.get(plan.steps[d]!.key) === d);
  });
});
