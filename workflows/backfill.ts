import * as wf from '@temporalio/workflow';
import type { OrchestratorActivities } from '../activities/types';
import { unitLabel, type BackfillPartitions, type BackfillPlan, type BackfillRunPolicy } from '../definitions/backfill-types';
import { SEARCH_ATTRIBUTES } from '../definitions/search-attributes';
import { materializeAssets, type MaterializeAssetsInput } from './materialize-assets';
import { failureMessage, failureType } from './failures';
import { backfillProgressQuery, unitFinishedSignal, type BackfillProgress, type UnitStatus } from './messages';

export interface BackfillInput {
  /** A selection string, as for a run. */
  selection: string;
  /** `{"range": ["2024-01-01", "2024-03-31"]}`, `{"keys": ["eu", "us"]}`, `"missing"` or `"failed"`. */
  partitions: BackfillPartitions;
  /** `"perPartition"` (default) or `{"maxPartitionsPerRun": 7}`; an asset's own `backfillPolicy` wins. */
  policy?: BackfillRunPolicy;
  /** Child runs at once; default 10, at most 500. */
  maxConcurrency?: number;
  tags?: Record<string, string>;
  /** Continue as new when the history reaches this many events; default 10,000. */
  historyEventLimit?: number;
  /** Internal: carried across continue-as-new. */
  resume?: BackfillResume;
}

interface BackfillResume {
  plan: BackfillPlan;
  searchAttributes: boolean;
  /** One letter per unit: p(ending) r(unning) m (succeeded) f(ailed) s(kipped) c(anceled). */
  status: string;
  errors: Record<string, string>;
  generation: number;
}

export interface BackfillSummary {
  backfillId: string;
  status: 'succeeded' | 'failed' | 'canceled';
  total: number;
  counts: Record<UnitStatus, number>;
  /** The first 100 failed and skipped units; the counts have them all. */
  failed: { label: string; error: string }[];
  skipped: { label: string; reason: string }[];
}

const CODE: Record<UnitStatus, string> = { pending: 'p', running: 'r', succeeded: 'm', failed: 'f', skipped: 's', canceled: 'c' };
const FROM_CODE: Record<string, UnitStatus> = Object.fromEntries(Object.entries(CODE).map(([k, v]) => [v, k as UnitStatus]));
const DEFAULT_CONCURRENCY = 10;
const MAX_CONCURRENCY = 500;
const DEFAULT_EVENT_LIMIT = 10_000;
const LISTED = 100;

const orchestrator = wf.proxyActivities<OrchestratorActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 10, initialInterval: '500ms', nonRetryableErrorTypes: ['INVALID_SELECTION', 'EMPTY_SELECTION', 'NO_SNAPSHOTS', 'INVALID_PARTITION', 'INVALID_ARGUMENT', 'UNKNOWN_DEP', 'CYCLE'] },
});

function invalid(message: string): wf.ApplicationFailure {
  return wf.ApplicationFailure.nonRetryable(message, 'INVALID_INPUT');
}

function checkInput(input: BackfillInput): void {
  if (typeof input !== 'object' || input === null) throw invalid('backfill takes one object argument: {"selection": "...", "partitions": {"range": ["2024-01-01", "2024-01-31"]}}');
  if (input.resume) return;
  if (typeof input.selection !== 'string' || input.selection.trim() === '') throw invalid('input.selection must be a non-empty selection string');
  const p = input.partitions as unknown;
  const ok =
    p === 'missing' ||
    p === 'failed' ||
    (typeof p === 'object' && p !== null && Array.isArray((p as { range?: unknown }).range) && (p as { range: unknown[] }).range.length === 2 && (p as { range: unknown[] }).range.every((k) => typeof k === 'string' && k !== '')) ||
    (typeof p === 'object' && p !== null && Array.isArray((p as { keys?: unknown }).keys) && (p as { keys: unknown[] }).keys.length > 0 && (p as { keys: unknown[] }).keys.every((k) => typeof k === 'string' && k !== ''));
  if (!ok) throw invalid('input.partitions must be {"range": ["<from>", "<to>"]}, {"keys": ["<key>", ...]}, "missing" or "failed"');
  const pol = input.policy as unknown;
  if (pol !== undefined && pol !== 'perPartition' && !(typeof pol === 'object' && pol !== null && Number.isInteger((pol as { maxPartitionsPerRun?: unknown }).maxPartitionsPerRun) && (pol as { maxPartitionsPerRun: number }).maxPartitionsPerRun >= 1)) {
    throw invalid('input.policy must be "perPartition" or {"maxPartitionsPerRun": <n >= 1>}');
  }
  const c = input.maxConcurrency;
  if (c !== undefined && (!Number.isInteger(c) || c < 1 || c > MAX_CONCURRENCY)) throw invalid(`input.maxConcurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got ${String(c)}`);
  if (input.tags !== undefined && (typeof input.tags !== 'object' || input.tags === null || Object.values(input.tags).some((v) => typeof v !== 'string'))) {
    throw invalid('input.tags must be an object of string values');
  }
}

/**
 * A backfill: plans the partitions (an activity reads the snapshots and the catalog), then starts one child
 * `materializeAssets` run per unit of the plan, at most `maxConcurrency` at once, in dependency order. Child
 * ids are `<backfill id>/<partition or range>`, so a replayed or continued backfill never starts a partition
 * twice. Children are abandoned on close and report back by signal, so the backfill continues as new before its
 * history grows large and children of earlier generations still reach it. A failed unit skips the units that
 * depend on it; cancelling cancels the running children and starts nothing more.
 */
export async function backfill(input: BackfillInput): Promise<BackfillSummary> {
  checkInput(input);
  const info = wf.workflowInfo();
  const backfillId = info.workflowId;
  const maxConcurrency = input.maxConcurrency ?? DEFAULT_CONCURRENCY;
  const eventLimit = input.historyEventLimit ?? DEFAULT_EVENT_LIMIT;
  const generation = input.resume?.generation ?? 0;

  let plan: BackfillPlan | undefined = input.resume?.plan;
  let searchAttributes = input.resume?.searchAttributes ?? false;
  let status: UnitStatus[] = plan ? [...input.resume!.status].map((c) => FROM_CODE[c] ?? 'pending') : [];
  const errors = new Map<number, string>(Object.entries(input.resume?.errors ?? {}).map(([k, v]) => [Number(k), v]));
  let phase: BackfillProgress['phase'] = plan ? 'running' : 'planning';
  let changed = false;

  const count = (): Record<UnitStatus, number> => {
    const c: Record<UnitStatus, number> = { pending: 0, running: 0, succeeded: 0, failed: 0, skipped: 0, canceled: 0 };
    for (const s of status) c[s]++;
    return c;
  };
  const listed = (which: 'failed' | 'skipped') => listUnits(plan, status, errors, which);
  wf.setHandler(backfillProgressQuery, () => ({
    backfillId,
    selection: plan?.selection ?? input.selection,
    phase,
    total: plan?.units.length ?? 0,
    assetPartitions: plan?.assetPartitions ?? 0,
    counts: count(),
    failed: listed('failed'),
    skipped: listed('skipped').map(({ label, error }) => ({ label, reason: error })),
    running: status.flatMap((s, i) => (s === 'running' ? [unitLabel(plan!.units[i]!)] : [])).slice(0, LISTED),
    generation,
  }));

  // Children of this and earlier generations report here. A report for a unit that is not running is a duplicate.
  const dependents: number[][] = [];
  let remaining: number[] = [];
  const readyQueue: number[] = [];
  let running = 0;
  const skipDependents = (from: number): void => {
    const queue = [from];
    while (queue.length > 0) {
      for (const c of dependents[queue.pop()!] ?? []) {
        if (status[c] === 'pending') {
          status[c] = 'skipped';
          errors.set(c, `upstream run '${unitLabel(plan!.units[from]!)}' did not succeed`);
          queue.push(c);
        }
      }
    }
  };
  const finish = (unit: number, outcome: 'succeeded' | 'failed' | 'canceled', error?: string): void => {
    if (status[unit] !== 'running') return;
    status[unit] = outcome;
    running--;
    if (error) errors.set(unit, error);
    if (outcome === 'succeeded') {
      for (const c of dependents[unit] ?? []) if (--remaining[c]! === 0 && status[c] === 'pending') readyQueue.push(c);
    } else skipDependents(unit);
    changed = true;
  };
  /** Indexes the plan; registers the report handler only then, so buffered reports find the indexes ready. */
  const setup = (p: BackfillPlan): void => {
    p.units.forEach((u, i) => (u.deps ?? []).forEach((d) => (dependents[d] ??= []).push(i)));
    remaining = p.units.map((u) => (u.deps ?? []).filter((d) => status[d] !== 'succeeded').length);
    status.forEach((st, i) => {
      if (st === 'pending' && remaining[i] === 0) readyQueue.push(i);
      if (st === 'running') running++;
    });
    wf.setHandler(unitFinishedSignal, ({ unit, status: outcome, error }) => finish(unit, outcome, error));
  };
  if (plan) setup(plan);

  /** Units this generation started: one canceled while starting may have started on the server all the same. */
  const launched = new Set<number>();
  const childId = (i: number) => `${backfillId}/${unitLabel(plan!.units[i]!)}`;
  let starting = 0;
  try {
    if (!plan) {
      let planned: Awaited<ReturnType<OrchestratorActivities['planBackfill']>>;
      try {
        planned = await orchestrator.planBackfill({ selection: input.selection, partitions: input.partitions, policy: input.policy ?? 'perPartition' });
      } catch (err) {
        throw wf.ApplicationFailure.nonRetryable(failureMessage(err), failureType(err) ?? 'PLAN_FAILED');
      }
      plan = planned.plan;
      searchAttributes = planned.searchAttributes;
      status = plan.units.map(() => 'pending');
      if (searchAttributes) {
        wf.upsertSearchAttributes([
          { key: SEARCH_ATTRIBUTES.trigger, value: 'backfill' },
          { key: SEARCH_ATTRIBUTES.backfill, value: backfillId },
        ]);
      }
      setup(plan);
      phase = 'running';
    }
    const p = plan;
    let head = 0;

    const launch = (i: number): void => {
      const u = p.units[i]!;
      const group = p.groups[u.group]!;
      status[i] = 'running';
      launched.add(i);
      starting++;
      const args: MaterializeAssetsInput = {
        selection: group.plan.selection,
        trigger: 'backfill',
        ...(input.tags ? { tags: input.tags } : {}),
        prepared: {
          plan: group.plan,
          ...(u.keys.length > 0 ? { partition: { keys: u.keys, ...(u.range ? { range: true } : {}) } } : {}),
          backfillId,
          notify: { workflowId: backfillId, unit: i },
          searchAttributes,
        },
      };
      wf.startChild(materializeAssets, {
        workflowId: childId(i),
        args: [args],
        parentClosePolicy: 'ABANDON',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        staticSummary: `backfill ${backfillId}: ${group.assets.length} assets for ${unitLabel(u)}`,
      })
        .then((handle) => {
          // The signal is the report; the result also catches a child that ends without one (terminated).
          handle.result().then(
            () => finish(i, 'succeeded'),
            (err: unknown) => finish(i, wf.isCancellation(err) ? 'canceled' : 'failed', failureMessage(err)),
          );
        })
        .catch((err: unknown) => {
          if (wf.isCancellation(err)) finish(i, 'canceled', 'the backfill was canceled while the run was starting');
          else finish(i, 'failed', err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError' ? `a run with id '${childId(i)}' already exists (an earlier execution of this backfill started it); see \`cairn runs\`` : failureMessage(err));
        })
        .finally(() => {
          starting--;
          changed = true;
        });
    };

    let draining = false;
    for (;;) {
      while (!draining && running < maxConcurrency && head < readyQueue.length) {
        const i = readyQueue[head++]!;
        if (status[i] !== 'pending') continue;
        launch(i);
        running++;
      }
      if (running === 0 && starting === 0 && head >= readyQueue.length) break;
      if (draining && starting === 0) break;
      await wf.condition(() => changed);
      changed = false;
      const now = wf.workflowInfo();
      if (!draining && (now.historyLength >= eventLimit || now.continueAsNewSuggested)) draining = true;
    }

    if (status.includes('pending') || status.includes('running')) {
      // Continue as new: running children keep going (abandoned) and report to the next generation.
      await wf.condition(() => starting === 0);
      await wf.condition(wf.allHandlersFinished);
      phase = 'running';
      return await wf.continueAsNew<typeof backfill>({
        ...input,
        resume: { plan: p, searchAttributes, status: status.map((s) => CODE[s]).join(''), errors: Object.fromEntries(errors), generation: generation + 1 },
      });
    }
    phase = 'finished';
    const summary = summarize(backfillId, status, errors, p, count());
    if (summary.status === 'failed') {
      throw wf.ApplicationFailure.create({
        type: 'BACKFILL_FAILED',
        message: `${summary.counts.failed} of ${summary.total} runs failed (${summary.failed.slice(0, 5).map((f) => f.label).join(', ')}${summary.counts.failed > 5 ? ', ...' : ''}); ${summary.counts.skipped} skipped because an upstream run failed`,
        details: [summary],
        nonRetryable: true,
      });
    }
    return summary;
  } catch (err) {
    if (wf.isCancellation(err) && plan) {
      phase = 'canceling';
      await wf.CancellationScope.nonCancellable(async () => {
        await wf.condition(() => starting === 0, '1 minute');
        status = status.map((s) => (s === 'pending' ? 'canceled' : s));
        const toCancel = status.flatMap((s, i) => (s === 'running' || (s === 'canceled' && launched.has(i)) ? [i] : []));
        await Promise.all(toCancel.map((i) => wf.getExternalWorkflowHandle(childId(i)).cancel().catch(() => undefined)));
        // Wait for the children to report that they stopped (they record their runs as canceled first).
        await wf.condition(() => !status.includes('running'), '2 minutes');
        status = status.map((s) => (s === 'running' ? 'canceled' : s));
        phase = 'finished';
      });
    }
    throw err;
  }
}

/** The first {@link LISTED} units in state `which`, with their error (or skip reason). */
function listUnits(plan: BackfillPlan | undefined, status: readonly UnitStatus[], errors: ReadonlyMap<number, string>, which: UnitStatus): { label: string; error: string }[] {
  const out: { label: string; error: string }[] = [];
  for (let i = 0; i < status.length && out.length < LISTED; i++) if (status[i] === which) out.push({ label: unitLabel(plan!.units[i]!), error: errors.get(i) ?? '' });
  return out;
}

function summarize(backfillId: string, status: UnitStatus[], errors: Map<number, string>, plan: BackfillPlan, counts: Record<UnitStatus, number>): BackfillSummary {
  const pick = (which: UnitStatus) => listUnits(plan, status, errors, which);
  return {
    backfillId,
    status: counts.failed > 0 || counts.skipped > 0 ? 'failed' : counts.canceled > 0 ? 'canceled' : 'succeeded',
    total: plan.units.length,
    counts,
    failed: pick('failed'),
    skipped: pick('skipped').map(({ label, error }) => ({ label, reason: error })),
  };
}
