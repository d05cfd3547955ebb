// The baseline for `npm run bench -- backfill`: a hand-written Temporal parent that starts `total` child
// workflows, at most `maxConcurrency` at once, each running one no-op activity. Like Cairn's backfill, the
// children are abandoned on parent close and report back by signal, so the parent can continue as new (every
// `generationSize` children, or sooner when Temporal suggests it) while children of earlier generations run
// on. None of Cairn's planning, catalog records, status query or dependency bookkeeping.
import { allHandlersFinished, condition, continueAsNew, defineQuery, defineSignal, getExternalWorkflowHandle, proxyActivities, setHandler, startChild, workflowInfo } from '@temporalio/workflow';

export interface BareBackfillInput {
  total: number;
  maxConcurrency: number;
  activityQueue: string;
  /** Continue as new after starting this many children (or when Temporal suggests it). */
  generationSize: number;
  /** Carried across continue-as-new. */
  next?: number;
  done?: number;
  generation?: number;
}

export interface BareBackfillResult {
  done: number;
  generations: number;
}

export interface BareChildInput {
  parentId: string;
  index: number;
  activityQueue: string;
}

export const bareChildDone = defineSignal<[number]>('bareChildDone');
export const bareProgress = defineQuery<{ next: number; done: number; generation: number }>('bareProgress');

export async function bareBackfillChild(input: BareChildInput): Promise<void> {
  const { noop } = proxyActivities<{ noop(i: number): Promise<void> }>({ taskQueue: input.activityQueue, startToCloseTimeout: '1 minute' });
  await noop(input.index);
  await getExternalWorkflowHandle(input.parentId).signal(bareChildDone, input.index);
}

export async function bareBackfill(input: BareBackfillInput): Promise<BareBackfillResult> {
  const parentId = workflowInfo().workflowId;
  const generation = input.generation ?? 0;
  let next = input.next ?? 0;
  let done = input.done ?? 0;
  let changed = false;
  let starting = 0;
  let startedHere = 0;
  let failure: unknown;
  setHandler(bareChildDone, () => {
    done++;
    changed = true;
  });
  setHandler(bareProgress, () => ({ next, done, generation }));

  const launch = (i: number): void => {
    starting++;
    startedHere++;
    startChild(bareBackfillChild, {
      workflowId: `${parentId}/${i}`,
      args: [{ parentId, index: i, activityQueue: input.activityQueue }],
      parentClosePolicy: 'ABANDON',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    })
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => {
        starting--;
        changed = true;
      });
  };

  let draining = false;
  while (done < input.total) {
    // Running children (started or starting, not yet reported) = next - done.
    while (!draining && next - done < input.maxConcurrency && next < input.total) launch(next++);
    if (draining && starting === 0) break;
    await condition(() => changed);
    changed = false;
    if (failure) throw failure;
    if (!draining && (startedHere >= input.generationSize || workflowInfo().continueAsNewSuggested)) draining = true;
  }
  if (done < input.total) {
    await condition(() => starting === 0);
    await condition(allHandlersFinished);
    return await continueAsNew<typeof bareBackfill>({ ...input, next, done, generation: generation + 1 });
  }
  return { done, generations: generation + 1 };
}
