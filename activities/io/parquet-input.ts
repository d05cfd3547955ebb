/**
 * Parquet files as a downstream step (or a check) sees them: a relation DuckDB reads with `read_parquet`, the
 * file list bound as a parameter, so it can be interpolated into any query of any DuckDB database; or rows,
 * whole or in batches, read through the Parquet IO manager's DuckDB.
 */
import { ident, sql, type SqlFragment } from '../../definitions/sql';
import type { StoredValue } from '../../definitions/stored-value';
import { storedRelation } from '../duckdb/stored-table';
import type { DuckDBResource } from '../duckdb/duckdb-resource';
import type { TableInput } from '../duckdb/table-input';
import { DEFAULT_BATCH_SIZE } from './values';

/**
 * A stored Parquet value, shaped like the DuckDB manager's {@link TableInput} (`kind: 'table-input'`), so it
 * interpolates into `sql` and is accepted wherever a table input is.
 * @example
 * const big = sql`select * from ${orders} where amount > ${10}`; // read_parquet([...files]) as "orders"
 */
export interface ParquetInput extends TableInput {
  /** The Parquet files read, absolute paths (none for partitions that hold no rows). */
  readonly files: readonly string[];
}

/**
 * `read_parquet` over `files`: columns matched by name across files (`union_by_name`), file and folder names
 * never read as columns (`hive_partitioning = false`).
 */
export function readParquet(files: readonly string[]): SqlFragment {
  return sql`read_parquet(${[...files]}::varchar[], union_by_name = true, hive_partitioning = false)`;
}

/**
 * The input over `files` of `assetKey`; `label` is shown as its `table`. With no files it has no rows: the
 * columns of `schemaFile` when given (another partition of the asset), else none.
 */
export function parquetInput(
  resource: DuckDBResource,
  assetKey: string,
  label: string,
  files: readonly string[],
  opts: { partitionKeys?: readonly string[]; schemaFile?: string } = {},
): ParquetInput {
  const alias = ident(assetKey.slice(assetKey.lastIndexOf('/') + 1));
  const list = Object.freeze([...files]);
  // Starts with '(', so renderSql inlines it as it is; the alias keeps `name.column` references working.
  let relation: SqlFragment;
  if (list.length > 0) relation = sql`(select * from ${readParquet(list)}) as ${alias}`;
  else if (opts.schemaFile !== undefined) relation = sql`(select * from ${readParquet([opts.schemaFile])} limit 0) as ${alias}`;
  else relation = sql`(select null as no_rows limit 0) as ${alias}`;
  const select = sql`select * from ${relation}`;
  return {
    kind: 'table-input',
    assetKey,
    table: label,
    files: list,
    ...(opts.partitionKeys ? { partitionKeys: Object.freeze([...opts.partitionKeys]) } : {}),
    toSql: () => relation,
    rows: <T = Record<string, unknown>>() => (list.length > 0 ? resource.query<T>(select) : Promise.resolve([])),
    batches: (size = DEFAULT_BATCH_SIZE) => resource.stream(select, size),
  };
}

/** A stored (or staged) Parquet value: SQL access when it has files, rows in batches always. */
export function storedParquet(resource: DuckDBResource, input: ParquetInput): StoredValue {
  return storedRelation(resource, input, { sql: input.files.length > 0 });
}
