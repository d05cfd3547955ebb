import { ApplicationFailure } from '@temporalio/activity';
import { CairnError, ErrorCodes } from '../definitions/errors';
import { graphFromSnapshots, planRun } from '../definitions/plan';
import { assetStates } from './asset-states';
import type { CatalogStore } from './catalog/catalog-store';
import type { OrchestratorActivities, PlannedRun, PlanRunInput } from './types';

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
    return {
      plan,
      selection: original.selection,
      ...(original.config ? { config: original.config } : {}),
      tags: original.tags,
      parentRunId: runId,
      rootRunId: original.rootRunId ?? runId,
    };
  }
  if (typeof input.selection !== 'string') throw new CairnError(ErrorCodes.InvalidSelection, 'a selection is required');
  const full = planRun(snapshots, input.selection);
  if (!input.staleOnly) return { plan: full, selection: input.selection };
  const states = await assetStates(catalog, graphFromSnapshots(snapshots), full.steps.map((s) => s.key));
  const needed = new Set(states.filter((s) => s.needsRun).map((s) => s.key));
  return { plan: planRun(snapshots, input.selection, { only: (k) => needed.has(k) }), selection: input.selection };
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
    async recordRunStarted(run) {
      await catalog.recordRunStarted(run);
    },
    async recordRunFinished({ runId, summary, finishedAt }) {
      await catalog.recordStepResults(summary.assets.map((a) => ({ runId, assetKey: a.key, status: a.status, ...(a.error !== undefined ? { error: a.error } : {}), attempt: a.attempt ?? 1, at: finishedAt })));
      const counts = { materialized: 0, failed: 0, skipped: 0 };
      for (const a of summary.assets) counts[a.status]++;
      await catalog.recordRunFinished(runId, summary.status, finishedAt, { workflowId: summary.workflowId, ...counts });
    },
  };
}
