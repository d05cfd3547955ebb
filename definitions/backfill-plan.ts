/**
 * The partition-level planner of backfills. Pure: the snapshots, the targets (which partitions of which asset)
 * and `now` come in; a plan of units comes out. A unit is one child run: a set of assets and the partition
 * keys they run for. Units depend on units, following the partition mappings, so that an asset that reads its
 * previous day runs day after day, a weekly rollup waits for its seven days, and a chain of daily assets runs
 * each day's chain as one run.
 */
import { CairnError, ErrorCodes } from './errors';
import type { AssetGraph, GraphNode } from './graph';
import { stableStringify } from './hash';
import { partitionLabel } from './plan-types';
import type { PartitionsDefinition } from './partitions/definitions';
import { describePartitions, keysInRange, partitionKeys, validatePartitionKey, type PartitionKeysOptions } from './partitions/keys';
import { defaultPartitionMapping, partitionMapper } from './partitions/mappings';
import { firstTick, latestEnd, parseTimeKey, windowsFrom } from './partitions/time-windows';
import { graphFromSnapshots, groupMultiAssetSteps, planRun } from './plan';
import type { RunPlan } from './plan-types';
import type { LocationSnapshot } from './snapshot';

export { unitLabel, type BackfillGroup, type BackfillPartitions, type BackfillPlan, type BackfillRunPolicy, type BackfillUnit } from './backfill-types';
import type { BackfillGroup, BackfillPlan, BackfillRunPolicy, BackfillUnit } from './backfill-types';

const planError = (message: string, where?: string) => new CairnError(ErrorCodes.InvalidPartition, message, where);

/** The selected assets a backfill runs (not external), in topological order, with their nodes. */
export function backfillAssets(snapshots: readonly LocationSnapshot[], selection: string): { graph: AssetGraph; plan: RunPlan; nodes: GraphNode[] } {
  const plan = planRun(snapshots, selection);
  const graph = graphFromSnapshots(snapshots);
  return { graph, plan, nodes: plan.steps.map((s) => graph.node(s.key)) };
}

function timeRangeKeys(def: PartitionsDefinition & { kind: 'time' }, fromMs: number, toMs: number, nowMs: number): string[] {
  const limit = Math.min(latestEnd(def, nowMs), toMs);
  const out: string[] = [];
  const first = firstTick(def);
  for (const w of windowsFrom(def, first)) {
    if (w.end > limit) break;
    if (w.start >= fromMs) out.push(w.key);
  }
  return out;
}

/**
 * Resolves a range or a key list into the keys of each selected partitioned asset. A range `[from, to]` is
 * read in each asset's own definition when both are its keys; otherwise, for time windows, as the span from
 * the start of `from` to the end of `to` in the definition that has them as keys, and the asset gets the
 * windows that lie inside it (a weekly asset in a daily range gets its whole weeks). Keys that have not
 * ended at `now` are left out. Throws naming the asset when a range means nothing to it.
 */
export function resolveBackfillTargets(
  nodes: readonly GraphNode[],
  partitions: { range: [string, string] } | { keys: string[] },
  options: PartitionKeysOptions,
): Map<string, string[]> {
  const targets = new Map<string, string[]>();
  const partitioned = nodes.filter((n) => n.partitions);
  if ('keys' in partitions) {
    if (!Array.isArray(partitions.keys) || partitions.keys.length === 0) throw planError('a backfill needs at least one partition key');
    for (const n of partitioned) {
      const keys = partitions.keys.filter((k) => {
        try {
          validatePartitionKey(n.partitions!, k, options);
          return true;
        } catch {
          return false;
        }
      });
      if (keys.length > 0) targets.set(n.key, keys);
    }
    if (targets.size === 0) {
      const n = partitioned[0];
      if (!n) throw planError('none of the selected assets is partitioned');
      try {
        validatePartitionKey(n.partitions!, partitions.keys[0]!, options);
      } catch (err) {
        throw planError(`no selected asset has partition '${partitions.keys[0]}': asset '${n.key}': ${(err as Error).message}`, partitions.keys[0]);
      }
    }
    return targets;
  }
  const [from, to] = partitions.range;
  const nowMs = options.now.getTime();
  // Assets usually share a few definitions: resolve the range once per definition.
  const perDef = new Map<string, { keys?: string[]; error?: string }>();
  let span: { from: number; to: number } | undefined;
  for (const n of partitioned) {
    const id = stableStringify(n.partitions);
    if (perDef.has(id)) continue;
    try {
      const keys = keysInRange(n.partitions!, from, to, { ...(options.dynamicKeys ? { dynamicKeys: options.dynamicKeys } : {}) });
      const existing = new Set(partitionKeys(n.partitions!, options));
      perDef.set(id, { keys: keys.filter((k) => existing.has(k)) });
      const def = n.partitions!;
      // The span of the range in the first time definition that has both ends as keys.
      if (def.kind === 'time' && !span) {
        const a = parseTimeKey(def, from) as { start: number };
        const b = parseTimeKey(def, to) as { start: number };
        const [last] = windowsFrom(def, b.start);
        span = { from: a.start, to: last!.end };
      }
    } catch (err) {
      perDef.set(id, { error: (err as Error).message });
    }
  }
  const spanned = new Map<string, string[]>();
  for (const n of partitioned) {
    const id = stableStringify(n.partitions);
    const own = perDef.get(id)!;
    let keys = own.keys;
    if (keys === undefined && span && n.partitions!.kind === 'time') {
      if (!spanned.has(id)) spanned.set(id, timeRangeKeys(n.partitions! as PartitionsDefinition & { kind: 'time' }, span.from, span.to, nowMs));
      keys = spanned.get(id);
    }
    if (keys === undefined) throw planError(`asset '${n.key}': range ${from}...${to}: ${own.error ?? `not a range of ${describePartitions(n.partitions!)}`}`, n.key);
    if (keys.length > 0) targets.set(n.key, keys);
  }
  if (partitioned.length === 0) throw planError('none of the selected assets is partitioned');
  return targets;
}

/** Keeps the steps of `keep`, each depending on its nearest kept ancestors in `plan`. */
function subPlan(plan: RunPlan, keep: ReadonlySet<string>): RunPlan {
  const index = new Map<number, number>();
  plan.steps.forEach((s, i) => {
    if (keep.has(s.key)) index.set(i, index.size);
  });
  const nearest = (i: number): number[] => {
    const out = new Set<number>();
    const stack = [...plan.steps[i]!.deps];
    const seen = new Set<number>();
    while (stack.length > 0) {
      const d = stack.pop()!;
      if (seen.has(d)) continue;
      seen.add(d);
      const j = index.get(d);
      if (j !== undefined) out.add(j);
      else stack.push(...plan.steps[d]!.deps);
    }
    return [...out].sort((a, b) => a - b);
  };
  const steps = plan.steps.flatMap((s, i) => (index.has(i) ? [{ ...s, deps: nearest(i) }] : []));
  return groupMultiAssetSteps({ selection: plan.selection, steps, external: [] });
}

/**
 * Plans a backfill over `targets` (asset → keys, from {@link resolveBackfillTargets} or the catalog's missing
 * or failed partitions). Unpartitioned selected assets run once, in a unit after the partitions they read.
 * Throws CairnError when the unit graph has a cycle (an unpartitioned asset between partitioned ones, or
 * mappings that read later partitions both ways).
 */
export function planBackfill(
  snapshots: readonly LocationSnapshot[],
  selection: string,
  targets: ReadonlyMap<string, readonly string[]>,
  policy: BackfillRunPolicy,
  options: PartitionKeysOptions,
): BackfillPlan {
  const { graph, plan, nodes } = backfillAssets(snapshots, selection);
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const inBackfill = (k: string) => byKey.has(k) && (!byKey.get(k)!.partitions || (targets.get(k)?.length ?? 0) > 0);
  const runPolicy = policy === 'perPartition' ? 1 : policy.maxPartitionsPerRun;
  if (!Number.isInteger(runPolicy) || runPolicy < 1) throw new CairnError(ErrorCodes.InvalidArgument, `maxPartitionsPerRun must be a whole number >= 1, got ${String(runPolicy)}`);

  // Class of an asset: its definition and run size. Stage: how many class changes lie above it in the backfill.
  const chunkSize = (n: GraphNode) => (n.backfillPolicy?.kind === 'singleRun' ? Infinity : n.backfillPolicy?.kind === 'multiRun' ? n.backfillPolicy.maxPartitionsPerRun : runPolicy);
  const classOf = new Map<string, string>();
  const stage = new Map<string, number>();
  for (const n of nodes) {
    if (!n.partitions || !inBackfill(n.key)) continue;
    const cls = `${stableStringify(n.partitions)}#${chunkSize(n)}`;
    classOf.set(n.key, cls);
    let s = 0;
    for (const p of graph.parents(n.key)) {
      const ps = stage.get(p);
      if (ps !== undefined) s = Math.max(s, ps + (classOf.get(p) === cls ? 0 : 1));
    }
    stage.set(n.key, s);
  }

  // Key order per definition, to sort and to find runs of consecutive keys.
  const orderCache = new Map<string, Map<string, number>>();
  const orderOf = (def: PartitionsDefinition) => {
    const id = stableStringify(def);
    let m = orderCache.get(id);
    if (!m) {
      m = new Map(partitionKeys(def, options).map((k, i) => [k, i]));
      orderCache.set(id, m);
    }
    return m;
  };

  const groups: BackfillGroup[] = [];
  const groupIndex = new Map<string, number>();
  const groupOf = (assets: string[]) => {
    const id = assets.join('\n');
    let g = groupIndex.get(id);
    if (g === undefined) {
      g = groups.length;
      groupIndex.set(id, g);
      groups.push({ assets, plan: subPlan(plan, new Set(assets)) });
    }
    return g;
  };

  interface Draft { group: number; keys: string[]; range: boolean; deps: Set<number> }
  const drafts: Draft[] = [];
  const unitOf = new Map<string, Map<string, number>>();
  let assetPartitions = 0;

  // Classes in stage order, then in topological order of their first asset.
  const classes = new Map<string, { def: PartitionsDefinition; size: number; assets: string[] }>();
  const ordered = [...classOf.keys()].sort((a, b) => stage.get(a)! - stage.get(b)!);
  for (const k of ordered) {
    const id = `${stage.get(k)}|${classOf.get(k)}`;
    const c = classes.get(id) ?? { def: byKey.get(k)!.partitions!, size: chunkSize(byKey.get(k)!), assets: [] };
    c.assets.push(k);
    classes.set(id, c);
  }
  const topo = new Map(plan.steps.map((s, i) => [s.key, i]));
  for (const c of classes.values()) {
    c.assets.sort((a, b) => topo.get(a)! - topo.get(b)!);
    const order = orderOf(c.def);
    const wanted = new Map(c.assets.map((a) => [a, new Set(targets.get(a) ?? [])]));
    const keys = [...new Set(c.assets.flatMap((a) => targets.get(a) ?? []))].sort((x, y) => (order.get(x) ?? 0) - (order.get(y) ?? 0));
    // Chunks of consecutive keys, at most `size` long; a gap in the definition's order starts a new chunk.
    const chunks: string[][] = [];
    for (const key of keys) {
      const cur = chunks.at(-1);
      const prev = cur?.at(-1);
      if (cur && cur.length < c.size && prev !== undefined && order.get(key) === (order.get(prev) ?? -2) + 1) cur.push(key);
      else chunks.push([key]);
    }
    for (const chunk of chunks) {
      const assets = c.assets.filter((a) => chunk.some((k) => wanted.get(a)!.has(k)));
      const u = drafts.length;
      drafts.push({ group: groupOf(assets), keys: chunk, range: chunk.length > 1, deps: new Set() });
      for (const a of assets) {
        const m = unitOf.get(a) ?? new Map<string, number>();
        for (const k of chunk) {
          if (wanted.get(a)!.has(k)) {
            m.set(k, u);
            assetPartitions++;
          }
        }
        unitOf.set(a, m);
      }
    }
  }

  // Deps between partition units, through the mappings (direct parents and the asset's own earlier partitions).
  const mappers = new Map<string, (key: string) => string[]>();
  const mapperFor = (down: GraphNode, up: GraphNode) => {
    const id = `${down.key}\n${up.key}`;
    let f = mappers.get(id);
    if (!f) {
      const mapping = down.partitionMappings?.[up.key] ?? defaultPartitionMapping(down.partitions!, up.partitions!);
      f = partitionMapper(mapping, down.partitions!, up.partitions!, { ...options, trustedKeys: true });
      mappers.set(id, f);
    }
    return f;
  };
  for (const [a, units] of unitOf) {
    const down = byKey.get(a)!;
    const ups = [...graph.parents(a)].filter((p) => unitOf.has(p));
    if (down.partitionMappings?.[a]) ups.push(a);
    for (const p of ups) {
      const map = mapperFor(down, byKey.get(p)!);
      const upUnits = unitOf.get(p)!;
      for (const [k, u] of units) {
        for (const uk of map(k)) {
          const v = upUnits.get(uk);
          if (v !== undefined && v !== u) drafts[u]!.deps.add(v);
        }
      }
    }
  }

  // Unpartitioned assets: one unit after every unit of their partitioned ancestors.
  const plain = nodes.filter((n) => !n.partitions).map((n) => n.key);
  if (plain.length > 0) {
    const u = drafts.length;
    const deps = new Set<number>();
    const ancestors = graph.upstream(plain);
    for (const [a, units] of unitOf) if (ancestors.has(a) && !plain.includes(a)) for (const v of units.values()) deps.add(v);
    drafts.push({ group: groupOf(plain), keys: [], range: false, deps });
    const below = new Set(graph.downstream(plain));
    for (const [a, units] of unitOf) {
      if (below.has(a)) for (const v of units.values()) drafts[v]!.deps.add(u);
    }
  }

  // Topological order of the units (stable: creation order among the ready ones).
  const children: number[][] = drafts.map(() => []);
  const waiting = drafts.map((d) => d.deps.size);
  drafts.forEach((d, i) => d.deps.forEach((v) => children[v]!.push(i)));
  const queue = drafts.flatMap((_d, i) => (waiting[i] === 0 ? [i] : []));
  const newIndex = new Map<number, number>();
  for (let h = 0; h < queue.length; h++) {
    const i = queue[h]!;
    newIndex.set(i, newIndex.size);
    for (const c of children[i]!) if (--waiting[c]! === 0) queue.push(c);
  }
  if (newIndex.size < drafts.length) {
    const stuck = drafts.findIndex((_d, i) => !newIndex.has(i));
    const d = drafts[stuck]!;
    throw planError(
      `the backfill's runs depend on each other in a cycle (at ${groups[d.group]!.assets.join(', ')} for ${d.keys.length ? partitionLabel(d.keys) : 'the unpartitioned assets'}): ` +
        'an unpartitioned asset between partitioned ones, or mappings that read later partitions; backfill the parts separately',
    );
  }
  const labels = new Set<string>();
  const units: BackfillUnit[] = queue.map((i) => {
    const d = drafts[i]!;
    const base = d.keys.length > 0 ? partitionLabel(d.keys) : 'unpartitioned';
    let label = base;
    for (let n = 2; labels.has(label); n++) label = `${base}~${n}`;
    labels.add(label);
    const deps = [...d.deps].map((v) => newIndex.get(v)!).sort((x, y) => x - y);
    return { group: d.group, keys: d.keys, ...(d.range ? { range: true as const } : {}), ...(label !== base ? { label } : {}), ...(deps.length > 0 ? { deps } : {}) };
  });
  if (units.length === 0) throw planError('the backfill has nothing to run: no selected asset has any of the requested partitions');
  return { selection, groups, units, assetPartitions };
}

/**
 * Checks a one-partition run: with `partition`, every step's asset must be partitioned and have that key;
 * without it, no step's asset may be partitioned. Throws CairnError (INVALID_PARTITION) naming the assets.
 */
export function checkRunPartition(nodes: readonly GraphNode[], partition: string | undefined, options: PartitionKeysOptions): void {
  const partitioned = nodes.filter((n) => n.partitions);
  if (partition === undefined) {
    if (partitioned.length === 0) return;
    const names = partitioned.slice(0, 5).map((n) => `'${n.key}'`).join(', ');
    throw planError(
      `${partitioned.length === 1 ? 'asset' : 'assets'} ${names}${partitioned.length > 5 ? ', ...' : ''} ${partitioned.length === 1 ? 'is' : 'are'} partitioned (${describePartitions(partitioned[0]!.partitions!)}): ` +
        'run for a partition (`cairn materialize --partition <key>`) or backfill (`cairn backfill --partitions <from>...<to>`)',
      partitioned[0]!.key,
    );
  }
  const plain = nodes.filter((n) => !n.partitions);
  if (plain.length > 0) {
    throw planError(`a run for partition '${partition}' takes only partitioned assets; not partitioned: ${plain.slice(0, 5).map((n) => `'${n.key}'`).join(', ')}${plain.length > 5 ? ', ...' : ''}; narrow the selection`, plain[0]!.key);
  }
  for (const n of partitioned) {
    try {
      validatePartitionKey(n.partitions!, partition, options);
    } catch (err) {
      throw planError(`asset '${n.key}': ${(err as Error).message}`, n.key);
    }
  }
}

/** Names of the dynamic partitions that `defs` use (also as a dimension of a multi definition). */
export function dynamicPartitionNames(defs: Iterable<PartitionsDefinition | undefined>): string[] {
  const names = new Set<string>();
  for (const d of defs) {
    if (d?.kind === 'dynamic') names.add(d.name);
    if (d?.kind === 'multi') for (const dim of d.dimensions) if (dim.partitions.kind === 'dynamic') names.add(dim.partitions.name);
  }
  return [...names];
}
