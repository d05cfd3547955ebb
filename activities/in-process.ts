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
import type { RunSummary, StepReport } from './types';

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
  assets: (StepReport & { metadata?: Metadata })[];
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

  const { io, owned } = opts.io ? { io: opts.io, owned: undefined } : locationIOManager(location, opts.warehousePath ?? ':memory:');
  const runId = `in-process-${randomUUID()}`;
  const reports: InProcessResult['assets'] = plan.steps.map((s) => ({ key: s.key, status: 'skipped' }));
  const done = new Set<number>();
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
        const result = await executeStep(a, { ...(partitions ? { partitions } : {}), runId, attempt: 1, config: opts.config?.[step.key], resources: location.resources as Record<string, unknown>, io, signal: new AbortController().signal, heartbeat: () => undefined });
        reports[i] = { key: step.key, status: 'materialized', metadata: result.metadata };
      } catch (err) {
        const message = err instanceof StepError ? err.message : String(err);
        reports[i] = { key: step.key, status: 'failed', error: message };
        for (const d of downstreamSteps(plan, i)) {
          if (!done.has(d)) {
            done.add(d);
            reports[d] = { key: plan.steps[d]?.key ?? '', status: 'skipped', error: `skipped: upstream '${step.key}' failed` };
          }
        }
      }
    }
  } finally {
    await owned?.close();
  }
  return { runId, workflowId: '', status: reports.some((r) => r.status === 'failed') ? 'failed' : 'succeeded', assets: reports };
}
