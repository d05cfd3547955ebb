/**
 * An IO manager that keeps each asset's value in a JSON file: meant for small values (configuration, model
 * parameters, short lists of rows) that should be readable, diffable files rather than tables.
 */
import { join } from 'node:path';
import { meta } from '../../definitions/metadata';
import { isSqlFragment } from '../../definitions/sql';
import type { Row, StoredValue } from '../../definitions/stored-value';
import { isTableInput } from '../duckdb/table-input';
import type { Audit, HandledOutput, IOManager, LoadMode, OutputInfo, StagedOutput } from '../io-manager';
import { assetFile, locateFiles, partitionDir, partitionFileName, rootDir, tempFileFor, type Located } from './file-paths';
import { discardFiles, dropKept, listKept, settleWrite, type StagedFile } from './file-wap';
import { JsonArrayWriter, readJsonFile, streamJsonRows, writeJsonValue } from './json-files';
import { cannotStore, checkedBatches, checkWriteKeys, combinePartitions, DEFAULT_BATCH_SIZE, isBatchSource, notMaterialized, partitionOfRow, splitByPartition } from './values';

const EXT = '.json';

/** Options of {@link jsonIO}. */
export interface JsonIOOptions {
  /** The root folder of the files (relative paths resolve against the working directory). */
  dir: string;
}

/**
 * Keeps every asset's value as a JSON file under `dir`: `<dir>/<key segments>.json`, or one file per partition,
 * `<dir>/<key segments>/partition_key=<key>.json` (the key percent-encoded, see `file-paths`). See `json-files`
 * for the layout and for what JSON cannot hold (bigints and Dates come back as strings).
 *
 * `handleOutput` accepts any JSON value, and (async) iterables of row batches, which are streamed to the file a
 * batch at a time. A `sql` fragment is refused (there is no database to run it). A write goes to a hidden temp
 * file next to its target and is renamed into place (see `file-wap` for write-audit-publish). A one-partition
 * run's value is stored as it is; a range run's value must be rows carrying `partition_key`, each run key getting
 * its rows (an empty array when none). An empty array is stored as a value.
 *
 * `loadInput` parses the file for `rows` and `relation` (both the value itself), and streams rows a line at a
 * time for `batches` (the value must be an array of row objects). Several partitions load as their rows
 * concatenated, or as an object of values by key when some value is not an array.
 */
export class JsonIOManager implements IOManager {
  readonly type = 'json';
  /** The root folder, absolute. */
  readonly dir: string;

  constructor(opts: JsonIOOptions) {
    this.dir = rootDir(opts?.dir, 'jsonIO()');
  }

  /** The file of an asset's value, or of one of its partitions. */
  fileFor(assetKey: string, partitionKey?: string): string {
    return partitionKey === undefined ? assetFile(this.dir, assetKey, EXT) : join(partitionDir(this.dir, assetKey), partitionFileName(assetKey, partitionKey, EXT));
  }

  async handleOutput(info: OutputInfo, value: unknown, audit?: Audit): Promise<HandledOutput> {
    if (value === undefined || value === null) return { metadata: {} };
    if (isSqlFragment(value) || isTableInput(value)) {
      throw cannotStore(info.assetKey, isSqlFragment(value) ? 'a sql`…` query' : 'a table input', 'JSON', 'a JSON value, rows or row batches (a query needs the DuckDB or Parquet IO manager)');
    }
    const keys = info.partitionKeys;
    checkWriteKeys(info.assetKey, keys);
    const targets = keys === undefined ? [{ target: this.fileFor(info.assetKey) }] : [...new Set(keys)].map((k) => ({ target: this.fileFor(info.assetKey, k), partitionKey: k }));
    const files: StagedFile[] = targets.map((t) => ({ ...t, temp: tempFileFor(t.target) }));
    let rowCount: number | undefined;
    try {
      rowCount = isBatchSource(value) ? await streamBatches(info, value, files) : await writeValue(info, value, files);
    } catch (err) {
      await discardFiles(files);
      throw err;
    }
    const location = keys === undefined ? files[0]?.target ?? '' : partitionDir(this.dir, info.assetKey);
    const located: Located = keys === undefined ? { whole: files[0]?.temp ?? '' } : { parts: new Map(files.map((f) => [f.partitionKey ?? '', f.temp ?? ''])), askedOne: keys.length === 1 };
    return settleWrite(
      {
        dir: this.dir,
        ext: EXT,
        info,
        files,
        ...(rowCount !== undefined ? { rowCount } : {}),
        metadata: { path: meta.text(location), ...(rowCount !== undefined ? { rowCount: meta.rowCount(rowCount) } : {}) },
        staged: () => storedJson(info.assetKey, keys, located),
      },
      audit,
    );
  }

  async loadInput(upstreamKey: string, mode: LoadMode, partitionKeys?: readonly string[]): Promise<unknown> {
    const stored = await this.loadStored(upstreamKey, partitionKeys);
    return mode === 'batches' ? stored.batches() : stored.load(mode);
  }

  async loadStored(assetKey: string, partitionKeys?: readonly string[]): Promise<StoredValue> {
    const located = await locateFiles(this.dir, assetKey, EXT, partitionKeys);
    if (!located) throw notMaterialized(assetKey, this.fileFor(assetKey), `no file ${this.fileFor(assetKey)} (nor partition files under ${partitionDir(this.dir, assetKey)})`);
    return storedJson(assetKey, partitionKeys, located);
  }

  async listStaged(): Promise<StagedOutput[]> {
    return listKept(this.dir);
  }

  async dropStaged(id: string): Promise<boolean> {
    return dropKept(this.dir, EXT, id);
  }
}

/**
 * Declares a JSON file IO manager.
 * @example
 * codeLocation({ name: 'ml', assets, resources: { params: jsonIO({ dir: '.cairn/json' }) } }); // asset({ io: 'params', ... })
 */
export function jsonIO(opts: JsonIOOptions): JsonIOManager {
  return new JsonIOManager(opts);
}

/** Streams row batches to the run's files (routing each row to its partition); returns the number of rows. */
async function streamBatches(info: OutputInfo, source: Iterable<unknown> | AsyncIterable<unknown>, files: readonly StagedFile[]): Promise<number> {
  const where = `asset '${info.assetKey}'`;
  const writers = new Map<string, JsonArrayWriter>();
  try {
    for (const file of files) writers.set(file.partitionKey ?? '', await JsonArrayWriter.open(file.temp as string));
    const keys = info.partitionKeys;
    let rowCount = 0;
    for await (const batch of checkedBatches(source, where)) {
      rowCount += batch.length;
      if (keys === undefined) {
        await writers.get('')?.write(batch, where);
        continue;
      }
      const routed = new Map<string, Row[]>();
      for (const row of batch) {
        const key = partitionOfRow(row, keys, info.assetKey);
        const rows = routed.get(key);
        if (rows) rows.push(row);
        else routed.set(key, [row]);
      }
      for (const [key, rows] of routed) await writers.get(key)?.write(rows, where);
    }
    for (const writer of writers.values()) await writer.close();
    return rowCount;
  } catch (err) {
    await Promise.all([...writers.values()].map((w) => w.abort()));
    throw err;
  }
}

/** Writes a whole value (split by partition for a partitioned write); returns its rows when it is rows. */
async function writeValue(info: OutputInfo, value: unknown, files: readonly StagedFile[]): Promise<number | undefined> {
  const where = `asset '${info.assetKey}'`;
  const keys = info.partitionKeys;
  const values = keys === undefined ? new Map([['', value]]) : splitByPartition(value, keys, info.assetKey);
  let rowCount: number | undefined = 0;
  for (const file of files) {
    const written = await writeJsonValue(file.temp as string, values.get(file.partitionKey ?? ''), where);
    rowCount = written === undefined || rowCount === undefined ? undefined : rowCount + written;
  }
  return rowCount;
}

/** A stored (or staged) JSON value: its files, read when asked. */
function storedJson(assetKey: string, partitionKeys: readonly string[] | undefined, located: Located): StoredValue {
  const where = `asset '${assetKey}'`;
  const paths = 'whole' in located ? [located.whole] : [...located.parts.values()];
  return {
    assetKey,
    ...(partitionKeys && 'parts' in located ? { partitionKeys } : {}),
    async *batches(size = DEFAULT_BATCH_SIZE) {
      for (const path of paths) yield* streamJsonRows(path, size, where);
    },
    async load() {
      if ('whole' in located) return readJsonFile(located.whole);
      const values = new Map<string, unknown>();
      for (const [key, path] of located.parts) values.set(key, await readJsonFile(path));
      return combinePartitions(values, located.askedOne);
    },
  };
}
