/**
 * SQL as data. A tagged template builds a fragment whose interpolated values become bound parameters, never
 * text; fragments and identifiers nest. Nothing here runs SQL: a warehouse resource renders and executes it.
 */
export interface SqlFragment {
  readonly kind: 'sql';
  readonly strings: readonly string[];
  readonly values: readonly unknown[];
}

/** A quoted identifier (schema-qualified table, column) that is inlined rather than bound. */
export interface SqlIdentifier {
  readonly kind: 'sql-identifier';
  readonly parts: readonly string[];
}

/**
 * Builds a SQL fragment. Interpolated values are bound parameters; fragments, identifiers and anything
 * with a `toSql()` returning one of those are inlined.
 * @example
 * const since = '2024-01-01';
 * const q = sql`select * from ${ident('raw', 'orders')} where day >= ${since}`;
 */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): SqlFragment {
  return { kind: 'sql', strings: [...strings], values };
}

export function ident(...parts: string[]): SqlIdentifier {
  return { kind: 'sql-identifier', parts };
}

/** Raw SQL text inlined as is; only for text that never comes from user input. */
export function rawSql(text: string): SqlFragment {
  return { kind: 'sql', strings: [text], values: [] };
}

export function isSqlFragment(value: unknown): value is SqlFragment {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'sql' && Array.isArray((value as SqlFragment).strings);
}

function isIdentifier(value: unknown): value is SqlIdentifier {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'sql-identifier';
}

function hasToSql(value: unknown): value is { toSql(): SqlFragment | SqlIdentifier } {
  return typeof value === 'object' && value !== null && typeof (value as { toSql?: unknown }).toSql === 'function';
}

export function quoteIdentifier(part: string): string {
  return `"${part.replaceAll('"', '""')}"`;
}

/** Renders to text with `$1, $2, ...` placeholders and the parameter list, in order. */
export function renderSql(fragment: SqlFragment): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const walk = (f: SqlFragment): string => {
    let text = f.strings[0] ?? '';
    f.values.forEach((value, i) => {
      let v: unknown = value;
      if (hasToSql(v)) v = v.toSql();
      if (isSqlFragment(v)) text += needsParens(v) ? `(${walk(v)})` : walk(v);
      else if (isIdentifier(v)) text += v.parts.map(quoteIdentifier).join('.');
      else {
        params.push(v);
        text += `$${params.length}`;
      }
      text += f.strings[i + 1] ?? '';
    });
    return text;
  };
  return { text: walk(fragment), params };
}

/** A nested fragment that is a whole query is wrapped in parentheses so it can stand as a subquery. */
function needsParens(f: SqlFragment): boolean {
  return /^\s*(select|with|from|values)\b/i.test(f.strings[0] ?? '');
}
