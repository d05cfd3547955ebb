/**
 * An upstream asset as a downstream step sees it: a warehouse table that can be interpolated into SQL (it
 * stays inside DuckDB) or read into Node, whole or in batches. For a partitioned upstream loaded for some of
 * its partitions, the input covers only those partitions.
 */
import { ident, sql, type SqlFragment, type SqlIdentifier } from '../../definitions/sql';
import type { DuckDBResource } from './duckdb-resource';
import { partitionFilter } from './publish-partitions';

/**
 * A materialized upstream asset stored as a DuckDB table.
 * @example
 * const big = sql`select * from ${payments} where amount > ${10}`; // inlines "raw_stripe"."payments"
 * for await (const batch of payments.batches(5_000)) process(batch);
 */
export interface TableInput {
  readonly kind: 'table-input';
  readonly assetKey: string;
  /** `schema.table`, unquoted. */
  readonly table: string;
  /**
   * The partitions this input covers, when it is a partitioned upstream loaded for some partitions; undefined
   * when it covers the whole table.
   */
  readonly partitionKeys?: readonly string[];
  /**
   * What interpolating the input into `sql` inlines: the quoted table identifier, or for a partitioned input
   * the subquery `(select * from "schema"."table" where partition_key in (…)) as "table"` (keys bound).
   */
  toSql(): SqlIdentifier | SqlFragment;
  /** Every row (of the covered partitions), as plain objects. */
  rows<T = Record<string, unknown>>(): Promise<T[]>;
  /** The rows in batches of `size` (default 10 000), holding the warehouse open until the iteration ends. */
  batches(size?: number): AsyncIterable<Record<string, unknown>[]>;
}

/**
 * Builds the {@link TableInput} for `schema.table` of `resource`; with `partitionKeys` (not empty) it covers
 * only the rows whose `partition_key` is one of them.
 */
export function tableInput(
  resource: DuckDBResource,
  assetKey: string,
  schema: string,
  table: string,
  partitionKeys?: readonly string[],
): TableInput {
  const id = ident(schema, table);
  const base = { kind: 'table-input' as const, assetKey, table: `${schema}.${table}` };
  if (partitionKeys === undefined) {
    return {
      ...base,
      toSql: () => id,
      rows: <T = Record<string, unknown>>() => resource.query<T>(sql`select * from ${id}`),
      batches: (size = 10_000) => resource.stream(sql`select * from ${id}`, size),
    };
  }
  if (partitionKeys.length === 0) throw new RangeError(`the input of '${assetKey}' needs at least one partition key`);
  const keys = Object.freeze([...partitionKeys]);
  const filter = partitionFilter(keys);
  const select = sql`select * from ${id} where ${filter}`;
  // Starts with '(', so renderSql inlines it as it is; the alias keeps `table.column` references working.
  const relation = sql`(select * from ${id} where ${filter}) as ${ident(table)}`;
  return {
    ...base,
    partitionKeys: keys,
    toSql: () => relation,
    rows: <T = Record<string, unknown>>() => resource.query<T>(select),
    batches: (size = 10_000) => resource.stream(select, size),
  };
}

/** Whether `value` is a {@link TableInput}. */
export function isTableInput(value: unknown): value is TableInput {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'table-input' &&
    typeof (value as { toSql?: unknown }).toSql === 'function'
  );
}
