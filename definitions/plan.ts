import { CairnError, CairnErrors, ErrorCodes } from './errors';
import { AssetGraph, type GraphNode } from './graph';
import { selectAssets } from './selection';
import type { LocationSnapshot, RetryPolicy } from './snapshot';
import { planChildren, type PlanStep, type RunPlan } from './plan-types';

export { planChildren, type PlanStep, type RunPlan };
import { validateGraph } from './validate';

/** Builds one asset graph over the union of the published code-location snapshots. */
export function graphFromSnapshots(snapshots: readonly LocationSnapshot[]): AssetGraph {
  const nodes: GraphNode[] = snapshots.flatMap((s) => s.assets.map((a) => ({ ...a, codeLocation: s.name })));
  return AssetGraph.fromNodes(nodes);
}

/**
 * The pure planner: from the snapshots and a selection string to a plan. A step waits for every selected
 * asset upstream of it, also through assets that are not in the run (external or unselected), so a subset
 * run still respects the order of the whole graph. `only` narrows the selection further (stale assets, the
 * failed steps of a re-executed run) without changing that order.
 */
export function planRun(snapshots: readonly LocationSnapshot[], selection: string, opts: { only?: (key: string, graph: AssetGraph) => boolean } = {}): RunPlan {
  if (snapshots.length === 0) {
    throw new CairnError(ErrorCodes.NoSnapshots, 'no code location has published its definitions yet: start the workers (`cairn dev`) before materializing');
  }
  const graph = graphFromSnapshots(snapshots);
  const problems = validateGraph(
    snapshots.flatMap((s) => s.assets.map((a) => ({ key: a.key, deps: a.deps, codeLocation: s.name, source: `snapshot ${s.version}` }))),
    graph,
  );
  if (problems.length > 0) throw new CairnErrors(problems);

  const queues = new Map(snapshots.map((s) => [s.name, s.taskQueue]));
  const retries = new Map<string, RetryPolicy | undefined>(snapshots.flatMap((s) => s.assets.map((a) => [a.key, a.retry] as const)));
  // Order by the whole graph's topological order, so a subset respects paths through unselected assets.
  const order = new Map(graph.toposort().map((k, i) => [k, i]));
  const selected = selectAssets(selection, graph).sort((x, y) => (order.get(x) ?? 0) - (order.get(y) ?? 0));
  const runnable = selected.filter((k) => !graph.node(k).isExternal && (opts.only?.(k, graph) ?? true));
  const external = selected.filter((k) => graph.node(k).isExternal);
  const index = new Map(runnable.map((k, i) => [k, i]));

  const steps: PlanStep[] = runnable.map((key) => {
    const node = graph.node(key);
    return {
      key,
      location: node.codeLocation,
      taskQueue: queues.get(node.codeLocation) ?? '',
      deps: nearestRunnableUpstream(graph, key, index),
      retry: retries.get(key) ?? { maxAttempts: 1, initialIntervalMs: 1000, backoffCoefficient: 2 },
    };
  });
  return { selection, steps, external };
}

/** Indices of the closest in-run ancestors of `key`, walking through ancestors that are not in the run. */
function nearestRunnableUpstream(graph: AssetGraph, key: string, index: ReadonlyMap<string, number>): number[] {
  const found = new Set<number>();
  const seen = new Set<string>();
  const stack = [...graph.parents(key)];
  while (stack.length > 0) {
    const k = stack.pop() as string;
    if (seen.has(k)) continue;
    seen.add(k);
    const i = index.get(k);
    if (i !== undefined) found.add(i);
    else stack.push(...graph.parents(k));
  }
  return [...found].sort((a, b) => a - b);
}

/** Every step index downstream of `start` in the plan (not including it). */
export function downstreamSteps(plan: RunPlan, start: number): number[] {
  const children = planChildren(plan);
  const out: number[] = [];
  const seen = new Set<number>([start]);
  const queue = [start];
  while (queue.length > 0) {
    for (const c of children[queue.shift() as number] ?? []) {
      if (!seen.has(c)) {
        seen.add(c);
        out.push(c);
        queue.push(c);
      }
    }
  }
  return out.sort((a, b) => a - b);
}

