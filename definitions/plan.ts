import { CairnError, CairnErrors, ErrorCodes } from './errors';
import { AssetGraph, type GraphNode } from './graph';
import { selectAssets } from './selection';
import type { LocationSnapshot, RetryPolicy } from './snapshot';
import { planChildren, type PlanGroup, type PlanStep, type RunPlan } from './plan-types';

export { planChildren, type PlanGroup, type PlanStep, type RunPlan };
import { validateGraph } from './validate';
import { dropShadowedPlaceholders } from './code-location';

/** Builds one asset graph over the union of the published code-location snapshots. */
export function graphFromSnapshots(snapshots: readonly LocationSnapshot[]): AssetGraph {
  return graphOfResolved(resolvedSnapshots(snapshots));
}

/** The graph of snapshots whose placeholders are already resolved. */
function graphOfResolved(snapshots: readonly LocationSnapshot[]): AssetGraph {
  return AssetGraph.fromNodes(snapshots.flatMap((s) => s.assets.map((a): GraphNode => ({ ...a, codeLocation: s.name }))));
}

/**
 * The snapshots with placeholder assets (dbt sources) dropped where another location defines the key for real,
 * so one graph has one node per key.
 */
export function resolvedSnapshots(snapshots: readonly LocationSnapshot[]): LocationSnapshot[] {
  const kept = dropShadowedPlaceholders(snapshots.flatMap((s) => s.assets.map((a) => ({ key: a.key, placeholder: a.placeholder, codeLocation: s.name }))));
  const keep = new Set(kept.map((a) => `${a.codeLocation}\u0000${a.key}`));
  return snapshots.map((s) => ({ ...s, assets: s.assets.filter((a) => keep.has(`${s.name}\u0000${a.key}`)) }));
}

/**
 * The pure planner: from the snapshots and a selection string to a plan. A step waits for every selected
 * asset upstream of it, also through assets that are not in the run (external or unselected), so a subset
 * run still respects the order of the whole graph. `only` narrows the selection further (stale assets, the
 * failed steps of a re-executed run) without changing that order.
 */
export function planRun(allSnapshots: readonly LocationSnapshot[], selection: string, opts: { only?: (key: string, graph: AssetGraph) => boolean } = {}): RunPlan {
  const snapshots = resolvedSnapshots(allSnapshots);
  if (snapshots.length === 0) {
    throw new CairnError(ErrorCodes.NoSnapshots, 'no code location has published its definitions yet: start the workers (`cairn dev`) before materializing');
  }
  const graph = graphOfResolved(snapshots);
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

  const multis = new Map(snapshots.flatMap((s) => s.assets.filter((a) => a.multiAsset !== undefined).map((a) => [a.key, a.multiAsset as string] as const)));
  const steps: PlanStep[] = runnable.map((key) => {
    const node = graph.node(key);
    const multi = multis.get(key);
    return {
      key,
      location: node.codeLocation,
      taskQueue: queues.get(node.codeLocation) ?? '',
      deps: nearestRunnableUpstream(graph, key, index),
      retry: retries.get(key) ?? { maxAttempts: 1, initialIntervalMs: 1000, backoffCoefficient: 2 },
      ...(multi !== undefined ? { multi } : {}),
    };
  });
  return groupMultiAssetSteps({ selection, steps, external });
}

/**
 * Groups the steps of each multi-asset into as few activities as the order allows. A member's stage is the
 * highest stage among same-multi ancestors reached directly (same stage) or through a non-member (one more),
 * so no group waits on a step that waits on the group. Two multi-assets that read each other both ways
 * (a -> b and d -> e with a, e in one and b, d in the other) could still wait on each other; such a cycle
 * between groups is broken by moving a member to a later stage until none is left. Returns the plan with
 * `groups` and each member's `group` set (recomputed from scratch: call it again after narrowing a plan).
 */
export function groupMultiAssetSteps(plan: RunPlan): RunPlan {
  const steps = plan.steps.map(({ group: _g, ...s }) => s as PlanStep);
  const multiOf = (s: PlanStep): string | undefined => (s.multi === undefined ? undefined : `${s.location}\u0000${s.multi}`);
  const minStage = new Map<number, number>();
  let stage = memberStages(steps, multiOf, minStage);
  for (let round = 0; ; round++) {
    const bump = cycleMember(steps, multiOf, stage);
    if (bump === undefined) break;
    if (round >= steps.length) {
      stage = steps.map((_s, i) => i); // cannot happen for a DAG; one group per member is always safe
      break;
    }
    minStage.set(bump, (stage[bump] ?? 0) + 1);
    stage = memberStages(steps, multiOf, minStage);
  }
  const groups: PlanGroup[] = [];
  const byStage = new Map<string, number>();
  const perMulti = new Map<string, number>();
  steps.forEach((s, i) => {
    const m = multiOf(s);
    if (m === undefined) return;
    const id = `${m}\u0000${stage[i]}`;
    let gi = byStage.get(id);
    if (gi === undefined) {
      gi = groups.length;
      byStage.set(id, gi);
      const nth = (perMulti.get(m) ?? 0) + 1;
      perMulti.set(m, nth);
      groups.push({ id: nth > 1 ? `${s.multi}#${nth}` : (s.multi as string), multi: s.multi as string, location: s.location, taskQueue: s.taskQueue, steps: [], retry: s.retry });
    }
    groups[gi]?.steps.push(i);
    steps[i] = { ...s, group: gi };
  });
  const { groups: _old, ...rest } = plan;
  return { ...rest, steps, ...(groups.length > 0 ? { groups } : {}) };
}

/** Each member's stage within its multi-asset (see {@link groupMultiAssetSteps}); -1 for non-members. */
function memberStages(steps: readonly PlanStep[], multiOf: (s: PlanStep) => string | undefined, minStage: ReadonlyMap<number, number>): number[] {
  const stage: number[] = [];
  // Per step: for each multi-asset, the highest stage of its members at or above the step.
  const reach: Map<string, number>[] = [];
  steps.forEach((s, i) => {
    const seen = new Map<string, number>();
    for (const d of s.deps) for (const [g, st] of reach[d] ?? []) seen.set(g, Math.max(seen.get(g) ?? -1, st));
    const m = multiOf(s);
    stage[i] = -1;
    if (m !== undefined) {
      let st = minStage.get(i) ?? 0;
      for (const d of s.deps) {
        if (multiOf(steps[d] as PlanStep) === m) st = Math.max(st, stage[d] ?? 0);
        else if (reach[d]?.has(m)) st = Math.max(st, (reach[d]?.get(m) ?? 0) + 1);
      }
      stage[i] = st;
      seen.set(m, Math.max(seen.get(m) ?? -1, st));
    }
    reach[i] = seen;
  });
  return stage;
}

/**
 * A member to move to a later stage when the groups wait on each other in a cycle: one whose dep is in another
 * unit of the cycle. Undefined when the groups (and single steps) form a DAG.
 */
function cycleMember(steps: readonly PlanStep[], multiOf: (s: PlanStep) => string | undefined, stage: readonly number[]): number | undefined {
  const unitOf = steps.map((s, i) => (multiOf(s) === undefined ? `s${i}` : `${multiOf(s)}\u0000${stage[i]}`));
  const indegree = new Map<string, number>(unitOf.map((u) => [u, 0]));
  const edges = new Map<string, Set<string>>();
  steps.forEach((s, i) => {
    for (const d of s.deps) {
      const from = unitOf[d] as string;
      const to = unitOf[i] as string;
      if (from === to) continue;
      const out = edges.get(from) ?? new Set<string>();
      if (!out.has(to)) {
        out.add(to);
        indegree.set(to, (indegree.get(to) ?? 0) + 1);
      }
      edges.set(from, out);
    }
  });
  const queue = [...indegree].filter(([, n]) => n === 0).map(([u]) => u);
  while (queue.length > 0) {
    for (const to of edges.get(queue.pop() as string) ?? []) {
      const n = (indegree.get(to) ?? 1) - 1;
      indegree.set(to, n);
      if (n === 0) queue.push(to);
    }
  }
  const left = new Set([...indegree].filter(([, n]) => n > 0).map(([u]) => u));
  if (left.size === 0) return undefined;
  return steps.findIndex((s, i) => multiOf(s) !== undefined && left.has(unitOf[i] as string) && s.deps.some((d) => unitOf[d] !== unitOf[i] && left.has(unitOf[d] as string)));
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

