import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { asset, externalAsset } from '../../definitions/asset';
import { checkRunPartition } from '../../definitions/backfill-plan';
import { codeLocation } from '../../definitions/code-location';
import { CairnError } from '../../definitions/errors';
import { dailyPartitions, hourlyPartitions, multiToSingle, singleRun, staticPartitions, timeWindowMapping } from '../../definitions/partitions';
import { resolveStepPartitions } from '../../definitions/partitions/inputs';
import { graphFromSnapshots } from '../../definitions/plan';
import { AssetNodeSnapshotSchema } from '../../definitions/snapshot';
import { locationSnapshot } from '../../definitions/to-snapshot';
import { validateWorkspace } from '../../definitions/validate';

const noop = () => undefined;
const daily = dailyPartitions({ start: '2024-01-01', timezone: 'America/New_York' });
const hourly = hourlyPartitions({ start: '2024-01-01', timezone: 'America/New_York' });
const now = new Date('2024-06-01T00:00:00Z');

function problems(assets: ReturnType<typeof asset>[]): string[] {
  return validateWorkspace([{ location: codeLocation({ name: 'loc', assets }), source: 'loc.ts' }]).map((p) => p.message);
}

describe('partitioned assets: declaration, snapshot and validation', () => {
  test('a dependency on its own earlier partitions is a mapping, not a graph edge, and survives the snapshot', () => {
    const a = asset({ key: 'totals', partitions: daily, deps: [{ asset: 'totals', mapping: timeWindowMapping({ startOffset: -1, endOffset: -1 }) }], materialize: noop });
    assert.deepEqual(a.deps, []);
    assert.deepEqual(a.partitionMappings, { totals: { kind: 'timeWindow', startOffset: -1, endOffset: -1 } });
    const snap = locationSnapshot(codeLocation({ name: 'loc', assets: [a] }));
    const node = AssetNodeSnapshotSchema.parse(JSON.parse(JSON.stringify(snap.assets[0])));
    assert.deepEqual(node.partitions, daily);
    assert.deepEqual(node.partitionMappings, a.partitionMappings);
    assert.deepEqual(problems([a]), []);
  });

  test('every partition problem is reported with the asset and the file', () => {
    const found = problems([
      asset({ key: 'bad/def', partitions: dailyPartitions({ start: 'soon' }), materialize: noop }),
      asset({ key: 'bad/self', deps: [{ asset: 'bad/self', mapping: timeWindowMapping({ startOffset: -1, endOffset: -1 }) }], materialize: noop }),
      asset({ key: 'bad/future', partitions: daily, deps: [{ asset: 'bad/future', mapping: timeWindowMapping({ startOffset: 1, endOffset: 1 }) }], materialize: noop }),
      asset({ key: 'bad/policy', backfillPolicy: singleRun(), materialize: noop }),
      asset({ key: 'regions', partitions: staticPartitions(['eu', 'us']), materialize: noop }),
      asset({ key: 'bad/mapping', partitions: daily, deps: [{ asset: 'regions', mapping: timeWindowMapping() }], materialize: noop }),
      asset({ key: 'plain', materialize: noop }),
      asset({ key: 'bad/unpartitioned_up', partitions: daily, deps: [{ asset: 'plain', mapping: multiToSingle('x') }], materialize: noop }),
    ]);
    const expect = [
      /asset 'bad\/def': partitions: start "soon" is not an ISO date.*\(in location 'loc' \(loc\.ts\)\)/,
      /asset 'bad\/self' depends on itself, which only a partitioned asset may do/,
      /asset 'bad\/future' depends on its own partitions .* only earlier partitions can be read/,
      /asset 'bad\/policy': backfillPolicy needs partitions/,
      /asset 'bad\/mapping', dep 'regions': a timeWindow mapping needs time windows on both sides/,
      /asset 'bad\/unpartitioned_up' declares a partition mapping for 'plain', which is not partitioned/,
    ];
    for (const e of expect) assert.ok(found.some((m) => e.test(m)), `${e} in:\n${found.join('\n')}`);
    assert.equal(found.length, expect.length, found.join('\n'));
  });

  test('a run checks its partition against every asset before it starts', () => {
    const snap = locationSnapshot(codeLocation({ name: 'loc', assets: [asset({ key: 'd', partitions: daily, materialize: noop }), asset({ key: 'p', materialize: noop }), externalAsset({ key: 'e' })] }));
    const g = graphFromSnapshots([snap]);
    assert.doesNotThrow(() => checkRunPartition([g.node('d')], '2024-01-05', { now }));
    assert.throws(() => checkRunPartition([g.node('d')], undefined, { now }), /asset 'd' is partitioned \(daily partitions starting 2024-01-01 \(America\/New_York\)\)/);
    assert.throws(() => checkRunPartition([g.node('d'), g.node('p')], '2024-01-05', { now }), /takes only partitioned assets; not partitioned: 'p'/);
    assert.throws(() => checkRunPartition([g.node('d')], '2024-06-02', { now }), (e: unknown) => e instanceof CairnError && /asset 'd': '2024-06-02' .* has not ended/.test(e.message));
    assert.doesNotThrow(() => checkRunPartition([g.node('p')], undefined, { now }));
  });
});

describe('a step resolves its partition context and the upstream partitions it loads', () => {
  const hits = asset({ key: 'hits', partitions: hourly, materialize: noop });
  const plain = asset({ key: 'plain', materialize: noop });
  const dailyHits = asset({
    key: 'daily_hits',
    partitions: daily,
    ins: { hits: 'hits', plain: 'plain', prev: { asset: 'daily_hits', mapping: timeWindowMapping({ startOffset: -1, endOffset: -1 }) } },
    materialize: noop,
  });
  const defs = new Map([['hits', hits.partitions], ['plain', undefined]]);

  test('one day over hourly upstream: its hours (23 on the spring-forward day), the whole unpartitioned upstream, the previous day', () => {
    const r = resolveStepPartitions(dailyHits, { keys: ['2024-03-10'], range: false }, defs, { now });
    assert.equal(r.context?.key, '2024-03-10');
    assert.deepEqual(r.context?.range, { start: '2024-03-10', end: '2024-03-10' });
    assert.equal(r.context?.start?.toISOString(), '2024-03-10T05:00:00.000Z');
    assert.equal(r.context?.end?.toISOString(), '2024-03-11T04:00:00.000Z');
    assert.equal(r.inputs.hits?.length, 23);
    assert.equal(r.inputs.hits?.[0], '2024-03-10-00:00');
    assert.equal(r.inputs.plain, undefined);
    assert.deepEqual(r.inputs.prev, ['2024-03-09']);
  });

  test('the first partition has no previous one: that input is null; a range run reads only the day before it', () => {
    assert.equal(resolveStepPartitions(dailyHits, { keys: ['2024-01-01'], range: false }, defs, { now }).inputs.prev, null);
    const range = resolveStepPartitions(dailyHits, { keys: ['2024-01-05', '2024-01-06', '2024-01-07'], range: true }, defs, { now });
    assert.equal(range.context?.key, undefined);
    assert.deepEqual(range.context?.keys, ['2024-01-05', '2024-01-06', '2024-01-07']);
    assert.deepEqual(range.inputs.prev, ['2024-01-04']);
    assert.equal(range.inputs.hits?.length, 72);
  });

  test('a partitioned asset without a key, an unpartitioned one with a key, and a bad key are errors naming the asset', () => {
    assert.throws(() => resolveStepPartitions(dailyHits, undefined, defs, { now }), /asset 'daily_hits' has daily partitions/);
    assert.throws(() => resolveStepPartitions(plain, { keys: ['2024-01-01'], range: false }, defs, { now }), /asset 'plain' is not partitioned/);
    assert.throws(() => resolveStepPartitions(dailyHits, { keys: ['2024-02-30'], range: false }, defs, { now }), /asset 'daily_hits': '2024-02-30' is not a key/);
  });
});
