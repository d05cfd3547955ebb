import { fnv1a64, stableStringify } from './hash';

/**
 * Where an asset stands, Dagster's "synced/unsynced" plus run state:
 * - `MISSING`: never materialized (nor reported);
 * - `FRESH`: its latest materialization reflects its current code and its upstream's current data;
 * - `STALE`: it does not, see the causes;
 * - `FAILED`: its latest attempt failed after its latest materialization;
 * - `IN_PROGRESS`: a running run has it planned and has not materialized it yet.
 */
export type AssetState = 'MISSING' | 'FRESH' | 'STALE' | 'FAILED' | 'IN_PROGRESS';

export type StaleCauseKind = 'code_version_changed' | 'upstream_data_changed' | 'new_dependency' | 'upstream_stale';

export interface StaleCause {
  kind: StaleCauseKind;
  /** The upstream asset involved, for the upstream and dependency causes. */
  dependency?: string;
  message: string;
}

/** What staleness needs of one materialization event. */
export interface VersionedEvent {
  at: string;
  codeVersion?: string;
  dataVersion?: string;
  /** Data versions of the inputs the step consumed, by upstream key; `null` for an upstream with no known version. */
  inputDataVersions?: Record<string, string | null>;
}

/** The latest facts the catalog holds about one asset. */
export interface AssetFacts {
  materialization?: VersionedEvent;
  observation?: { at: string; dataVersion?: string };
  lastStep?: { status: 'materialized' | 'failed' | 'skipped'; at: string };
  inProgress?: boolean;
}

/** What staleness needs of one asset definition. */
export interface StalenessNode {
  key: string;
  deps: readonly string[];
  codeVersion?: string;
  isExternal?: boolean;
}

export interface AssetStaleness {
  state: AssetState;
  /** Why the asset is stale; also filled for a FAILED or IN_PROGRESS asset whose last materialization is stale. */
  causes: StaleCause[];
  /** True when a `--stale-only` run should include it: never materialized, or stale. */
  needsRun: boolean;
}

/**
 * The data version of a materialization that did not set one: a hash of the code version (the run id when the
 * asset declares none, as Dagster does, so that each run of an unversioned asset yields new data) and of the
 * data versions of the inputs it consumed.
 */
export function derivedDataVersion(codeVersion: string, inputs: Readonly<Record<string, string | null>>): string {
  return fnv1a64(stableStringify({ code: codeVersion, inputs }));
}

/** The current data version of an asset: that of its newest materialization or observation that has one. */
export function currentDataVersion(facts: AssetFacts | undefined): string | undefined {
  const m = facts?.materialization;
  const o = facts?.observation;
  const candidates = [m, o].filter((e): e is { at: string; dataVersion: string } => e?.dataVersion !== undefined);
  candidates.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return candidates[0]?.dataVersion;
}

/**
 * Computes the state and stale causes of every node, a pure function of the definitions and the catalog's
 * latest facts. `order` must list the keys upstream first (a topological order), so that a stale upstream can
 * be reported as a cause downstream.
 */
export function computeStaleness(
  order: readonly string[],
  nodes: ReadonlyMap<string, StalenessNode>,
  facts: ReadonlyMap<string, AssetFacts>,
): Map<string, AssetStaleness> {
  const out = new Map<string, AssetStaleness>();
  for (const key of order) {
    const node = nodes.get(key);
    if (!node) continue;
    const f = facts.get(key);
    const m = f?.materialization;
    if (node.isExternal) {
      const seen = m ?? f?.observation;
      out.set(key, { state: f?.inProgress ? 'IN_PROGRESS' : seen ? 'FRESH' : 'MISSING', causes: [], needsRun: false });
      continue;
    }
    const causes: StaleCause[] = m ? staleCauses(node, m, nodes, facts, out) : [];
    let state: AssetState;
    if (f?.inProgress) state = 'IN_PROGRESS';
    else if (f?.lastStep?.status === 'failed' && (!m || f.lastStep.at > m.at)) state = 'FAILED';
    else if (!m) state = 'MISSING';
    else state = causes.length > 0 ? 'STALE' : 'FRESH';
    out.set(key, { state, causes, needsRun: !m || causes.length > 0 });
  }
  return out;
}

function staleCauses(
  node: StalenessNode,
  m: VersionedEvent,
  nodes: ReadonlyMap<string, StalenessNode>,
  facts: ReadonlyMap<string, AssetFacts>,
  done: ReadonlyMap<string, AssetStaleness>,
): StaleCause[] {
  const causes: StaleCause[] = [];
  if ((node.codeVersion ?? null) !== (m.codeVersion ?? null)) {
    causes.push({
      kind: 'code_version_changed',
      message: `code version changed from ${m.codeVersion === undefined ? 'none' : `'${m.codeVersion}'`} to ${node.codeVersion === undefined ? 'none' : `'${node.codeVersion}'`}`,
    });
  }
  const consumed = m.inputDataVersions;
  for (const dep of node.deps) {
    if (consumed !== undefined && !(dep in consumed)) {
      causes.push({ kind: 'new_dependency', dependency: dep, message: `new dependency on '${dep}' since the last materialization` });
      continue;
    }
    if (consumed !== undefined) {
      const now = currentDataVersion(facts.get(dep)) ?? null;
      if (now !== (consumed[dep] ?? null)) {
        causes.push({ kind: 'upstream_data_changed', dependency: dep, message: `upstream '${dep}' has newer data` });
        continue;
      }
    }
    if (nodes.has(dep) && done.get(dep)?.causes.length && done.get(dep)?.state !== 'MISSING') {
      causes.push({ kind: 'upstream_stale', dependency: dep, message: `upstream '${dep}' is stale` });
    }
  }
  return causes;
}
