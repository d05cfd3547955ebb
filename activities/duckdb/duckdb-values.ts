/**
 * Conversions between JavaScript values and DuckDB values: bound parameters going in, result cells coming out
 * as plain JSON-friendly JavaScript (no bigint, no DuckDB value classes).
 */
import {
  blobValue,
  bigintFromBigIntValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  JSDuckDBValueConverter,
  jsonObjectFromIntervalValue,
  listValue,
  stringFromValue,
  type DuckDBType,
  type DuckDBValue,
  type DuckDBValueConverter,
  type JS,
} from '@duckdb/node-api';

/**
 * Converts one bound parameter: `undefined` → NULL, `Date` → TIMESTAMP (UTC), `Uint8Array` → BLOB, arrays → LIST,
 * plain objects → JSON text; primitives (number, string, boolean, bigint, null) as they are.
 */
export function toDuckDBParam(value: unknown): DuckDBValue {
  if (value === undefined || value === null) return null;
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
    case 'bigint':
      return value;
    case 'object':
      if (value instanceof Date) return timestampFromDate(value);
      if (value instanceof Uint8Array) return blobValue(value);
      if (Array.isArray(value)) return listValue(value.map(toDuckDBParam));
      return JSON.stringify(value);
    default:
      throw new TypeError(`cannot bind a ${typeof value} as a SQL parameter`);
  }
}

/** A JavaScript Date as a DuckDB TIMESTAMP (microseconds since the epoch, UTC). */
export function timestampFromDate(date: Date): DuckDBTimestampValue {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new TypeError('cannot store an invalid Date');
  return new DuckDBTimestampValue(BigInt(ms) * 1000n);
}

/**
 * Result cells as plain JavaScript: BIGINT/HUGEINT/UBIGINT → number when it is a safe integer, else a decimal
 * string; DECIMAL → number; DATE → `YYYY-MM-DD`; TIMESTAMP(TZ) → ISO-8601 UTC (`…T…Z`, microseconds kept when
 * present); TIME → `HH:MM:SS`; JSON columns → parsed values; lists and structs recursively; BLOB → Uint8Array.
 */
export const plainValueConverter: DuckDBValueConverter<unknown> = (value, type, converter) => {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return numberOrString(bigintFromBigIntValue(value, type));
    case DuckDBTypeId.DATE:
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_NS:
    case DuckDBTypeId.TIME_TZ:
      return stringFromValue(value);
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue
        ? isoFromMicros(value.micros, value.isFinite, () => stringFromValue(value))
        : stringFromValue(value);
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return isoFromDate(JSDuckDBValueConverter(value, type, JSDuckDBValueConverter), () => stringFromValue(value));
    case DuckDBTypeId.INTERVAL:
      return jsonObjectFromIntervalValue(value);
    case DuckDBTypeId.VARCHAR:
      return isJsonType(type) ? parseJson(stringFromValue(value)) : stringFromValue(value);
    default:
      // Lists, structs, maps, unions and the rest: the JS conversion, recursing through this converter.
      return JSDuckDBValueConverter(value, type, converter as DuckDBValueConverter<JS>);
  }
};

/**
 * Converts rows of DuckDB values to plain objects. `types` must come from the result (not from the vectors),
 * because only the result's column types carry the `JSON` alias.
 */
export function toPlainRows(rows: readonly DuckDBValue[][], names: readonly string[], types: readonly DuckDBType[]): Record<string, unknown>[] {
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    row.forEach((value, i) => {
      const type = types[i];
      out[names[i] ?? `column${i}`] = type ? plainValueConverter(value, type, plainValueConverter) : value;
    });
    return out;
  });
}

function isJsonType(type: DuckDBType): boolean {
  return type.alias?.toUpperCase() === 'JSON';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function numberOrString(n: bigint): number | string {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

function isoFromMicros(micros: bigint, finite: boolean, fallback: () => string): string {
  if (!finite) return fallback();
  let ms = micros / 1000n;
  let sub = micros % 1000n;
  if (sub < 0n) {
    sub += 1000n;
    ms -= 1n;
  }
  return isoFromDate(new Date(Number(ms)), fallback, sub === 0n ? '' : sub.toString().padStart(3, '0'));
}

function isoFromDate(date: unknown, fallback: () => string, extraDigits = ''): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) return fallback();
  try {
    return date.toISOString().replace('Z', `${extraDigits}Z`);
  } catch {
    return fallback(); // outside the range of a JavaScript Date
  }
}
