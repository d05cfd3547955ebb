/**
 * Where an asset's value is stored and how downstream steps load it. Four implementations pass one conformance
 * suite (`test/activities/io-conformance.ts`): DuckDB tables (the default), Parquet files, JSON files and
 * in-memory values. A code location picks its default with a resource named `io`; an asset picks another with
 * `asset({ io: '<resource name>' })`.
 */
import type { LoadMode } from '../definitions/asset';
import type { StoredValue } from '../definitions/stored-value';

export type { LoadMode } from '../definitions/asset';
export type { StoredValue, SqlAccess, Row } from '../definitions/stored-value';

/** Which output is being stored; `partitionKeys` for a partitioned asset (the run's keys, at least one). */
export interface OutputInfo {
  assetKey: string;
  runId: string;
  partitionKeys?: readonly string[];
}

/** The audit's decision on a staged value: publish it, or keep it staged for inspection and leave the published value alone. */
export type AuditVerdict = { publish: true } | { publish: false; reason: string };

/**
 * Called with the staged value after it is written and before it is published (write-audit-publish). Throwing
 * fails the write (the staged value is discarded); returning `publish: false` rejects it (the staged value is
 * kept, see {@link StagedOutput}).
 */
export type Audit = (staged: StoredValue) => Promise<AuditVerdict>;

/** A rejected write kept for inspection (`cairn wap list`), until `cairn wap drop <id>`. */
export interface StagedOutput {
  /** Unique within its IO manager: a table name or a file path. */
  id: string;
  assetKey: string;
  runId: string;
  reason: string;
  /** ISO time of the rejection. */
  at: string;
  partitionKeys?: readonly string[];
  rowCount?: number;
}

export interface HandledOutput {
  /** What was stored: typed (`meta.rowCount(n)`) or plain values; `{}` when nothing was. */
  metadata: Record<string, unknown>;
  /** False when the audit rejected the write (the published value is as it was); absent or true otherwise. */
  published?: boolean;
  /** The kept staged value of a rejected write (absent when the rejected output had no rows). */
  staged?: StagedOutput;
}

/**
 * Stores asset values and loads them for downstream steps. Every implementation accepts `undefined`/`null`
 * (nothing stored), an array of row objects and an (async) iterable of row batches; table-like ones also accept
 * a `sql` fragment.
 */
export interface IOManager {
  /** `duckdb`, `parquet`, `json`, `memory`, ...: shown in snapshots and messages. */
  readonly type?: string;
  /**
   * Stores a step's value. With `partitionKeys` only those partitions are replaced and every other partition is
   * kept. With `audit`, the value is staged, audited, and published only when the audit says so; a write that
   * fails or is rejected leaves the published value exactly as it was, and a concurrent reader never sees a
   * partial value.
   */
  handleOutput(info: OutputInfo, value: unknown, audit?: Audit): Promise<HandledOutput>;
  /**
   * `relation` hands the step something to query (a table for SQL storage), `rows` loads every row, `batches`
   * an async iterable of row batches. With `partitionKeys` (never an empty list) exactly those partitions.
   * Fails with `AssetNotMaterializedError` when nothing is stored.
   */
  loadInput(upstreamKey: string, mode: LoadMode, partitionKeys?: readonly string[]): Promise<unknown>;
  /** The published value, for checks run without materializing (`cairn materialize --checks-only`). */
  loadStored?(assetKey: string, partitionKeys?: readonly string[]): Promise<StoredValue>;
  /** Rejected writes kept for inspection, oldest first. */
  listStaged?(): Promise<StagedOutput[]>;
  /** Drops one kept staged value; false when there is none with that id. */
  dropStaged?(id: string): Promise<boolean>;
}

export function isIOManager(value: unknown): value is IOManager {
  return typeof value === 'object' && value !== null && typeof (value as IOManager).handleOutput === 'function' && typeof (value as IOManager).loadInput === 'function';
}

/**
 * Names a rejected write's kept staged value: `<base>__cairn_wap_<yyyymmddhhmmss>_<run>_<nonce>`, sortable by
 * time; `nonce` (a few random hex digits) keeps two rejections of one run in one second apart.
 */
export function stagedName(base: string, runId: string, at: Date, nonce: string): string {
  const stamp = at.toISOString().replace(/[-:T.Z]/g, '').slice(0, 14);
  return `${base}${WAP_INFIX}${stamp}_${runId.replace(/[^A-Za-z0-9]/g, '').slice(0, 8)}_${nonce}`;
}

/**
 * A kept staged value's description as read back from where it was stored (a table comment, a sidecar file):
 * fields that are missing or of the wrong type read as `(unknown)`, never fail the listing.
 */
export function stagedFromRecord(id: string, described: Readonly<Record<string, unknown>>): StagedOutput {
  const text = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);
  return {
    id,
    assetKey: text(described.assetKey, '(unknown)'),
    runId: text(described.runId, '(unknown)'),
    reason: text(described.reason, '(unknown)'),
    at: text(described.at, ''),
    ...(Array.isArray(described.partitionKeys) ? { partitionKeys: described.partitionKeys.map(String) } : {}),
    ...(typeof described.rowCount === 'number' ? { rowCount: described.rowCount } : {}),
  };
}

/** The JSON object a kept staged value is described by (a table comment, a sidecar file); `{}` when unreadable. */
export function parseStagedRecord(text: string | null | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Marks kept staged values (tables, files) of rejected writes. */
export const WAP_INFIX = '__cairn_wap_';
