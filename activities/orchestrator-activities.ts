import { ApplicationFailure, Context } from '@temporalio/activity';
import { evaluateAutomationOnce, recordAutomationDecisions, wakeAutomation } from './automation-activities';
import { CairnError, ErrorCodes } from '../definitions/errors';
import { graphFromSnapshots, planRun, type RunPlan } from '../definitions/plan';
import { backfillAssets, checkRunPartition, planBackfill, resolveBackfillTargets, type BackfillPlan } from '../definitions/backfill-plan';
import type { PartitionKeysOptions } from '../definitions/partitions/keys';
import { partitionKeys } from '../definitions/partitions/keys';
import { quote } from '../definitions/selection/tokenize';
import type { JobSnapshot, LocationSnapshot } from '../definitions/snapshot';
import type { GraphNode } from '../definitions/graph';
import { assetStates } from './asset-states';
import { applySensorResult } from './sensor-activities';
import { dynamicKeysFor } from './dynamic-keys';
import type { CatalogStore } from './catalog/catalog-store';
import type { OrchestratorActivities, PlanBackfillInput, PlannedRun, PlanRunInput } from './types';

/** `now` and the current keys of every dynamic partitions definition the snapshots use. */
async function partitionOptions(catalog: CatalogStore, snapshots: readonly LocationSnapshot[]): Promise<PartitionKeysOptions> {
  return { now: new Date(), dynamicKeys: await dynamicKeysFor(catalog, snapshots.flatMap((s) => s.assets.map((a) => a.partitions))) };
}

/**
 * Plans a backfill: the selection's partitioned assets and the partitions each one runs (a range, keys, or
 * those the catalog has as missing or failed), grouped into child runs by {@link planBackfill}.
 */
export async function planBackfillFromCatalog(catalog: CatalogStore, input: PlanBackfillInput): Promise<BackfillPlan> {
  const snapshots = await catalog.getSnapshots();
  if (snapshots.length === 0) throw new CairnError(ErrorCodes.NoSnapshots, 'no code location has published its definitions yet: start the workers (`cairn dev`) before backfilling');
  const options = await partitionOptions(catalog, snapshots);
  const { nodes } = backfillAssets(snapshots, input.selection);
  let targets: Map<string, string[]>;
  if (input.partitions === 'missing' || input.partitions === 'failed') {
    const mode = input.partitions;
    targets = new Map();
    for (const n of nodes) {
      if (!n.partitions) continue;
      const states = await catalog.partitionStates(n.key);
      const keys = partitionKeys(n.partitions, options).filter((k) => (mode === 'failed' ? states.get(k)?.status === 'failed' : !states.has(k)));
      if (keys.length > 0) targets.set(n.key, keys);
    }
    if (targets.size === 0) throw new CairnError(ErrorCodes.InvalidPartition, `no selected asset has ${mode} partitions; nothing to backfill`);
  } else {
    targets = resolveBackfillTargets(nodes, input.partitions, options);
  }
  // Unpartitioned assets re-run only with an explicit range or key list, not for missing/failed partitions.
  const selected = typeof input.partitions === 'string' ? nodes.filter((n) => n.partitions) : nodes;
  const selection = selected.length === nodes.length ? input.selection : selected.map((n) => quote(n.key)).join(' or ');
  return planBackfill(snapshots, selection, targets, input.policy, options);
}

export interface OrchestratorActivityDeps {
  catalog: CatalogStore;
  /** Whether Cairn's search attributes are registered on the namespace (see `workers/search-attributes.ts`). */
  searchAttributes?: boolean;
}

/**
 * Plans a run over the published snapshots: a selection, optionally narrowed to stale assets, or a
 * re-execution of an earlier run (its failed and skipped steps, or all of them). Pure apart from catalog reads.
 * Throws CairnError for bad input (unknown run, nothing to re-execute, a bad selection).
 */
export async function planFromCatalog(catalog: CatalogStore, input: PlanRunInput): Promise<Omit<PlannedRun, 'searchAttributes'>> {
  const snapshots = await catalog.getSnapshots();
  if (input.reexecute) {
    const { runId, mode } = input.reexecute;
    const original = await catalog.getRun(runId);
    if (!original) throw new CairnError(ErrorCodes.UnknownRun, `no run '${runId}' in the catalog to re-execute (a run id is the Temporal run id of the run's first execution; \`cairn runs\` lists them)`, runId);
    if (original.status === 'running') throw new CairnError(ErrorCodes.InvalidReexecution, `run '${runId}' is still running; re-execute it after it has finished`, runId);
    const planned = new Set(await catalog.getRunAssets(runId));
    let only: Set<string> = planned;
    if (mode === 'from-failure') {
      const done = new Set((await catalog.runEvents(runId, ['materialization'])).map((e) => e.assetKey));
      only = new Set([...planned].filter((k) => !done.has(k)));
      if (only.size === 0) throw new CairnError(ErrorCodes.InvalidReexecution, `run '${runId}' has no failed or skipped steps to re-execute (it ${original.status}); use --all to run its whole selection again`, runId);
    }
    const plan = planRun(snapshots, original.selection, { only: (k) => only.has(k) });
    const missing = [...only].filter((k) => !plan.steps.some((s) => s.key === k));
    if (plan.steps.length === 0 || (mode === 'from-failure' && missing.length === only.size)) {
      throw new CairnError(ErrorCodes.InvalidReexecution, `none of the assets of run '${runId}' to re-execute exist in the current definitions (${[...only].slice(0, 5).join(', ')})`, runId);
    }
    // A one-partition run re-runs its partition (a range run's keys are not kept on the run record).
    const partition = original.partition !== undefined && !original.partition.includes('...') ? { partition: { keys: [original.partition] } } : {};
    return {
      plan,
      ...partition,
      selection: original.selection,
      ...(original.config ? { config: original.config } : {}),
      tags: original.tags,
      parentRunId: runId,
      rootRunId: original.rootRunId ?? runId,
    };
  }
  const job = input.job === undefined ? undefined : findJob(snapshots, input.job);
  const selection = job?.selection ?? input.selection;
  if (typeof selection !== 'string') throw new CairnError(ErrorCodes.InvalidSelection, 'a selection is required');
  const inherited = job ? { ...(Object.keys(job.tags).length > 0 ? { tags: job.tags } : {}), ...(job.config ? { config: job.config } : {}) } : {};
  const full = input.checksOnly ? checksOnlyPlan(snapshots, selection) : planRun(snapshots, selection);
  const graph = graphFromSnapshots(snapshots);
  const options = await partitionOptions(catalog, snapshots);
  const nodes = full.steps.map((s) => graph.node(s.key));
  const partition = input.partition ?? (input.partitionAt !== undefined ? latestPartitionAt(nodes, input.partitionAt, options, selection) : undefined);
  checkRunPartition(nodes, partition, options);
  if (partition !== undefined) {
    if (input.staleOnly) throw new CairnError(ErrorCodes.InvalidArgument, 'staleOnly applies to unpartitioned assets; for partitions backfill the missing ones (`cairn backfill --partitions missing`)');
    return { plan: full, selection, ...inherited, partition: { keys: [partition] } };
  }
  if (!input.staleOnly) return { plan: full, selection, ...inherited };
  const states = await assetStates(catalog, graphFromSnapshots(snapshots), full.steps.map((s) => s.key));
  const needed = new Set(states.filter((s) => s.needsRun).map((s) => s.key));
  return { plan: planRun(snapshots, selection, { only: (k) => needed.has(k) }), selection, ...inherited };
}

/** A job of the published snapshots by name; an unknown name suggests the known ones. */
function findJob(snapshots: readonly LocationSnapshot[], name: string): JobSnapshot {
  const jobs = snapshots.flatMap((s) => s.jobs ?? []);
  const found = jobs.find((j) => j.name === name);
  if (!found) {
    const known = jobs.map((j) => j.name).sort();
    throw new CairnError(ErrorCodes.InvalidSelection, `no job named '${name}' in the published code locations${known.length > 0 ? ` (jobs: ${known.join(', ')})` : '; declare one with job({ name, selection }) in a code location'}`, name);
  }
  return found;
}

/** The key of the last partition window that ended at or before `at`, from the first partitioned step. */
function latestPartitionAt(nodes: readonly (GraphNode | undefined)[], at: string, options: Omit<PartitionKeysOptions, 'now'>, selection: string): string {
  const def = nodes.find((n) => n?.partitions !== undefined)?.partitions;
  if (!def) throw new CairnError(ErrorCodes.InvalidPartition, `a schedule with partition 'latest' needs partitioned assets, and '${selection}' selects none`);
  const keys = partitionKeys(def, { ...options, now: new Date(at) });
  const last = keys.at(-1);
  if (last === undefined) throw new CairnError(ErrorCodes.InvalidPartition, `no partition of '${selection}' has ended by ${at}`);
  return last;
}

/** The selection narrowed to assets with checks (TypeScript checks, or dbt tests run with `dbt test`). */
function checksOnlyPlan(snapshots: LocationSnapshot[], selection: string): RunPlan {
  const checked = new Set(snapshots.flatMap((s) => s.assets.filter((a) => (a.checks?.length ?? 0) > 0).map((a) => a.key)));
  const plan = planRun(snapshots, selection, { only: (k) => checked.has(k) });
  if (plan.steps.length === 0) {
    throw new CairnError(ErrorCodes.EmptySelection, `no asset selected by '${selection}' has checks to run; declare them with asset({ checks }) or codeLocation({ checks })`);
  }
  return plan;
}

/** The orchestrator's activities: planning over the published snapshots, and run records in the catalog. */
export function createOrchestratorActivities(deps: OrchestratorActivityDeps): OrchestratorActivities {
  const { catalog } = deps;
  return {
    async planRun(input) {
      try {
        return { ...(await planFromCatalog(catalog, input)), searchAttributes: deps.searchAttributes ?? false };
      } catch (err) {
        if (err instanceof CairnError) throw ApplicationFailure.nonRetryable(err.message, err.code);
        throw err;
      }
    },
    async applySensorResult(input) {
      return applySensorResult(catalog, input);
    },
    async evaluateAutomation(input) {
      return evaluateAutomationOnce(catalog, input);
    },
    async recordAutomation(input) {
      await recordAutomationDecisions(catalog, input);
    },
    async wakeAutomation(input) {
      return wakeAutomation(Context.current().client, catalog, input);
    },
    async planBackfill(input) {
      try {
        return { plan: await planBackfillFromCatalog(catalog, input), searchAttributes: deps.searchAttributes ?? false };
      } catch (err) {
        if (err instanceof CairnError) throw ApplicationFailure.nonRetryable(err.message, err.code);
        throw err;
      }
    },
    async recordRunStarted(run) {
      await catalog.recordRunStarted(run);
    },
    async recordRunFinished({ runId, summary, finishedAt }) {
      // A checks-only run wrote nothing: its steps are not materializations (its check events are in the log).
      if (!summary.checksOnly) await catalog.recordStepResults(summary.assets.map((a) => ({ runId, assetKey: a.key, status: a.status, ...(a.error !== undefined ? { error: a.error } : {}), attempt: a.attempt ?? 1, at: finishedAt })));
      const counts = { materialized: 0, failed: 0, skipped: 0 };
      for (const a of summary.assets) counts[a.status]++;
      await catalog.recordRunFinished(runId, summary.status, finishedAt, { workflowId: summary.workflowId, ...counts });
    },
  };
}
