import { ApplicationFailure } from '@temporalio/activity';
import { CairnError } from '../definitions/errors';
import { planRun } from '../definitions/plan';
import type { CatalogStore } from './catalog/catalog-store';
import type { OrchestratorActivities } from './types';

/** The orchestrator's activities: planning over the published snapshots, and run records in the catalog. */
export function createOrchestratorActivities(deps: { catalog: CatalogStore }): OrchestratorActivities {
  const { catalog } = deps;
  return {
    async planRun({ selection }) {
      try {
        return planRun(await catalog.getSnapshots(), selection);
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
