import type { z } from 'zod';
import type { AssetDefinition, MaterializeContext, PartitionContext, StepLogger } from '../definitions/asset';
import { CairnError, ErrorCodes } from '../definitions/errors';
import { normalizeMetadata, type Metadata } from '../definitions/metadata';
import type { StepPartitions } from '../definitions/partitions/inputs';
import { ContractValidator, validatedBatches } from '../definitions/contract';
import { isSqlFragment } from '../definitions/sql';
import type { StoredValue } from '../definitions/stored-value';
import type { Audit, HandledOutput, IOManager, StagedOutput } from './io-manager';
import type { LogLine } from './catalog/catalog-store';
import { blocks, lazyStoredValue, runChecks, type CheckEvaluation } from './run-checks';
import { chunkRows, DEFAULT_BATCH_SIZE, isBatchSource } from './io/values';
import { collectingLogger } from './step-logger';
import { runSubprocess } from './subprocess';

export interface ExecuteStepOptions {
  runId: string;
  attempt: number;
  config?: unknown;
  resources: Record<string, unknown>;
  /** Stores the asset's value. */
  io: IOManager;
  /** The IO manager of another asset (an input stored by a different one); default `io`. */
  ioFor?: (assetKey: string) => IOManager;
  signal: AbortSignal;
  heartbeat(details?: unknown): void;
  /** Where log lines go besides the returned list (the worker's stdout). */
  echo?: (line: LogLine, assetKey: string) => void;
  /** Heartbeat this often while user code runs, so cancellation reaches steps that never heartbeat. */
  heartbeatEveryMs?: number;
  /** Called on each heartbeat tick with the lines logged since the previous call, so long steps show logs live. */
  flushLogs?: (lines: LogLine[]) => Promise<void>;
  /** For a partitioned asset: its partition context and the upstream partitions each input reads. */
  partitions?: StepPartitions;
}

export interface ExecuteStepResult {
  metadata: Metadata;
  /** Set by the step with `ctx.setDataVersion`. */
  dataVersion?: string;
  logs: LogLine[];
  durationMs: number;
  /** The asset's checks, evaluated against the staged value (or the stored one when nothing was staged). */
  checks: CheckEvaluation[];
  /** False when a blocking check kept the output from being published. */
  published: boolean;
  /** The kept staged output of a rejected write. */
  staged?: StagedOutput;
}

/** An error thrown by user code, with the log lines written before it, so they are kept with the run. */
export class StepError extends Error {
  override readonly name = 'StepError';
  constructor(
    readonly original: unknown,
    readonly logs: LogLine[],
  ) {
    super(original instanceof Error ? original.message : String(original));
  }
}

/** Validates run config against the asset's zod schema; the message names every bad field. */
export function parseConfig(a: AssetDefinition<any>, raw: unknown): unknown {
  if (!a.config) return raw ?? {};
  const result = (a.config as z.ZodType).safeParse(raw ?? {});
  if (result.success) return result.data;
  const fields = result.error.issues.map((i) => `config field '${i.path.join('.') || '(root)'}': ${i.message}`).join('; ');
  throw new CairnError(ErrorCodes.InvalidConfig, `asset '${a.key}': invalid run config: ${fields}`, a.key);
}

/**
 * Runs one asset's user function: validates config, loads inputs, builds the context, runs `materialize`,
 * hands the result to the IO manager. The same code runs inside a Temporal activity and in
 * `materializeInProcess`.
 */
export async function executeStep(a: AssetDefinition<any>, opts: ExecuteStepOptions): Promise<ExecuteStepResult> {
  const started = Date.now();
  const logs: LogLine[] = [];
  const log = collectingLogger(logs, opts.echo && ((line) => opts.echo?.(line, a.key)));
  const extra: Record<string, unknown> = {};
  let dataVersion: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let flushed = 0;
  const flush = (): void => {
    if (!opts.flushLogs || flushed >= logs.length) return;
    const lines = logs.slice(flushed);
    flushed = logs.length;
    opts.flushLogs(lines).catch(() => {
      flushed = Math.min(flushed, lines[0]?.seq ?? 0);
    });
  };
  try {
    if (!a.materialize) throw new CairnError(ErrorCodes.InvalidDefinition, `asset '${a.key}' is external: Cairn does not materialize it`, a.key);
    const config = parseConfig(a, opts.config);
    const ins: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(a.ins)) {
      const mapped = opts.partitions?.inputs[name];
      ins[name] = mapped === null ? null : await (opts.ioFor?.(spec.key) ?? opts.io).loadInput(spec.key, spec.load, mapped);
    }
    const partition = opts.partitions?.context;
    const resources = Object.fromEntries(a.resources.map((r) => [r, opts.resources[r]]));
    const ctx: MaterializeContext = {
      ...resources,
      runId: opts.runId,
      assetKey: a.key,
      attempt: opts.attempt,
      log,
      config,
      ins,
      resources,
      signal: opts.signal,
      addMetadata: (entries) => Object.assign(extra, entries),
      heartbeat: (details) => opts.heartbeat(details),
      setDataVersion: (version) => {
        if (typeof version !== 'string' || version === '') throw new CairnError(ErrorCodes.InvalidDefinition, `asset '${a.key}': setDataVersion takes a non-empty string`, a.key);
        dataVersion = version;
      },
      exec: (command, args = [], options = {}) => runSubprocess(command, args, { ...options, log, signal: opts.signal }),
      partition,
    };
    if (opts.heartbeatEveryMs) {
      timer = setInterval(() => {
        opts.heartbeat();
        flush();
      }, opts.heartbeatEveryMs);
    }
    const value = await raceAbort(Promise.resolve(a.materialize(ctx)), opts.signal);
    const { stored, evaluations } = await storeAudited(a, opts, value, partition, log);
    const published = stored.published !== false;
    const metadata = normalizeMetadata({ ...stored.metadata, ...(published ? extra : {}) }, `asset '${a.key}'`);
    return {
      metadata, ...(dataVersion !== undefined ? { dataVersion } : {}), logs, durationMs: Date.now() - started,
      checks: evaluations, published, ...(stored.staged ? { staged: stored.staged } : {}),
    };
  } catch (err) {
    if (!(err instanceof CairnError) || err.code !== ErrorCodes.InvalidConfig) log.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    throw new StepError(err, logs);
  } finally {
    if (timer) clearInterval(timer);
  }
}

/**
 * Hands the value to the IO manager with the audit of write-audit-publish: the contract (for a `sql` output)
 * and the checks run against the staged value, and a failed blocking check keeps it from being published.
 */
async function storeAudited(a: AssetDefinition<any>, opts: ExecuteStepOptions, value: unknown, partition: PartitionContext | undefined, log: StepLogger): Promise<{ stored: HandledOutput; evaluations: CheckEvaluation[] }> {
  const partitionKeys = partition?.keys;
  const checkCtx = { runId: opts.runId, assetKey: a.key, partition, log, resources: opts.resources, signal: opts.signal };
  const checks = a.checks ?? [];
  const contract = a.schema ? new ContractValidator(a.key, a.schema as z.ZodType, a.schemaSample) : undefined;
  const { output, auditContract } = guardedOutput(value, contract);
  let evaluations: CheckEvaluation[] | undefined;
  const audit: Audit = async (staged) => {
    if (auditContract && contract) for await (const batch of staged.batches()) contract.checkBatch(batch);
    evaluations = await runChecks(checks, staged, checkCtx);
    const blocking = evaluations.find(blocks);
    return blocking ? { publish: false, reason: `blocked by check ${blocking.name}` } : { publish: true };
  };
  const needsAudit = checks.length > 0 || auditContract;
  const stored = await opts.io.handleOutput({ assetKey: a.key, runId: opts.runId, ...(partitionKeys ? { partitionKeys } : {}) }, output, needsAudit ? audit : undefined);
  // Nothing was staged (no value, or an IO manager that does not audit): the checks read what is published.
  evaluations ??= await runChecks(checks, storedValueOf(opts.io, a.key, partitionKeys), checkCtx);
  return { stored, evaluations };
}

/**
 * The output as handed to the IO manager: rows and batches are validated against the contract on their way in;
 * a SQL output (which never passes through Node) is validated in the audit, from the staged rows.
 */
function guardedOutput(value: unknown, contract: ContractValidator | undefined): { output: unknown; auditContract: boolean } {
  if (!contract || value === undefined || value === null) return { output: value, auditContract: false };
  if (Array.isArray(value)) {
    contract.checkBatch(value);
    return { output: value, auditContract: false };
  }
  if (isSqlFragment(value) || typeof (value as { toSql?: unknown }).toSql === 'function') return { output: value, auditContract: true };
  if (isBatchSource(value)) return { output: validatedBatches(value, contract), auditContract: false };
  return { output: value, auditContract: false };
}

/** The published value for checks, through the IO manager's `loadStored` (or its rows, for one without it). */
export function storedValueOf(io: IOManager, assetKey: string, partitionKeys: readonly string[] | undefined): StoredValue {
  return lazyStoredValue(assetKey, partitionKeys, async () => {
    if (io.loadStored) return io.loadStored(assetKey, partitionKeys);
    const rows = await io.loadInput(assetKey, 'rows', partitionKeys);
    return {
      assetKey,
      ...(partitionKeys ? { partitionKeys } : {}),
      batches: (size = DEFAULT_BATCH_SIZE) => chunkRows(rows, size, `asset '${assetKey}'`),
      load: async (mode) => (mode === 'rows' ? rows : io.loadInput(assetKey, 'relation', partitionKeys)),
    };
  });
}

/** Settles as soon as the signal aborts, even if user code ignores it. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason ?? new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
