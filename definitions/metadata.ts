import { z } from 'zod';
import { CairnError, ErrorCodes } from './errors';

/** One column of a table schema attached to an event. */
export interface TableColumn {
  name: string;
  type: string;
  description?: string;
}

/**
 * A typed metadata value on an asset event. Plain values given by user code or a report are typed on the way
 * in: a number becomes `number`, a string `text`, a boolean `bool`, anything else `json`.
 */
export type MetadataValue =
  | { type: 'number'; value: number }
  | { type: 'text'; value: string }
  | { type: 'markdown'; value: string }
  | { type: 'url'; value: string }
  | { type: 'bool'; value: boolean }
  | { type: 'json'; value: unknown }
  | { type: 'row_count'; value: number }
  | { type: 'table_schema'; value: { columns: TableColumn[] } };

export type Metadata = Record<string, MetadataValue>;

export type MetadataType = MetadataValue['type'];

const ColumnSchema = z.strictObject({ name: z.string().min(1), type: z.string(), description: z.string().optional() });

/** The stored (typed) form of one metadata value. */
export const MetadataValueSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('number'), value: z.number() }),
  z.strictObject({ type: z.literal('text'), value: z.string() }),
  z.strictObject({ type: z.literal('markdown'), value: z.string() }),
  z.strictObject({ type: z.literal('url'), value: z.url() }),
  z.strictObject({ type: z.literal('bool'), value: z.boolean() }),
  z.strictObject({ type: z.literal('json'), value: z.unknown() }),
  z.strictObject({ type: z.literal('row_count'), value: z.number().int().nonnegative() }),
  z.strictObject({ type: z.literal('table_schema'), value: z.strictObject({ columns: z.array(ColumnSchema) }) }),
]);

const TYPES = new Set<string>(['number', 'text', 'markdown', 'url', 'bool', 'json', 'row_count', 'table_schema']);

/**
 * Helpers for typed metadata in `ctx.addMetadata(...)` and reports.
 * @example
 * ctx.addMetadata({ preview: meta.markdown('| a | b |\n|---|---|\n| 1 | 2 |'), docs: meta.url('https://...') });
 */
export const meta = {
  number: (value: number): MetadataValue => ({ type: 'number', value }),
  text: (value: string): MetadataValue => ({ type: 'text', value }),
  markdown: (value: string): MetadataValue => ({ type: 'markdown', value }),
  url: (value: string): MetadataValue => ({ type: 'url', value }),
  bool: (value: boolean): MetadataValue => ({ type: 'bool', value }),
  json: (value: unknown): MetadataValue => ({ type: 'json', value }),
  rowCount: (value: number): MetadataValue => ({ type: 'row_count', value }),
  tableSchema: (columns: TableColumn[]): MetadataValue => ({ type: 'table_schema', value: { columns } }),
};

function looksTyped(v: unknown): v is { type: string; value: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { type?: unknown }).type === 'string'
    && TYPES.has((v as { type: string }).type) && 'value' in v && Object.keys(v).length === 2;
}

/**
 * Types every entry of `raw`. Entries already in the typed form (`{ type: 'url', value: '...' }`) are checked;
 * plain values are typed by their JavaScript type. Throws a {@link CairnError} naming the entry and `where`
 * (an asset key, a command flag) when a typed entry is malformed.
 */
export function normalizeMetadata(raw: Readonly<Record<string, unknown>> | undefined, where: string): Metadata {
  const out: Metadata = {};
  for (const [name, v] of Object.entries(raw ?? {})) {
    if (looksTyped(v)) {
      const parsed = MetadataValueSchema.safeParse(v);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new CairnError(
          ErrorCodes.InvalidMetadata,
          `${where}: metadata entry '${name}' of type '${v.type}' is invalid: ${issue?.path.length ? `${issue.path.join('.')}: ` : ''}${issue?.message ?? 'bad value'}`,
          where,
        );
      }
      out[name] = parsed.data as MetadataValue;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new CairnError(ErrorCodes.InvalidMetadata, `${where}: metadata entry '${name}' is not a finite number`, where);
      out[name] = { type: 'number', value: v };
    } else if (typeof v === 'string') out[name] = { type: 'text', value: v };
    else if (typeof v === 'boolean') out[name] = { type: 'bool', value: v };
    else if (v === undefined) continue;
    else out[name] = { type: 'json', value: v };
  }
  return out;
}

/**
 * Metadata read back from the catalog: entries written by this version are already typed and were checked on
 * the way in, so they pass through without re-validation (status over 10,000 assets reads 10,000 of them);
 * untyped entries (catalogs from schema 1) are typed as {@link normalizeMetadata} does.
 */
export function readStoredMetadata(raw: Readonly<Record<string, unknown>>, where: string): Metadata {
  for (const v of Object.values(raw)) {
    if (!looksTyped(v)) return normalizeMetadata(raw, where);
  }
  return raw as Metadata;
}

/** Parses a `--metadata '<json>'` argument: a JSON object of plain or typed values. */
export function parseMetadataJson(text: string, where: string): Metadata {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CairnError(ErrorCodes.InvalidMetadata, `${where}: metadata is not valid JSON: ${(err as Error).message}`, where);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CairnError(ErrorCodes.InvalidMetadata, `${where}: metadata must be a JSON object such as '{"rows": 10, "source": {"type": "url", "value": "https://..."}}'`, where);
  }
  return normalizeMetadata(raw as Record<string, unknown>, where);
}

/** A short display form of a value (`cairn status`, `cairn history`). */
export function displayMetadataValue(v: MetadataValue): string {
  switch (v.type) {
    case 'table_schema':
      return v.value.columns.map((c) => `${c.name} ${c.type}`).join(', ');
    case 'json':
      return JSON.stringify(v.value);
    default:
      return String(v.value);
  }
}
