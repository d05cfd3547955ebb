/**
 * Built-in asset checks. Each one runs as SQL where the stored value lives when its storage can be queried
 * (DuckDB tables, Parquet files), so no row passes through Node; otherwise it streams the rows in batches.
 */
import type { z } from 'zod';
import { check, type AssetCheckDefinition, type CheckContext, type CheckOutput, type CheckSeverity } from './checks';
import { ContractValidator, ContractViolationError, MAX_REPORTED_VIOLATIONS } from './contract';
import { meta } from './metadata';
import { ident, sql, type SqlFragment } from './sql';
import type { Row, StoredValue } from './stored-value';

/** Options every built-in check takes. */
export interface BuiltinCheckOptions {
  /** Overrides the default name (`row_count_at_least`, `not_null_<column>`, ...). */
  name?: string;
  blocking?: boolean;
  severity?: CheckSeverity;
  description?: string;
}

/** How many offending values a check lists in its metadata. */
const SAMPLE = 5;

function builtin(defaultName: string, description: string, opts: BuiltinCheckOptions, run: (ctx: CheckContext) => Promise<CheckOutput>): AssetCheckDefinition {
  return check({
    name: opts.name ?? defaultName,
    description: opts.description ?? description,
    ...(opts.blocking !== undefined ? { blocking: opts.blocking } : {}),
    ...(opts.severity !== undefined ? { severity: opts.severity } : {}),
    run,
  });
}

/** `a.b` → `a_b`, for default check names built from column names. */
function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9_]/g, '_');
}

async function* rows(value: StoredValue): AsyncGenerator<Row> {
  for await (const batch of value.batches()) yield* batch;
}

/**
 * The asset has at least `n` rows (in the partitions the run wrote).
 * @example
 * asset({ key: 'marts/orders', checks: [rowCountAtLeast(1, { blocking: true })], materialize: ... })
 */
export function rowCountAtLeast(n: number, opts: BuiltinCheckOptions = {}): AssetCheckDefinition {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`rowCountAtLeast(n) takes a non-negative integer, got ${String(n)}`);
  return builtin('row_count_at_least', `at least ${n} row${n === 1 ? '' : 's'}`, opts, async ({ value }) => {
    let count = 0;
    if (value.sql) {
      const [r] = await value.sql.query<{ n: number }>(sql`select count(*) as n from ${value.sql.relation}`);
      count = Number(r?.n ?? 0);
    } else for await (const batch of value.batches()) count += batch.length;
    return { passed: count >= n, metadata: { row_count: meta.rowCount(count), at_least: n } };
  });
}

/** No row has a null (or missing) `column`. */
export function notNull(column: string, opts: BuiltinCheckOptions = {}): AssetCheckDefinition {
  return builtin(`not_null_${slug(column)}`, `'${column}' is never null`, opts, async ({ value }) => {
    let nulls = 0;
    let total = 0;
    if (value.sql) {
      const c = ident(column);
      const [r] = await value.sql.query<{ nulls: number; total: number }>(sql`select count(*) - count(${c}) as nulls, count(*) as total from ${value.sql.relation}`);
      nulls = Number(r?.nulls ?? 0);
      total = Number(r?.total ?? 0);
    } else {
      for await (const row of rows(value)) {
        total++;
        if (row[column] === null || row[column] === undefined) nulls++;
      }
    }
    return { passed: nulls === 0, metadata: { null_rows: nulls, row_count: meta.rowCount(total) } };
  });
}

/** No two rows share the values of `columns` (one column or several). Rows with a null in them are ignored, as in SQL. */
export function unique(columns: string | readonly string[], opts: BuiltinCheckOptions = {}): AssetCheckDefinition {
  const cols = typeof columns === 'string' ? [columns] : [...columns];
  if (cols.length === 0) throw new RangeError('unique(columns) needs at least one column');
  return builtin(`unique_${cols.map(slug).join('_')}`, `(${cols.join(', ')}) is unique`, opts, async ({ value }) => {
    let groups: number;
    let examples: unknown[] = [];
    if (value.sql) {
      const list = cols.map((c) => ident(c));
      const selectList = joinSql(list);
      const notNulls = joinSql(list.map((c) => sql`${c} is not null`), ' and ');
      const dupes = sql`select ${selectList}, count(*) as n from ${value.sql.relation} where ${notNulls} group by all having count(*) > 1`;
      const [r] = await value.sql.query<{ n: number }>(sql`select count(*) as n from (${dupes}) d`);
      groups = Number(r?.n ?? 0);
      if (groups > 0) examples = await value.sql.query(sql`${dupes} order by n desc limit ${SAMPLE}`);
    } else {
      const seen = new Map<string, number>();
      for await (const row of rows(value)) {
        const vals = cols.map((c) => row[c]);
        if (vals.some((v) => v === null || v === undefined)) continue;
        const k = JSON.stringify(vals, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
      const dup = [...seen].filter(([, n]) => n > 1);
      groups = dup.length;
      examples = dup.slice(0, SAMPLE).map(([k, n]) => ({ ...Object.fromEntries(cols.map((c, i) => [c, (JSON.parse(k) as unknown[])[i]])), n }));
    }
    return { passed: groups === 0, metadata: { duplicate_groups: groups, ...(groups > 0 ? { examples: meta.json(examples) } : {}) } };
  });
}

/** Every non-null `column` value is one of `values`. */
export function acceptedValues(column: string, values: readonly (string | number | boolean)[], opts: BuiltinCheckOptions = {}): AssetCheckDefinition {
  if (values.length === 0) throw new RangeError(`acceptedValues('${column}', values) needs at least one value`);
  const accepted = new Set<unknown>(values);
  return builtin(`accepted_values_${slug(column)}`, `'${column}' is one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, opts, async ({ value }) => {
    let bad = 0;
    let examples: { value: unknown; n: number }[] = [];
    if (value.sql) {
      const c = ident(column);
      const list = joinSql(values.map((v) => sql`${v}`));
      const offending = sql`select ${c} as value, count(*) as n from ${value.sql.relation} where ${c} is not null and ${c} not in (${list}) group by 1`;
      const [r] = await value.sql.query<{ n: number }>(sql`select coalesce(sum(n), 0) as n from (${offending}) o`);
      bad = Number(r?.n ?? 0);
      if (bad > 0) examples = await value.sql.query(sql`${offending} order by n desc limit ${SAMPLE}`);
    } else {
      const counts = new Map<unknown, number>();
      for await (const row of rows(value)) {
        const v = row[column];
        if (v === null || v === undefined || accepted.has(v)) continue;
        bad++;
        counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      examples = [...counts].sort((a, b) => b[1] - a[1]).slice(0, SAMPLE).map(([v, n]) => ({ value: v, n }));
    }
    return { passed: bad === 0, metadata: { unexpected_rows: bad, ...(bad > 0 ? { examples: meta.json(examples) } : {}) } };
  });
}

/** Every row matches a zod object schema; the first violations are listed with row number, field path and message. */
export function matchesSchema(schema: z.ZodType, opts: BuiltinCheckOptions = {}): AssetCheckDefinition {
  return builtin('matches_schema', 'every row matches the schema', opts, async ({ value, assetKey }) => {
    const validator = new ContractValidator(assetKey, schema);
    try {
      for await (const batch of value.batches()) validator.checkBatch(batch);
    } catch (err) {
      if (!(err instanceof ContractViolationError)) throw err;
      const first = err.violations.slice(0, MAX_REPORTED_VIOLATIONS);
      return {
        passed: false,
        description: first.map((v) => `row ${v.row}, field '${v.path}': ${v.message}`).join('; '),
        metadata: { violations: meta.json(first), rows_read: validator.seen },
      };
    }
    return { passed: true, metadata: { row_count: meta.rowCount(validator.seen) } };
  });
}

function joinSql(parts: readonly unknown[], separator = ', '): SqlFragment {
  const strings = ['', ...parts.slice(1).map(() => separator), ''];
  return { kind: 'sql', strings, values: [...parts] };
}
