/**
 * Runs SQL fragments (or plain SQL text) on a DuckDB connection: the fragment is rendered to `$1..$n`
 * placeholders and its values are bound, never spliced into the text.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { renderSql, type SqlFragment } from '../../definitions/sql';
import { toDuckDBParam, toPlainRows } from './duckdb-values';

/** Renders a fragment (or takes text as is) into SQL text and DuckDB parameter values. */
export function bindSql(q: SqlFragment | string): { text: string; params: DuckDBValue[] | undefined } {
  if (typeof q === 'string') return { text: q, params: undefined };
  const { text, params } = renderSql(q);
  return { text, params: params.length > 0 ? params.map(toDuckDBParam) : undefined };
}

/** Runs a query and returns every row as a plain object (see `plainValueConverter` for the value mapping). */
export async function runQuery<T = Record<string, unknown>>(conn: DuckDBConnection, q: SqlFragment | string): Promise<T[]> {
  const { text, params } = bindSql(q);
  const reader = await conn.runAndReadAll(text, params);
  return toPlainRows(reader.getRows(), reader.deduplicatedColumnNames(), reader.columnTypes()) as T[];
}

/** Runs a statement and discards any result. */
export async function runStatement(conn: DuckDBConnection, q: SqlFragment | string): Promise<void> {
  const { text, params } = bindSql(q);
  await conn.run(text, params);
}

/** Streams a query's rows in batches of about `size` rows (the last may be smaller); never holds the whole result. */
export async function* streamQuery(
  conn: DuckDBConnection,
  q: SqlFragment | string,
  size: number,
): AsyncGenerator<Record<string, unknown>[]> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be a positive integer, got ${size}`);
  const { text, params } = bindSql(q);
  const result = await conn.stream(text, params);
  const names = result.deduplicatedColumnNames();
  const types = result.columnTypes();
  let batch: Record<string, unknown>[] = [];
  for await (const chunk of result) {
    for (const row of toPlainRows(chunk.getRows(), names, types)) {
      batch.push(row);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}
