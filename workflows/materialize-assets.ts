import * as wf from '@temporalio/workflow';
import type { AssetOutcome, LocationActivities, OrchestratorActivities, PlannedRun, ReexecuteRequest, RunPartition, RunSummary, StepReport } from '../activities/types';
import { SEARCH_ATTRIBUTES } from '../definitions/search-attributes';
import { locationTaskQueue, partitionLabel, planChildren, type PlanGroup, type PlanStep, type RunPlan } from '../definitions/plan-types';
import { failureMessage, failureType } from './failures';
import { scheduledTick } from './scheduled-tick';
import { runStatusQuery, unitFinishedSignal, type LiveStepStatus, type RunStatusView, type UnitFinished } from './messages';

export interface MaterializeAssetsInput {
  /** A selection string (`*`, `group:marts`, `+marts/revenue`, ...); optional with `reexecute`. */
  selection?: string;
  /** What started the run (`cli`, `sdk`, `schedule`, ...); `manual` when absent (e.g. `temporal workflow start`). */
  trigger?: string;
  /** Run only the selected assets that are missing or stale. */
  staleOnly?: boolean;
  /** Evaluate the checks of the selected assets against their stored values, without materializing anything. */
  checksOnly?: boolean;
  /** Run a job (`job({ name, selection })`) by name instead of a selection: its selection, tags and config. */
  job?: string;
  /**
   * Set by a Temporal Schedule that Cairn created: which schedule, and how to pick the partition of the tick
   * (`latest`: the window that ended at the tick; `function`: the schedule's own function, in its location).
   */
  schedule?: ScheduleRef;
  /** Re-execute an earlier run: `{"runId": "...", "mode": "from-failure" | "all"}`. */
  reexecute?: ReexecuteRequest;
  tags?: Record<string, string>;
  /** Run config per asset key, validated in the worker against the asset's zod schema. */
  config?: Record<string, unknown>;
  /** Steps running at once; default 16, at most 500 (Temporal advises <= 500 pending activities). */
  maxConcurrency?: number;
  /** Continue as new when the history reaches this many events; default 10,000 (Temporal warns at 10,240). */
  historyEventLimit?: number;
  /** Run the selection for this partition key (every selected asset must be partitioned and have it). */
  partition?: string;
  /** Internal, set by a backfill: the plan, the partition keys, and whom to tell when the run ends. */
  prepared?: PreparedRun;
  /** Internal: carried across continue-as-new. */
  resume?: ResumeState;
}

export interface ScheduleRef {
  location: string;
  name: string;
  partition?: 'latest' | 'function';
}

/** A run prepared by a backfill: planned already, for one partition or a range of them. */
export interface PreparedRun {
  plan: RunPlan;
  partition?: RunPartition;
  backfillId: string;
  /** The backfill workflow to signal, and this run's unit in its plan. */
  notify: { workflowId: string; unit: number };
  searchAttributes: boolean;
}

interface ResumeState {
  runId: string;
  startedAt: string;
  plan: RunPlan;
  /** Config inherited from a re-executed run. */
  config?: Record<string, unknown>;
  partition?: RunPartition;
  /** One letter per step: p(ending) m(aterialized) f(ailed) s(kipped). */
  status: string;
  errors: Record<string, string>;
  /** Steps with a failed blocking check: index → the check's name. */
  checks?: Record<string, string>;
}

const CODE: Record<string, LiveStepStatus> = { p: 'pending', m: 'materialized', f: 'failed', s: 'skipped' };
const DEFAULT_CONCURRENCY = 16;
const MAX_CONCURRENCY = 500;
const DEFAULT_EVENT_LIMIT = 10_000;
const HISTORY_BYTES_LIMIT = 8 * 1024 * 1024;

const orchestrator = wf.proxyActivities<OrchestratorActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 10, initialInterval: '500ms', nonRetryableErrorTypes: ['INVALID_SELECTION', 'EMPTY_SELECTION', 'NO_SNAPSHOTS', 'UNKNOWN_DEP', 'CYCLE', 'DUPLICATE_KEY', 'SELF_DEPENDENCY'] },
});

/**
 * A step's activity. A group (a dbt invocation) heartbeats every 5 s and on every dbt event, so it gets a shorter
 * heartbeat timeout: the SDK sends heartbeats at most every 80% of it, and a cancellation only arrives with one.
 */
function stepActivity(step: Pick<PlanStep, 'taskQueue' | 'retry'>, activityId: string, summary: string, heartbeatTimeout = '30 seconds'): LocationActivities['materializeStep'] {
  return wf.proxyActivities<LocationActivities>({
    taskQueue: step.taskQueue,
    activityId,
    summary,
    startToCloseTimeout: '24 hours',
    heartbeatTimeout,
    cancellationType: wf.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      maximumAttempts: step.retry.maxAttempts,
      initialInterval: step.retry.initialIntervalMs,
      backoffCoefficient: step.retry.backoffCoefficient,
      ...(step.retry.maxIntervalMs ? { maximumInterval: step.retry.maxIntervalMs } : {}),
      nonRetryableErrorTypes: ['INVALID_CONFIG', 'NonRetryableError', 'MISSING_RESOURCE', 'UNKNOWN_ASSET'],
    },
  }).materializeStep;
}

/** The patch id of the automation wake added to runs and sensors (see `wf.patched`). */
export const WAKE_AUTOMATION_PATCH = 'cairn-wake-automation';

const automationWaker = wf.proxyActivities<OrchestratorActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 3, initialInterval: '500ms' } });

/**
 * Tells the automation workflow that this run ended and what it materialized, so downstream assets react at
 * once. Never fails the run: automation that cannot be reached catches up at its next wake.
 */
async function wakeAutomation(summary: RunSummary): Promise<void> {
  // Runs that were already past this point under older code replay without the call.
  if (summary.checksOnly || !wf.patched(WAKE_AUTOMATION_PATCH)) return;
  try {
    await automationWaker.wakeAutomation({ keys: summary.assets.filter((a) => a.status === 'materialized').map((a) => a.key), source: 'run' });
  } catch {
    // recorded in the history as a failed activity; the run's outcome stands
  }
}

/** What planning needs to pick a scheduled run's partition: the tick, and the key of a schedule's own function. */
async function schedulePartition(schedule: ScheduleRef | undefined): Promise<{ partition?: string; partitionAt?: string }> {
  if (!schedule?.partition) return {};
  const tick = scheduledTick(wf.workflowInfo()) ?? new Date();
  if (schedule.partition === 'latest') return { partitionAt: tick.toISOString() };
  const location = wf.proxyActivities<LocationActivities>({ taskQueue: locationTaskQueue(schedule.location), startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });
  return { partition: await location.schedulePartition({ schedule: schedule.name, tick: tick.toISOString() }) };
}

function checkInput(input: MaterializeAssetsInput): void {
  if (typeof input !== 'object' || input === null) {
    throw wf.ApplicationFailure.nonRetryable('materializeAssets takes one object argument: {"selection": "..."}', 'INVALID_INPUT');
  }
  const r = input.reexecute;
  if (r !== undefined && (typeof r !== 'object' || r === null || typeof r.runId !== 'string' || r.runId === '' || (r.mode !== 'from-failure' && r.mode !== 'all'))) {
    throw wf.ApplicationFailure.nonRetryable('input.reexecute must look like {"runId": "<run id>", "mode": "from-failure"} (mode "from-failure" or "all")', 'INVALID_INPUT');
  }
  if (input.job !== undefined && (typeof input.job !== 'string' || input.job === '' || input.selection !== undefined)) {
    throw wf.ApplicationFailure.nonRetryable('input.job must be a job name, given instead of a selection: {"job": "nightly"}', 'INVALID_INPUT');
  }
  if (r === undefined && input.job === undefined && (typeof input.selection !== 'string' || input.selection.trim() === '')) {
    throw wf.ApplicationFailure.nonRetryable('input.selection must be a non-empty selection string, e.g. {"selection":"*"}', 'INVALID_INPUT');
  }
  if (input.staleOnly !== undefined && typeof input.staleOnly !== 'boolean') {
    throw wf.ApplicationFailure.nonRetryable('input.staleOnly must be true or false', 'INVALID_INPUT');
  }
  if (input.checksOnly !== undefined && typeof input.checksOnly !== 'boolean') {
    throw wf.ApplicationFailure.nonRetryable('input.checksOnly must be true or false', 'INVALID_INPUT');
  }
  if (input.trigger !== undefined && (typeof input.trigger !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(input.trigger))) {
    throw wf.ApplicationFailure.nonRetryable('input.trigger must be a short word such as "cli" or "schedule" (letters, digits, _ . : -)', 'INVALID_INPUT');
  }
  if (input.config !== undefined && (typeof input.config !== 'object' || input.config === null || Array.isArray(input.config))) {
    throw wf.ApplicationFailure.nonRetryable('input.config must be an object keyed by asset key: {"marts/scores": {"threshold": 0.5}}', 'INVALID_INPUT');
  }
  if (input.partition !== undefined && (typeof input.partition !== 'string' || input.partition === '')) {
    throw wf.ApplicationFailure.nonRetryable('input.partition must be a partition key string, e.g. {"selection": "raw/events", "partition": "2024-01-05"}', 'INVALID_INPUT');
  }
  if (input.tags !== undefined && (typeof input.tags !== 'object' || input.tags === null || Object.values(input.tags).some((v) => typeof v !== 'string'))) {
    throw wf.ApplicationFailure.nonRetryable('input.tags must be an object of string values: {"team": "finance"}', 'INVALID_INPUT');
  }
  const c = input.maxConcurrency;
  if (c !== undefined && (!Number.isInteger(c) || c < 1 || c > MAX_CONCURRENCY)) {
    throw wf.ApplicationFailure.nonRetryable(`input.maxConcurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got ${String(c)}`, 'INVALID_INPUT');
  }
}

/**
 * A run: plans the selection (an activity reads the published snapshots), then walks the plan with bounded
 * parallelism. Each step runs on its code location's task queue with the asset's retry policy; a failed step
 * skips everything downstream of it while independent branches go on. Fails (status Failed in the Temporal
 * UI) when any step failed, with the summary in the failure details.
 */
export async function materializeAssets(input: MaterializeAssetsInput): Promise<RunSummary> {
  checkInput(input);
  const info = wf.workflowInfo();
  const runId = input.resume?.runId ?? info.firstExecutionRunId;
  const startedAt = input.resume?.startedAt ?? new Date().toISOString();
  const maxConcurrency = input.maxConcurrency ?? DEFAULT_CONCURRENCY;
  const eventLimit = input.historyEventLimit ?? DEFAULT_EVENT_LIMIT;

  let plan: RunPlan | undefined = input.resume?.plan;
  let status: LiveStepStatus[] = plan ? [...(input.resume?.status ?? '')].map((c) => CODE[c] ?? 'pending') : [];
  const errors = new Map<number, string>(Object.entries(input.resume?.errors ?? {}).map(([k, v]) => [Number(k), v]));
  const failedChecks = new Map<number, string>(Object.entries(input.resume?.checks ?? {}).map(([k, v]) => [Number(k), v]));
  let phase: RunStatusView['phase'] = plan ? 'running' : 'planning';

  let selection = input.selection ?? '';
  let config = input.resume?.config ?? input.config;
  let partition: RunPartition | undefined = input.resume?.partition ?? input.prepared?.partition;
  const notify = input.prepared?.notify;
  // Tells the backfill that started this run how it ended; the backfill may be gone (canceled), which is fine.
  const report = async (outcome: UnitFinished['status'], error?: string): Promise<void> => {
    if (!notify) return;
    try {
      await wf.getExternalWorkflowHandle(notify.workflowId).signal(unitFinishedSignal, { unit: notify.unit, status: outcome, ...(error ? { error } : {}) });
    } catch {
      // the backfill has closed
    }
  };
  wf.setHandler(runStatusQuery, () => ({
    runId,
    selection,
    phase,
    steps: (plan?.steps ?? []).map((s, i) => ({ key: s.key, status: status[i] ?? 'pending', ...(errors.has(i) ? { error: errors.get(i) } : {}) })),
  }));

  const summarize = (final: RunSummary['status']): RunSummary => ({
    runId,
    workflowId: info.workflowId,
    status: final,
    ...(input.checksOnly ? { checksOnly: true } : {}),
    assets: (plan?.steps ?? []).map((s, i): StepReport => {
      const st = status[i];
      const outcome = st === 'materialized' || st === 'failed' ? st : 'skipped';
      return { key: s.key, status: outcome, ...(errors.has(i) ? { error: errors.get(i) } : {}), ...(failedChecks.has(i) ? { failedCheck: failedChecks.get(i) } : {}) };
    }),
  });

  let running = 0;
  try {
    if (!plan) {
      let planned: Omit<PlannedRun, 'searchAttributes'> & { searchAttributes: boolean };
      if (input.prepared) {
        planned = { plan: input.prepared.plan, selection: input.selection ?? input.prepared.plan.selection, searchAttributes: input.prepared.searchAttributes };
      } else {
        try {
          planned = await orchestrator.planRun({
            ...(input.selection !== undefined ? { selection: input.selection } : {}),
            ...(input.job !== undefined ? { job: input.job } : {}),
            ...(await schedulePartition(input.schedule)),
            ...(input.staleOnly ? { staleOnly: true } : {}),
            ...(input.checksOnly ? { checksOnly: true } : {}),
            ...(input.reexecute ? { reexecute: input.reexecute } : {}),
            ...(input.partition !== undefined ? { partition: input.partition } : {}),
          });
        } catch (err) {
          throw wf.ApplicationFailure.nonRetryable(failureMessage(err), failureType(err) ?? 'PLAN_FAILED');
        }
        partition = planned.partition;
      }
      plan = planned.plan;
      selection = planned.selection;
      config = input.config ?? planned.config;
      status = plan.steps.map(() => 'pending');
      const trigger = input.trigger ?? (input.prepared ? 'backfill' : input.reexecute ? 'reexecution' : 'manual');
      const locations = [...new Set(plan.steps.map((s) => s.location))].sort();
      const rootRunId = planned.rootRunId ?? runId;
      const label = partition ? partitionLabel(partition.keys) : undefined;
      if (planned.searchAttributes) {
        wf.upsertSearchAttributes([
          { key: SEARCH_ATTRIBUTES.locations, value: locations },
          { key: SEARCH_ATTRIBUTES.trigger, value: trigger },
          { key: SEARCH_ATTRIBUTES.rootRun, value: rootRunId },
          ...(label !== undefined ? [{ key: SEARCH_ATTRIBUTES.partition, value: label }] : []),
          ...(input.prepared ? [{ key: SEARCH_ATTRIBUTES.backfill, value: input.prepared.backfillId }] : []),
        ]);
      }
      const tags = { ...(planned.tags ?? {}), ...(input.tags ?? {}), ...(input.prepared ? { 'cairn/backfill': input.prepared.backfillId } : {}) };
      await orchestrator.recordRunStarted({
        runId, workflowId: info.workflowId, selection, tags, stepCount: plan.steps.length, startedAt,
        trigger, locations, assetKeys: plan.steps.map((s) => s.key),
        ...(partition ? { partition: label, partitionKeys: partition.keys } : {}),
        ...(planned.parentRunId ? { parentRunId: planned.parentRunId, rootRunId } : {}),
        ...(config ? { config } : {}),
      });
      phase = 'running';
    }
    const p = plan;
    const children = planChildren(p);
    const groups = p.groups ?? [];
    // Deps inside a step's own group are ordered by the group's tool (dbt), not by the workflow.
    const sameGroup = (i: number, d: number): boolean => p.steps[i]?.group !== undefined && p.steps[i]?.group === p.steps[d]?.group;
    const remaining = p.steps.map((s, i) => s.deps.filter((d) => !sameGroup(i, d) && status[d] !== 'materialized').length);
    // Per group: members still pending that wait on a dep; the group starts when none does.
    const blocked = groups.map((g) => g.steps.filter((i) => status[i] === 'pending' && (remaining[i] ?? 0) > 0).length);
    const groupQueued = groups.map(() => false);
    // A unit is a step index (>= 0) or a group, encoded as -(group + 1).
    const ready: number[] = [];
    const queueGroup = (g: number): void => {
      if (groupQueued[g] || blocked[g] !== 0 || !groups[g]?.steps.some((i) => status[i] === 'pending')) return;
      groupQueued[g] = true;
      ready.push(-(g + 1));
    };
    const becameReady = (i: number): void => {
      const g = p.steps[i]?.group;
      if (g === undefined) ready.push(i);
      else {
        blocked[g] = (blocked[g] ?? 1) - 1;
        queueGroup(g);
      }
    };
    p.steps.forEach((s, i) => {
      if (s.group === undefined && status[i] === 'pending' && remaining[i] === 0) ready.push(i);
    });
    groups.forEach((_g, g) => queueGroup(g));
    let head = 0;
    let changed = false;
    let draining = false;

    // `reason` completes "skipped: upstream '<key>' ..."; a blocking check gives its own full message.
    const skipDownstream = (from: number, reason: string, message?: string): void => {
      const queue = [from];
      while (queue.length > 0) {
        for (const c of children[queue.pop() as number] ?? []) {
          if (status[c] === 'pending') {
            const g = p.steps[c]?.group;
            const wasBlocked = (remaining[c] ?? 0) > 0;
            status[c] = 'skipped';
            errors.set(c, message ?? `skipped: upstream '${p.steps[from]?.key}' ${reason}`);
            queue.push(c);
            if (g !== undefined && wasBlocked) {
              blocked[g] = (blocked[g] ?? 1) - 1;
              queueGroup(g);
            }
          }
        }
      }
    };

    const materialized = (i: number): void => {
      status[i] = 'materialized';
      for (const c of children[i] ?? []) {
        if (sameGroup(c, i)) continue;
        remaining[c] = (remaining[c] ?? 1) - 1;
        if (remaining[c] === 0 && status[c] === 'pending') becameReady(c);
      }
    };

    const failed = (i: number, error: string): void => {
      status[i] = 'failed';
      errors.set(i, error);
      skipDownstream(i, 'failed');
    };

    // What a step reported for one asset: built, skipped or failed, perhaps with a failed blocking check (then
    // the asset is materialized, or failed when the check kept its staged output from being published).
    const applyOutcome = (i: number, o: AssetOutcome): void => {
      if (o.failedCheck !== undefined) {
        status[i] = o.status === 'failed' ? 'failed' : 'materialized';
        if (o.status === 'failed') errors.set(i, o.error ?? `blocked by check ${o.failedCheck}`);
        failedChecks.set(i, o.failedCheck);
        skipDownstream(i, '', `skipped: blocked by check ${o.failedCheck} of '${p.steps[i]?.key}'`);
      } else if (o.status === 'materialized') materialized(i);
      else if (o.status === 'skipped') {
        status[i] = 'skipped';
        errors.set(i, o.error ?? 'skipped by the step');
        skipDownstream(i, 'was skipped');
      } else failed(i, o.error ?? 'failed');
    };

    const launchStep = (i: number): void => {
      const step = p.steps[i] as PlanStep;
      running++;
      status[i] = 'running';
      stepActivity(step, step.key, `materialize ${step.key}`)({
        runId, assetKey: step.key,
        ...(config?.[step.key] !== undefined ? { config: config[step.key] } : {}),
        ...(input.tags ? { tags: input.tags } : {}),
        ...(partition ? { partition } : {}),
        ...(input.checksOnly ? { checksOnly: true } : {}),
      })
        .then((out) => applyOutcome(i, out.assets?.find((a) => a.key === step.key) ?? { key: step.key, status: 'materialized' }))
        .catch((err: unknown) => {
          if (wf.isCancellation(err)) {
            status[i] = 'skipped';
            errors.set(i, 'run canceled while the step was running');
            return;
          }
          failed(i, failureMessage(err));
        })
        .finally(() => {
          running--;
          changed = true;
        });
    };

    // One activity for the pending members of a group; it reports each member's outcome.
    const launchGroup = (g: number): void => {
      const group = groups[g] as PlanGroup;
      const members = group.steps.filter((i) => status[i] === 'pending');
      if (members.length === 0) return;
      running++;
      for (const i of members) status[i] = 'running';
      const keys = members.map((i) => p.steps[i]?.key as string);
      stepActivity(group, group.id, `${group.multi}: ${keys.length} asset${keys.length === 1 ? '' : 's'}`, '10 seconds')({
        runId, assetKey: keys[0] as string, multi: group.multi, assetKeys: keys, stepId: group.id,
        ...(input.tags ? { tags: input.tags } : {}),
        ...(partition ? { partition } : {}),
        ...(input.checksOnly ? { checksOnly: true } : {}),
      })
        .then((out) => {
          const outcomes = new Map((out.assets ?? []).map((a) => [a.key, a]));
          for (const i of members) {
            const key = p.steps[i]?.key as string;
            applyOutcome(i, outcomes.get(key) ?? { key, status: 'failed', error: `the ${group.multi} step did not report this asset` });
          }
        })
        .catch((err: unknown) => {
          const canceled = wf.isCancellation(err);
          for (const i of members) {
            if (canceled) {
              status[i] = 'skipped';
              errors.set(i, 'run canceled while the step was running');
            } else failed(i, failureMessage(err));
          }
        })
        .finally(() => {
          running--;
          changed = true;
        });
    };
    const launch = (unit: number): void => (unit >= 0 ? launchStep(unit) : launchGroup(-unit - 1));

    for (;;) {
      while (!draining && running < maxConcurrency && head < ready.length) launch(ready[head++] as number);
      if (running === 0 && (draining || head >= ready.length)) break;
      await wf.condition(() => changed);
      changed = false;
      const now = wf.workflowInfo();
      if (!draining && (now.historyLength >= eventLimit || now.historySize >= HISTORY_BYTES_LIMIT)) draining = true;
    }

    if (draining && status.some((s) => s === 'pending')) {
      await wf.condition(wf.allHandlersFinished);
      const codes = status.map((s) => (s === 'materialized' ? 'm' : s === 'failed' ? 'f' : s === 'skipped' ? 's' : 'p')).join('');
      return await wf.continueAsNew<typeof materializeAssets>({
        ...input,
        selection,
        resume: { runId, startedAt, plan: p, status: codes, errors: Object.fromEntries(errors), ...(failedChecks.size > 0 ? { checks: Object.fromEntries(failedChecks) } : {}), ...(config ? { config } : {}), ...(partition ? { partition } : {}) },
      });
    }

    phase = 'finished';
    const failedCount = status.filter((s) => s === 'failed').length;
    const summary = summarize(failedCount > 0 || failedChecks.size > 0 ? 'failed' : 'succeeded');
    await orchestrator.recordRunFinished({ runId, summary, finishedAt: new Date().toISOString() });
    await wakeAutomation(summary);
    if (failedCount > 0 || failedChecks.size > 0) {
      const skipped = status.filter((s) => s === 'skipped').length;
      const failedKeys = summary.assets.filter((a) => a.status === 'failed').map((a) => a.key);
      const checked = summary.assets.filter((a) => a.failedCheck !== undefined).map((a) => `${a.key}: ${a.failedCheck}`);
      const parts = [
        ...(failedCount > 0 ? [`${failedCount} of ${p.steps.length} steps failed (${failedKeys.slice(0, 5).join(', ')}${failedKeys.length > 5 ? ', ...' : ''})`] : []),
        ...(checked.length > 0 ? [`${checked.length} blocking check${checked.length === 1 ? '' : 's'} failed (${checked.slice(0, 3).join(', ')}${checked.length > 3 ? ', ...' : ''})`] : []),
      ];
      const message = `${parts.join('; ')}; ${skipped} skipped`;
      await report('failed', `${message}: ${summary.assets.find((a) => a.status === 'failed')?.error ?? ''}`.slice(0, 500));
      throw wf.ApplicationFailure.create({
        type: 'RUN_FAILED',
        message,
        details: [summary],
        nonRetryable: true,
      });
    }
    await report('succeeded');
    return summary;
  } catch (err) {
    if (!wf.isCancellation(err) && !(err instanceof wf.ApplicationFailure && err.type === 'RUN_FAILED') && !(err instanceof wf.ContinueAsNew)) {
      await report('failed', failureMessage(err).slice(0, 500));
    }
    if (wf.isCancellation(err)) {
      await wf.CancellationScope.nonCancellable(async () => {
        await wf.condition(() => running === 0, '2 minutes');
        status = status.map((s) => (s === 'pending' || s === 'running' ? 'skipped' : s));
        status.forEach((s, i) => {
          if (s === 'skipped' && !errors.has(i)) errors.set(i, 'run canceled');
        });
        phase = 'finished';
        if (plan) {
          const summary = summarize('canceled');
          await orchestrator.recordRunFinished({ runId, summary, finishedAt: new Date().toISOString() });
          await wakeAutomation(summary);
        }
        await report('canceled');
      });
    }
    throw err;
  }
}
