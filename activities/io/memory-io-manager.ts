/**
 * An IO manager that keeps values in this process's memory, for tests and `materializeInProcess`: nothing
 * survives the process, and other processes (location workers) never see the values.
 */
import { randomBytes } from 'node:crypto';
import { meta } from '../../definitions/metadata';
import { isSqlFragment } from '../../definitions/sql';
import type { StoredValue } from '../../definitions/stored-value';
import { isTableInput } from '../duckdb/table-input';
import { stagedName, type Audit, type HandledOutput, type IOManager, type LoadMode, type OutputInfo, type StagedOutput } from '../io-manager';
import {
  checkedBatches,
  checkLoadKeys,
  checkVerdict,
  checkWriteKeys,
  chunkRows,
  combinePartitions,
  DEFAULT_BATCH_SIZE,
  describeValue,
  isBatchSource,
  notMaterialized,
  cannotStore,
  splitByPartition,
} from './values';

/** A value as stored: one whole value, or values by partition key. */
type Held = { readonly whole: unknown } | { readonly parts: ReadonlyMap<string, unknown> };

/**
 * Keeps every asset's value in a `Map` of this instance. `handleOutput` accepts any value except a `sql`
 * fragment or a table input (there is no database to run it in): an (async) iterable of row batches is
 * collected into one array of rows; anything else (rows, objects, numbers, strings) is kept as it is, by
 * reference, never copied. `loadInput` hands back that value for `rows` and `relation`, and for `batches` an
 * async iterable of slices of it (the value must then be an array of row objects).
 *
 * Partitioned: one value per partition key. A one-partition run stores its value under its key; a range run's
 * value must be rows carrying `partition_key` (they are kept with it). Several partitions load as their rows
 * concatenated, or as an object of values by key when some value is not an array (see `combinePartitions`).
 * An empty array is stored as a value (not dropped, unlike in DuckDB).
 */
export class MemoryIOManager implements IOManager {
  readonly type = 'memory';
  private readonly whole = new Map<string, unknown>();
  private readonly parts = new Map<string, Map<string, unknown>>();
  private readonly kept = new Map<string, { staged: StagedOutput; held: Held }>();

  async handleOutput(info: OutputInfo, value: unknown, audit?: Audit): Promise<HandledOutput> {
    if (value === undefined || value === null) return { metadata: {} };
    const where = `asset '${info.assetKey}'`;
    if (isSqlFragment(value) || isTableInput(value)) {
      throw cannotStore(info.assetKey, isSqlFragment(value) ? 'a sql`…` query' : 'a table input', 'in-memory', 'rows, row batches or any other value (a query needs the DuckDB or Parquet IO manager)');
    }
    const keys = info.partitionKeys;
    checkWriteKeys(info.assetKey, keys);
    let collected = value;
    if (isBatchSource(value)) {
      const rows: unknown[] = [];
      for await (const batch of checkedBatches(value, where)) for (const row of batch) rows.push(row);
      collected = rows;
    }
    const held: Held = keys === undefined ? { whole: collected } : { parts: splitByPartition(collected, keys, info.assetKey) };
    const rowCount = countRows(held);
    if (audit) {
      const verdict = checkVerdict(await audit(storedValue(info.assetKey, keys, () => valueOf(held, keys !== undefined && keys.length === 1))), info.assetKey);
      if (!verdict.publish) {
        if (rowCount === 0) return { metadata: {}, published: false };
        const at = new Date();
        const staged: StagedOutput = {
          id: stagedName(`memory:${info.assetKey.replaceAll('/', '_')}`, info.runId, at, randomBytes(2).toString('hex')),
          assetKey: info.assetKey,
          runId: info.runId,
          reason: verdict.reason,
          at: at.toISOString(),
          ...(keys ? { partitionKeys: [...keys] } : {}),
          ...(rowCount !== undefined ? { rowCount } : {}),
        };
        this.kept.set(staged.id, { staged, held });
        return { metadata: { staged: meta.text(staged.id), ...sizeMetadata(held, rowCount) }, published: false, staged };
      }
    }
    if ('whole' in held) this.whole.set(info.assetKey, held.whole);
    else {
      const existing = this.parts.get(info.assetKey) ?? new Map<string, unknown>();
      for (const [key, v] of held.parts) existing.set(key, v);
      this.parts.set(info.assetKey, existing);
    }
    return { metadata: sizeMetadata(held, rowCount) };
  }

  async loadInput(upstreamKey: string, mode: LoadMode, partitionKeys?: readonly string[]): Promise<unknown> {
    const value = this.find(upstreamKey, partitionKeys);
    return mode === 'batches' ? chunkRows(value, DEFAULT_BATCH_SIZE, `asset '${upstreamKey}'`) : value;
  }

  async loadStored(assetKey: string, partitionKeys?: readonly string[]): Promise<StoredValue> {
    const value = this.find(assetKey, partitionKeys);
    return storedValue(assetKey, partitionKeys, () => value);
  }

  async listStaged(): Promise<StagedOutput[]> {
    return [...this.kept.values()].map((k) => k.staged).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  /** Forgets a kept rejected write. */
  async dropStaged(id: string): Promise<boolean> {
    return this.kept.delete(id);
  }

  /** A kept rejected write's value (for tests that inspect it), or undefined. */
  stagedValue(id: string): StoredValue | undefined {
    const kept = this.kept.get(id);
    if (!kept) return undefined;
    const { staged, held } = kept;
    return storedValue(staged.assetKey, staged.partitionKeys, () => valueOf(held, staged.partitionKeys?.length === 1));
  }

  /** The stored value of `assetKey` (those partitions, when given); the filter is ignored for an unpartitioned value, as in DuckDB. */
  private find(assetKey: string, partitionKeys?: readonly string[]): unknown {
    checkLoadKeys(assetKey, partitionKeys);
    const parts = this.parts.get(assetKey);
    if (partitionKeys && parts) {
      const found = new Map<string, unknown>();
      for (const key of partitionKeys) if (parts.has(key)) found.set(key, parts.get(key));
      return combinePartitions(found, partitionKeys.length === 1);
    }
    if (this.whole.has(assetKey)) return this.whole.get(assetKey);
    if (parts) return combinePartitions(new Map([...parts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), false);
    throw notMaterialized(assetKey, `memory:${assetKey}`, 'the in-memory IO manager holds no value for it (values live only in the process that stored them)');
  }
}

/** Declares an in-memory IO manager, for tests. @example codeLocation({ ..., resources: { io: memoryIO() } }) */
export function memoryIO(): MemoryIOManager {
  return new MemoryIOManager();
}

function valueOf(held: Held, askedOne: boolean): unknown {
  return 'whole' in held ? held.whole : combinePartitions(held.parts, askedOne);
}

function storedValue(assetKey: string, partitionKeys: readonly string[] | undefined, value: () => unknown): StoredValue {
  return {
    assetKey,
    ...(partitionKeys ? { partitionKeys } : {}),
    batches: (size = DEFAULT_BATCH_SIZE) => chunkRows(value(), size, `asset '${assetKey}'`),
    load: async () => value(),
  };
}

/** Rows in the value (arrays only); undefined when some value is not an array. */
function countRows(held: Held): number | undefined {
  const values = 'whole' in held ? [held.whole] : [...held.parts.values()];
  let n = 0;
  for (const v of values) {
    if (!Array.isArray(v)) return undefined;
    n += v.length;
  }
  return n;
}

function sizeMetadata(held: Held, rowCount: number | undefined): Record<string, unknown> {
  if (rowCount !== undefined) return { rowCount: meta.rowCount(rowCount) };
  return { value: meta.text('whole' in held ? describeValue(held.whole) : 'values by partition') };
}
