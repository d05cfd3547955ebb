import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { AssetDefinition } from '../definitions/asset';
import type { CodeLocationDefinition } from '../definitions/code-location';
import { CairnError, ErrorCodes, NonRetryableError } from '../definitions/errors';
import type { Metadata } from '../definitions/metadata';
import { currentDataVersion, derivedDataVersion } from '../definitions/staleness';
import type { PartitionsDefinition } from '../definitions/partitions/definitions';
import { resolveStepPartitions, type StepPartitions } from '../definitions/partitions/inputs';
import { dynamicKeysFor } from './dynamic-keys';
import { blocks } from './run-checks';
import type { Redactor } from './redact';
import { runEventKey, type CatalogStore, type LogLine } from './catalog/catalog-store';
import { executeStep, StepError } from './execute-step';
import { recordCheckEvaluations, runChecksOnly } from './step-checks';
import { sensorEvaluation } from './sensor-activities';
import { runMultiStep } from './multi-step';
import { resolvedSnapshots } from '../definitions/plan';
import type { IOManager } from './io-manager';
import type { LocationActivities, StepInput, StepOutput } from './types';

export interface LocationActivityDeps {
  location: CodeLocationDefinition;
  catalog: CatalogStore;
  io: IOManager;
  /** The IO manager of an asset that names its own (`asset({ io })`); default `io`. */
  ioFor?: (assetKey: string) => IOManager;
  resources: Record<string, unknown>;
  /** Removes secret values (of `env()` config) from what leaves the worker: failures and returned metadata. */
  redactor?: Redactor;
  echo?: (line: LogLine, assetKey: string) => void;
}

/** Errors that another attempt cannot fix. */
const NON_RETRYABLE_CODES = new Set<string>([ErrorCodes.InvalidConfig, ErrorCodes.MissingResource, ErrorCodes.InvalidDefinition, ErrorCodes.InvalidMetadata, ErrorCodes.ContractViolation]);

/** Errors of these classes are deterministic: an upstream table that is not there will not appear on retry. */
const NON_RETRYABLE_NAMES = new Set(['AssetNotMaterializedError']);

const MAX_RETURNED_METADATA_BYTES = 4096;

/** What goes back into workflow history: small. The full metadata is in the catalog. */
function smallMetadata(metadata: Metadata): Metadata {
  if (JSON.stringify(metadata).length <= MAX_RETURNED_METADATA_BYTES) return metadata;
  const small = Object.entries(metadata).filter(([, v]) => ['number', 'row_count', 'bool', 'text', 'url'].includes(v.type));
  return Object.fromEntries(small.map(([k, v]) => [k, typeof v.value === 'string' ? { ...v, value: v.value.slice(0, 200) } : v] as const)) as Metadata;
}

/**
 * The data versions of `deps` as the catalog knows them now: what this step consumes. An upstream with no
 * known version (an external asset never reported) maps to null.
 */
export async function inputDataVersions(catalog: CatalogStore, deps: readonly string[]): Promise<Record<string, string | null>> {
  if (deps.length === 0) return {};
  const statuses = await catalog.assetStatuses([...deps]);
  return Object.fromEntries(deps.map((d) => {
    const s = statuses.get(d);
    const version = currentDataVersion({
      ...(s?.lastMaterialization ? { materialization: s.lastMaterialization } : {}),
      ...(s?.lastObservation ? { observation: s.lastObservation } : {}),
    });
    return [d, version ?? null];
  }));
}

/**
 * A step's partitions: the asset's own definition comes from the code, its upstreams' from this location or,
 * for upstreams in other locations, from the published snapshots; dynamic keys from the catalog.
 */
async function stepPartitions(deps: LocationActivityDeps, byKey: ReadonlyMap<string, AssetDefinition<any>>, a: AssetDefinition<any>, input: StepInput): Promise<StepPartitions | undefined> {
  if (!a.partitions && !input.partition) return undefined;
  const upstreamDefs = new Map<string, PartitionsDefinition | undefined>();
  let snapshots: Map<string, PartitionsDefinition | undefined> | undefined;
  for (const spec of Object.values(a.ins)) {
    const local = byKey.get(spec.key);
    if (local) {
      upstreamDefs.set(spec.key, local.partitions);
      continue;
    }
    snapshots ??= new Map(resolvedSnapshots(await deps.catalog.getSnapshots()).flatMap((s) => s.assets.map((n) => [n.key, n.partitions] as const)));
    upstreamDefs.set(spec.key, snapshots.get(spec.key));
  }
  const dynamicKeys = await dynamicKeysFor(deps.catalog, [a.partitions, ...upstreamDefs.values()]);
  return resolveStepPartitions(a, input.partition && { keys: input.partition.keys, range: input.partition.range ?? false }, upstreamDefs, { now: new Date(), dynamicKeys });
}

/** Converts what a step threw into the failure Temporal records, deciding whether it is retryable. */
export function toStepFailure(assetKey: string, err: unknown): Error {
  if (err instanceof CancelledFailure || err instanceof ApplicationFailure) return err;
  if (err instanceof CairnError) {
    return NON_RETRYABLE_CODES.has(err.code) ? ApplicationFailure.nonRetryable(err.message, err.code) : ApplicationFailure.retryable(err.message, err.code);
  }
  if (err instanceof NonRetryableError) return ApplicationFailure.nonRetryable(err.message, 'NonRetryableError');
  if (err instanceof Error && NON_RETRYABLE_NAMES.has(err.name)) return ApplicationFailure.nonRetryable(err.message, err.name);
  const e = err instanceof Error ? err : new Error(String(err));
  const failure = ApplicationFailure.retryable(e.message || `asset '${assetKey}' failed`, e.name || 'Error');
  if (e.stack) failure.stack = e.stack;
  return failure;
}

/**
 * The code-location worker's activities. `materializeStep` runs the asset's function, stores its value via the
 * IO manager, and records the materialization in the catalog keyed by (run, asset, partition), so a retried
 * activity updates the same row instead of adding a second one.
 */
export function createLocationActivities(deps: LocationActivityDeps): LocationActivities {
  const byKey = new Map<string, AssetDefinition<any>>(deps.location.assets.map((a) => [a.key, a]));
  const multis = new Map((deps.location.multiAssets ?? []).map((m) => [m.name, m]));
  const step = async (input: StepInput): Promise<StepOutput> => {
    const ctx = Context.current();
    const multiName = input.multi ?? byKey.get(input.assetKey)?.multiAsset;
    if (multiName !== undefined) {
      const m = multis.get(multiName);
      if (!m) throw ApplicationFailure.nonRetryable(`'${multiName}' is not defined in code location '${deps.location.name}'; restart its worker so the published definitions match the code`, 'UNKNOWN_ASSET');
      return runMultiStep(deps, m, input, ctx);
    }
    const a = byKey.get(input.assetKey);
    if (!a) {
      throw ApplicationFailure.nonRetryable(`asset '${input.assetKey}' is not defined in code location '${deps.location.name}'; restart its worker so the published definitions match the code`, 'UNKNOWN_ASSET');
    }
    const attempt = ctx.info.attempt;
    if (input.checksOnly) return runChecksOnly(deps, a, input, attempt, await stepPartitions(deps, byKey, a, input), ctx.cancellationSignal);
    try {
      // Read before the step runs: the versions of the data the step is about to consume.
      const inputs = await inputDataVersions(deps.catalog, a.deps);
      const partitions = await stepPartitions(deps, byKey, a, input);
      const result = await executeStep(a, {
        ...(partitions ? { partitions } : {}),
        runId: input.runId,
        attempt,
        config: input.config,
        resources: deps.resources,
        io: deps.ioFor?.(a.key) ?? deps.io,
        ...(deps.ioFor ? { ioFor: deps.ioFor } : {}),
        signal: ctx.cancellationSignal,
        heartbeat: (d) => ctx.heartbeat(d),
        heartbeatEveryMs: 5000,
        flushLogs: (lines) => deps.catalog.appendLogs(input.runId, a.key, attempt, lines),
        ...(deps.echo ? { echo: deps.echo } : {}),
      });
      const at = new Date().toISOString();
      const dataVersion = result.dataVersion ?? derivedDataVersion(a.codeVersion ?? `run:${input.runId}`, inputs);
      const partitionKeys = partitions?.context?.keys ?? [null];
      // One event per partition (a range run writes one for each of its keys); keyed so a retry updates them.
      // A write that a blocking check rejected published nothing: it has check events but no materialization.
      for (const partition of result.published ? partitionKeys : []) {
        await deps.catalog.recordAssetEvent({
          eventKey: runEventKey('materialization', input.runId, a.key, partition),
          type: 'materialization',
          source: 'run',
          runId: input.runId,
          assetKey: a.key,
          partition,
          attempt,
          metadata: result.metadata,
          ...(a.codeVersion !== undefined ? { codeVersion: a.codeVersion } : {}),
          dataVersion,
          inputDataVersions: inputs,
          at,
          codeLocation: deps.location.name,
        });
      }
      await recordCheckEvaluations(deps, input.runId, a.key, partitionKeys, attempt, result.checks, at);
      await deps.catalog.appendLogs(input.runId, a.key, attempt, result.logs);
      const blocking = result.checks.find(blocks);
      const outcome = blocking === undefined ? undefined : {
        key: a.key,
        status: result.published ? ('materialized' as const) : ('failed' as const),
        failedCheck: blocking.name,
        ...(result.published ? {} : { error: `blocking check ${blocking.name} failed${blocking.description ? ` (${blocking.description})` : ''}; the output was not published${result.staged ? ` and is kept as ${result.staged.id} (cairn wap list)` : ''}` }),
      };
      return { assetKey: a.key, metadata: smallMetadata(result.metadata), durationMs: result.durationMs, ...(outcome ? { assets: [outcome] } : {}) };
    } catch (err) {
      if (err instanceof StepError) {
        await deps.catalog.appendLogs(input.runId, a.key, attempt, err.logs).catch(() => undefined);
        throw toStepFailure(a.key, err.original);
      }
      throw toStepFailure(a.key, err);
    }
  };
  const schedules = new Map((deps.location.schedules ?? []).map((s) => [s.name, s]));
  const redactor = deps.redactor;
  return {
    evaluateSensor: sensorEvaluation(deps.location, deps.resources, deps.catalog, deps.echo),
    async schedulePartition({ schedule: name, tick }) {
      const s = schedules.get(name);
      if (!s || typeof s.partition !== 'function') {
        throw ApplicationFailure.nonRetryable(`schedule '${name}' of code location '${deps.location.name}' has no partition function; restart its worker so the schedules match the code`, 'UNKNOWN_SCHEDULE');
      }
      const key = s.partition(new Date(tick));
      if (typeof key !== 'string' || key === '') {
        throw ApplicationFailure.nonRetryable(`schedule '${name}': its partition function returned ${JSON.stringify(key)} for tick ${tick}; it must return a partition key string`, 'INVALID_PARTITION');
      }
      return key;
    },
    async materializeStep(input: StepInput): Promise<StepOutput> {
      if (!redactor?.active) return step(input);
      try {
        return redactor.value(await step(input));
      } catch (err) {
        throw redactedFailure(err, redactor);
      }
    },
  };
}

/** The failure with secret values removed from its message, stack and cause chain (it goes into workflow history). */
function redactedFailure(err: unknown, redactor: Redactor): unknown {
  if (!(err instanceof ApplicationFailure)) return err;
  const copy = new ApplicationFailure(redactor.text(err.message), err.type, err.nonRetryable, err.details ? redactor.value([...err.details]) : undefined, undefined, err.nextRetryDelay, err.category);
  if (err.stack) copy.stack = redactor.text(err.stack);
  return copy;
}
