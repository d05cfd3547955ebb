/**
 * Write-audit-publish leftovers in DuckDB: a rejected write's staging table is renamed to a kept name
 * (`<table>__cairn_wap_<time>_<run>_<nonce>`, next to the published table) and described by a table comment
 * holding JSON, so `cairn wap list` can say which asset, run and check it came from, and `cairn wap drop` can
 * remove it. Kept tables are never read by downstream steps.
 */
import { randomBytes } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdentifier, sql } from '../../definitions/sql';
import { parseStagedRecord, stagedFromRecord, stagedName, WAP_INFIX, type StagedOutput } from '../io-manager';
import { runQuery, runStatement } from './duckdb-run';
import { quoteTable, serialized, type StagingTable, type TableName } from './publish-table';

/** What is kept about a rejected write besides its rows. */
export interface RejectedWriteInfo {
  assetKey: string;
  runId: string;
  reason: string;
  partitionKeys?: readonly string[];
}

/** Renames the staging table of a rejected write to its kept name and records where it came from. */
export async function keepStaged(conn: DuckDBConnection, staging: StagingTable, target: TableName, info: RejectedWriteInfo): Promise<StagedOutput> {
  const at = new Date();
  const name = stagedName(target.table, info.runId, at, randomBytes(2).toString('hex'));
  const [count] = await runQuery<{ n: number }>(conn, `select count(*) as n from ${staging.quoted}`);
  const staged: StagedOutput = {
    id: `${target.schema}.${name}`,
    assetKey: info.assetKey,
    runId: info.runId,
    reason: info.reason,
    at: at.toISOString(),
    ...(info.partitionKeys ? { partitionKeys: [...info.partitionKeys] } : {}),
    rowCount: Number(count?.n ?? 0),
  };
  await serialized(async () => {
    await runStatement(conn, `alter table ${staging.quoted} rename to ${quoteIdentifier(name)}`);
    const { id: _id, ...described } = staged;
    await runStatement(conn, `comment on table ${quoteTable({ schema: target.schema, table: name })} is ${quoteLiteral(JSON.stringify(described))}`);
  });
  return staged;
}

/** Every kept staged table of this database, oldest first. */
export async function listStagedTables(conn: DuckDBConnection): Promise<StagedOutput[]> {
  const rows = await runQuery<{ schema: string; table: string; comment: string | null }>(
    conn,
    sql`select schema_name as schema, table_name as table, comment from duckdb_tables()
        where database_name = current_database() and contains(table_name, ${WAP_INFIX}) order by table_name`,
  );
  return rows
    .map((r) => stagedFromRecord(`${r.schema}.${r.table}`, parseStagedRecord(r.comment)))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

/** Drops the kept staged table `id` (`schema.table`); false when no kept table has that id. */
export async function dropStagedTable(conn: DuckDBConnection, id: string): Promise<boolean> {
  const dot = id.indexOf('.');
  const schema = dot > 0 ? id.slice(0, dot) : 'main';
  const table = dot > 0 ? id.slice(dot + 1) : id;
  if (!table.includes(WAP_INFIX)) return false;
  const [found] = await runQuery<{ n: number }>(
    conn,
    sql`select count(*) as n from duckdb_tables() where database_name = current_database() and schema_name = ${schema} and table_name = ${table}`,
  );
  if (Number(found?.n ?? 0) === 0) return false;
  await serialized(() => runStatement(conn, `drop table ${quoteTable({ schema, table })}`));
  return true;
}

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
