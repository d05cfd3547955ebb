/**
 * An upstream asset as a downstream step sees it: a warehouse table that can be interpolated into SQL (it
 * stays inside DuckDB) or read into Node, whole or in batches.
 */
import { ident, sql, type SqlIdentifier } from '../../definitions/sql';
import type { DuckDBResource } from './duckdb-resource';

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
  /** The quoted table identifier, so that interpolating the input into `sql` inlines the table name. */
  toSql(): SqlIdentifier;
  /** Every row, as plain objects. */
  rows<T = Record<string, unknown>>(): Promise<T[]>;
  /** The rows in batches of `size` (default 10 000), holding the warehouse open until the iteration ends. */
  batches(size?: number): AsyncIterable<Record<string, unknown>[]>;
}

/** Builds the {@link TableInput} for `schema.table` of `resource`. */
export function tableInput(resource: DuckDBResource, assetKey: string, schema: string, table: string): TableInput {
  const id = ident(schema, table);
  return {
    kind: 'table-input',
    assetKey,
    table: `${schema}.${table}`,
    toSql: () => id,
    rows: <T = Record<string, unknown>>() => resource.query<T>(sql`select * from ${id}`),
    batches: (size = 10_000) => resource.stream(sql`select * from ${id}`, size),
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
