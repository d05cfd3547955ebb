/**
 * Writing an output as Parquet files with DuckDB's `COPY … TO … (FORMAT parquet)`. A query of an unpartitioned
 * asset is copied straight to the file. Anything else first fills a temporary table (rows through the appender,
 * with the column types of `row-columns`), which lives in DuckDB (spilling to disk when large), never whole in
 * Node, and is copied from there: to one file, or to one file per partition. Every file written is a hidden temp
 * file next to its target; publishing them is the caller's (see `file-wap`).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import { ident, quoteIdentifier, rawSql, sql, type SqlFragment } from '../../definitions/sql';
import { runQuery, runStatement } from '../duckdb/duckdb-run';
import { describeKeys, isPartitionColumn, PARTITION_COLUMN } from '../duckdb/publish-partitions';
import { appendBatches } from '../duckdb/append-batches';
import { tempFileFor } from './file-paths';
import type { StagedFile } from './file-wap';
import { readParquet } from './parquet-input';
import { checkedBatches, rangeNeedsKeys } from './values';

/** What an output is: a query to run in DuckDB, or row batches. */
export type ParquetSource = { readonly query: SqlFragment } | { readonly batches: Iterable<unknown> | AsyncIterable<unknown> };

/** The files a write produced, its row count and its columns (none when it had no rows to describe). */
export interface ParquetWrite {
  files: StagedFile[];
  rowCount: number;
  columns: { name: string; type: string }[];
}

/** Writes an unpartitioned output to a temp file for `target`; no file (the write removes `target`) when row batches held no row. */
export async function writeWhole(conn: DuckDBConnection, assetKey: string, source: ParquetSource, target: string): Promise<ParquetWrite> {
  const temp = tempFileFor(target);
  await mkdir(dirname(target), { recursive: true });
  try {
    if ('query' in source) {
      await runStatement(conn, sql`copy (${source.query}) to ${fileLiteral(temp)} (format parquet)`);
    } else {
      const table = await fillTemporaryTable(conn, assetKey, source);
      if (!table) return { files: [{ target }], rowCount: 0, columns: [] };
      try {
        await runStatement(conn, sql`copy ${ident(table)} to ${fileLiteral(temp)} (format parquet)`);
      } finally {
        await dropTemporaryTable(conn, table);
      }
    }
    return { files: [{ target, temp }], ...(await describeFiles(conn, [temp])) };
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * Writes a partitioned output to one temp file per run key (`targets`: key → target file). Every row gets a
 * VARCHAR `partition_key` column: a one-partition run's key, unless the rows carry the column; a range run's rows
 * must carry it, holding run keys. A key without rows gets no file (the write removes its target).
 */
export async function writePartitions(
  conn: DuckDBConnection,
  assetKey: string,
  source: ParquetSource,
  targets: ReadonlyMap<string, string>,
): Promise<ParquetWrite> {
  const keys = [...targets.keys()];
  const table = 'query' in source ? await createFromQuery(conn, source.query) : await fillTemporaryTable(conn, assetKey, source);
  if (!table) return { files: keys.map((key) => ({ target: targets.get(key) as string, partitionKey: key })), rowCount: 0, columns: [] };
  const files: StagedFile[] = [];
  try {
    const select = await partitionedSelect(conn, assetKey, table, keys);
    let rowCount = 0;
    for (const [key, target] of targets) {
      const temp = tempFileFor(target);
      files.push({ target, temp, partitionKey: key });
      await mkdir(dirname(target), { recursive: true });
      await runStatement(conn, sql`copy (${select(key)}) to ${fileLiteral(temp)} (format parquet)`);
      const [count] = await runQuery<{ n: number }>(conn, sql`select count(*) as n from ${readParquet([temp])}`);
      const n = Number(count?.n ?? 0);
      rowCount += n;
      if (n === 0) {
        await rm(temp, { force: true });
        files[files.length - 1] = { target, partitionKey: key };
      }
    }
    const written = files.flatMap((f) => (f.temp ? [f.temp] : []));
    const { columns } = written.length > 0 ? await describeFiles(conn, written) : { columns: [] };
    return { files, rowCount, columns };
  } catch (err) {
    await Promise.all(files.map((f) => (f.temp ? rm(f.temp, { force: true }) : undefined)));
    throw err;
  } finally {
    await dropTemporaryTable(conn, table);
  }
}

/**
 * The query selecting one partition's rows from `table` with a VARCHAR `partition_key` last; checks first that
 * every row can be placed (see {@link writePartitions}).
 */
async function partitionedSelect(conn: DuckDBConnection, assetKey: string, table: string, keys: readonly string[]): Promise<(key: string) => SqlFragment> {
  const columns = await runQuery<{ name: string }>(conn, sql`select column_name as name from information_schema.columns where table_catalog = 'temp' and table_name = ${table}`);
  const own = columns.find((c) => isPartitionColumn(c.name));
  const from = ident(table);
  if (!own) {
    if (keys.length !== 1) throw rangeNeedsKeys(assetKey, keys);
    return (key) => sql`select *, ${key}::varchar as ${ident(PARTITION_COLUMN)} from ${from}`;
  }
  const text = rawSql(`cast(${quoteIdentifier(own.name)} as varchar)`);
  const [bad] = await runQuery<{ value: string | null }>(conn, sql`select ${text} as value from ${from} where ${text} is null or ${text} not in (select unnest(${[...keys]}::varchar[])) limit 1`);
  if (bad) {
    throw new CairnError(
      ErrorCodes.InvalidDefinition,
      `asset '${assetKey}': a row has ${PARTITION_COLUMN} ${bad.value === null ? 'NULL' : JSON.stringify(bad.value)}, which is not one of this run's partitions (${describeKeys(keys)}); nothing was written`,
      assetKey,
    );
  }
  const others = rawSql(`* exclude (${quoteIdentifier(own.name)})`);
  return (key) => sql`select ${others}, ${text} as ${ident(PARTITION_COLUMN)} from ${from} where ${text} = ${key}`;
}

/** Creates a temporary table holding the query's rows; returns its name. */
async function createFromQuery(conn: DuckDBConnection, query: SqlFragment): Promise<string> {
  const table = temporaryName();
  await runStatement(conn, sql`create temp table ${ident(table)} as ${query}`);
  return table;
}

/**
 * Appends row batches to a new temporary table, the first non-empty batch fixing its columns; returns its
 * name, or undefined (no table) when no batch held a row.
 */
/** Streams the batches (checked to be rows) into a new temporary table; its name, or undefined when no row came. */
async function fillTemporaryTable(conn: DuckDBConnection, assetKey: string, source: { batches: Iterable<unknown> | AsyncIterable<unknown> }): Promise<string | undefined> {
  const where = `asset '${assetKey}'`;
  const table = temporaryName();
  try {
    return (await appendBatches(conn, { schema: 'main', table, temporary: true }, checkedBatches(source.batches, where), where)) ? table : undefined;
  } catch (err) {
    await dropTemporaryTable(conn, table);
    throw err;
  }
}

async function dropTemporaryTable(conn: DuckDBConnection, table: string): Promise<void> {
  await runStatement(conn, sql`drop table if exists temp.main.${ident(table)}`).catch(() => undefined);
}

function temporaryName(): string {
  return `cairn_parquet_${randomBytes(6).toString('hex')}`;
}

/** Row count (from the files' metadata) and columns of written files. */
async function describeFiles(conn: DuckDBConnection, files: readonly string[]): Promise<{ rowCount: number; columns: { name: string; type: string }[] }> {
  const [count] = await runQuery<{ n: number }>(conn, sql`select count(*) as n from ${readParquet(files)}`);
  const columns = await runQuery<{ name: string; type: string }>(conn, sql`select column_name as name, column_type as type from (describe select * from ${readParquet(files)})`);
  return { rowCount: Number(count?.n ?? 0), columns };
}

/** A file path as a SQL string literal (COPY takes no parameter for its target). */
function fileLiteral(path: string): SqlFragment {
  return rawSql(`'${path.replaceAll("'", "''")}'`);
}
