/**
 * Check evaluations in the location activity: recording them in the catalog (keyed per run, asset, partition
 * and check, so a retried activity updates its rows), and the checks-only step of
 * `cairn materialize --checks-only`, which evaluates an asset's checks against its published value.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { AssetDefinition } from '../definitions/asset';
import type { StepPartitions } from '../definitions/partitions/inputs';
import { runEventKey, type LogLine } from './catalog/catalog-store';
import { storedValueOf } from './execute-step';
import type { LocationActivityDeps } from './location-activities';
import { blocks, runChecks, type CheckEvaluation } from './run-checks';
import { collectingLogger } from './step-logger';
import type { StepInput, StepOutput } from './types';

export async function recordCheckEvaluations(
  deps: LocationActivityDeps,
  runId: string,
  assetKey: string,
  partitionKeys: readonly (string | null)[],
  attempt: number,
  evaluations: readonly CheckEvaluation[],
  at: string,
): Promise<void> {
  for (const e of evaluations) {
    for (const partition of partitionKeys) {
      await deps.catalog.recordAssetEvent({
        eventKey: runEventKey('check_evaluation', runId, assetKey, partition, e.name),
        type: 'check_evaluation', source: 'run', runId, assetKey, partition, attempt, at,
        metadata: { ...e.metadata, blocking: { type: 'bool', value: e.blocking } },
        codeLocation: deps.location.name,
        check: { name: e.name, passed: e.passed, severity: e.severity, ...(e.description !== undefined ? { description: e.description } : {}) },
      });
    }
  }
}

/** Evaluates `a`'s checks against its published value (of the run's partitions) and records them; nothing is written. */
export async function runChecksOnly(deps: LocationActivityDeps, a: AssetDefinition<any>, input: StepInput, attempt: number, partitions: StepPartitions | undefined, signal: AbortSignal): Promise<StepOutput> {
  const started = Date.now();
  const checks = a.checks ?? [];
  const io = deps.ioFor?.(a.key) ?? deps.io;
  const keys = partitions?.context?.keys;
  const lines: LogLine[] = [];
  const log = collectingLogger(lines, (line) => deps.echo?.(line, a.key));
  let value;
  try {
    value = io.loadStored ? await io.loadStored(a.key, keys) : storedValueOf(io, a.key, keys);
  } catch (err) {
    if (err instanceof Error && err.name === 'AssetNotMaterializedError') {
      throw ApplicationFailure.nonRetryable(`asset '${a.key}' has no stored value to check: ${err.message}; materialize it first`, 'AssetNotMaterializedError');
    }
    throw err;
  }
  const evaluations = await runChecks(checks, value, { runId: input.runId, assetKey: a.key, partition: partitions?.context, log, resources: deps.resources, signal });
  const passed = evaluations.filter((e) => e.passed).length;
  log.info(`checks only: ${passed} of ${evaluations.length} checks passed`);
  await recordCheckEvaluations(deps, input.runId, a.key, keys ?? [null], attempt, evaluations, new Date().toISOString());
  await deps.catalog.appendLogs(input.runId, a.key, attempt, lines);
  const blocking = evaluations.find(blocks);
  return {
    assetKey: a.key,
    metadata: { checks_passed: { type: 'number', value: passed }, checks_failed: { type: 'number', value: evaluations.length - passed } },
    durationMs: Date.now() - started,
    ...(blocking ? { assets: [{ key: a.key, status: 'failed' as const, failedCheck: blocking.name, error: `blocking check ${blocking.name} failed${blocking.description ? ` (${blocking.description})` : ''}` }] } : {}),
  };
}
