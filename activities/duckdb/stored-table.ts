/** A DuckDB table (published or staged) as a {@link StoredValue}: SQL access plus rows in batches. */
import type { StoredValue } from '../../definitions/stored-value';
import type { DuckDBResource } from './duckdb-resource';
import { tableInput } from './table-input';

/** `partitionKeys` narrows a published partitioned table to those partitions; a staged table holds only the write's rows. */
export function storedTable(resource: DuckDBResource, assetKey: string, table: { schema: string; table: string }, partitionKeys?: readonly string[], filter = false): StoredValue {
  const input = tableInput(resource, assetKey, table.schema, table.table, filter ? partitionKeys : undefined);
  return {
    assetKey,
    ...(partitionKeys ? { partitionKeys } : {}),
    batches: (size) => input.batches(size),
    load: async (mode) => (mode === 'rows' ? input.rows() : input),
    sql: { relation: input.toSql(), query: (q) => resource.query(q) },
  };
}
