import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { partitionStatusRanges, summarizePartitionStatus, type PartitionStatusRange } from '../../definitions/partitions/status';

type State = { status: 'materialized' | 'failed' | 'in_progress' };
const states = (entries: Record<string, State['status']>): Map<string, State> =>
  new Map(Object.entries(entries).map(([k, status]) => [k, { status }]));
const days = (n: number): string[] => Array.from({ length: n }, (_, i) => `2024-01-${String(i + 1).padStart(2, '0')}`);

describe('partitionStatusRanges', () => {
  test('consecutive keys with one status collapse into a range, in the order of the keys', () => {
    const keys = days(10);
    const ranges = partitionStatusRanges(keys, states({
      '2024-01-01': 'materialized', '2024-01-02': 'materialized', '2024-01-03': 'materialized',
      '2024-01-04': 'failed',
      '2024-01-05': 'materialized',
      '2024-01-07': 'in_progress', '2024-01-08': 'in_progress',
    }));
    assert.deepEqual(ranges, [
      { status: 'materialized', from: '2024-01-01', to: '2024-01-03', count: 3 },
      { status: 'failed', from: '2024-01-04', to: '2024-01-04', count: 1 },
      { status: 'materialized', from: '2024-01-05', to: '2024-01-05', count: 1 },
      { status: 'missing', from: '2024-01-06', to: '2024-01-06', count: 1 },
      { status: 'in_progress', from: '2024-01-07', to: '2024-01-08', count: 2 },
      { status: 'missing', from: '2024-01-09', to: '2024-01-10', count: 2 },
    ]);
  });

  test('the order of the keys decides, not the order of the states or of the strings', () => {
    const keys = ['zeta', 'alpha', 'mid'];
    assert.deepEqual(partitionStatusRanges(keys, states({ mid: 'failed', zeta: 'failed', alpha: 'failed' })), [
      { status: 'failed', from: 'zeta', to: 'mid', count: 3 },
    ]);
  });

  test('states of keys that are not listed are ignored; no state at all is one missing range', () => {
    const keys = days(3);
    assert.deepEqual(partitionStatusRanges(keys, states({ '2023-12-31': 'failed', 'gone': 'materialized' })), [
      { status: 'missing', from: '2024-01-01', to: '2024-01-03', count: 3 },
    ]);
    assert.deepEqual(partitionStatusRanges(keys, new Map()), [{ status: 'missing', from: '2024-01-01', to: '2024-01-03', count: 3 }]);
  });

  test('no keys give no ranges; one key gives one range', () => {
    assert.deepEqual(partitionStatusRanges([], states({ a: 'materialized' })), []);
    assert.deepEqual(partitionStatusRanges(['a'], states({ a: 'materialized' })), [{ status: 'materialized', from: 'a', to: 'a', count: 1 }]);
  });

  test('10,000 alternating keys give 10,000 ranges; 10,000 equal ones give one', () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `k${String(i).padStart(5, '0')}`);
    const alternating = new Map(keys.filter((_, i) => i % 2 === 0).map((k) => [k, { status: 'materialized' as const }]));
    assert.equal(partitionStatusRanges(keys, alternating).length, 10_000);
    const all = new Map(keys.map((k) => [k, { status: 'materialized' as const }]));
    assert.deepEqual(partitionStatusRanges(keys, all), [{ status: 'materialized', from: 'k00000', to: 'k09999', count: 10_000 }]);
  });
});

describe('summarizePartitionStatus', () => {
  test('counts keys per status, with every status present', () => {
    const ranges: PartitionStatusRange[] = [
      { status: 'materialized', from: 'a', to: 'c', count: 3 },
      { status: 'missing', from: 'd', to: 'd', count: 1 },
      { status: 'materialized', from: 'e', to: 'f', count: 2 },
      { status: 'failed', from: 'g', to: 'g', count: 1 },
    ];
    assert.deepEqual(summarizePartitionStatus(ranges), { materialized: 5, failed: 1, in_progress: 0, missing: 1 });
    assert.deepEqual(summarizePartitionStatus([]), { materialized: 0, failed: 0, in_progress: 0, missing: 0 });
  });

  test('agrees with the ranges it summarizes', () => {
    const keys = days(31);
    const ranges = partitionStatusRanges(keys, states({ '2024-01-02': 'failed', '2024-01-03': 'in_progress', '2024-01-30': 'materialized' }));
    const counts = summarizePartitionStatus(ranges);
    assert.deepEqual(counts, { materialized: 1, failed: 1, in_progress: 1, missing: 28 });
    assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), keys.length);
  });
});
