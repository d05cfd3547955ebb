import type { z } from 'zod';
import type { AssetCheckDefinition } from './checks';
import { CairnError, ErrorCodes } from './errors';
import type { AutomationCondition } from './automation';
import type { FreshnessPolicyInput } from './freshness';
import type { PartitionsDefinition } from './partitions/definitions';
import type { PartitionMapping } from './partitions/mappings';
import type { BackfillPolicy } from './partitions/schema';
import type { RetryPolicy } from './snapshot';
import type { SqlFragment } from './sql';

/** Anything that names an asset: its key, or the definition itself. */
export type AssetRef = string | { readonly key: string };

/** What a step's user function receives. Resources are also spread onto the context by name. */
export interface MaterializeContext<Config = unknown> {
  readonly runId: string;
  readonly assetKey: string;
  /** 1-based attempt number of this step (retries increment it). */
  readonly attempt: number;
  /** Lines are kept with the run in the catalog (`cairn logs`), not only printed by the worker. */
  readonly log: StepLogger;
  readonly config: Config;
  /** Loaded upstream values, by the names given in `ins`. */
  readonly ins: Record<string, unknown>;
  readonly resources: Record<string, unknown>;
  /** Aborted when the run is cancelled: hand it to fetch, child processes and drivers. */
  readonly signal: AbortSignal;
  /** Attach metadata to this materialization (merged over what the IO manager records). */
  addMetadata(entries: Record<string, unknown>): void;
  /** Tell Temporal this long step is alive; cancellation is only delivered through heartbeats. */
  heartbeat(details?: unknown): void;
  /**
   * Sets this materialization's data version (for example a hash of the source data). Without it, the data
   * version is derived from the code version and the data versions of the inputs.
   */
  setDataVersion(version: string): void;
  /**
   * Runs a subprocess: stdout lines go to the step log as info, stderr lines as warn, so `cairn logs` keeps them
   * with the run. Killed when the run is cancelled. Rejects on a non-zero exit (with the last stderr lines)
   * unless `allowFailure` is set.
   */
  exec(command: string, args?: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** The partition (or range of partitions) this step materializes; undefined for an unpartitioned asset. */
  readonly partition: PartitionContext | undefined;
  readonly [resource: string]: unknown;
}

/**
 * The partition a step materializes. A one-partition run has `key`; a range run (`backfillPolicy:
 * singleRun()`, or a backfill with `maxPartitionsPerRun`) has `keys` and `range` and no `key`. For time
 * windows `start` and `end` bound the whole run (start inclusive, end exclusive).
 */
export interface PartitionContext {
  /** The key of a one-partition run. */
  readonly key?: string;
  /** Every key of the run, in order (one element for a one-partition run). */
  readonly keys: readonly string[];
  /** First and last key of the run. */
  readonly range: { readonly start: string; readonly end: string };
  /** For time windows: the start of the first window and the end of the last one. */
  readonly start?: Date;
  readonly end?: Date;
}

export interface ExecOptions {
  cwd?: string;
  /** Added to the worker's environment. */
  env?: Readonly<Record<string, string>>;
  /** Resolve with the exit code instead of rejecting on a non-zero exit. */
  allowFailure?: boolean;
}

export interface ExecResult {
  exitCode: number;
  /** The captured stdout (at most the last 1 MiB). */
  stdout: string;
}

export interface StepLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** What `materialize` may return: rows, batches of rows, a SQL relation kept in the warehouse, or nothing. */
export type MaterializeResult =
  | void
  | undefined
  | null
  | readonly Record<string, unknown>[]
  | AsyncIterable<readonly Record<string, unknown>[]>
  | SqlFragment
  | unknown;

/**
 * How an input is handed to `materialize`: a relation to query (default), loaded rows, or `batches`: an async
 * iterable of row batches, so a huge upstream never sits whole in memory.
 */
export type InputSpec = AssetRef | { readonly asset: AssetRef; readonly load?: LoadMode; readonly mapping?: PartitionMapping };

export type LoadMode = 'relation' | 'rows' | 'batches';

/** A dependency: an asset, or an asset with the partition mapping that says which of its partitions are read. */
export type DepSpec = AssetRef | { readonly asset: AssetRef; readonly mapping?: PartitionMapping };

export interface RetryOptions {
  /** Total attempts including the first. Default 3. */
  maxAttempts?: number;
  /** Milliseconds before the first retry. Default 1000. */
  initialIntervalMs?: number;
  backoffCoefficient?: number;
  maxIntervalMs?: number;
}

export interface AssetOptions<Config = unknown> {
  key: string;
  /**
   * Assets this one depends on without loading them. `{ asset, mapping }` sets the partition mapping; an
   * asset may depend on its own earlier partitions: `{ asset: 'self/key', mapping: timeWindowMapping({
   * startOffset: -1, endOffset: -1 }) }`.
   */
  deps?: readonly DepSpec[];
  ins?: Readonly<Record<string, InputSpec>>;
  group?: string;
  kinds?: readonly string[];
  owners?: readonly string[];
  tags?: Readonly<Record<string, string>>;
  description?: string;
  metadata?: Readonly<Record<string, unknown>>;
  codeVersion?: string;
  /** Splits the asset into partitions: `dailyPartitions({ start: '2024-01-01' })`, `staticPartitions([...])`, ... */
  partitions?: PartitionsDefinition;
  /** How a backfill groups this asset's partitions into runs: `singleRun()` for one run per range. */
  backfillPolicy?: BackfillPolicy;
  /**
   * How recent the asset must be: `{ maxLag: '6h', warnLag?: '3h' }` or `{ cron: '0 9 * * *', maxLag: '2h',
   * timezone?: 'Europe/Berlin' }`; `cairn status` reports PASS, WARN or FAIL.
   */
  freshness?: FreshnessPolicyInput;
  retry?: RetryOptions;
  /** A zod schema for run config (`cairn materialize --config`); validated in the worker before the step runs. */
  config?: z.ZodType<Config>;
  /** Names of code-location resources this asset uses. */
  resources?: readonly string[];
  /**
   * Checks run right after the asset is written, in the same run: built-ins (`rowCountAtLeast(1)`, `notNull('id')`,
   * ...) or `check({ name, run })`. A failed blocking check keeps the staged value from being published.
   */
  checks?: readonly AssetCheckDefinition[];
  /**
   * A data contract: every output row is validated against this zod object schema before it is stored; a
   * violation fails the step and nothing is written.
   */
  schema?: z.ZodType;
  /** Validate only this fraction of the rows against `schema` (every n-th row), for huge outputs. */
  schemaSample?: number;
  /** The IO manager that stores this asset: the name of a code-location resource. Default: the location's `io` resource, else DuckDB. */
  io?: string;
  /**
   * When the automation workflow requests it by itself: `automation.onUpstreamChange()`, `automation.onCron('0 6 * * *')`,
   * `automation.onMissing()`, combined with `automation.and/or/not`. Default `automation.manual()`: never.
   */
  automation?: AutomationCondition;
  materialize: (ctx: MaterializeContext<Config>) => Promise<MaterializeResult> | MaterializeResult;
}

export interface AssetDefinition<Config = unknown> {
  readonly kind: 'asset';
  readonly key: string;
  /** Keys of the assets it depends on (never its own key: a dependency on its own partitions is in `partitionMappings`). */
  readonly deps: readonly string[];
  readonly ins: Readonly<Record<string, { key: string; load: LoadMode }>>;
  readonly partitions?: PartitionsDefinition;
  /** Declared partition mappings by upstream key (the asset's own key for a self-dependency). */
  readonly partitionMappings: Readonly<Record<string, PartitionMapping>>;
  readonly backfillPolicy?: BackfillPolicy;
  readonly group: string;
  readonly kinds: readonly string[];
  readonly owners: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  readonly description?: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly codeVersion?: string;
  /** As declared; validation normalizes it and reports problems. */
  readonly freshness?: FreshnessPolicyInput;
  readonly retry: RetryPolicy;
  readonly config?: z.ZodType<Config>;
  readonly resources: readonly string[];
  /** Checks evaluated after each write, each with `asset` set to this key. */
  readonly checks?: readonly AssetCheckDefinition[];
  readonly schema?: z.ZodType;
  readonly schemaSample?: number;
  /** The name of the resource that is this asset's IO manager, when it is not the location's default. */
  readonly io?: string;
  /** As declared; validation checks it. */
  readonly automation?: AutomationCondition;
  readonly isExternal: boolean;
  /** Set on the assets of a multi-asset (a dbt project): the step that produces them. */
  readonly multiAsset?: string;
  /**
   * An external asset declared only because something reads it (a dbt source). A real definition of the same
   * key, in any code location, replaces it.
   */
  readonly placeholder?: boolean;
  readonly materialize?: (ctx: MaterializeContext<Config>) => Promise<MaterializeResult> | MaterializeResult;
}

export type ExternalAssetOptions = Omit<AssetOptions, 'materialize' | 'ins' | 'retry' | 'config' | 'resources' | 'codeVersion' | 'backfillPolicy' | 'checks' | 'schema' | 'schemaSample' | 'io' | 'automation'>;

export const DEFAULT_GROUP = 'default';
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, initialIntervalMs: 1000, backoffCoefficient: 2 };

/** Names that the step context uses itself; a resource may not take them. */
export const RESERVED_CONTEXT_NAMES = new Set(['runId', 'assetKey', 'attempt', 'log', 'config', 'ins', 'resources', 'signal', 'addMetadata', 'heartbeat', 'setDataVersion', 'exec', 'partition']);

export function refKey(ref: AssetRef): string {
  return typeof ref === 'string' ? ref : ref.key;
}

function normalizeRetry(retry: RetryOptions | undefined): RetryPolicy {
  return {
    maxAttempts: retry?.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
    initialIntervalMs: retry?.initialIntervalMs ?? DEFAULT_RETRY.initialIntervalMs,
    backoffCoefficient: retry?.backoffCoefficient ?? DEFAULT_RETRY.backoffCoefficient,
    ...(retry?.maxIntervalMs !== undefined ? { maxIntervalMs: retry.maxIntervalMs } : {}),
  };
}

function normalizeIns(ins: AssetOptions['ins'], mappings: Record<string, PartitionMapping>): AssetDefinition['ins'] {
  const out: Record<string, { key: string; load: LoadMode }> = {};
  for (const [name, spec] of Object.entries(ins ?? {})) {
    if (typeof spec === 'object' && spec !== null && 'asset' in spec) {
      out[name] = { key: refKey(spec.asset), load: spec.load ?? 'relation' };
      if (spec.mapping !== undefined) mappings[refKey(spec.asset)] = spec.mapping;
    } else out[name] = { key: refKey(spec as AssetRef), load: 'relation' };
  }
  return out;
}

/** Dep keys and their declared mappings; a dep on the asset's own key is kept only as a mapping. */
function normalizeDeps(key: string, deps: AssetOptions['deps'], ins: AssetDefinition['ins'], mappings: Record<string, PartitionMapping>): string[] {
  const keys: string[] = [];
  for (const d of deps ?? []) {
    if (typeof d === 'object' && d !== null && 'asset' in d) {
      keys.push(refKey(d.asset));
      if (d.mapping !== undefined) mappings[refKey(d.asset)] = d.mapping;
    } else keys.push(refKey(d as AssetRef));
  }
  keys.push(...Object.values(ins).map((i) => i.key));
  // A dependency on its own key with a mapping is a dependency on earlier partitions, not a graph edge.
  return [...new Set(keys)].filter((k) => k !== key || mappings[k] === undefined);
}

/** The fields every asset declaration shares, normalized. */
function describedFields(options: ExternalAssetOptions) {
  return {
    kind: 'asset' as const,
    key: options.key,
    group: options.group ?? DEFAULT_GROUP,
    kinds: [...(options.kinds ?? [])],
    owners: [...(options.owners ?? [])],
    tags: { ...(options.tags ?? {}) },
    ...(options.description !== undefined ? { description: options.description } : {}),
    metadata: { ...(options.metadata ?? {}) },
    ...(options.freshness !== undefined ? { freshness: options.freshness } : {}),
    ...(options.partitions !== undefined ? { partitions: options.partitions } : {}),
  };
}

/**
 * Declares an asset: a persistent data object that Cairn materializes by calling `materialize`.
 * Declaring never throws for a bad key, retry or config schema: validation (`cairn check`, worker start)
 * reports every problem of the workspace at once, each naming its asset and file.
 * @example
 * export const orders = asset({
 *   key: 'staging/orders',
 *   ins: { raw: 'raw/shop/orders' },
 *   group: 'staging',
 *   kinds: ['duckdb', 'sql'],
 *   resources: ['warehouse'],
 *   materialize: ({ warehouse, ins }) => warehouse.sql`select * from ${ins.raw} where amount > 0`,
 * });
 */
export function asset<Config = unknown>(options: AssetOptions<Config>): AssetDefinition<Config> {
  if (typeof options !== 'object' || options === null) {
    throw new CairnError(ErrorCodes.InvalidDefinition, 'asset() takes an options object: asset({ key, materialize, ... })');
  }
  const mappings: Record<string, PartitionMapping> = {};
  const ins = normalizeIns(options.ins, mappings);
  const deps = normalizeDeps(options.key, options.deps, ins, mappings);
  return {
    ...describedFields(options),
    deps,
    ins,
    partitionMappings: mappings,
    ...(options.backfillPolicy !== undefined ? { backfillPolicy: options.backfillPolicy } : {}),
    ...(options.codeVersion !== undefined ? { codeVersion: options.codeVersion } : {}),
    retry: normalizeRetry(options.retry),
    ...(options.config !== undefined ? { config: options.config } : {}),
    resources: [...(options.resources ?? [])],
    ...(options.checks !== undefined ? { checks: attachChecks(options.key, options.checks) } : {}),
    ...(options.schema !== undefined ? { schema: options.schema } : {}),
    ...(options.schemaSample !== undefined ? { schemaSample: options.schemaSample } : {}),
    ...(options.io !== undefined ? { io: options.io } : {}),
    ...(options.automation !== undefined ? { automation: options.automation } : {}),
    isExternal: false,
    materialize: options.materialize,
  };
}

/** The checks with `asset` set to `key` (a check declared for another asset keeps its own, so validation can report it). */
export function attachChecks(key: string, checks: readonly AssetCheckDefinition[]): AssetCheckDefinition[] {
  if (!Array.isArray(checks)) return checks as AssetCheckDefinition[];
  return checks.map((c) => (typeof c === 'object' && c !== null && (c.asset === '' || c.asset === undefined) ? { ...c, asset: key } : c));
}

/**
 * Declares an asset that Cairn tracks but does not produce: a table landed by Fivetran, a partner's file.
 * It appears in the graph and lineage, can be a dependency, and is never a step of a run.
 * @example
 * export const payments = externalAsset({ key: 'raw/stripe/payments', group: 'ingestion', kinds: ['fivetran'] });
 */
export function externalAsset(options: ExternalAssetOptions): AssetDefinition {
  if (typeof options !== 'object' || options === null) {
    throw new CairnError(ErrorCodes.InvalidDefinition, 'externalAsset() takes an options object: externalAsset({ key, ... })');
  }
  const mappings: Record<string, PartitionMapping> = {};
  return {
    ...describedFields(options),
    deps: normalizeDeps(options.key, options.deps, {}, mappings),
    ins: {},
    partitionMappings: mappings,
    retry: DEFAULT_RETRY,
    resources: [],
    isExternal: true,
  };
}
