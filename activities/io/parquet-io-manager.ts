/**
 * An IO manager that keeps each asset's value as Parquet files written by DuckDB: columnar files any tool
 * reads, that downstream steps query in place with `read_parquet`, without loading them into a database.
 */
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { meta } from '../../definitions/metadata';
import { isSqlFragment, sql } from '../../definitions/sql';
import type { StoredValue } from '../../definitions/stored-value';
import { DuckDBResource } from '../duckdb/duckdb-resource';
import { runStatement } from '../duckdb/duckdb-run';
import { isTableInput } from '../duckdb/table-input';
import type { Audit, HandledOutput, IOManager, LoadMode, OutputInfo, StagedOutput } from '../io-manager';
import { emptyStoredValue } from '../stored-values';
import { assetFile, locateFiles, partitionDir, partitionFileName, rootDir } from './file-paths';
import { dropKept, listKept, settleWrite } from './file-wap';
import { parquetInput, storedParquet, type ParquetInput } from './parquet-input';
import { writePartitions, writeWhole, type ParquetSource } from './parquet-write';
import { cannotStore, checkWriteKeys, describeValue, isBatchSource, notMaterialized } from './values';

const EXT = '.parquet';

/** Options of {@link parquetIO}. */
export interface ParquetIOOptions {
  /** The root folder of the files (relative paths resolve against the working directory). */
  dir: string;
  /**
   * The DuckDB that runs queries returned by assets and reads the files: give the warehouse resource so those
   * queries can read its tables. Default: a private in-memory DuckDB (closed by {@link ParquetIOManager.close}).
   */
  duckdb?: DuckDBResource;
}

/**
 * Keeps every asset's value as Parquet under `dir`: `<dir>/<key segments>.parquet`, or one file per partition,
 * `<dir>/<key segments>/partition_key=<key>.parquet` (the key percent-encoded, see `file-paths`).
 *
 * `handleOutput` accepts what the DuckDB IO manager accepts, with the same column types (HUGEINT is written
 * as DOUBLE, Parquet having no 128-bit integer): a `sql` fragment or table input (run in this manager's DuckDB,
 * straight to the file when unpartitioned), an array of row objects, or an (async) iterable of row batches
 * (streamed through DuckDB's appender into a temporary table, never collected in Node). An output with no rows
 * removes the file (a query with no rows still writes one, keeping its columns). Every file is written to a
 * temp file and renamed into place; see `file-wap` for write-audit-publish and what a concurrent reader sees.
 *
 * Partitions mirror the DuckDB manager: every row of a partition file has a VARCHAR `partition_key`; a
 * one-partition run's rows get its key unless they carry the column; a range run's rows must carry it and the
 * run writes one file per key (a key without rows loses its file). Files of one asset are read with
 * `union_by_name`, so partitions written with different columns load together (missing columns as NULL);
 * columns are not checked against other partitions on write, unlike in DuckDB.
 *
 * `loadInput` returns a {@link ParquetInput} for `relation`, the rows for `rows`, and for `batches` an async
 * iterable of row batches streamed from the files.
 */
export class ParquetIOManager implements IOManager {
  readonly type = 'parquet';
  /** The root folder, absolute. */
  readonly dir: string;
  /** The DuckDB that writes and reads the files. */
  readonly resource: DuckDBResource;
  private readonly owned: boolean;
  private prepared: Promise<void> | undefined;

  constructor(opts: ParquetIOOptions) {
    this.dir = rootDir(opts?.dir, 'parquetIO()');
    // read_parquet expands these in any path, even one bound as a parameter.
    if (/[*?[\]{}]/.test(this.dir)) {
      throw new TypeError(`parquetIO({ dir }): ${this.dir} contains a glob character (* ? [ ] { }), which DuckDB would expand when reading the files; choose another folder`);
    }
    this.owned = opts.duckdb === undefined;
    this.resource = opts.duckdb ?? new DuckDBResource({ path: ':memory:' });
  }

  /** The file of an asset's value, or of one of its partitions. */
  fileFor(assetKey: string, partitionKey?: string): string {
    return partitionKey === undefined ? assetFile(this.dir, assetKey, EXT) : join(partitionDir(this.dir, assetKey), partitionFileName(assetKey, partitionKey, EXT));
  }

  async handleOutput(info: OutputInfo, value: unknown, audit?: Audit): Promise<HandledOutput> {
    if (value === undefined || value === null) return { metadata: {} };
    const source = sourceOf(info.assetKey, value);
    const keys = info.partitionKeys;
    checkWriteKeys(info.assetKey, keys);
    const targets = keys === undefined ? undefined : new Map([...new Set(keys)].map((k) => [k, this.fileFor(info.assetKey, k)]));
    const target = this.fileFor(info.assetKey);
    const written = await this.resource.withConnection(async (conn) => {
      await this.prepare(conn);
      return targets ? writePartitions(conn, info.assetKey, source, targets) : writeWhole(conn, info.assetKey, source, target);
    });
    const temps = written.files.flatMap((f) => (f.temp ? [f.temp] : []));
    const location = targets ? partitionDir(this.dir, info.assetKey) : target;
    return settleWrite(
      {
        dir: this.dir,
        ext: EXT,
        info,
        files: written.files,
        rowCount: written.rowCount,
        metadata: { path: meta.text(location), rowCount: meta.rowCount(written.rowCount), columns: meta.tableSchema(written.columns) },
        staged: () =>
          temps.length === 0
            ? emptyStoredValue(info.assetKey, keys)
            : storedParquet(this.resource, parquetInput(this.resource, info.assetKey, location, temps, keys ? { partitionKeys: keys } : {})),
      },
      audit,
    );
  }

  async loadInput(upstreamKey: string, mode: LoadMode, partitionKeys?: readonly string[]): Promise<unknown> {
    const input = await this.input(upstreamKey, partitionKeys);
    if (mode === 'rows') return input.rows();
    if (mode === 'batches') return input.batches();
    return input;
  }

  async loadStored(assetKey: string, partitionKeys?: readonly string[]): Promise<StoredValue> {
    return storedParquet(this.resource, await this.input(assetKey, partitionKeys));
  }

  async listStaged(): Promise<StagedOutput[]> {
    return listKept(this.dir);
  }

  async dropStaged(id: string): Promise<boolean> {
    return dropKept(this.dir, EXT, id);
  }

  /** Closes the private in-memory DuckDB (a given resource is left to its owner). */
  async close(): Promise<void> {
    if (this.owned) await this.resource.close();
  }

  /**
   * Points the private DuckDB's spill folder (where a temporary table larger than memory goes) into `dir`
   * instead of DuckDB's default, `.tmp` in the working directory. A given resource keeps its own settings.
   */
  private async prepare(conn: DuckDBConnection): Promise<void> {
    if (!this.owned) return;
    this.prepared ??= runStatement(conn, `set temp_directory = '${join(this.dir, '.duckdb-tmp').replaceAll("'", "''")}'`).catch((err: unknown) => {
      this.prepared = undefined;
      throw err;
    });
    await this.prepared;
  }

  /** The stored files of an asset (of `partitionKeys` only, when given) as an input. */
  private async input(assetKey: string, partitionKeys?: readonly string[]): Promise<ParquetInput> {
    const located = await locateFiles(this.dir, assetKey, EXT, partitionKeys);
    const whole = this.fileFor(assetKey);
    if (!located) throw notMaterialized(assetKey, whole, `no file ${whole} (nor partition files under ${partitionDir(this.dir, assetKey)})`);
    if ('whole' in located) return parquetInput(this.resource, assetKey, located.whole, [located.whole]);
    return parquetInput(this.resource, assetKey, partitionDir(this.dir, assetKey), [...located.parts.values()], {
      ...(partitionKeys ? { partitionKeys } : {}),
      ...(located.sibling !== undefined ? { schemaFile: located.sibling } : {}),
    });
  }
}

/**
 * Declares a Parquet file IO manager.
 * @example
 * const warehouse = duckdb();
 * codeLocation({ name: 'lake', assets, resources: { warehouse, io: parquetIO({ dir: '.cairn/parquet', duckdb: warehouse }) } });
 */
export function parquetIO(opts: ParquetIOOptions): ParquetIOManager {
  return new ParquetIOManager(opts);
}

function sourceOf(assetKey: string, value: unknown): ParquetSource {
  if (isSqlFragment(value)) return { query: value };
  if (isTableInput(value)) return { query: sql`select * from ${value}` };
  if (Array.isArray(value)) {
    if (Array.isArray(value[0])) {
      throw cannotStore(assetKey, 'an array of arrays', 'Parquet', 'a generator (function* or async function*) that yields arrays of row objects to stream batches of rows');
    }
    return { batches: [value] };
  }
  if (isBatchSource(value)) return { batches: value };
  throw cannotStore(
    assetKey,
    describeValue(value),
    'Parquet',
    'a sql`…` query, an array of row objects, an iterable or async iterable of row batches, or nothing (undefined) for an asset with only side effects',
  );
}
