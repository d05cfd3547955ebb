/**
 * Row mapping shared by the SQLite and PostgreSQL stores: both use the same column names, and store JSON as
 * text, so one set of mappers turns rows into records.
 */
import { readStoredMetadata, type Metadata } from '../../definitions/metadata';
import type { AssetEvent, CheckResult, LogLine, RunEvent, RunRecord, RunStatus, StepResultRecord, StoredAssetEvent } from './catalog-store';

export type Row = Record<string, unknown>;

export const str = (v: unknown): string => String(v);
const present = (v: unknown): boolean => v !== null && v !== undefined;
/** `{ [name]: value }` when the column is not NULL, else `{}`: optional fields stay absent rather than undefined. */
export const opt = <K extends string>(name: K, v: unknown): { [P in K]?: string } =>
  (present(v) ? { [name]: String(v) } : {}) as { [P in K]?: string };
const optJson = <K extends string, T>(name: K, v: unknown): { [P in K]?: T } =>
  (present(v) ? { [name]: JSON.parse(String(v)) as T } : {}) as { [P in K]?: T };

export function toRun(r: Row): RunRecord {
  return {
    runId: str(r.run_id), workflowId: str(r.workflow_id), selection: str(r.selection),
    tags: JSON.parse(str(r.tags)) as Record<string, string>, status: str(r.status) as RunStatus,
    stepCount: Number(r.step_count), startedAt: str(r.started_at), ...opt('finishedAt', r.finished_at),
    ...optJson<'summary', unknown>('summary', r.summary),
    trigger: str(r.run_trigger ?? 'manual'),
    locations: JSON.parse(str(r.locations ?? '[]')) as string[],
    ...opt('partition', r.partition), ...opt('parentRunId', r.parent_run_id), ...opt('rootRunId', r.root_run_id),
    ...optJson<'config', Record<string, unknown>>('config', r.config),
  };
}

export function toStep(r: Row): StepResultRecord {
  return {
    runId: str(r.run_id), assetKey: str(r.asset_key), status: str(r.status) as StepResultRecord['status'],
    ...opt('error', r.error), attempt: Number(r.attempt), at: str(r.at),
  };
}

export function toEvent(r: Row): StoredAssetEvent {
  // Catalogs from schema 1 hold untyped metadata: type it on the way out.
  const metadata = readStoredMetadata(JSON.parse(str(r.metadata)) as Record<string, unknown>, `event ${str(r.event_key)}`);
  return {
    id: Number(r.id),
    eventKey: str(r.event_key),
    type: str(r.type) as AssetEvent['type'],
    assetKey: str(r.asset_key),
    partition: present(r.partition) ? str(r.partition) : null,
    runId: present(r.run_id) ? str(r.run_id) : null,
    attempt: Number(r.attempt),
    at: str(r.at),
    metadata: metadata satisfies Metadata,
    ...opt('codeVersion', r.code_version),
    ...opt('dataVersion', r.data_version),
    ...optJson<'inputDataVersions', Record<string, string | null>>('inputDataVersions', r.input_data_versions),
    ...opt('codeLocation', r.code_location),
    source: str(r.source) === 'report' ? 'report' : 'run',
    ...optJson<'check', CheckResult>('check', r.check_result),
  };
}

export function toRunEvent(r: Row): RunEvent {
  return { type: str(r.type) as RunEvent['type'], runId: str(r.run_id), at: str(r.at), ...(present(r.run_status) ? { status: str(r.run_status) as RunStatus } : {}) };
}

/** Column values of an asset event, in the order of {@link EVENT_COLUMNS}. */
export function eventValues(e: AssetEvent): unknown[] {
  return [
    e.eventKey, e.type, e.assetKey, e.partition, e.partition ?? '', e.runId, e.attempt, e.at, JSON.stringify(e.metadata),
    e.codeVersion ?? null, e.dataVersion ?? null, e.inputDataVersions === undefined ? null : JSON.stringify(e.inputDataVersions),
    e.codeLocation ?? null, e.source, e.check?.name ?? '', e.check === undefined ? null : JSON.stringify(e.check),
  ];
}

export const EVENT_COLUMNS = [
  'event_key', 'type', 'asset_key', 'partition', 'partition_key', 'run_id', 'attempt', 'at', 'metadata',
  'code_version', 'data_version', 'input_data_versions', 'code_location', 'source', 'check_name', 'check_result',
] as const;

/** Name and expression of each column `assetStatuses` reads, for stores that fetch those rows as one JSON array. */
export const LATEST_EVENT_JSON_COLUMNS: readonly (readonly [string, string])[] = [['latest_kind', 'l.kind'], ['id', 'e.id'], ...EVENT_COLUMNS.map((c) => [c, `e.${c}`] as const)];
export const STEP_JSON_COLUMNS: readonly (readonly [string, string])[] = ['id', 'run_id', 'asset_key', 'status', 'error', 'attempt', 'at'].map((c) => [c, `s.${c}`] as const);

/** Columns a retry of the same event may change. */
export const EVENT_UPDATABLE = ['attempt', 'at', 'metadata', 'code_version', 'data_version', 'input_data_versions', 'code_location', 'check_result'] as const;

/** Asset-event types tracked in `asset_latest` (besides `step`). */
export const LATEST_KINDS = new Set(['materialization', 'observation']);

/** Newest schema version the code knows; a catalog with a higher one was written by a newer Cairn. */
export function tooNewMessage(where: string, found: number, known: number): string {
  return `catalog ${where} has schema version ${found}, but this Cairn knows versions up to ${known}: it was written by a newer Cairn. Upgrade Cairn (or point CAIRN_CATALOG_URL at another catalog); nothing was changed`;
}

/** A stored log line with the step it belongs to. */
export function toLogLine(r: Row): LogLine & { assetKey: string; attempt: number } {
  return {
    seq: Number(r.seq), level: str(r.level) as LogLine['level'], message: str(r.message), at: str(r.at),
    assetKey: str(r.asset_key), attempt: Number(r.attempt),
  };
}
