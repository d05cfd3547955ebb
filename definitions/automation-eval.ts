/**
 * The automation evaluator, pure: given the published assets and what the catalog says about them (read with a
 * few set-based queries by the caller), decides for each automated asset (or partition) whether to request it
 * now and why, and groups the requested ones into as few runs as possible. "Now" is a parameter.
 */
import { CronExpressionParser } from 'cron-parser';
import { isAutomated, windowsOf, type AutomationCondition } from './automation';
import { graphFromSnapshots, resolvedSnapshots } from './plan';
import { lastPartitionKeys, partitionKeys, type PartitionKeysOptions } from './partitions/keys';
import type { AssetNodeSnapshot, LocationSnapshot } from './snapshot';

/** The map key of an (asset, partition) pair: `<asset>\u0000<partition or ''>`. */
export function pairKey(assetKey: string, partition: string | null): string {
  return `${assetKey}\u0000${partition ?? ''}`;
}

/** An automated asset, or one partition of it, to evaluate. */
export interface AutomationTarget {
  assetKey: string;
  partition: string | null;
  condition: AutomationCondition;
}

/** Where a dep's state is read from: its own partition (same partitioning) or its latest of any partition. */
type DepRef = { key: string; pair?: string };

export interface AutomationTargets {
  /** In dependency order. */
  targets: AutomationTarget[];
  /** Every (asset, partition) pair whose latest materialization the evaluation needs: targets and their deps. */
  pairs: { assetKey: string; partition: string | null }[];
  /** Assets whose latest materialization of any partition is needed, and every asset whose in-progress state is. */
  assets: string[];
  /** Automated assets that cannot be evaluated, and why (e.g. multi partitions). */
  problems: { assetKey: string; reason: string }[];
  /** The published assets by key (placeholders resolved), for {@link evaluateAutomation}. */
  nodes: ReadonlyMap<string, AssetNodeSnapshot>;
}

/** A materialization's place in the event log: `id` orders events by when the catalog recorded them. */
export interface Mark {
  id: number;
  at: string;
}

/** What the catalog says, read before evaluating. Maps keyed by {@link pairKey} or by asset key. */
export interface AutomationFacts {
  now: Date;
  /** Cron ticks before this instant never fire (automation was off then). */
  activeSince: Date;
  materializations: ReadonlyMap<string, Mark>;
  /** Per asset key, its latest materialization of any partition. */
  latestAnyPartition: ReadonlyMap<string, Mark>;
  /** Per asset key, a running run that has it planned and has not materialized it. */
  inProgress: ReadonlyMap<string, string>;
  /** Per pair, the latest evaluation that requested it. */
  lastRequests: ReadonlyMap<string, { at: string; watermark: number }>;
}

export interface AutomationDecision {
  assetKey: string;
  partition: string | null;
  requested: boolean;
  reason: string;
}

export interface AutomationOutcome {
  decisions: AutomationDecision[];
  /** The runs to start: one per partition key (null: the unpartitioned assets), keys in dependency order. */
  runs: { partition: string | null; keys: string[] }[];
  /** The next cron tick any condition waits for (ISO), if any. */
  nextWakeAt?: string;
}

const sameDef = (a: AssetNodeSnapshot['partitions'], b: AssetNodeSnapshot['partitions']): boolean => a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b);
/** Static and dynamic definitions are evaluated key by key up to this many keys. */
const MAX_KEYS = 1000;

function depRefs(node: AssetNodeSnapshot, partition: string | null, nodes: ReadonlyMap<string, AssetNodeSnapshot>): DepRef[] {
  return node.deps.map((d) => {
    const dep = nodes.get(d);
    if (!dep?.partitions) return { key: d, pair: pairKey(d, null) };
    if (partition !== null && sameDef(dep.partitions, node.partitions)) return { key: d, pair: pairKey(d, partition) };
    return { key: d };
  });
}

/** The automated assets and partitions to evaluate at `options.now`, and the catalog facts they need. */
export function automationTargets(snapshots: readonly LocationSnapshot[], options: PartitionKeysOptions): AutomationTargets {
  const resolved = resolvedSnapshots(snapshots);
  const nodes = new Map(resolved.flatMap((s) => s.assets.map((a) => [a.key, a] as const)));
  const graph = graphFromSnapshots(resolved);
  const targets: AutomationTarget[] = [];
  const problems: AutomationTargets['problems'] = [];
  const pairs = new Map<string, { assetKey: string; partition: string | null }>();
  const assets = new Set<string>();
  const automated = [...nodes.values()].filter((n) => isAutomated(n.automation)).map((n) => n.key);
  for (const key of graph.toposort(automated)) {
    const node = nodes.get(key) as AssetNodeSnapshot;
    const condition = node.automation as AutomationCondition;
    let keys: (string | null)[] = [null];
    const def = node.partitions;
    if (def?.kind === 'multi') {
      problems.push({ assetKey: key, reason: 'multi-partitioned assets are not evaluated by automation yet; use a schedule or a sensor' });
      continue;
    }
    if (def?.kind === 'time') keys = lastPartitionKeys(def, options, windowsOf(condition));
    else if (def) {
      const all = partitionKeys(def, options);
      if (all.length > MAX_KEYS) problems.push({ assetKey: key, reason: `${all.length} partitions: only the last ${MAX_KEYS} are evaluated` });
      keys = all.slice(-MAX_KEYS);
    }
    if (keys.length === 0) problems.push({ assetKey: key, reason: 'no partition exists yet' });
    for (const p of keys) {
      targets.push({ assetKey: key, partition: p, condition });
      pairs.set(pairKey(key, p), { assetKey: key, partition: p });
      assets.add(key);
      for (const ref of depRefs(node, p, nodes)) {
        assets.add(ref.key);
        if (ref.pair !== undefined) {
          const dep = nodes.get(ref.key);
          pairs.set(ref.pair, { assetKey: ref.key, partition: dep?.partitions ? p : null });
        }
      }
    }
  }
  return { targets, pairs: [...pairs.values()], assets: [...assets].sort(), problems, nodes };
}

type Verdict = { ok: boolean; reason: string };

interface DepState {
  key: string;
  mark?: Mark;
  /** The run group of this evaluation that will update it. */
  willUpdate?: string;
  inProgress?: string;
}

const at = (iso: string): number => Date.parse(iso);
const list = (keys: string[]): string => `${keys.slice(0, 3).map((k) => `'${k}'`).join(', ')}${keys.length > 3 ? ` and ${keys.length - 3} more` : ''}`;

/** Why a dep keeps the asset waiting (missing, or in progress), if it does. */
function blockers(deps: readonly DepState[]): string | undefined {
  const missing = deps.filter((d) => !d.mark && d.willUpdate === undefined).map((d) => d.key);
  if (missing.length > 0) return `waiting: dep ${list(missing)} ${missing.length === 1 ? 'is' : 'are'} missing (never materialized)`;
  const running = deps.filter((d) => d.inProgress !== undefined && d.willUpdate === undefined);
  if (running.length > 0) return `waiting: dep ${list(running.map((d) => d.key))} ${running.length === 1 ? 'is' : 'are'} in progress (run ${running[0]?.inProgress})`;
  return undefined;
}

/**
 * Evaluates every target in dependency order. A dep requested earlier in the same evaluation counts as updated
 * (and as neither missing nor in progress), so a chain of upstream-change assets is requested at once, in one run.
 */
export function evaluateAutomation({ targets, nodes }: Pick<AutomationTargets, 'targets' | 'nodes'>, facts: AutomationFacts): AutomationOutcome {
  const now = facts.now.getTime();
  const willRequest = new Map<string, string>();
  const groupsOfAsset = new Map<string, Set<string>>();
  const decisions: AutomationDecision[] = [];
  const runs = new Map<string, string[]>();
  let nextWake = Infinity;

  for (const t of targets) {
    const node = nodes.get(t.assetKey);
    if (!node) continue;
    const self = pairKey(t.assetKey, t.partition);
    const own = facts.materializations.get(self);
    const lastRequest = facts.lastRequests.get(self);
    const deps: DepState[] = depRefs(node, t.partition, nodes).map((ref) => {
      const willUpdate = ref.pair !== undefined ? willRequest.get(ref.pair) : [...(groupsOfAsset.get(ref.key) ?? [])][0];
      const mark = ref.pair !== undefined ? facts.materializations.get(ref.pair) : facts.latestAnyPartition.get(ref.key);
      const inProgress = facts.inProgress.get(ref.key);
      return { key: ref.key, ...(mark ? { mark } : {}), ...(willUpdate !== undefined ? { willUpdate } : {}), ...(inProgress !== undefined ? { inProgress } : {}) };
    });

    const evaluate = (c: AutomationCondition): Verdict => {
      switch (c.type) {
        case 'manual':
          return { ok: false, reason: 'manual: only runs, schedules and sensors start it' };
        case 'onUpstreamChange': {
          if (deps.length === 0) return { ok: false, reason: 'it has no deps to change' };
          const since = Math.max(own?.id ?? 0, lastRequest?.watermark ?? 0);
          const updated = deps.filter((d) => d.willUpdate !== undefined || (d.mark !== undefined && d.mark.id > since)).map((d) => d.key);
          if (updated.length === 0) return { ok: false, reason: 'no dep has updated since it last ran' };
          const wait = blockers(deps);
          if (wait) return { ok: false, reason: `${wait}; ${list(updated)} updated` };
          return { ok: true, reason: `dep ${list(updated)} updated since it last ran` };
        }
        case 'onMissing': {
          if (own) return { ok: false, reason: 'not missing: it has been materialized' };
          if (lastRequest) return { ok: false, reason: `missing, but already requested at ${lastRequest.at}` };
          const wait = blockers(deps);
          if (wait) return { ok: false, reason: `missing; ${wait}` };
          return { ok: true, reason: 'missing (never materialized)' };
        }
        case 'onCron': {
          const expr = CronExpressionParser.parse(c.cron, { currentDate: new Date(now + 1), tz: c.timezone });
          const tick = expr.prev().getTime();
          const next = CronExpressionParser.parse(c.cron, { currentDate: new Date(now), tz: c.timezone }).next().getTime();
          nextWake = Math.min(nextWake, next);
          const tickIso = new Date(tick).toISOString();
          if (tick < facts.activeSince.getTime()) return { ok: false, reason: `no cron tick since automation started; next at ${new Date(next).toISOString()}` };
          if (own && at(own.at) >= tick) return { ok: false, reason: `tick ${tickIso} handled: materialized since (${own.at})` };
          if (lastRequest && at(lastRequest.at) >= tick) return { ok: false, reason: `tick ${tickIso} handled: requested at ${lastRequest.at}` };
          if (!c.withDeps) return { ok: true, reason: `cron tick ${tickIso} passed` };
          const stale = deps.filter((d) => d.willUpdate === undefined && (!d.mark || at(d.mark.at) < tick)).map((d) => d.key);
          if (stale.length > 0) return { ok: false, reason: `tick ${tickIso} passed; waiting for dep ${list(stale)} to update since it` };
          const wait = blockers(deps);
          if (wait) return { ok: false, reason: `tick ${tickIso} passed; ${wait}` };
          return { ok: true, reason: `cron tick ${tickIso} passed and every dep updated since` };
        }
        case 'and': {
          const vs = c.conditions.map(evaluate);
          const failed = vs.find((v) => !v.ok);
          return failed ? { ok: false, reason: failed.reason } : { ok: true, reason: vs.map((v) => v.reason).join('; and ') };
        }
        case 'or': {
          const vs = c.conditions.map(evaluate);
          const passed = vs.find((v) => v.ok);
          return passed ? { ok: true, reason: passed.reason } : { ok: false, reason: vs.map((v) => v.reason).join('; nor ') };
        }
        case 'not': {
          const v = evaluate(c.condition);
          return { ok: !v.ok, reason: `not (${v.reason})` };
        }
      }
    };

    const verdict = evaluate(t.condition);
    const group = t.partition ?? '';
    let requested = verdict.ok;
    let reason = verdict.reason;
    const running = facts.inProgress.get(t.assetKey);
    const elsewhere = deps.find((d) => d.willUpdate !== undefined && d.willUpdate !== group);
    if (requested && running !== undefined) {
      requested = false;
      reason = `${reason}; but it is in progress (run ${running})`;
    } else if (requested && elsewhere) {
      requested = false;
      reason = `${reason}; waiting for dep '${elsewhere.key}', requested in another run now`;
    }
    if (requested) {
      willRequest.set(self, group);
      groupsOfAsset.set(t.assetKey, (groupsOfAsset.get(t.assetKey) ?? new Set()).add(group));
      runs.set(group, [...(runs.get(group) ?? []), t.assetKey]);
    }
    decisions.push({ assetKey: t.assetKey, partition: t.partition, requested, reason: requested ? `requested: ${reason}` : reason });
  }
  return {
    decisions,
    runs: [...runs.entries()].map(([g, keys]) => ({ partition: g === '' ? null : g, keys })),
    ...(Number.isFinite(nextWake) ? { nextWakeAt: new Date(nextWake).toISOString() } : {}),
  };
}
