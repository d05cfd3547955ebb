// The baseline for `npm run bench -- overhead`: a hand-written Temporal workflow that walks a DAG of no-op
// activities with bounded concurrency, with none of Cairn's planning, catalog or status bookkeeping.
import { condition, proxyActivities } from '@temporalio/workflow';

export interface BareDagInput {
  /** deps[i] = indices that step i waits for; indices are in topological order. */
  deps: number[][];
  maxConcurrency: number;
  activityQueue: string;
}

export async function bareDag(input: BareDagInput): Promise<number> {
  const { noop } = proxyActivities<{ noop(i: number): Promise<void> }>({ taskQueue: input.activityQueue, startToCloseTimeout: '1 minute' });
  const n = input.deps.length;
  const children: number[][] = input.deps.map(() => []);
  const remaining = input.deps.map((d) => d.length);
  input.deps.forEach((ds, i) => ds.forEach((d) => children[d]?.push(i)));
  const ready = remaining.flatMap((r, i) => (r === 0 ? [i] : []));
  let head = 0;
  let running = 0;
  let done = 0;
  let changed = false;
  while (done < n) {
    while (running < input.maxConcurrency && head < ready.length) {
      const i = ready[head++] as number;
      running++;
      void noop(i).then(() => {
        running--;
        done++;
        changed = true;
        for (const c of children[i] ?? []) if (--remaining[c]! === 0) ready.push(c);
      });
    }
    await condition(() => changed);
    changed = false;
  }
  return done;
}

/** The baseline for `npm run bench -- automation`: the least a reaction takes, one workflow calling one activity. */
export async function bareOne(input: { activityQueue: string }): Promise<void> {
  const { noop } = proxyActivities<{ noop(): Promise<void> }>({ taskQueue: input.activityQueue, startToCloseTimeout: '1 minute' });
  await noop();
}
