/** A queryable input (a DuckDB table, Parquet files) as a {@link StoredValue}: SQL access plus rows in batches. */
import type { StoredValue } from '../../definitions/stored-value';
import type { DuckDBResource } from './duckdb-resource';
import { tableInput, type TableInput } from './table-input';

/** `input` as checks read it; `sql: false` leaves out SQL access (Parquet without files has nothing to query). */
export function storedRelation(resource: DuckDBResource, input: TableInput, opts: { partitionKeys?: readonly string[]; sql?: boolean } = {}): StoredValue {
  const partitionKeys = opts.partitionKeys ?? input.partitionKeys;
  return {
    assetKey: input.assetKey,
    ...(partitionKeys ? { partitionKeys } : {}),
    batches: (size) => input.batches(size),
    load: async (mode) => (mode === 'rows' ? input.rows() : input),
    ...(opts.sql === false ? {} : { sql: { relation: input.toSql(), query: (q) => resource.query(q) } }),
  };
}

/** `partitionKeys` narrows a published partitioned table to those partitions; a staged table holds only the write's rows. */
export function storedTable(resource: DuckDBResource, assetKey: string, table: { schema: string; table: string }, partitionKeys?: readonly string[], filter = false): StoredValue {
  return storedRelation(resource, tableInput(resource, assetKey, table.schema, table.table, filter ? partitionKeys : undefined), partitionKeys ? { partitionKeys } : {});
}
