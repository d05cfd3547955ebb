/**
 * Column types inferred from JavaScript row objects, and the writing of rows through a DuckDB appender.
 *
 * Inference, per column over the rows seen (keys in first-seen order):
 * - safe-integer numbers → BIGINT; other numbers (fractions, NaN, ±Infinity, unsafe integers) → DOUBLE;
 * - bigint → BIGINT (HUGEINT when outside the 64-bit range); integers mixed with fractions → DOUBLE;
 * - string → VARCHAR; boolean → BOOLEAN; Date → TIMESTAMP (UTC); Uint8Array → BLOB;
 * - plain objects and arrays → JSON;
 * - null/undefined carry no type and are stored as NULL; a column with only nulls → VARCHAR;
 * - any other mix (e.g. strings and numbers) → VARCHAR, every value rendered as text (Date → ISO-8601,
 *   objects → JSON, Uint8Array → base64).
 * Inside JSON values, bigints are written as decimal strings.
 * Writing checks each value against its column: VARCHAR takes anything (rendered as above), DOUBLE any number
 * or bigint, BIGINT/HUGEINT integers, JSON objects/arrays; anything else is a type conflict (an error).
 */
import { Buffer } from 'node:buffer';
import type { DuckDBAppender } from '@duckdb/node-api';
import { quoteIdentifier } from '../../definitions/sql';
import { timestampFromDate } from './duckdb-values';

/** A DuckDB column type the inference produces. */
export type ColumnType = 'BIGINT' | 'HUGEINT' | 'DOUBLE' | 'VARCHAR' | 'BOOLEAN' | 'TIMESTAMP' | 'JSON' | 'BLOB';

/** One inferred column. */
export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
}

type Kind = 'null' | 'integer' | 'bigint' | 'hugeint' | 'double' | 'string' | 'boolean' | 'date' | 'json' | 'blob';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const TYPE_OF_KIND: Record<Exclude<Kind, 'null'>, ColumnType> = {
  integer: 'BIGINT',
  bigint: 'BIGINT',
  hugeint: 'HUGEINT',
  double: 'DOUBLE',
  string: 'VARCHAR',
  boolean: 'BOOLEAN',
  date: 'TIMESTAMP',
  json: 'JSON',
  blob: 'BLOB',
};

const NUMERIC_RANK: Partial<Record<ColumnType, number>> = { BIGINT: 0, HUGEINT: 1, DOUBLE: 2 };

/** Whether `value` is a plain object (a row): `{...}` or `Object.create(null)`, not an array, Date or class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Short description of a value for error messages: `a string ('abc')`, `an array`, `a Map`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a Date';
  if (typeof value === 'object') return isPlainObject(value) ? 'an object' : `a ${value.constructor?.name ?? 'object'}`;
  if (typeof value === 'string') return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
  if (typeof value === 'function') return 'a function';
  return `a ${typeof value} (${String(value)})`;
}

/**
 * Infers columns from rows (union of keys in first-seen order). `where` prefixes error messages, e.g.
 * `asset 'raw/orders'`. Every row must be a plain object.
 */
export function inferColumns(rows: readonly unknown[], where: string): ColumnSpec[] {
  const types = new Map<string, ColumnType | undefined>();
  rows.forEach((row, i) => {
    if (!isPlainObject(row)) throw new TypeError(`${where}: row ${i} is ${describeValue(row)}, expected a plain object`);
    for (const [name, value] of Object.entries(row)) {
      const kind = kindOf(value);
      const known = types.get(name);
      types.set(name, kind === 'null' ? known : merge(known, TYPE_OF_KIND[kind]));
    }
  });
  return [...types].map(([name, type]) => ({ name, type: type ?? 'VARCHAR' }));
}

/** `create table <table> (<columns>)` text for the inferred columns; `table` is already quoted. */
export function createTableSql(table: string, columns: readonly ColumnSpec[]): string {
  return `create table ${table} (${columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', ')})`;
}

/**
 * Appends rows; each row is checked completely before any of its values is appended, so a conflict never
 * leaves a half-written row. Keys outside `columns` are an error (the schema is fixed by the first batch).
 * This is the streaming hot path (millions of rows): values are converted into one reused array, with no
 * allocation per value, and messages are built only on error.
 */
export function appendRows(
  appender: DuckDBAppender,
  columns: readonly ColumnSpec[],
  rows: readonly unknown[],
  where: string,
  firstRowNumber = 0,
): void {
  const names = new Set(columns.map((c) => c.name));
  const values: unknown[] = new Array(columns.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const n = firstRowNumber + i;
    if (!isPlainObject(row)) throw new TypeError(`${where}: row ${n} is ${describeValue(row)}, expected a plain object`);
    for (const key in row) {
      if (!names.has(key)) {
        throw new TypeError(`${where}: row ${n} has column '${key}', which is not in the schema inferred from the first batch (${[...names].join(', ')})`);
      }
    }
    for (let j = 0; j < columns.length; j++) values[j] = convert(columns[j] as ColumnSpec, row[(columns[j] as ColumnSpec).name], where, n);
    for (let j = 0; j < columns.length; j++) append(appender, (columns[j] as ColumnSpec).type, values[j]);
    appender.endRow();
  }
}

function kindOf(value: unknown): Kind {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'number':
      return Number.isSafeInteger(value) ? 'integer' : 'double';
    case 'bigint':
      return value >= INT64_MIN && value <= INT64_MAX ? 'bigint' : 'hugeint';
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'object':
      if (value instanceof Date) return 'date';
      if (value instanceof Uint8Array) return 'blob';
      return 'json';
    default:
      return 'string'; // functions and symbols: rendered as text
  }
}

function merge(known: ColumnType | undefined, next: ColumnType): ColumnType {
  if (known === undefined || known === next) return next;
  const a = NUMERIC_RANK[known];
  const b = NUMERIC_RANK[next];
  if (a !== undefined && b !== undefined) return a > b ? known : next;
  return 'VARCHAR';
}

/** The value as the appender takes it for `column` (null for a missing value); throws on a conflict. */
function convert(column: ColumnSpec, value: unknown, where: string, row: number): unknown {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'VARCHAR':
      return asText(value);
    case 'DOUBLE':
      if (typeof value === 'number') return value;
      if (typeof value === 'bigint') return Number(value);
      break;
    case 'BIGINT':
    case 'HUGEINT': {
      const big = typeof value === 'bigint' ? value : Number.isSafeInteger(value) ? BigInt(value as number) : undefined;
      if (big !== undefined && (column.type === 'HUGEINT' || (big >= INT64_MIN && big <= INT64_MAX))) return big;
      break;
    }
    case 'BOOLEAN':
      if (typeof value === 'boolean') return value;
      break;
    case 'TIMESTAMP':
      if (value instanceof Date && !Number.isNaN(value.getTime())) return timestampFromDate(value);
      break;
    case 'BLOB':
      if (value instanceof Uint8Array) return value;
      break;
    case 'JSON':
      if (kindOf(value) === 'json') return toJson(value, () => conflict(column, value, where, row).message);
      break;
  }
  throw conflict(column, value, where, row);
}

function conflict(column: ColumnSpec, value: unknown, where: string, row: number): TypeError {
  return new TypeError(`${where}: row ${row}: column '${column.name}' is ${column.type} but the value is ${describeValue(value)}`);
}

/** Appends one converted value (see {@link convert}). */
function append(ap: DuckDBAppender, type: ColumnType, value: unknown): void {
  if (value === null) {
    ap.appendNull();
    return;
  }
  switch (type) {
    case 'VARCHAR':
    case 'JSON':
      ap.appendVarchar(value as string);
      return;
    case 'DOUBLE':
      ap.appendDouble(value as number);
      return;
    case 'BIGINT':
      ap.appendBigInt(value as bigint);
      return;
    case 'HUGEINT':
      ap.appendHugeInt(value as bigint);
      return;
    case 'BOOLEAN':
      ap.appendBoolean(value as boolean);
      return;
    case 'TIMESTAMP':
      ap.appendTimestamp(value as ReturnType<typeof timestampFromDate>);
      return;
    case 'BLOB':
      ap.appendBlob(value as Uint8Array);
      return;
  }
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'object') return toJson(value, () => 'a value in a VARCHAR column cannot be rendered as JSON');
  return String(value);
}

function toJson(value: unknown, context: () => string): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch (err) {
    throw new TypeError(`${context()}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
