/**
 * A backfill's plan as data: what the backfill workflow walks. Kept apart from the planner so that workflow
 * code imports only this file and plan-types.
 */
import { partitionLabel, type RunPlan } from './plan-types';

/** Which partitions a backfill covers. `missing` and `failed` are resolved against the catalog by the caller. */
export type BackfillPartitions = { range: [string, string] } | { keys: string[] } | 'missing' | 'failed';

/** How partitions are grouped into runs: one run per partition, or runs of up to N consecutive keys. */
export type BackfillRunPolicy = 'perPartition' | { maxPartitionsPerRun: number };

/** One child run of a backfill. */
export interface BackfillUnit {
  /** Index into `BackfillPlan.groups`: the assets this run materializes. */
  group: number;
  /** Partition keys, in order; empty for the run of the selection's unpartitioned assets. */
  keys: string[];
  /** Set when the keys form one range run (the assets see `partition.keys`/`.range`) rather than one key. */
  range?: true;
  /** Only when it differs from the keys' label (see {@link unitLabel}). */
  label?: string;
  /** Indices of the units that must finish first, always smaller than this unit's index; absent when none. */
  deps?: number[];
}

/** Unique within the backfill: the child workflow id is `<backfill id>/<label>`. */
export function unitLabel(u: BackfillUnit): string {
  return u.label ?? (u.keys.length > 0 ? partitionLabel(u.keys) : 'unpartitioned');
}

export interface BackfillGroup {
  assets: string[];
  /** The run plan of these assets (steps in topological order), handed to each child as it is. */
  plan: RunPlan;
}

/** Round-trips through JSON: the backfill workflow carries it (across continue-as-new as well). */
export interface BackfillPlan {
  selection: string;
  groups: BackfillGroup[];
  /** In an order where every unit comes after its deps. */
  units: BackfillUnit[];
  /** Number of (asset, partition) pairs the plan runs. */
  assetPartitions: number;
}

