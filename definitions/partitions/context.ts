import type { PartitionContext } from '../asset';
import { CairnError, ErrorCodes } from '../errors';
import type { PartitionsDefinition } from './definitions';
import { partitionWindow } from './keys';

/**
 * The `partition` a step's context carries for `keys` of `def`: `key` for a one-partition run, `keys` and
 * `range` always, and for time windows the start of the first window and the end of the last.
 */
export function partitionContext(def: PartitionsDefinition, keys: readonly string[], isRange: boolean): PartitionContext {
  if (keys.length === 0) throw new CairnError(ErrorCodes.InvalidPartition, 'a partitioned step needs at least one partition key');
  const first = keys[0]!;
  const last = keys.at(-1)!;
  const times = def.kind === 'time' ? { start: new Date(partitionWindow(def, first).start), end: new Date(partitionWindow(def, last).end) } : {};
  return Object.freeze({
    ...(isRange ? {} : { key: first }),
    keys: Object.freeze([...keys]),
    range: Object.freeze({ start: first, end: last }),
    ...times,
  });
}

export { partitionLabel } from '../plan-types';
