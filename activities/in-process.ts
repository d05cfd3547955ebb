import { randomUUID } from 'node:crypto';
import type { AssetDefinition } from '../definitions/asset';
import type { Metadata } from '../definitions/metadata';
import { codeLocation, isCodeLocation, type CodeLocationDefinition } from '../definitions/code-location';
import { CairnError, CairnErrors, ErrorCodes } from '../definitions/errors';
import { downstreamSteps, graphFromSnapshots, planRun } from '../definitions/plan';
import { locationSnapshot } from '../definitions/to-snapshot';
import { validateLocation } from '../definitions/validate';
import { executeStep, StepError } from './execute-step';
import { checkRunPartition } from '../definitions/backfill-plan';
import { resolveStepPartitions } from '../definitions/partitions/inputs';
import type { IOManager } from './io-manager';
import { locationIOManager } from './location-io';
import { initResources } from './resources';
import { blocks } from './run-checks';
import type { RunSummary, StepReport } from './types';
import type { CheckEvaluation } from './run-checks';

export interface InProcessOptions {
  resources?: Record<string, unknown>;
  /** Default `*`. */
  selection?: string;
  /** Run config per asset key. */
  config?: Record<string, unknown>;
  /** Where values go: an IO manager, else DuckDB tables (in memory unless `warehousePath` is given). */
  io?: IOManager;
  warehousePath?: string;
  /** Run the (partitioned) assets for this partition key; dynamic keys for `dynamicPartitions` by name. */
  partition?: string;
  dynamicKeys?: Record<string, string[]>;
}

export interface InProcessResult extends RunSummary {
  /** Per step: the report, the stored metadata and the check evaluations. */
  assets: (StepReport & { metadata?: Metadata; checks?: CheckEvaluation[] })[];
}

/**
 * Runs assets in this process with the same step code as a worker, without Temporal: for users' own tests.
 * Steps run one at a time in topological order; a failed step skips its downstream.
 * @example
 * const result = await materializeInProcess([orders, revenue], { resources: { warehouse: duckdb({ path: ':memory:' }) } });
 * assert.equal(result.status, 'succeeded');
 */
export async function materializeInProcess(assets: readonly AssetDefinition<any>[] | CodeLocationDefinition, opts: InProcessOptions = {}): Promise<InProcessResult> {
  const location = isCodeLocation(assets)
    ? codeLocation({ name: assets.name, assets: [...assets.assets.filter((a) => a.multiAsset === undefined), ...(assets.multiAssets ?? [])], resources: { ...assets.resources, ...(opts.resources ?? {}) } })
    : codeLocation({ name: 'in-process', assets, resources: opts.resources ?? {} });
  const problems = validateLocation(location, 'materializeInProcess');
  if (problems.length > 0) throw new CairnErrors(problems);
  const snapshot = locationSnapshot(location);
  const plan = planRun([snapshot], opts.selection ?? '*');
  const byKey = new Map(location.assets.map((a) => [a.key, a]));
  const now = new Date();
  const graph = graphFromSnapshots([snapshot]);
  checkRunPartition(plan.steps.map((s) => graph.node(s.key)), opts.partition, { now, ...(opts.dynamicKeys ? { dynamicKeys: opts.dynamicKeys } : {}) });
  const upstreamDefs = new Map(location.assets.map((a) => [a.key, a.partitions]));

  const built = await initResources(location);
  const given = opts.io;
  const { ioFor, owned } = given ? { ioFor: () => given, owned: undefined } : locationIOManager(location, opts.warehousePath ?? ':memory:', built.resources);
  const runId = `in-process-${randomUUID()}`;
  const reports: InProcessResult['assets'] = plan.steps.map((s) => ({ key: s.key, status: 'skipped' }));
  const done = new Set<number>();
  const skip = (from: number, error: string): void => {
    for (const d of downstreamSteps(plan, from)) {
      if (done.has(d)) continue;
      done.add(d);
      reports[d] = { key: plan.steps[d]?.key ?? '', status: 'skipped', error };
    }
  };
  try {
    for (const [i, step] of plan.steps.entries()) {
      if (done.has(i)) continue;
      done.add(i);
      const a = byKey.get(step.key) as AssetDefinition<any>;
      try {
        if (a.multiAsset !== undefined) {
          throw new CairnError(ErrorCodes.InvalidDefinition, `asset '${a.key}' is built by '${a.multiAsset}', which materializeInProcess does not run; run it through a worker (\`cairn dev\`, \`cairn materialize\`) or leave it out of the selection`, a.key);
        }
        const partitions = opts.partition === undefined ? undefined : resolveStepPartitions(a, { keys: [opts.partition], range: false }, upstreamDefs, { now, ...(opts.dynamicKeys ? { dynamicKeys: opts.dynamicKeys } : {}) });
        const result = await executeStep(a, { ...(partitions ? { partitions } : {}), runId, attempt: 1, config: opts.config?.[step.key], resources: built.resources, io: ioFor(a.key), ioFor, signal: new AbortController().signal, heartbeat: () => undefined });
        const blocking = result.checks.find(blocks);
        reports[i] = { key: step.key, status: result.published ? 'materialized' : 'failed', metadata: result.metadata, checks: result.checks, ...(blocking ? { failedCheck: blocking.name } : {}) };
        if (blocking) skip(i, `skipped: blocked by check ${blocking.name} of '${step.key}'`);
      } catch (err) {
        const message = err instanceof StepError ? err.message : String(err);
        reports[i] = { key: step.key, status: 'failed', error: message };
        skip(i, `skipped: upstream '${step.key}' failed`);
      }
    }
  } finally {
    await owned?.close();
    await built.dispose();
  }
  const failed = reports.some((r) => r.status === 'failed' || r.failedCheck !== undefined);
  return { runId, workflowId: '', status: failed ? 'failed' : 'succeeded', assets: reports };
}
