/**
 * Runs a multi-asset step (one `dbt build` for several assets) inside the location activity: every outcome the
 * step reports is recorded in the catalog at once, keyed like a single step's events, so a retried activity
 * updates the same rows; the activity returns each asset's outcome to the workflow.
 */
import { ApplicationFailure, type Context } from '@temporalio/activity';
import type { AssetDefinition, StepLogger } from '../definitions/asset';
import { normalizeMetadata } from '../definitions/metadata';
import type { MultiAssetDefinition, MultiStepContext } from '../definitions/multi-asset';
import { resolveStepPartitions } from '../definitions/partitions/inputs';
import { derivedDataVersion } from '../definitions/staleness';
import { runEventKey, type LogLine } from './catalog/catalog-store';
import { dynamicKeysFor } from './dynamic-keys';
import { collectingLogger } from './step-logger';
import type { LocationActivityDeps } from './location-activities';
import { inputDataVersions, toStepFailure } from './location-activities';
import type { AssetOutcome, StepInput, StepOutput } from './types';

const HEARTBEAT_EVERY_MS = 5000;

/** Log lines per asset (and for the step itself, under the multi-asset's name), flushed while the step runs. */
class StepLogs {
  private readonly lines = new Map<string, LogLine[]>();
  private readonly flushed = new Map<string, number>();

  constructor(private readonly deps: LocationActivityDeps, private readonly runId: string, private readonly attempt: number) {}

  logger(key: string): StepLogger {
    const list = this.lines.get(key) ?? [];
    this.lines.set(key, list);
    return collectingLogger(list, (line) => this.deps.echo?.(line, key));
  }

  async flush(): Promise<void> {
    for (const [key, list] of this.lines) {
      const from = this.flushed.get(key) ?? 0;
      if (from >= list.length) continue;
      this.flushed.set(key, list.length);
      try {
        await this.deps.catalog.appendLogs(this.runId, key, this.attempt, list.slice(from));
      } catch {
        this.flushed.set(key, from); // written again next time (rows are keyed by seq)
      }
    }
  }
}

export async function runMultiStep(deps: LocationActivityDeps, m: MultiAssetDefinition, input: StepInput, actx: Context): Promise<StepOutput> {
  const started = Date.now();
  const members = new Map<string, AssetDefinition>(m.assets.filter((a) => a.multiAsset === m.name).map((a) => [a.key, a]));
  const keys = input.assetKeys ?? [input.assetKey];
  const unknown = keys.filter((k) => !members.has(k));
  if (unknown.length > 0) {
    throw ApplicationFailure.nonRetryable(`assets ${unknown.map((k) => `'${k}'`).join(', ')} are not produced by '${m.name}' in code location '${deps.location.name}'; restart its worker so the published definitions match the code`, 'UNKNOWN_ASSET');
  }
  const attempt = actx.info.attempt;
  const logs = new StepLogs(deps, input.runId, attempt);
  const stepLog = logs.logger(input.stepId ?? m.name);
  const outcomes = new Map<string, AssetOutcome>();
  const blockedBy = new Map<string, string>();
  const consumed = new Map<string, Record<string, string | null>>();
  const checks = new Map(m.checks.map((c) => [`${c.asset}\u0000${c.name}`, c]));

  const first = members.get(keys[0] as string) as AssetDefinition;
  let partitionKeys: (string | null)[] = [null];
  let partition: MultiStepContext['partition'];
  if (first.partitions || input.partition) {
    const dynamicKeys = await dynamicKeysFor(deps.catalog, [first.partitions]);
    const resolved = resolveStepPartitions(first, input.partition && { keys: input.partition.keys, range: input.partition.range ?? false }, new Map(), { now: new Date(), dynamicKeys });
    partition = resolved?.context;
    if (partition) partitionKeys = [...partition.keys];
  }

  const ctx: MultiStepContext = {
    runId: input.runId,
    attempt,
    assetKeys: keys,
    log: stepLog,
    assetLog: (key) => logs.logger(key),
    resources: deps.resources,
    signal: actx.cancellationSignal,
    heartbeat: (details) => actx.heartbeat(details),
    partition,
    checksOnly: input.checksOnly === true,
    async materialized(key, result = {}) {
      const a = members.get(key);
      if (!a) throw new Error(`'${m.name}' reported asset '${key}', which it does not produce`);
      if (input.checksOnly) throw new Error(`'${m.name}' reported a materialization of '${key}' in a checks-only run, which must build nothing`);
      // A second report of the same asset (the final record after the streamed one) keeps the input versions
      // read the first time: those are what the build consumed.
      const inputs = consumed.get(key) ?? (await inputDataVersions(deps.catalog, a.deps));
      consumed.set(key, inputs);
      const dataVersion = result.dataVersion ?? derivedDataVersion(a.codeVersion ?? `run:${input.runId}`, inputs);
      const metadata = normalizeMetadata(result.metadata, `asset '${key}'`);
      const at = new Date().toISOString();
      for (const p of partitionKeys) {
        await deps.catalog.recordAssetEvent({
          eventKey: runEventKey('materialization', input.runId, key, p),
          type: 'materialization', source: 'run', runId: input.runId, assetKey: key, partition: p, attempt, metadata,
          ...(a.codeVersion !== undefined ? { codeVersion: a.codeVersion } : {}),
          dataVersion, inputDataVersions: inputs, at, codeLocation: deps.location.name,
        });
      }
      outcomes.set(key, { key, status: 'materialized' });
    },
    failed(key, error) {
      outcomes.set(key, { key, status: 'failed', error });
    },
    skipped(key, reason) {
      if (outcomes.get(key)?.status !== 'failed') outcomes.set(key, { key, status: 'skipped', error: reason });
    },
    async checkEvaluated(r) {
      const spec = checks.get(`${r.asset}\u0000${r.name}`);
      const metadata = normalizeMetadata(r.metadata, `check '${r.name}' of asset '${r.asset}'`);
      const at = new Date().toISOString();
      for (const p of partitionKeys) {
        await deps.catalog.recordAssetEvent({
          eventKey: runEventKey('check_evaluation', input.runId, r.asset, p, r.name),
          type: 'check_evaluation', source: 'run', runId: input.runId, assetKey: r.asset, partition: p, attempt, metadata, at,
          codeLocation: deps.location.name,
          check: { name: r.name, passed: r.passed, severity: r.severity, ...(r.description ? { description: r.description } : {}) },
        });
      }
      if (!r.passed && r.severity === 'ERROR' && spec?.blocking) blockedBy.set(r.asset, r.name);
    },
  };

  const timer = setInterval(() => {
    actx.heartbeat();
    void logs.flush();
  }, HEARTBEAT_EVERY_MS);
  try {
    await m.execute(ctx);
  } catch (err) {
    stepLog.error(err instanceof Error ? err.message : String(err));
    throw toStepFailure(m.name, err);
  } finally {
    clearInterval(timer);
    await logs.flush();
  }
  const assets = keys.map((key): AssetOutcome => {
    const o = outcomes.get(key) ?? (input.checksOnly ? { key, status: 'materialized' as const } : { key, status: 'failed' as const, error: `'${m.name}' finished without reporting this asset` });
    const check = blockedBy.get(key);
    return o.status === 'materialized' && check !== undefined ? { ...o, failedCheck: check } : o;
  });
  return { assetKey: keys[0] as string, metadata: {}, durationMs: Date.now() - started, assets };
}
