/**
 * Partition helpers shared by the SQLite and PostgreSQL stores: the run's `partition` column, argument checks of
 * the dynamic-partition writes, and how the rows of `partitionStates` combine into one state per key.
 */
import { CairnError, ErrorCodes } from '../../definitions/errors';
import type { PartitionState, RunStart } from './catalog-store';
import { str, type Row } from './rows';

/** The run's `partition` column: as given, else its one partition key, else `<first>...<last>` of its keys. */
export function runPartitionColumn(run: RunStart): string | null {
  if (run.partition !== undefined) return run.partition;
  const keys = run.partitionKeys ?? [];
  if (keys.length === 0) return null;
  return keys.length === 1 ? keys[0]! : `${keys[0]!}...${keys.at(-1)!}`;
}

/** Dynamic partitions need a name and keys that are non-empty strings (the CLI checks the keys' shape). */
export function checkPartitionArgs(name: string, keys: readonly string[]): void {
  if (typeof name !== 'string' || name === '') throw new CairnError(ErrorCodes.InvalidArgument, 'dynamic partitions need a non-empty name');
  for (const key of keys) {
    if (typeof key !== 'string' || key === '') {
      throw new CairnError(ErrorCodes.InvalidArgument, `dynamic partitions '${name}': a partition key must be a non-empty string, got ${JSON.stringify(key)}`, name);
    }
  }
}

/** (at, runId) ordering of two candidates; a run id sorts after none. */
const later = (a: { at: string; runId?: string }, b: { at: string; runId?: string }): boolean =>
  a.at !== b.at ? a.at > b.at : (a.runId ?? '') > (b.runId ?? '');

/**
 * One state per partition key from three row sets of `{ partition_key, run_id, at }`: the latest materialization of
 * each key, the latest failed step of each key, and the running runs that target a key and have not materialized
 * it. In progress wins (the newest started run, ties by run id); otherwise the later of materialized and failed,
 * a tie going to materialized.
 */
export function mergePartitionStates(materialized: readonly Row[], failed: readonly Row[], running: readonly Row[]): Map<string, PartitionState> {
  const out = new Map<string, PartitionState>();
  const state = (status: PartitionState['status'], r: Row): PartitionState => ({
    status, ...(r.run_id === null || r.run_id === undefined ? {} : { runId: str(r.run_id) }), at: str(r.at),
  });
  for (const r of materialized) out.set(str(r.partition_key), state('materialized', r));
  for (const r of failed) {
    const key = str(r.partition_key);
    const current = out.get(key);
    if (current === undefined || str(r.at) > current.at) out.set(key, state('failed', r));
  }
  const inProgress = new Map<string, PartitionState>();
  for (const r of running) {
    const key = str(r.partition_key);
    const candidate = state('in_progress', r);
    const current = inProgress.get(key);
    if (current === undefined || later(candidate, current)) inProgress.set(key, candidate);
  }
  for (const [key, s] of inProgress) out.set(key, s);
  return out;
}
