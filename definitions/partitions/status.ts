/**
 * Partition status as ranges: the keys of a definition, in order, folded into runs of one status, so that
 * `cairn status --partitions` prints "2024-01-01...2024-03-28  materialized (88)" instead of 88 lines. Pure: the
 * keys come from `partitionKeys` and the states from the catalog.
 */

/** Where one partition stands; `missing` is a key with no record. */
export type PartitionRangeStatus = 'materialized' | 'failed' | 'in_progress' | 'missing';

/** Consecutive keys (in the definition's order) that share one status; `from` and `to` are included. */
export interface PartitionStatusRange {
  status: PartitionRangeStatus;
  from: string;
  to: string;
  count: number;
}

export type PartitionStatusCounts = Record<PartitionRangeStatus, number>;

/** The statuses in the order they are reported. */
export const PARTITION_RANGE_STATUSES: readonly PartitionRangeStatus[] = ['materialized', 'failed', 'in_progress', 'missing'];

/**
 * Folds `keys` into ranges of one status: consecutive keys with the same status become one range. A key absent
 * from `states` is `missing`; states of keys that are not in `keys` are ignored.
 */
export function partitionStatusRanges(
  keys: readonly string[],
  states: ReadonlyMap<string, { status: Exclude<PartitionRangeStatus, 'missing'> }>,
): PartitionStatusRange[] {
  const ranges: PartitionStatusRange[] = [];
  let current: PartitionStatusRange | undefined;
  for (const key of keys) {
    const status = states.get(key)?.status ?? 'missing';
    if (current !== undefined && current.status === status) {
      current.to = key;
      current.count++;
    } else {
      current = { status, from: key, to: key, count: 1 };
      ranges.push(current);
    }
  }
  return ranges;
}

/** How many keys the ranges hold per status (every status present, zero when none). */
export function summarizePartitionStatus(ranges: readonly PartitionStatusRange[]): PartitionStatusCounts {
  const counts: PartitionStatusCounts = { materialized: 0, failed: 0, in_progress: 0, missing: 0 };
  for (const r of ranges) counts[r.status] += r.count;
  return counts;
}
