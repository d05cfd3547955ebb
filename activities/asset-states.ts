import { describeFreshness, evaluateFreshness, formatDuration, type FreshnessResult } from '../definitions/freshness';
import type { AssetGraph } from '../definitions/graph';
import type { Metadata } from '../definitions/metadata';
import { computeStaleness, type AssetFacts, type AssetState, type StaleCause, type StalenessNode } from '../definitions/staleness';
import type { AssetStatus, CatalogStore, StepResultRecord, StoredAssetEvent } from './catalog/catalog-store';

/** Everything `cairn status` shows about one asset. */
export interface AssetStateRow {
  key: string;
  codeLocation: string;
  external: boolean;
  state: AssetState;
  causes: StaleCause[];
  /** Whether `--stale-only` would run it. */
  needsRun: boolean;
  lastMaterialization?: { runId: string | null; at: string; source: 'run' | 'report'; dataVersion?: string; codeVersion?: string; metadata: Metadata };
  lastObservation?: { at: string; dataVersion?: string; metadata: Metadata };
  lastStep?: StepResultRecord;
  inProgressRunId?: string;
  /** The freshness policy's verdict at the time of the call, when the asset declares one. */
  freshness?: FreshnessResult & { policy: string; lag?: string };
}

function factsOf(s: AssetStatus | undefined): AssetFacts {
  const m = s?.lastMaterialization;
  const o = s?.lastObservation;
  return {
    ...(m ? { materialization: m } : {}),
    ...(o ? { observation: { at: o.at, ...(o.dataVersion !== undefined ? { dataVersion: o.dataVersion } : {}) } } : {}),
    ...(s?.lastStep ? { lastStep: s.lastStep } : {}),
    ...(s?.inProgressRunId ? { inProgress: true } : {}),
  };
}

const materializationView = (m: StoredAssetEvent): NonNullable<AssetStateRow['lastMaterialization']> => ({
  runId: m.runId, at: m.at, source: m.source, metadata: m.metadata,
  ...(m.dataVersion !== undefined ? { dataVersion: m.dataVersion } : {}),
  ...(m.codeVersion !== undefined ? { codeVersion: m.codeVersion } : {}),
});

/**
 * The state of each of `keys` (default: every asset of the graph): reads the latest facts of the keys and of
 * everything upstream of them in one catalog query, then computes staleness with the pure
 * {@link computeStaleness}. Reported events count exactly like run events.
 */
export async function assetStates(catalog: CatalogStore, graph: AssetGraph, keys?: readonly string[], now: Date = new Date()): Promise<AssetStateRow[]> {
  const wanted = keys ?? graph.keys();
  const closure = graph.upstream(wanted);
  for (const k of wanted) closure.add(k);
  const order = graph.toposort(closure);
  // Status of the whole graph reads every latest row without a key list (a 10,000-key list costs more to plan
  // than the query); other keys the catalog knows are simply not looked at.
  const statuses = await catalog.assetStatuses(closure.size === graph.keys().length ? undefined : order);
  const nodes = new Map<string, StalenessNode>(order.map((k) => {
    const n = graph.node(k);
    return [k, { key: k, deps: n.deps, ...(n.codeVersion !== undefined ? { codeVersion: n.codeVersion } : {}), ...(n.isExternal ? { isExternal: true } : {}) }];
  }));
  const facts = new Map(order.map((k) => [k, factsOf(statuses.get(k))]));
  const staleness = computeStaleness(order, nodes, facts);
  return wanted.map((key) => {
    const s = statuses.get(key);
    const st = staleness.get(key) ?? { state: 'MISSING' as const, causes: [], needsRun: true };
    const node = graph.node(key);
    // An external asset is updated by reports and observations; a Cairn asset by materializations.
    const updatedAt = node.isExternal ? [s?.lastMaterialization?.at, s?.lastObservation?.at].filter((x) => x !== undefined).sort().at(-1) : s?.lastMaterialization?.at;
    const freshness = node.freshness ? evaluateFreshness(node.freshness, updatedAt, now) : undefined;
    return {
      key,
      codeLocation: node.codeLocation,
      external: !!node.isExternal,
      state: st.state,
      causes: st.causes,
      needsRun: st.needsRun,
      ...(s?.lastMaterialization ? { lastMaterialization: materializationView(s.lastMaterialization) } : {}),
      ...(s?.lastObservation
        ? { lastObservation: { at: s.lastObservation.at, metadata: s.lastObservation.metadata, ...(s.lastObservation.dataVersion !== undefined ? { dataVersion: s.lastObservation.dataVersion } : {}) } }
        : {}),
      ...(s?.lastStep ? { lastStep: s.lastStep } : {}),
      ...(s?.inProgressRunId ? { inProgressRunId: s.inProgressRunId } : {}),
      ...(freshness && node.freshness
        ? { freshness: { ...freshness, policy: describeFreshness(node.freshness), ...(freshness.lagMs !== undefined ? { lag: formatDuration(freshness.lagMs) } : {}) } }
        : {}),
    };
  });
}
