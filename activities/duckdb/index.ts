/** DuckDB warehouse: the resource (lazily opened, lease-counted) and the default IO manager. */
export { DEFAULT_LOCK_TIMEOUT_MS, DuckDBResource, duckdb, type DuckDBResourceOptions } from './duckdb-resource';
export { AssetNotMaterializedError, DuckDBIOManager, PARTITION_COLUMN, type OutputInfo, type StoredOutput } from './duckdb-io-manager';
export { isTableInput, type TableInput } from './table-input';
export { DuckDBLockedError } from './instance-registry';
export type { PublishedTable } from './publish-table';
export type { ColumnSpec, ColumnType } from './row-columns';
