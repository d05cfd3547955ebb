import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { asset } from '../../definitions/asset';
import { planBackfill, resolveBackfillTargets, backfillAssets, unitLabel, type BackfillPlan } from '../../definitions/backfill-plan';
import { codeLocation } from '../../definitions/code-location';
import { CairnError } from '../../definitions/errors';
import { dailyPartitions, hourlyPartitions, singleRun, staticPartitions, timeWindowMapping, weeklyPartitions } from '../../definitions/partitions';
import { locationSnapshot } from '../../definitions/to-snapshot';
import type { LocationSnapshot } from '../../definitions/snapshot';

const noop = () => undefined;
const daily = dailyPartitions({ start: '2024-01-01' });
const now = new Date('2024-06-01T00:00:00Z');

function snap(assets: ReturnType<typeof asset>[]): LocationSnapshot[] {
  return [locationSnapshot(codeLocation({ name: 'loc', assets }))];
}

function plan(snapshots: LocationSnapshot[], selection: string, range: [string, string], policy: Parameters<typeof planBackfill>[3] = 'perPartition'): BackfillPlan {
  const { nodes } = backfillAssets(snapshots, selection);
  return planBackfill(snapshots, selection, resolveBackfillTargets(nodes, { range }, { now }), policy, { now });
}

/** The labels of the units `unit` waits for. */
const depLabels = (p: BackfillPlan, label: string) => (p.units.find((u) => unitLabel(u) === label)!.deps ?? []).map((d) => unitLabel(p.units[d]!));

describe('backfill planning', () => {
  const chain = snap([
    asset({ key: 'raw', partitions: daily, materialize: noop }),
    asset({ key: 'running_total', partitions: daily, deps: ['raw', { asset: 'running_total', mapping: timeWindowMapping({ startOffset: -1, endOffset: -1 }) }], materialize: noop }),
    asset({ key: 'report', partitions: daily, deps: ['running_total'], materialize: noop }),
  ]);

  test('a chain of daily assets runs one unit per day; the self-dependent asset orders the days', () => {
    const p = plan(chain, '*', ['2024-01-01', '2024-01-05']);
    assert.equal(p.units.length, 5);
    assert.deepEqual(p.units.map((u) => unitLabel(u)), ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05']);
    assert.deepEqual(p.groups[p.units[0]!.group]!.assets, ['raw', 'running_total', 'report']);
    assert.deepEqual(depLabels(p, '2024-01-01'), []);
    assert.deepEqual(depLabels(p, '2024-01-03'), ['2024-01-02']);
    assert.equal(p.assetPartitions, 15);
    // The group's plan orders the chain inside each run.
    const steps = p.groups[0]!.plan.steps;
    assert.deepEqual(steps.map((s) => [s.key, s.deps]), [['raw', []], ['running_total', [0]], ['report', [1]]]);
  });

  test('without the self-dependency the days are independent', () => {
    const s = snap([asset({ key: 'a', partitions: daily, materialize: noop }), asset({ key: 'b', partitions: daily, deps: ['a'], materialize: noop })]);
    const p = plan(s, '*', ['2024-01-01', '2024-01-31']);
    assert.equal(p.units.length, 31);
    assert.ok(p.units.every((u) => u.deps === undefined));
  });

  test('a weekly rollup runs after its seven days, and only for whole weeks inside the range', () => {
    const s = snap([
      asset({ key: 'events', partitions: daily, materialize: noop }),
      asset({ key: 'weekly', partitions: weeklyPartitions({ start: '2024-01-07' }), deps: ['events'], materialize: noop }),
    ]);
    // 2024-01-07 and 2024-01-14 are Sundays; the range covers the week of the 7th fully and the 14th partly.
    const p = plan(s, '*', ['2024-01-05', '2024-01-16']);
    const weekly = p.units.filter((u) => p.groups[u.group]!.assets.includes('weekly'));
    assert.deepEqual(weekly.map((u) => unitLabel(u)), ['2024-01-07~2']);
    assert.deepEqual(depLabels(p, '2024-01-07~2'), ['2024-01-07', '2024-01-08', '2024-01-09', '2024-01-10', '2024-01-11', '2024-01-12', '2024-01-13']);
    assert.ok(p.units.findIndex((u) => unitLabel(u) === '2024-01-07~2') > p.units.findIndex((u) => unitLabel(u) === '2024-01-13'));
  });

  test('a daily asset over hourly partitions waits for its 24 hours', () => {
    const s = snap([
      asset({ key: 'hits', partitions: hourlyPartitions({ start: '2024-01-01' }), materialize: noop }),
      asset({ key: 'daily_hits', partitions: daily, deps: ['hits'], materialize: noop }),
    ]);
    const p = plan(s, '*', ['2024-01-02', '2024-01-02']);
    assert.equal(p.units.length, 25);
    assert.equal(depLabels(p, '2024-01-02').length, 24);
  });

  test('singleRun assets get one range unit; maxPartitionsPerRun chunks the others', () => {
    const s = snap([
      asset({ key: 'a', partitions: daily, materialize: noop }),
      asset({ key: 'b', partitions: daily, deps: ['a'], backfillPolicy: singleRun(), materialize: noop }),
    ]);
    const p = plan(s, '*', ['2024-01-01', '2024-01-10'], { maxPartitionsPerRun: 4 });
    assert.deepEqual(p.units.map((u) => [unitLabel(u), u.range ?? false]), [
      ['2024-01-01...2024-01-04', true],
      ['2024-01-05...2024-01-08', true],
      ['2024-01-09...2024-01-10', true],
      ['2024-01-01...2024-01-10', true],
    ]);
    assert.deepEqual(p.units[3]!.deps, [0, 1, 2]);
  });

  test('unpartitioned assets run once, after the partitions they read', () => {
    const s = snap([asset({ key: 'a', partitions: daily, materialize: noop }), asset({ key: 'summary', deps: ['a'], materialize: noop })]);
    const p = plan(s, '*', ['2024-01-01', '2024-01-03']);
    assert.equal(unitLabel(p.units.at(-1)!), 'unpartitioned');
    assert.deepEqual(p.units.at(-1)!.deps, [0, 1, 2]);
  });

  test('targets: a key list, a range that means nothing to an asset, and keys that have not ended', () => {
    const s = snap([
      asset({ key: 'region', partitions: staticPartitions(['eu', 'us']), materialize: noop }),
      asset({ key: 'day', partitions: daily, materialize: noop }),
    ]);
    const { nodes } = backfillAssets(s, '*');
    const t = resolveBackfillTargets(nodes, { keys: ['eu', '2024-01-03'] }, { now });
    assert.deepEqual([...t], [['day', ['2024-01-03']], ['region', ['eu']]]);
    assert.throws(() => resolveBackfillTargets(nodes, { range: ['eu', 'us'] }, { now }), (e: unknown) => e instanceof CairnError && /asset 'day': range eu\.\.\.us/.test(e.message));
    const onlyDay = resolveBackfillTargets(backfillAssets(s, 'day').nodes, { range: ['2024-05-30', '2024-06-05'] }, { now });
    assert.deepEqual(onlyDay.get('day'), ['2024-05-30', '2024-05-31']);
  });
});
