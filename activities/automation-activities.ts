/**
 * The automation workflow's activities, on the orchestrator: evaluate every automated asset over the catalog
 * (a constant number of set-based reads, whatever the number of assets and partitions), record the decisions,
 * and wake the workflow (signal-with-start) when something changed.
 */
import type { Client } from '@temporalio/client';
import { automationWakeSignal } from '../workflows/messages';
import { automationTargets, evaluateAutomation, pairKey, type Mark } from '../definitions/automation-eval';
import { isAutomated } from '../definitions/automation';
import { quote } from '../definitions/selection/tokenize';
import type { LocationSnapshot } from '../definitions/snapshot';
import { ORCHESTRATOR_TASK_QUEUE } from '../definitions/plan-types';
import { dynamicKeysFor } from './dynamic-keys';
import type { AutomationEvaluationRecord, CatalogStore } from './catalog/catalog-store';

/** The automation workflow's id: one per workspace (namespace). */
export const AUTOMATION_WORKFLOW_ID = 'cairn/automation';
/** The catalog setting that `cairn automation stop` sets to `false`. */
export const AUTOMATION_ENABLED = 'automation.enabled';
/** Evaluations are kept this long (each pair's latest request is kept whatever its age). */
const KEEP_EVALUATIONS_MS = 7 * 24 * 3600 * 1000;

export interface EvaluateAutomationInput {
  evaluationId: string;
  /** When this automation was turned on: cron ticks before it never fire. */
  activeSince: string;
}

/** One run the evaluation asks for. */
export interface AutomationRunRequest {
  workflowId: string;
  selection: string;
  partition?: string;
  keys: string[];
}

export interface EvaluateAutomationOutput {
  at: string;
  runs: AutomationRunRequest[];
  records: AutomationEvaluationRecord[];
  /** Automated assets it could not evaluate, and why. */
  problems: string[];
  nextWakeAt?: string;
  /** Assets (or partitions) evaluated. */
  evaluated: number;
}

/** The workflow id of an automation run: deterministic in the evaluation and the run's place in it. */
export function automationRunId(evaluationId: string, index: number): string {
  return `${AUTOMATION_WORKFLOW_ID}/run/${evaluationId}-${index}`;
}

/** Evaluates every automated asset at `now`: reads the catalog, decides, and names the runs to start. */
export async function evaluateAutomationOnce(catalog: CatalogStore, input: EvaluateAutomationInput, now = new Date()): Promise<EvaluateAutomationOutput> {
  // The watermark first: anything recorded while we read is news to the next evaluation.
  const watermark = await catalog.eventWatermark();
  const snapshots = await catalog.getSnapshots();
  const options = { now, dynamicKeys: await dynamicKeysFor(catalog, snapshots.flatMap((s) => s.assets.map((a) => a.partitions))) };
  const planned = automationTargets(snapshots, options);
  const { targets, pairs, assets, problems } = planned;
  const at = now.toISOString();
  if (targets.length === 0) return { at, runs: [], records: [], problems: problems.map((p) => `${p.assetKey}: ${p.reason}`), evaluated: 0 };
  const [marks, statuses, requests] = await Promise.all([
    catalog.latestMaterializationsOf(pairs),
    catalog.assetStatuses(assets),
    catalog.lastAutomationRequests(targets.map((t) => ({ assetKey: t.assetKey, partition: t.partition }))),
  ]);
  const latestAnyPartition = new Map<string, Mark>();
  const inProgress = new Map<string, string>();
  for (const [key, s] of statuses) {
    if (s.lastMaterialization) latestAnyPartition.set(key, { id: s.lastMaterialization.id, at: s.lastMaterialization.at });
    if (s.inProgressRunId !== undefined) inProgress.set(key, s.inProgressRunId);
  }
  const outcome = evaluateAutomation(planned, {
    now, activeSince: new Date(input.activeSince), materializations: marks, latestAnyPartition, inProgress,
    lastRequests: new Map([...requests].map(([k, r]) => [k, { at: r.at, watermark: r.watermark }])),
  });
  const runs = outcome.runs.map((r, i): AutomationRunRequest => ({
    workflowId: automationRunId(input.evaluationId, i),
    selection: r.keys.map((k) => quote(k)).join(' or '),
    ...(r.partition !== null ? { partition: r.partition } : {}),
    keys: r.keys,
  }));
  const runOf = new Map(runs.flatMap((r) => r.keys.map((k) => [pairKey(k, r.partition ?? null), r.workflowId] as const)));
  const records = outcome.decisions.map((d): AutomationEvaluationRecord => {
    const run = d.requested ? runOf.get(pairKey(d.assetKey, d.partition)) : undefined;
    return { evaluationId: input.evaluationId, at, assetKey: d.assetKey, partition: d.partition, requested: d.requested, reason: d.reason, ...(run ? { runWorkflowId: run } : {}), watermark };
  });
  return {
    at, runs, records,
    problems: problems.map((p) => `${p.assetKey}: ${p.reason}`),
    ...(outcome.nextWakeAt ? { nextWakeAt: outcome.nextWakeAt } : {}),
    evaluated: targets.length,
  };
}

/** Whether any published asset has a condition that can request it. */
export function hasAutomation(snapshots: readonly LocationSnapshot[]): boolean {
  return snapshots.some((s) => s.assets.some((a) => isAutomated(a.automation)));
}

/** Whether automation is on and some published asset has a condition: only then is there anything to wake. */
export async function automationWanted(catalog: CatalogStore): Promise<boolean> {
  if ((await catalog.getSetting(AUTOMATION_ENABLED)) === 'false') return false;
  return hasAutomation(await catalog.getSnapshots());
}

export interface WakeAutomationInput {
  /** Asset keys that changed (materialized or reported). */
  keys: string[];
  /** What changed them: `run`, `report`, `sensor`, `worker-start`, ... */
  source: string;
}

/**
 * Wakes the automation workflow (starting it when it is not running), unless automation was stopped or no
 * asset has an automation condition. Returns whether it signalled.
 */
export async function wakeAutomation(client: Client, catalog: CatalogStore, input: WakeAutomationInput): Promise<boolean> {
  if (!(await automationWanted(catalog))) return false;
  await client.workflow.signalWithStart('automation', {
    workflowId: AUTOMATION_WORKFLOW_ID,
    taskQueue: ORCHESTRATOR_TASK_QUEUE,
    args: [{}],
    signal: automationWakeSignal,
    signalArgs: [{ keys: input.keys.slice(0, 200), source: input.source }],
  });
  return true;
}

/** Records an evaluation's decisions, and now and then forgets old ones. */
export async function recordAutomationDecisions(catalog: CatalogStore, input: { records: AutomationEvaluationRecord[]; prune: boolean }): Promise<void> {
  await catalog.recordAutomationEvaluations(input.records);
  if (input.prune) await catalog.pruneAutomationEvaluations(new Date(Date.now() - KEEP_EVALUATIONS_MS).toISOString());
}
