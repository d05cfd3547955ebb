/**
 * Partition-wise publication of a partitioned asset's table. The table holds every partition, told apart by a
 * VARCHAR column {@link PARTITION_COLUMN}; a write replaces the rows of its partitions and keeps the others.
 *
 * As for a whole-table write, the new rows go to a staging table first. They are checked there (every row must
 * belong to one of the write's partitions), then one transaction creates the table if it is missing, or deletes
 * the write's partitions and inserts the staged rows, and drops the staging table. A failed or rejected write
 * leaves the published table as it was. Writes of the same table in one process run that transaction in turn
 * (see `withTableLock`), so concurrent partitions of one backfill never lose each other's rows.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import { ident, quoteIdentifier, sql, type SqlFragment, type SqlIdentifier } from '../../definitions/sql';
import { runQuery, runStatement } from './duckdb-run';
import {
  describeTable,
  ensureSchema,
  findObject,
  inTransaction,
  newStagingTable,
  quoteTable,
  tableColumns,
  withTableLock,
  type PublishedTable,
  type RejectedWrite,
  type StagingAudit,
  type StagingTable,
  type TableName,
} from './publish-table';

/** The column that holds each row's partition key in a partitioned asset's table. */
export const PARTITION_COLUMN = 'partition_key';

/** Whether a column name is {@link PARTITION_COLUMN} (DuckDB resolves column names case-insensitively). */
export function isPartitionColumn(name: string): boolean {
  return name.toLowerCase() === PARTITION_COLUMN;
}

/** Up to this many keys are bound one by one; more are bound as one list (thousands of parameters are slow). */
const MAX_SEPARATE_KEYS = 64;

/**
 * `"partition_key" in ($1, $2, …)`, the keys bound as parameters, or for many keys
 * `"partition_key" in (select unnest($1::varchar[]))`. `keys` must not be empty.
 */
export function partitionFilter(keys: readonly string[]): SqlFragment {
  const unique = [...new Set(keys)];
  const column = quoteIdentifier(PARTITION_COLUMN);
  if (unique.length > MAX_SEPARATE_KEYS) return { kind: 'sql', strings: [`${column} in (select unnest(`, '::varchar[]))'], values: [unique] };
  const strings = [`${column} in (`, ...unique.slice(1).map(() => ', '), ')'];
  return { kind: 'sql', strings, values: unique };
}

/** `'first'` or `'first'…'last'` (n keys), for messages. */
export function describeKeys(keys: readonly string[]): string {
  const first = JSON.stringify(keys[0] ?? '');
  if (keys.length <= 1) return first;
  return `${first}…${JSON.stringify(keys[keys.length - 1] ?? '')} (${keys.length} keys)`;
}

/** Which asset, and which partitions a write replaces. */
export interface PartitionWrite {
  readonly assetKey: string;
  /** The run's partition keys, in the run's order; at least one. */
  readonly keys: readonly string[];
}

/**
 * Replaces the partitions `write.keys` of `target`. `fill` creates and fills the staging table and returns true,
 * or returns false without creating it when the output has no rows: then the partitions are only deleted.
 * Reports `rowCount` = rows written for these partitions, `columns` = the table's columns (none if the table
 * does not exist and nothing was written). With `audit`, the staged rows (already carrying their partition keys)
 * are audited first, and a rejection returns a {@link RejectedWrite} with `target` untouched.
 */
export async function publishPartitions(
  conn: DuckDBConnection,
  target: TableName,
  write: PartitionWrite,
  fill: (staging: StagingTable) => Promise<boolean>,
  audit?: StagingAudit,
): Promise<PublishedTable | RejectedWrite> {
  const where = `asset '${write.assetKey}'`;
  if (write.keys.length === 0) {
    throw new CairnError(ErrorCodes.InvalidPartition, `${where}: a partitioned write needs at least one partition key`, write.assetKey);
  }
  await ensureSchema(conn, target.schema);
  const staging = newStagingTable(target);
  try {
    const created = await fill(staging);
    if (created) await preparePartitionColumn(conn, staging, write);
    const verdict = audit ? await audit(created ? staging : undefined) : undefined;
    if (verdict && !verdict.publish) return { rejected: verdict.reason, ...(created ? { staging } : {}) };
    return await withTableLock(target, () =>
      inTransaction(conn, async () => {
        const name = `${target.schema}.${target.table}`;
        const existing = await findObject(conn, target);
        if (!existing) {
          if (!created) return { table: name, rowCount: 0, columns: [] };
          await runStatement(conn, `alter table ${staging.quoted} rename to ${quoteIdentifier(target.table)}`);
          return describeTable(conn, target);
        }
        if (existing.isView) {
          throw new CairnError(ErrorCodes.InvalidDefinition, `${where} is partitioned, but ${name} is a view, not a table; drop the view (or materialize the asset without partitions)`, write.assetKey);
        }
        const table = existing.table;
        const columns = await tableColumns(conn, table);
        if (!columns.some((c) => isPartitionColumn(c.name))) {
          throw new CairnError(
            ErrorCodes.InvalidDefinition,
            `${where} is partitioned, but its table ${name} has no '${PARTITION_COLUMN}' column (it was written without partitions): ` +
              `drop the table and materialize the partitions again; nothing was written`,
            write.assetKey,
          );
        }
        if (created) await checkColumns(conn, write.assetKey, name, staging, table, columns);
        await runStatement(conn, sql`delete from ${id(table)} where ${partitionFilter(write.keys)}`);
        if (!created) return { table: name, rowCount: 0, columns };
        const [count] = await runQuery<{ n: number }>(conn, `select count(*) as n from ${staging.quoted}`);
        await runStatement(conn, `insert into ${quoteTable(table)} by name select * from ${staging.quoted}`);
        await runStatement(conn, `drop table ${staging.quoted}`);
        return { table: name, rowCount: Number(count?.n ?? 0), columns };
      }),
    );
  } catch (err) {
    await runStatement(conn, `drop table if exists ${staging.quoted}`).catch(() => undefined);
    throw err;
  }
}

function id(name: TableName): SqlIdentifier {
  return ident(name.schema, name.table);
}

/**
 * Gives every staged row a valid partition key: adds the column holding the only key of a one-partition write,
 * or checks the output's own column (stored as VARCHAR) against the write's keys.
 */
async function preparePartitionColumn(conn: DuckDBConnection, staging: StagingTable, write: PartitionWrite): Promise<void> {
  const where = `asset '${write.assetKey}'`;
  const column = (await tableColumns(conn, staging)).find((c) => isPartitionColumn(c.name));
  const keyColumn = ident(PARTITION_COLUMN);
  if (!column) {
    const [only, ...others] = write.keys;
    if (only === undefined || others.length > 0) {
      throw new CairnError(
        ErrorCodes.InvalidDefinition,
        `${where}: this run writes ${write.keys.length} partitions (${describeKeys(write.keys)}), so its rows must carry a ` +
          `'${PARTITION_COLUMN}' column holding one of the run's keys; nothing was written`,
        write.assetKey,
      );
    }
    await runStatement(conn, `alter table ${staging.quoted} add column ${quoteIdentifier(PARTITION_COLUMN)} varchar`);
    await runStatement(conn, sql`update ${id(staging)} set ${keyColumn} = ${only}`);
    return;
  }
  if (column.type !== 'VARCHAR') {
    await runStatement(conn, `alter table ${staging.quoted} alter column ${quoteIdentifier(column.name)} type varchar`);
  }
  const [bad] = await runQuery<{ value: string | null }>(
    conn,
    sql`select ${keyColumn} as value from ${id(staging)} where ${keyColumn} is null or not (${partitionFilter(write.keys)}) limit 1`,
  );
  if (bad) {
    const value = bad.value === null ? 'NULL' : JSON.stringify(bad.value);
    throw new CairnError(
      ErrorCodes.InvalidDefinition,
      `${where}: a row has ${PARTITION_COLUMN} ${value}, which is not one of this run's partitions (${describeKeys(write.keys)}); nothing was written`,
      write.assetKey,
    );
  }
}

/**
 * The staged rows must have the table's columns (by name, in any order), each of the table's type or one that
 * converts to it without loss (DuckDB's implicit casts, e.g. BIGINT into DOUBLE), or only NULLs.
 */
async function checkColumns(
  conn: DuckDBConnection,
  assetKey: string,
  name: string,
  staging: StagingTable,
  table: TableName,
  columns: readonly { name: string; type: string }[],
): Promise<void> {
  const where = `asset '${assetKey}'`;
  const staged = await tableColumns(conn, staging);
  const has = (list: readonly { name: string }[], n: string) => list.some((c) => c.name.toLowerCase() === n.toLowerCase());
  const missing = columns.filter((c) => !has(staged, c.name)).map((c) => c.name);
  const extra = staged.filter((c) => !has(columns, c.name)).map((c) => c.name);
  if (missing.length > 0 || extra.length > 0) {
    const parts = [missing.length > 0 ? `missing ${missing.join(', ')}` : '', extra.length > 0 ? `not in the table: ${extra.join(', ')}` : ''];
    throw new CairnError(
      ErrorCodes.InvalidDefinition,
      `${where}: the output's columns (${staged.map((c) => c.name).join(', ')}) do not match the columns of ${name} ` +
        `(${columns.map((c) => c.name).join(', ')}): ${parts.filter(Boolean).join('; ')}; nothing was written`,
      assetKey,
    );
  }
  for (const column of columns) {
    const stagedColumn = staged.find((c) => c.name.toLowerCase() === column.name.toLowerCase());
    if (!stagedColumn || stagedColumn.type === column.type) continue;
    const c = ident(stagedColumn.name);
    const [fits] = await runQuery<{ ok: boolean; n: number }>(
      conn,
      sql`select can_cast_implicitly((select ${c} from ${id(staging)} limit 1), (select ${ident(column.name)} from ${id(table)} limit 1)) as ok,
             (select count(${c}) from ${id(staging)}) as n`,
    );
    if (fits?.ok || Number(fits?.n ?? 0) === 0) continue;
    throw new CairnError(
      ErrorCodes.InvalidDefinition,
      `${where}: column '${column.name}' is ${column.type} in ${name} but ${stagedColumn.type} in this output; ` +
        `cast it in the output to ${column.type}; nothing was written`,
      assetKey,
    );
  }
}
