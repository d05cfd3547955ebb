/**
 * The default IO manager: every asset's value is a DuckDB table named after its key, and downstream steps get
 * that table back as a {@link TableInput}. Writes are atomic (see `publish-table`).
 */
import { meta } from '../../definitions/metadata';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import { isSqlFragment, sql, type SqlFragment } from '../../definitions/sql';
import type { DuckDBResource } from './duckdb-resource';
import { bindSql } from './duckdb-run';
import { findObject, publishTable, type StagingTable } from './publish-table';
import { appendRows, createTableSql, describeValue, inferColumns, type ColumnSpec } from './row-columns';
import { isTableInput, tableInput, type TableInput } from './table-input';

export type { TableInput } from './table-input';

/** Which output is being stored. */
export interface OutputInfo {
  assetKey: string;
  runId: string;
}

/**
 * What was stored: `metadata` is `{}` for an asset without a value, else typed metadata
 * `{ table: text 'schema.table', rowCount: row_count, columns: table_schema }`.
 */
export interface StoredOutput {
  metadata: Record<string, unknown>;
}

/** A downstream step asked for an asset whose table does not exist. */
export class AssetNotMaterializedError extends Error {
  override readonly name = 'AssetNotMaterializedError';
  constructor(
    readonly assetKey: string,
    readonly table: string,
  ) {
    super(`asset '${assetKey}' has not been materialized: table ${table} does not exist`);
  }
}

/**
 * Stores asset values in DuckDB. `handleOutput` accepts:
 * - `undefined`/`null`: nothing is stored (side-effect-only assets), metadata `{}`;
 * - a `sql` fragment (or a {@link TableInput}): materialized with `create table … as <query>` inside DuckDB,
 *   parameters bound, no rows passing through Node;
 * - an array of row objects: a table with inferred column types (see `row-columns`), written with the appender;
 * - an iterable or async iterable of row batches (arrays of row objects): streamed batch by batch, the schema
 *   inferred from the first non-empty batch.
 * An output with no rows (an empty array, or only empty batches) publishes no table: any previous version is
 * dropped and the metadata reports `rowCount: 0, columns: []`; loading it then fails as not materialized.
 */
export class DuckDBIOManager {
  constructor(readonly resource: DuckDBResource) {}

  /**
   * The table of an asset: the last key segment is the table, the others joined with `_` the schema (`main`
   * for a one-segment key); characters outside `[A-Za-z0-9_]` become `_`.
   * @example
   * io.tableFor('raw/stripe/payments'); // { schema: 'raw_stripe', table: 'payments' }
   */
  tableFor(assetKey: string): { schema: string; table: string } {
    const segments = assetKey.split('/').map((s) => s.replace(/[^A-Za-z0-9_]/g, '_'));
    const table = segments.pop() ?? '';
    if (table === '') throw new CairnError(ErrorCodes.InvalidKey, `asset key '${assetKey}' names no table`, assetKey);
    return { schema: segments.length > 0 ? segments.join('_') : 'main', table };
  }

  /** Stores `value` as the asset's table (see the class description for what is accepted). */
  async handleOutput(info: OutputInfo, value: unknown): Promise<StoredOutput> {
    if (value === undefined || value === null) return { metadata: {} };
    const target = this.tableFor(info.assetKey);
    const where = `asset '${info.assetKey}'`;
    let fill: (conn: DuckDBConnection, staging: StagingTable) => Promise<boolean>;
    if (isSqlFragment(value)) fill = (conn, staging) => fillFromQuery(conn, staging, value);
    else if (isTableInput(value)) fill = (conn, staging) => fillFromQuery(conn, staging, sql`select * from ${value}`);
    else if (Array.isArray(value)) {
      if (Array.isArray(value[0])) {
        throw unsupported(info.assetKey, 'an array of arrays; to stream batches of rows, return a generator (function* or async function*) that yields arrays of row objects');
      }
      fill = (conn, staging) => fillFromBatches(conn, staging, [value], where);
    } else if (isIterable(value)) fill = (conn, staging) => fillFromBatches(conn, staging, value, where);
    else throw unsupported(info.assetKey, describeValue(value));
    const published = await this.resource.withConnection((conn) => publishTable(conn, target, (staging) => fill(conn, staging)));
    return {
      metadata: {
        table: meta.text(published.table),
        rowCount: meta.rowCount(published.rowCount),
        columns: meta.tableSchema(published.columns.map((c) => ({ name: c.name, type: c.type }))),
      },
    };
  }

  /** The upstream asset's table; fails with {@link AssetNotMaterializedError} when it does not exist. */
  /** A relation to query (default), or with `mode: 'rows'` the rows themselves. */
  async loadInput(upstreamKey: string): Promise<TableInput>;
  async loadInput(upstreamKey: string, mode: 'relation' | 'rows'): Promise<unknown>;
  async loadInput(upstreamKey: string, mode: 'relation' | 'rows' = 'relation'): Promise<unknown> {
    const name = this.tableFor(upstreamKey);
    const found = await this.resource.withConnection((conn) => findObject(conn, name));
    if (!found) throw new AssetNotMaterializedError(upstreamKey, `${name.schema}.${name.table}`);
    const input = tableInput(this.resource, upstreamKey, found.table.schema, found.table.table);
    return mode === 'rows' ? await input.rows() : input;
  }
}

function unsupported(assetKey: string, got: string): CairnError {
  return new CairnError(
    ErrorCodes.InvalidDefinition,
    `asset '${assetKey}' returned ${got}, which the DuckDB IO manager cannot store: return a sql\`…\` query, ` +
      'an array of row objects, an iterable or async iterable of row batches, or nothing (undefined) for an asset with only side effects',
    assetKey,
  );
}

async function fillFromQuery(conn: DuckDBConnection, staging: StagingTable, query: SqlFragment): Promise<boolean> {
  const { text, params } = bindSql(query);
  await conn.run(`create table ${staging.quoted} as ${text}`, params);
  return true;
}

/** Appends batches to the staging table; the first non-empty batch fixes the schema. False when no row came. */
async function fillFromBatches(
  conn: DuckDBConnection,
  staging: StagingTable,
  batches: Iterable<unknown> | AsyncIterable<unknown>,
  where: string,
): Promise<boolean> {
  let appender: DuckDBAppender | undefined;
  let columns: ColumnSpec[] = [];
  let batchNumber = 0;
  let rowNumber = 0;
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
        await conn.run(createTableSql(staging.quoted, columns));
        appender = await conn.createAppender(staging.table, staging.schema);
      }
      appendRows(appender, columns, batch, where, rowNumber);
      rowNumber += batch.length;
      appender.flushSync();
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
    // the staging table is dropped anyway
  }
}

function isIterable(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  return Symbol.asyncIterator in value || Symbol.iterator in value;
}
