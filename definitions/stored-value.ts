/**
 * An asset's value as an IO manager holds it, staged (written but not yet published) or published. Checks and
 * data contracts read it through this one shape, whatever the storage: rows in batches always, SQL when the
 * storage can be queried by DuckDB (tables, Parquet files).
 */
import type { SqlFragment, SqlIdentifier } from './sql';

export type Row = Record<string, unknown>;

/** SQL access to a stored value: `relation` is interpolated into `sql` and `query` runs it where the value lives. */
export interface SqlAccess {
  readonly relation: SqlIdentifier | SqlFragment;
  query<T = Row>(q: SqlFragment): Promise<T[]>;
}

export interface StoredValue {
  readonly assetKey: string;
  /** The partitions the value covers; undefined when it covers the whole asset. */
  readonly partitionKeys?: readonly string[];
  /** The rows in batches of at most `size` (default 10 000); fails with a clear error when the value is not rows. */
  batches(size?: number): AsyncIterable<Row[]>;
  /** The value as a downstream step would load it. */
  load(mode: 'relation' | 'rows'): Promise<unknown>;
  /** Present when DuckDB can query the value (DuckDB tables, Parquet files). */
  readonly sql?: SqlAccess;
}
