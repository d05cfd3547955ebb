/**
 * Atomic publication of a warehouse table: the new contents are written to a staging table next to the target,
 * then one transaction drops the old table (or view) and renames the staging table into its place. Readers see
 * the old table or the new one, never a half-written one; a failure drops the staging table and leaves the
 * published table as it was. Concurrent publications of the same table in one process are applied in turn (the
 * last one wins). Partitioned assets are published partition by partition instead (see `publish-partitions`).
 */
import { randomBytes } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdentifier, sql } from '../../definitions/sql';
import { runQuery, runStatement } from './duckdb-run';

/** A table's schema and name, unquoted. */
export interface TableName {
  readonly schema: string;
  readonly table: string;
}

/** The staging table handed to a writer: its name parts and the quoted `"schema"."table"` text. */
export interface StagingTable extends TableName {
  readonly quoted: string;
}

/** What a publication reports: `table` is `schema.table`; `columns` in table order. */
export interface PublishedTable {
  table: string;
  rowCount: number;
  columns: { name: string; type: string }[];
}

/**
 * The audit of write-audit-publish: sees the filled staging table (undefined when the output had no rows) before
 * the swap; `publish: false` stops the swap and leaves the staging table in place for the caller to keep.
 */
export type StagingAudit = (staging: StagingTable | undefined) => Promise<{ publish: true } | { publish: false; reason: string }>;

/** A write the audit rejected: nothing was published; `staging` (when there were rows) still exists. */
export interface RejectedWrite {
  rejected: string;
  staging?: StagingTable;
}

export function isRejected(result: PublishedTable | RejectedWrite): result is RejectedWrite {
  return 'rejected' in result;
}

/** Marks staging tables; anything with this infix in its name is a leftover of an interrupted write. */
export const STAGING_INFIX = '__cairn_staging_';

/** Quoted `"schema"."table"` text. */
export function quoteTable(name: TableName): string {
  return `${quoteIdentifier(name.schema)}.${quoteIdentifier(name.table)}`;
}

/**
 * Publishes `target` atomically. `fill` must create the staging table (and fill it) and return true, or return
 * false without creating it when there is nothing to publish: then any previous version of `target` is dropped
 * (so downstream never reads stale rows) and the report has `rowCount: 0, columns: []`. With `audit`, the
 * staging table is audited first, and a rejection returns a {@link RejectedWrite} with `target` untouched.
 */
export async function publishTable(
  conn: DuckDBConnection,
  target: TableName,
  fill: (staging: StagingTable) => Promise<boolean>,
  audit?: StagingAudit,
): Promise<PublishedTable | RejectedWrite> {
  await ensureSchema(conn, target.schema);
  const staging = newStagingTable(target);
  try {
    const created = await fill(staging);
    const verdict = audit ? await audit(created ? staging : undefined) : undefined;
    if (verdict && !verdict.publish) return { rejected: verdict.reason, ...(created ? { staging } : {}) };
    return await serialized(() =>
      withTableLock(target, () =>
        inTransaction(conn, async () => {
          await dropObject(conn, target);
          if (!created) return { table: `${target.schema}.${target.table}`, rowCount: 0, columns: [] };
          await runStatement(conn, `alter table ${staging.quoted} rename to ${quoteIdentifier(target.table)}`);
          return describeTable(conn, target);
        }),
      ),
    );
  } catch (err) {
    await runStatement(conn, `drop table if exists ${staging.quoted}`).catch(() => undefined);
    throw err;
  }
}

/** Creates `schema` unless it exists (a catalog change, so serialized). */
export async function ensureSchema(conn: DuckDBConnection, schema: string): Promise<void> {
  await serialized(() => runStatement(conn, `create schema if not exists ${quoteIdentifier(schema)}`));
}

/** A fresh, uniquely named staging table next to `target` (not created yet). */
export function newStagingTable(target: TableName): StagingTable {
  const table = `${target.table}${STAGING_INFIX}${randomBytes(6).toString('hex')}`;
  return { schema: target.schema, table, quoted: quoteTable({ schema: target.schema, table }) };
}

/** Row count and columns of an existing table. */
export async function describeTable(conn: DuckDBConnection, name: TableName): Promise<PublishedTable> {
  const [count] = await runQuery<{ n: number }>(conn, `select count(*) as n from ${quoteTable(name)}`);
  return { table: `${name.schema}.${name.table}`, rowCount: Number(count?.n ?? 0), columns: await tableColumns(conn, name) };
}

/** The columns of an existing table or view (names as stored), in table order. */
export async function tableColumns(conn: DuckDBConnection, name: TableName): Promise<{ name: string; type: string }[]> {
  return runQuery<{ name: string; type: string }>(
    conn,
    sql`select column_name as name, data_type as type from information_schema.columns
        where table_catalog = current_database() and table_schema = ${name.schema} and table_name = ${name.table}
        order by ordinal_position`,
  );
}

/** The table or view named `name` (matched case-insensitively, as DuckDB resolves names), if any. */
export async function findObject(
  conn: DuckDBConnection,
  name: TableName,
): Promise<{ table: TableName; isView: boolean } | undefined> {
  const [row] = await runQuery<{ schema: string; table: string; type: string }>(
    conn,
    sql`select table_schema as schema, table_name as table, table_type as type from information_schema.tables
        where table_catalog = current_database() and lower(table_schema) = lower(${name.schema})
          and lower(table_name) = lower(${name.table})`,
  );
  return row ? { table: { schema: row.schema, table: row.table }, isView: row.type === 'VIEW' } : undefined;
}

async function dropObject(conn: DuckDBConnection, name: TableName): Promise<void> {
  const existing = await findObject(conn, name);
  if (!existing) return;
  await runStatement(conn, `drop ${existing.isView ? 'view' : 'table'} ${quoteTable(existing.table)}`);
}

let catalogChanges: Promise<unknown> = Promise.resolve();

/**
 * Runs catalog changes (schema creation, the swap) one at a time in this process: DuckDB fails concurrent
 * transactions that create or drop the same catalog entry ("write-write conflict"). They are short; the slow
 * part, filling the staging table, runs concurrently.
 */
export function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const result = catalogChanges.then(fn);
  catalogChanges = result.catch(() => undefined);
  return result;
}

const tableLocks = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` after every earlier `withTableLock` call on the same table (by lower-cased name, as DuckDB resolves
 * names) has settled, within this process. Writes of different tables run concurrently: DuckDB only fails
 * concurrent transactions that change the same catalog entry or the same rows. A whole-table swap takes this
 * lock inside {@link serialized}; a partition write takes only this lock, so its row copy does not hold up
 * other tables. (DuckDB allows one writing process per file, so in-process locks are enough.)
 */
export function withTableLock<T>(table: TableName, fn: () => Promise<T>): Promise<T> {
  const key = `${table.schema.toLowerCase()}.${table.table.toLowerCase()}`;
  const result = (tableLocks.get(key) ?? Promise.resolve()).then(fn);
  const settled = result.catch(() => undefined);
  tableLocks.set(key, settled);
  void settled.then(() => {
    if (tableLocks.get(key) === settled) tableLocks.delete(key);
  });
  return result;
}

/** Runs `fn` in a transaction on `conn`: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(conn: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
  await runStatement(conn, 'begin transaction');
  try {
    const result = await fn();
    await runStatement(conn, 'commit');
    return result;
  } catch (err) {
    await runStatement(conn, 'rollback').catch(() => undefined);
    throw err;
  }
}
