/**
 * The automation workflow (`cairn/automation`, one per workspace): sleeps until a signal says assets changed (a
 * finished run, a reported event, a sensor) or a cron condition's next tick comes, then evaluates every automated
 * asset over the catalog, records each decision, and starts the requested runs with deterministic ids. Signals
 * that arrive during an evaluation are folded into the next one. It continues as new now and then.
 */
import * as wf from '@temporalio/workflow';
import type { OrchestratorActivities } from '../activities/types';
import { ORCHESTRATOR_TASK_QUEUE } from '../definitions/plan-types';
import { failureMessage } from './failures';
import type { MaterializeAssetsInput } from './materialize-assets';
import { automationStatusQuery, automationWakeSignal, stopAutomationSignal, type AutomationTick, type AutomationView } from './messages';

export interface AutomationInput {
  /** Names this automation's evaluations and runs; set at first start, carried across continue-as-new. */
  chain?: string;
  activeSince?: string;
  evaluations?: number;
  /** Keys and sources signalled but not evaluated yet (carried across continue-as-new). */
  pending?: { keys: string[]; sources: string[] };
  ticks?: AutomationTick[];
  nextWakeAt?: string;
  /** Evaluations per execution before continuing as new; default 100. */
  evaluationsPerExecution?: number;
}

const KEPT_TICKS = 20;
const EVALUATIONS_PER_EXECUTION = 100;
const HISTORY_BYTES_LIMIT = 4 * 1024 * 1024;
/** With no cron tick ahead, evaluate at least this often anyway (a wake may have been missed). */
const IDLE_WAKE_MS = 15 * 60 * 1000;
const PRUNE_EVERY = 50;

const orchestrator = wf.proxyActivities<OrchestratorActivities>({ startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 5, initialInterval: '500ms' } });

export async function automation(input: AutomationInput = {}): Promise<void> {
  const chain = input.chain ?? `${Date.now().toString(36)}`;
  const activeSince = input.activeSince ?? new Date().toISOString();
  let evaluations = input.evaluations ?? 0;
  let ticks = input.ticks ?? [];
  let nextWakeAt = input.nextWakeAt;
  const changed = new Set(input.pending?.keys ?? []);
  const sources = new Set(input.pending?.sources ?? ['start']);
  let dirty = true;
  let stopping = false;

  wf.setHandler(automationWakeSignal, ({ keys, source }) => {
    for (const k of keys) changed.add(k);
    sources.add(source);
    dirty = true;
  });
  wf.setHandler(stopAutomationSignal, () => {
    stopping = true;
  });
  wf.setHandler(automationStatusQuery, (): AutomationView => ({ activeSince, evaluations, ...(nextWakeAt ? { nextWakeAt } : {}), stopping, ticks }));

  const perExecution = input.evaluationsPerExecution ?? EVALUATIONS_PER_EXECUTION;
  for (let n = 0; n < perExecution; n++) {
    if (!dirty) {
      const wait = nextWakeAt ? Date.parse(nextWakeAt) - Date.now() : IDLE_WAKE_MS;
      // A tick that is already due needs no timer.
      if (wait > 0) await wf.condition(() => dirty || stopping, Math.min(wait, IDLE_WAKE_MS));
    }
    if (stopping) return;
    dirty = false;
    const evaluationId = `${chain}-${evaluations}`;
    const started = Date.now();
    const tick: AutomationTick = {
      evaluationId, at: new Date(started).toISOString(), sources: [...sources].slice(0, 10), changed: [...changed].slice(0, 20),
      evaluated: 0, requested: 0, runs: [], problems: [], durationMs: 0,
    };
    changed.clear();
    sources.clear();
    try {
      const out = await orchestrator.evaluateAutomation({ evaluationId, activeSince });
      nextWakeAt = out.nextWakeAt;
      tick.evaluated = out.evaluated;
      tick.requested = out.records.filter((r) => r.requested).length;
      tick.problems = out.problems.slice(0, 10);
      // Recorded and started together: the ids are fixed, so a replay starts the same runs.
      await Promise.all([
        out.records.length > 0 ? orchestrator.recordAutomation({ records: out.records, prune: evaluations % PRUNE_EVERY === 0 }) : Promise.resolve(),
        ...out.runs.map(async (run) => {
          const runInput: MaterializeAssetsInput = { selection: run.selection, trigger: 'automation', tags: { 'cairn/automation': evaluationId }, ...(run.partition !== undefined ? { partition: run.partition } : {}) };
          try {
            await wf.startChild('materializeAssets', { workflowId: run.workflowId, taskQueue: ORCHESTRATOR_TASK_QUEUE, args: [runInput], parentClosePolicy: 'ABANDON', workflowIdReusePolicy: 'REJECT_DUPLICATE' });
            tick.runs.push(run.workflowId);
          } catch (err) {
            if (!(err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError')) throw err;
            tick.runs.push(run.workflowId);
          }
        }),
      ]);
    } catch (err) {
      tick.error = failureMessage(err);
      // Try again soon rather than wait for the next signal.
      nextWakeAt = new Date(Date.now() + 5000).toISOString();
    }
    tick.durationMs = Date.now() - started;
    evaluations++;
    ticks = [...ticks, tick].slice(-KEPT_TICKS);
    const now = wf.workflowInfo();
    if (now.historySize >= HISTORY_BYTES_LIMIT || now.continueAsNewSuggested) break;
  }
  await wf.condition(wf.allHandlersFinished);
  if (stopping) return;
  await wf.continueAsNew<typeof automation>({
    ...input, chain, activeSince, evaluations, ticks, ...(nextWakeAt ? { nextWakeAt } : {}),
    pending: { keys: [...changed], sources: [...sources] },
  });
}
