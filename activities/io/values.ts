/**
 * What the non-DuckDB IO managers share about the values they are handed: telling rows from other values,
 * checking rows as they stream, routing rows to partitions, and the errors they raise.
 */
import { CairnError, ErrorCodes } from '../../definitions/errors';
import type { Row } from '../../definitions/stored-value';
import { AssetNotMaterializedError } from '../duckdb';
import { describeKeys, PARTITION_COLUMN } from '../duckdb/publish-partitions';
import { describeValue, isPlainObject } from '../duckdb/row-columns';
import type { AuditVerdict } from '../io-manager';

export { describeValue, isPlainObject };

/** The default size of the batches a stored value is read in. */
export const DEFAULT_BATCH_SIZE = 10_000;

/**
 * Whether `value` is a stream of row batches: an async iterable, or a sync iterable that is not itself a value
 * (arrays, strings, Maps, Sets and typed arrays are values).
 */
export function isBatchSource(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  if (value instanceof Map || value instanceof Set || ArrayBuffer.isView(value)) return false;
  return Symbol.asyncIterator in value || Symbol.iterator in value;
}

/** Throws unless `size` is a positive integer. */
export function checkBatchSize(size: number): void {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be a positive integer, got ${size}`);
}

/**
 * Checks each row of `rows` (numbered from `firstRowNumber`, across batches) is a plain object; the message
 * names the row, as the DuckDB IO manager's does.
 */
export function checkRows(rows: readonly unknown[], where: string, firstRowNumber = 0): asserts rows is Row[] {
  rows.forEach((row, i) => {
    if (!isPlainObject(row)) throw new TypeError(`${where}: row ${firstRowNumber + i} is ${describeValue(row)}, expected a plain object`);
  });
}

/** The batches of an iterable output, each checked to be an array of row objects. */
export async function* checkedBatches(source: Iterable<unknown> | AsyncIterable<unknown>, where: string): AsyncGenerator<Row[]> {
  let batchNumber = 0;
  let rowNumber = 0;
  for await (const batch of source) {
    if (!Array.isArray(batch)) {
      throw new TypeError(`${where}: batch ${batchNumber} is ${describeValue(batch)}; an iterable output must yield arrays of row objects`);
    }
    checkRows(batch, where, rowNumber);
    batchNumber++;
    rowNumber += batch.length;
    yield batch;
  }
}

/** An array's rows in batches of `size`, checked to be row objects (only the arrays that are rows can be batched). */
export async function* chunkRows(value: unknown, size: number, where: string): AsyncGenerator<Row[]> {
  checkBatchSize(size);
  if (!Array.isArray(value)) throw new TypeError(`${where} holds ${describeValue(value)}, not rows: batches need an array of row objects (load it as 'rows' or 'relation')`);
  for (let start = 0; start < value.length; start += size) {
    const batch = value.slice(start, start + size);
    checkRows(batch, where, start);
    yield batch;
  }
}

/**
 * The partition a row of a partitioned write belongs to: its `partition_key` (as text), which must be one of
 * the run's keys, else the run's only key. A row of a range run without `partition_key` is an error, as in DuckDB.
 */
export function partitionOfRow(row: Row, keys: readonly string[], assetKey: string): string {
  const own = row[PARTITION_COLUMN];
  if (own === undefined || own === null) {
    if (keys.length === 1) return keys[0] as string;
    throw rangeNeedsKeys(assetKey, keys);
  }
  const key = String(own);
  if (!keys.includes(key)) {
    throw new CairnError(
      ErrorCodes.InvalidDefinition,
      `asset '${assetKey}': a row has ${PARTITION_COLUMN} ${JSON.stringify(key)}, which is not one of this run's partitions (${describeKeys(keys)}); nothing was written`,
      assetKey,
    );
  }
  return key;
}

/** Throws unless a partitioned write names at least one partition key. */
export function checkWriteKeys(assetKey: string, keys: readonly string[] | undefined): void {
  if (keys?.length === 0) throw new CairnError(ErrorCodes.InvalidPartition, `asset '${assetKey}': a partitioned write needs at least one partition key`, assetKey);
}

/** Throws unless a partitioned load names at least one partition key. */
export function checkLoadKeys(assetKey: string, keys: readonly string[] | undefined): void {
  if (keys?.length === 0) throw new CairnError(ErrorCodes.InvalidPartition, `loading '${assetKey}' for partitions needs at least one partition key`, assetKey);
}

/** The error for a range run whose output does not say which partition each row belongs to. */
export function rangeNeedsKeys(assetKey: string, keys: readonly string[], got?: string): CairnError {
  return new CairnError(
    ErrorCodes.InvalidDefinition,
    `asset '${assetKey}': this run writes ${keys.length} partitions (${describeKeys(keys)}), so its output must be rows carrying a ` +
      `'${PARTITION_COLUMN}' column holding one of the run's keys${got ? `, not ${got}` : ''}; nothing was written`,
    assetKey,
  );
}

/**
 * A whole (collected) output split into the run's partitions: a one-partition run's value goes to its key as it
 * is (rows carrying `partition_key` must carry that key); a range run's value must be rows, each routed by its
 * `partition_key`, and every run key gets an array (empty when no row named it).
 */
export function splitByPartition(value: unknown, keys: readonly string[], assetKey: string): Map<string, unknown> {
  const where = `asset '${assetKey}'`;
  if (keys.length === 1) {
    if (Array.isArray(value)) for (const row of value) if (isPlainObject(row)) partitionOfRow(row, keys, assetKey);
    return new Map([[keys[0] as string, value]]);
  }
  if (!Array.isArray(value)) throw rangeNeedsKeys(assetKey, keys, describeValue(value));
  checkRows(value, where);
  const out = new Map<string, Row[]>(keys.map((k) => [k, []]));
  for (const row of value) out.get(partitionOfRow(row, keys, assetKey))?.push(row);
  return out;
}

/**
 * The value of several partitions loaded at once: the concatenation when every value is an array (rows),
 * else an object of the values by partition key. One partition asked for by key loads as its value.
 */
export function combinePartitions(values: ReadonlyMap<string, unknown>, askedOne: boolean): unknown {
  const list = [...values.values()];
  if (askedOne && list.length === 1) return list[0];
  if (list.every(Array.isArray)) return (list as unknown[][]).flat(1);
  return Object.fromEntries(values);
}

/** `AssetNotMaterializedError` (the name the step runner treats as not retryable) saying what is missing. */
export function notMaterialized(assetKey: string, location: string, what: string): AssetNotMaterializedError {
  const err = new AssetNotMaterializedError(assetKey, location);
  err.message = `asset '${assetKey}' has not been materialized: ${what}`;
  return err;
}

/** A value an IO manager cannot store; `accepts` lists what it can. */
export function cannotStore(assetKey: string, got: string, manager: string, accepts: string): CairnError {
  return new CairnError(ErrorCodes.InvalidDefinition, `asset '${assetKey}' returned ${got}, which the ${manager} IO manager cannot store: return ${accepts}`, assetKey);
}

/** The audit's verdict checked: a malformed one is an error (the write is then discarded, as when the audit throws). */
export function checkVerdict(verdict: unknown, assetKey: string): AuditVerdict {
  const v = verdict as { publish?: unknown; reason?: unknown } | null | undefined;
  if (v?.publish === true) return { publish: true };
  if (v?.publish === false) return { publish: false, reason: typeof v.reason === 'string' && v.reason !== '' ? v.reason : 'rejected by the audit' };
  throw new TypeError(`asset '${assetKey}': the audit returned ${describeValue(verdict)}; it must return { publish: true } or { publish: false, reason }`);
}
