/**
 * The default IO manager: every asset's value is a DuckDB table named after its key, and downstream steps get
 * that table back as a {@link TableInput}. Writes are atomic (see `publish-table`). A partitioned asset's
 * partitions share one table, told apart by its `partition_key` column (see `publish-partitions`).
 */
import { meta } from '../../definitions/metadata';
import type { DuckDBConnection } from '@duckdb/node-api';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import { isSqlFragment, sql, type SqlFragment } from '../../definitions/sql';
import type { DuckDBResource } from './duckdb-resource';
import { bindSql } from './duckdb-run';
import type { StoredValue } from '../../definitions/stored-value';
import type { Audit, HandledOutput, LoadMode, OutputInfo, StagedOutput } from '../io-manager';
import { emptyStoredValue } from '../stored-values';
import { isPartitionColumn, publishPartitions } from './publish-partitions';
import { findObject, isRejected, publishTable, tableColumns, type StagingAudit, type StagingTable } from './publish-table';
import { storedTable } from './stored-table';
import { dropStagedTable, keepStaged, listStagedTables } from './wap';
import { appendBatches } from './append-batches';
import { describeValue } from './row-columns';
import { isTableInput, tableInput, type TableInput } from './table-input';

export type { TableInput } from './table-input';
export { PARTITION_COLUMN } from './publish-partitions';

export type { OutputInfo } from '../io-manager';

/**
 * What was stored: `metadata` is `{}` for an asset without a value, else typed metadata
 * `{ table: text 'schema.table', rowCount: row_count, columns: table_schema }`.
 */
export type StoredOutput = HandledOutput;

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
 *
 * With `partitionKeys` (a partitioned asset) only those partitions of the table are replaced, in one
 * transaction, and the others are kept. The rows of a one-partition run get its key in a VARCHAR
 * `partition_key` column unless they carry that column; the rows of a range run must carry it. Every
 * `partition_key` must be one of the run's keys, and the columns must match the existing table's, else nothing
 * is written (CairnError INVALID_DEFINITION). An output with no rows deletes its partitions.
 * `rowCount` is the number of rows written for the run's partitions.
 */
export class DuckDBIOManager {
  readonly type = 'duckdb';
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

  /**
   * Stores `value` as the asset's table (see the class description for what is accepted). With `audit`
   * (write-audit-publish) the audit sees the filled staging table before the swap; when it rejects the write the
   * published table is untouched and the staging table is kept under a `__cairn_wap_` name (see `wap.ts`).
   */
  async handleOutput(info: OutputInfo, value: unknown, audit?: Audit): Promise<StoredOutput> {
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
      fill = (conn, staging) => appendBatches(conn, staging, [value], where);
    } else if (isIterable(value)) fill = (conn, staging) => appendBatches(conn, staging, value, where);
    else throw unsupported(info.assetKey, describeValue(value));
    const keys = info.partitionKeys;
    const stagingAudit: StagingAudit | undefined = audit
      ? (staging) => audit(staging ? storedTable(this.resource, info.assetKey, staging, keys) : emptyStoredValue(info.assetKey, keys))
      : undefined;
    const { published, staged } = await this.resource.withConnection(async (conn) => {
      const result = keys === undefined
        ? await publishTable(conn, target, (staging) => fill(conn, staging), stagingAudit)
        : await publishPartitions(conn, target, { assetKey: info.assetKey, keys }, (staging) => fill(conn, staging), stagingAudit);
      if (!isRejected(result)) return { published: result, staged: undefined };
      if (!result.staging) return { published: undefined, staged: undefined };
      const kept = await keepStaged(conn, result.staging, target, { assetKey: info.assetKey, runId: info.runId, reason: result.rejected, ...(keys ? { partitionKeys: keys } : {}) });
      return { published: undefined, staged: kept };
    });
    if (!published) {
      return {
        published: false,
        metadata: staged ? { staged_table: meta.text(staged.id), rowCount: meta.rowCount(staged.rowCount ?? 0) } : {},
        ...(staged ? { staged } : {}),
      };
    }
    return {
      metadata: {
        table: meta.text(published.table),
        rowCount: meta.rowCount(published.rowCount),
        columns: meta.tableSchema(published.columns.map((c) => ({ name: c.name, type: c.type }))),
      },
    };
  }

  /**
   * The upstream asset's table: a relation to query (default), or with `mode: 'rows'` the rows themselves.
   * With `partitionKeys` (not empty) only the rows of those partitions; the filter is ignored when the table
   * has no `partition_key` column (an unpartitioned upstream). Fails with {@link AssetNotMaterializedError} when
   * the table does not exist.
   */
  async loadInput(upstreamKey: string, mode?: 'relation', partitionKeys?: readonly string[]): Promise<TableInput>;
  async loadInput(upstreamKey: string, mode: 'rows', partitionKeys?: readonly string[]): Promise<Record<string, unknown>[]>;
  async loadInput(upstreamKey: string, mode: 'batches', partitionKeys?: readonly string[]): Promise<AsyncIterable<Record<string, unknown>[]>>;
  async loadInput(upstreamKey: string, mode: LoadMode, partitionKeys?: readonly string[]): Promise<unknown>;
  async loadInput(upstreamKey: string, mode: LoadMode = 'relation', partitionKeys?: readonly string[]): Promise<unknown> {
    const input = await this.locate(upstreamKey, partitionKeys);
    if (mode === 'rows') return await input.rows();
    if (mode === 'batches') return input.batches();
    return input;
  }

  /** The published table (of `partitionKeys` only, when given) as a stored value, for checks run without materializing. */
  async loadStored(assetKey: string, partitionKeys?: readonly string[]): Promise<StoredValue> {
    const input = await this.locate(assetKey, partitionKeys);
    const [schema, ...rest] = input.table.split('.');
    return storedTable(this.resource, assetKey, { schema: schema as string, table: rest.join('.') }, input.partitionKeys, input.partitionKeys !== undefined);
  }

  /** Rejected writes kept for inspection in this warehouse, oldest first. */
  async listStaged(): Promise<StagedOutput[]> {
    return this.resource.withConnection((conn) => listStagedTables(conn));
  }

  /** Drops a kept staged table by its id (`schema.table` as listed). */
  async dropStaged(id: string): Promise<boolean> {
    return this.resource.withConnection((conn) => dropStagedTable(conn, id));
  }

  private async locate(upstreamKey: string, partitionKeys?: readonly string[]): Promise<TableInput> {
    if (partitionKeys?.length === 0) {
      throw new CairnError(ErrorCodes.InvalidPartition, `loading '${upstreamKey}' for partitions needs at least one partition key`, upstreamKey);
    }
    const name = this.tableFor(upstreamKey);
    const found = await this.resource.withConnection(async (conn) => {
      const object = await findObject(conn, name);
      if (!object || partitionKeys === undefined) return object && { ...object, partitioned: false };
      return { ...object, partitioned: (await tableColumns(conn, object.table)).some((c) => isPartitionColumn(c.name)) };
    });
    if (!found) throw new AssetNotMaterializedError(upstreamKey, `${name.schema}.${name.table}`);
    return tableInput(this.resource, upstreamKey, found.table.schema, found.table.table, found.partitioned ? partitionKeys : undefined);
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

function isIterable(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  return Symbol.asyncIterator in value || Symbol.iterator in value;
}
