/**
 * Sensors: code that looks at the outside world (a connector's last sync, a bucket, an API) and asks for runs or
 * records asset events. This file is the pure part: the declaration, its validation, and the zod schema that
 * every evaluation's result is checked against, so a malformed result is an error naming the field.
 * The long-running workflow that calls `evaluate` is workflows/sensor.ts; built-in sensors are builtin-sensors.ts.
 */
import { z } from 'zod';
import type { StepLogger } from './asset';
import { CairnError, ErrorCodes } from './errors';
import { parseDuration } from './freshness';
import { isJob, type JobDefinition } from './job';

/** An asset event as a sensor reads it from the catalog (the fields sensors need of the catalog's stored event). */
export interface SensorAssetEvent {
  /** The catalog's increasing sequence number: later events have higher ids, so it makes a good cursor. */
  readonly id: number;
  readonly type: 'materialization' | 'observation' | 'check_evaluation';
  readonly assetKey: string;
  /** Partition key, or null for an unpartitioned asset. */
  readonly partition: string | null;
  /** The run that wrote it; null for a reported event. */
  readonly runId: string | null;
  readonly at: string;
  readonly dataVersion?: string;
  readonly source: 'run' | 'report';
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** A run of the catalog's run index, as a sensor reads it. */
export interface SensorRunRecord {
  readonly runId: string;
  readonly workflowId: string;
  /** The selection the run planned (a job's run records the job's selection). */
  readonly selection: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly status: 'running' | 'succeeded' | 'failed' | 'canceled';
  readonly startedAt: string;
  readonly finishedAt?: string;
  /** The run's summary (step counts), written when it finishes. */
  readonly summary?: unknown;
  /** What started it: `cli`, `schedule`, `sensor`, ... */
  readonly trigger: string;
  readonly partition?: string;
}

/**
 * What a sensor may read of the catalog: the few read-only queries the built-in sensors need. The location's
 * worker passes its catalog store (which has these methods with the same shapes) behind a read-only wrapper.
 */
export interface SensorCatalog {
  /** One page of an asset's events, newest first; pass `nextCursor` as `before` for the next page. */
  assetHistory(
    assetKey: string,
    query?: { types?: SensorAssetEvent['type'][]; partition?: string | null; before?: number; limit?: number },
  ): Promise<{ events: readonly SensorAssetEvent[]; nextCursor?: number }>;
  /** The run index, newest first by start time; `since`/`until` bound the start time. */
  listRuns(filter?: { asset?: string; status?: SensorRunRecord['status']; trigger?: string; since?: string; until?: string; limit?: number }): Promise<readonly SensorRunRecord[]>;
  /** The latest outcome of each step of a run (a failed step carries its error). */
  getStepResults(runId: string): Promise<readonly { readonly assetKey: string; readonly status: 'materialized' | 'failed' | 'skipped'; readonly error?: string }[]>;
  /** The published code locations, for their jobs (a job's name to its selection and tags). */
  getSnapshots(): Promise<readonly { readonly name: string; readonly jobs?: readonly { readonly name: string; readonly selection: string; readonly tags: Readonly<Record<string, string>> }[] }[]>;
}

/** What `evaluate` receives. */
export interface SensorContext {
  /** What the previous evaluation returned as `cursor` (undefined on the first one, or after a reset). */
  readonly cursor: string | undefined;
  /** When the previous evaluation ran (ISO), if any. */
  readonly lastEvaluatedAt: string | undefined;
  readonly log: StepLogger;
  readonly resources: Record<string, unknown>;
  /** Read-only access to the catalog: asset events, the run index, the published jobs. */
  readonly catalog: SensorCatalog;
  readonly signal: AbortSignal;
  /** Tell Temporal a long evaluation is alive (an evaluation has no fixed time cap). */
  heartbeat(details?: unknown): void;
}

const KEY_TEXT = z.string().min(1);

/** The result of one evaluation; every field is optional. */
export const SensorResultSchema = z.strictObject({
  runRequests: z
    .array(
      z.strictObject({
        /** Default: the sensor's target. */
        selection: KEY_TEXT.optional(),
        partition: KEY_TEXT.optional(),
        /** Requests with the same runKey run once (the run's workflow id is derived from it). */
        runKey: z.string().min(1).max(200).optional(),
        tags: z.record(z.string(), z.string()).optional(),
      }),
    )
    .optional(),
  assetEvents: z
    .array(
      z.strictObject({
        key: KEY_TEXT,
        kind: z.enum(['materialization', 'observation']),
        partition: KEY_TEXT.optional(),
        metadata: z.record(z.string(), z.unknown()).optional(),
        dataVersion: z.string().min(1).optional(),
      }),
    )
    .optional(),
  dynamicPartitions: z
    .array(z.strictObject({ name: KEY_TEXT, add: z.array(KEY_TEXT).optional(), remove: z.array(KEY_TEXT).optional() }))
    .optional(),
  cursor: z.string().optional(),
  skipReason: z.string().optional(),
});

export type SensorResult = z.infer<typeof SensorResultSchema>;

export interface SensorOptions {
  /** Unique in its code location; `[a-z0-9_-]`, starting with a letter. */
  name: string;
  /** How long to wait between evaluations: `'30s'`, `'5m'`. At least 1 second. Default `'30s'`. */
  minimumInterval?: string;
  /** What a run request without a selection runs: a job, or a selection string. */
  target?: JobDefinition | string;
  /** Names of code-location resources the evaluation uses. */
  resources?: readonly string[];
  description?: string;
  evaluate(ctx: SensorContext): Promise<SensorResult | void> | SensorResult | void;
}

export interface SensorDefinition {
  readonly kind: 'sensor';
  readonly name: string;
  readonly minimumInterval: string;
  readonly job?: string;
  readonly selection?: string;
  readonly resources: readonly string[];
  readonly description?: string;
  evaluate(ctx: SensorContext): Promise<SensorResult | void> | SensorResult | void;
}

export const SENSOR_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * Declares a sensor.
 * @example
 * export const stripeSynced = sensor({
 *   name: 'stripe-synced',
 *   minimumInterval: '1m',
 *   target: 'raw/stripe/payments+',
 *   async evaluate({ cursor }) {
 *     const sync = await fivetran.lastSync('stripe');
 *     if (sync.succeededAt === cursor) return { skipReason: 'no new sync' };
 *     return { assetEvents: [{ key: 'raw/stripe/payments', kind: 'materialization' }], runRequests: [{ runKey: sync.succeededAt }], cursor: sync.succeededAt };
 *   },
 * });
 */
export function sensor(options: SensorOptions): SensorDefinition {
  if (typeof options !== 'object' || options === null) throw new CairnError(ErrorCodes.InvalidDefinition, 'sensor() takes an options object: sensor({ name, evaluate })');
  const target = options.target;
  return {
    kind: 'sensor',
    name: options.name,
    minimumInterval: options.minimumInterval ?? '30s',
    ...(isJob(target) ? { job: target.name, selection: target.selection } : typeof target === 'string' ? { selection: target } : {}),
    resources: [...(options.resources ?? [])],
    ...(options.description !== undefined ? { description: options.description } : {}),
    evaluate: options.evaluate,
  };
}

export function isSensor(value: unknown): value is SensorDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'sensor';
}

/** The sensor's workflow id: `cairn/sensor/<location>/<name>`. */
export function sensorWorkflowId(location: string, name: string): string {
  return `cairn/sensor/${location}/${name}`;
}

/** Problems of a sensor on its own (name, interval, evaluate), each naming it. */
export function sensorProblems(s: SensorDefinition): string[] {
  const where = `sensor '${String(s.name)}'`;
  const problems: string[] = [];
  if (typeof s.name !== 'string' || !SENSOR_NAME.test(s.name)) problems.push(`${where}: the name must be lowercase letters, digits, '-' and '_', starting with a letter`);
  try {
    if (parseDuration(s.minimumInterval) < 1000) problems.push(`${where}: minimumInterval must be at least 1s, got '${s.minimumInterval}'`);
  } catch (e) {
    problems.push(`${where}: minimumInterval ${(e as Error).message.replace(/^duration /, '')}`);
  }
  if (typeof s.evaluate !== 'function') problems.push(`${where}: evaluate must be a function (ctx) => result`);
  return problems;
}

/**
 * Checks what `evaluate` returned. `undefined` is an empty result; anything else must match
 * {@link SensorResultSchema}, and the error names every bad field (`runRequests[0].partition: ...`).
 */
export function parseSensorResult(value: unknown, sensorName: string): SensorResult {
  if (value === undefined || value === null) return {};
  const parsed = SensorResultSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
  throw new CairnError(ErrorCodes.InvalidDefinition, `sensor '${sensorName}' returned a malformed result: ${fields.join('; ')}`, sensorName);
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(result)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}
