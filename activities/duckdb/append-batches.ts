/**
 * Streams row batches into a new DuckDB table through the appender: the first non-empty batch fixes the
 * schema (see `row-columns`), each batch is flushed as it comes, so rows never pile up in Node. Used for the
 * DuckDB IO manager's staging tables and the Parquet IO manager's temporary tables.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { quoteIdentifier } from '../../definitions/sql';
import { appendRows, describeValue, inferColumns, type ColumnSpec } from './row-columns';

/** Where the rows go: a table in `schema` (a regular one), or a temporary table (`temporary: true`, schema `main`). */
export interface AppendTarget {
  readonly schema: string;
  readonly table: string;
  readonly temporary?: boolean;
}

/**
 * How long the loop may hold the event loop before it yields: a generator that computes its rows without
 * awaiting I/O would otherwise keep timers (the step's heartbeat, log flushes) from firing for the whole write.
 */
const YIELD_EVERY_MS = 50;

/** Creates `target` from the first non-empty batch and appends every batch; false (no table) when no row came. */
export async function appendBatches(conn: DuckDBConnection, target: AppendTarget, batches: Iterable<unknown> | AsyncIterable<unknown>, where: string): Promise<boolean> {
  let appender: DuckDBAppender | undefined;
  let columns: ColumnSpec[] = [];
  let batchNumber = 0;
  let rowNumber = 0;
  let since = Date.now();
  try {
    for await (const batch of batches) {
      if (!Array.isArray(batch)) {
        throw new TypeError(`${where}: batch ${batchNumber} is ${describeValue(batch)}; an iterable output must yield arrays of row objects`);
      }
      batchNumber++;
      if (batch.length === 0) continue;
      if (!appender) {
        columns = inferColumns(batch, where);
        if (columns.length === 0) throw new TypeError(`${where}: the rows have no columns (every row is an empty object)`);
        const name = target.temporary ? quoteIdentifier(target.table) : `${quoteIdentifier(target.schema)}.${quoteIdentifier(target.table)}`;
        const columnList = columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', ');
        await conn.run(`create ${target.temporary ? 'temp ' : ''}table ${name} (${columnList})`);
        appender = target.temporary ? await conn.createAppender(target.table, 'main', 'temp') : await conn.createAppender(target.table, target.schema);
      }
      appendRows(appender, columns, batch, where, rowNumber);
      rowNumber += batch.length;
      appender.flushSync();
      if (Date.now() - since >= YIELD_EVERY_MS) {
        await nextTurn();
        since = Date.now();
      }
    }
    appender?.closeSync();
    return appender !== undefined;
  } catch (err) {
    discard(appender);
    throw err;
  }
}

function discard(appender: DuckDBAppender | undefined): void {
  if (!appender) return;
  try {
    appender.clear();
    appender.closeSync();
  } catch {
    // the caller drops the table anyway
  }
}
