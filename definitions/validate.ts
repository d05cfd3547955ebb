import { z } from 'zod';
import { RESERVED_CONTEXT_NAMES, type AssetDefinition } from './asset';
import { keyProblem } from './asset-key';
import { dropShadowedPlaceholders, LOCATION_NAME, type CodeLocationDefinition } from './code-location';
import { CairnError, ErrorCodes } from './errors';
import { automationProblemsOf } from './automation';
import { normalizeFreshness } from './freshness';
import { AssetGraph } from './graph';
import type { PartitionsDefinition } from './partitions/definitions';
import { partitionsProblems } from './partitions/keys';
import { describePartitions } from './partitions/keys';
import { mappingProblem, type PartitionMapping } from './partitions/mappings';
import type { BackfillPolicy } from './partitions/schema';
import { assetQualityProblems, standaloneCheckProblems } from './validate-quality';
import { automationProblems, duplicateJobProblems } from './validate-automation';

/** A node with the place it was declared, so every message can say where. */
export interface LocatedNode {
  key: string;
  deps: readonly string[];
  codeLocation: string;
  /** A file path, or a description of where the node came from. */
  source: string;
}

function where(n: LocatedNode): string {
  return `location '${n.codeLocation}' (${n.source})`;
}

/**
 * Checks that span the whole graph: duplicate keys, self-dependencies, unknown deps (with the closest key
 * suggested) and cycles (printed as a path). Works the same on live definitions and on published snapshots.
 */
export function validateGraph(nodes: readonly LocatedNode[], prebuilt?: AssetGraph): CairnError[] {
  const problems: CairnError[] = [];
  const byKey = new Map<string, LocatedNode>();
  for (const n of nodes) {
    const first = byKey.get(n.key);
    if (first) {
      problems.push(new CairnError(ErrorCodes.DuplicateKey, `asset '${n.key}' is defined twice: in ${where(first)} and in ${where(n)}`, n.key));
    } else byKey.set(n.key, n);
  }
  const graph =
    prebuilt ??
    AssetGraph.fromNodes([...byKey.values()].map((n) => ({ key: n.key, deps: n.deps, group: '', kinds: [], owners: [], tags: {}, codeLocation: n.codeLocation })));
  let selfDeps = 0;
  for (const n of byKey.values()) {
    for (const dep of n.deps) {
      if (dep === n.key) {
        selfDeps++;
        problems.push(new CairnError(ErrorCodes.SelfDependency, `asset '${n.key}' in ${where(n)} depends on itself`, n.key));
      } else if (!byKey.has(dep)) {
        const close = graph.closestKey(dep);
        const hint = close ? `; did you mean '${close}'?` : '; declare it with asset() or externalAsset(), or add its code location to the workspace';
        problems.push(new CairnError(ErrorCodes.UnknownDep, `asset '${n.key}' in ${where(n)} depends on unknown asset '${dep}'${hint}`, n.key));
      }
    }
  }
  // A self-dependency is a one-node cycle, reported above; look for real cycles in the graph without them.
  const acyclicCheck =
    selfDeps === 0
      ? graph
      : AssetGraph.fromNodes([...byKey.values()].map((n) => ({ key: n.key, deps: n.deps.filter((d) => d !== n.key), group: '', kinds: [], owners: [], tags: {}, codeLocation: n.codeLocation })));
  const cycle = acyclicCheck.findCycle();
  if (cycle) {
    problems.push(new CairnError(ErrorCodes.Cycle, `assets form a cycle: ${cycle.join(' -> ')}`, cycle[0]));
  }
  return problems;
}

function configSchemaProblem(a: AssetDefinition): string | undefined {
  if (a.config === undefined) return undefined;
  const schema = a.config as unknown;
  if (typeof schema !== 'object' || schema === null || typeof (schema as { safeParse?: unknown }).safeParse !== 'function') {
    return `asset '${a.key}': config must be a zod schema such as z.object({ ... }), got ${schema === null ? 'null' : typeof schema}`;
  }
  try {
    const json = z.toJSONSchema(schema as z.ZodType) as { type?: unknown };
    if (json.type !== 'object') return `asset '${a.key}': config must be a zod object schema (z.object({ ... })), got a schema of type '${String(json.type ?? 'unknown')}'`;
  } catch (e) {
    return `asset '${a.key}': config schema cannot be described as JSON Schema (${(e as Error).message}); use plain zod types`;
  }
  return undefined;
}

/** Checks local to one code location: its name, keys, functions, retry policies, config schemas, resources. */
export function validateLocation(location: CodeLocationDefinition, source: string): CairnError[] {
  const problems: CairnError[] = [];
  const at = `location '${String(location.name)}' (${source})`;
  if (typeof location.name !== 'string' || !LOCATION_NAME.test(location.name)) {
    problems.push(new CairnError(ErrorCodes.InvalidDefinition, `code location in ${source} has an invalid name '${String(location.name)}': use lowercase letters, digits, '-' and '_', starting with a letter`, source));
  }
  if (location.assets.length === 0) {
    problems.push(new CairnError(ErrorCodes.EmptyCodeLocation, `${at} has no assets; add assets to codeLocation({ assets: [...] }) or remove it from the workspace`, source));
  }
  for (const name of Object.keys(location.resources)) {
    if (RESERVED_CONTEXT_NAMES.has(name)) {
      problems.push(new CairnError(ErrorCodes.InvalidDefinition, `${at}: resource name '${name}' is reserved by the step context; rename it`, source));
    }
  }
  for (const [i, a] of location.assets.entries()) {
    if (typeof a !== 'object' || a === null || (a as { kind?: unknown }).kind !== 'asset') {
      problems.push(new CairnError(ErrorCodes.InvalidDefinition, `${at}: assets[${i}] is not an asset; create it with asset() or externalAsset()`, source));
      continue;
    }
    const keyIssue = keyProblem(a.key);
    if (keyIssue) problems.push(new CairnError(ErrorCodes.InvalidKey, `${keyIssue} (in ${at})`, String(a.key)));
    for (const dep of a.deps) {
      const depIssue = keyProblem(dep);
      if (depIssue) problems.push(new CairnError(ErrorCodes.InvalidKey, `asset '${a.key}' has an invalid dep: ${depIssue}`, String(a.key)));
    }
    if (!a.isExternal && a.multiAsset === undefined && typeof a.materialize !== 'function') {
      problems.push(new CairnError(ErrorCodes.InvalidDefinition, `asset '${a.key}' in ${at}: materialize must be a function (use externalAsset() for an asset Cairn does not produce)`, a.key));
    }
    const r = a.retry;
    if (!Number.isInteger(r.maxAttempts) || r.maxAttempts < 1 || r.maxAttempts > 100 || !(r.initialIntervalMs > 0) || !(r.backoffCoefficient >= 1)) {
      problems.push(new CairnError(ErrorCodes.InvalidDefinition, `asset '${a.key}' in ${at}: retry needs maxAttempts a whole number 1..100, initialIntervalMs > 0, backoffCoefficient >= 1`, a.key));
    }
    if (a.freshness !== undefined) {
      for (const p of normalizeFreshness(a.freshness, a.key).problems) problems.push(new CairnError(ErrorCodes.InvalidDefinition, `${p} (in ${at})`, a.key));
    }
    if (a.automation !== undefined) {
      for (const p of automationProblemsOf(a.automation, a.key)) problems.push(new CairnError(ErrorCodes.InvalidDefinition, `${p} (in ${at})`, a.key));
    }
    for (const p of assetPartitionProblems(a)) problems.push(new CairnError(ErrorCodes.InvalidPartition, `${p} (in ${at})`, a.key));
    const configIssue = configSchemaProblem(a);
    if (configIssue) problems.push(new CairnError(ErrorCodes.InvalidConfigSchema, `${configIssue} (in ${at})`, a.key));
    for (const res of a.resources) {
      if (!(res in location.resources)) {
        problems.push(new CairnError(ErrorCodes.MissingResource, `asset '${a.key}' in ${at} uses resource '${res}', which the location does not provide; add it to codeLocation({ resources: { ${res}: ... } })`, a.key));
      }
    }
    problems.push(...assetQualityProblems(a, location, at));
  }
  problems.push(...standaloneCheckProblems(location, at));
  problems.push(...automationProblems(location, at));
  const multiNames = new Set<string>();
  for (const m of location.multiAssets ?? []) {
    if (multiNames.has(m.name)) problems.push(new CairnError(ErrorCodes.InvalidDefinition, `${at}: two multi-assets are named '${m.name}'; give one a different name`, m.name));
    multiNames.add(m.name);
    for (const res of m.resources) {
      if (!(res in location.resources)) {
        problems.push(new CairnError(ErrorCodes.MissingResource, `'${m.name}' in ${at} uses resource '${res}', which the location does not provide; add it to codeLocation({ resources: { ${res}: ... } })`, m.name));
      }
    }
  }
  return problems;
}

/** What partition validation reads of an asset: its definition, declared mappings and backfill policy. */
export interface PartitionedNode {
  key: string;
  deps: readonly string[];
  partitions?: PartitionsDefinition;
  partitionMappings?: Readonly<Record<string, PartitionMapping>>;
  backfillPolicy?: BackfillPolicy;
}

/** Problems of one asset's partitions on their own: the definition, its backfill policy, a self-dependency. */
function assetPartitionProblems(a: PartitionedNode): string[] {
  const problems: string[] = [];
  if (a.partitions !== undefined) problems.push(...partitionsProblems(a.partitions, `asset '${a.key}': partitions`));
  const policy = a.backfillPolicy as { kind?: unknown; maxPartitionsPerRun?: unknown } | undefined;
  if (policy !== undefined) {
    if (a.partitions === undefined) problems.push(`asset '${a.key}': backfillPolicy needs partitions; an unpartitioned asset always runs once`);
    const n = policy.maxPartitionsPerRun;
    if (policy.kind !== 'singleRun' && !(policy.kind === 'multiRun' && typeof n === 'number' && Number.isInteger(n) && n >= 1)) {
      problems.push(`asset '${a.key}': backfillPolicy must be singleRun() or multiRun(n) with n a whole number >= 1`);
    }
  }
  const self = a.partitionMappings?.[a.key];
  if (self !== undefined) {
    if (a.partitions === undefined) problems.push(`asset '${a.key}' depends on itself, which only a partitioned asset may do (on its earlier partitions)`);
    else if (self.kind !== 'timeWindow' || !(self.endOffset < 0) || !(self.startOffset <= self.endOffset)) {
      problems.push(`asset '${a.key}' depends on its own partitions with a ${String(self.kind)} mapping; only earlier partitions can be read: timeWindowMapping({ startOffset: -1, endOffset: -1 })`);
    } else if (a.partitions.kind !== 'time') problems.push(`asset '${a.key}' depends on its earlier partitions, which needs time-window partitions, not ${describePartitions(a.partitions)}`);
  }
  return problems;
}

/**
 * Problems between partitioned assets across the graph: a mapping declared for an upstream that is not a dep,
 * or for an unpartitioned upstream, or one that does not fit the two definitions (a time-window mapping
 * between static partitions, a dimension the multi definition lacks). Works on definitions and snapshots.
 */
export function partitionGraphProblems(nodes: readonly PartitionedNode[]): CairnError[] {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const problems: CairnError[] = [];
  for (const n of nodes) {
    for (const [up, mapping] of Object.entries(n.partitionMappings ?? {})) {
      if (up === n.key) continue;
      const upstream = byKey.get(up);
      if (!n.deps.includes(up) || !upstream) continue; // unknown deps are reported by validateGraph
      if (upstream.partitions === undefined) {
        problems.push(new CairnError(ErrorCodes.InvalidPartition, `asset '${n.key}' declares a partition mapping for '${up}', which is not partitioned; remove the mapping`, n.key));
      } else if (n.partitions === undefined) {
        problems.push(new CairnError(ErrorCodes.InvalidPartition, `asset '${n.key}' declares a partition mapping for '${up}' but is not partitioned itself; an unpartitioned asset reads every partition`, n.key));
      } else {
        const p = mappingProblem(mapping, n.partitions, upstream.partitions);
        if (p) problems.push(new CairnError(ErrorCodes.InvalidPartition, `asset '${n.key}', dep '${up}': ${p}`, n.key));
      }
    }
  }
  return problems;
}

/** Every problem of a workspace: each location's own, then the graph across all of them. */
export function validateWorkspace(locations: readonly { location: CodeLocationDefinition; source: string }[]): CairnError[] {
  const problems: CairnError[] = [];
  const names = new Map<string, string>();
  for (const { location, source } of locations) {
    problems.push(...validateLocation(location, source));
    const prev = names.get(location.name);
    if (prev !== undefined) {
      problems.push(new CairnError(ErrorCodes.InvalidWorkspace, `code location name '${location.name}' is used twice: in ${prev} and in ${source}`, source));
    }
    names.set(location.name, source);
  }
  const declared = locations.flatMap(({ location, source }) =>
    location.assets.filter((a) => typeof a === 'object' && a !== null && typeof a.key === 'string').map((a) => ({ asset: a, key: a.key, placeholder: a.placeholder, source, codeLocation: location.name })),
  );
  // A placeholder (a dbt source) gives way to a real definition of its key in any location.
  const kept = dropShadowedPlaceholders(declared);
  problems.push(...validateGraph(kept.map((d) => ({ key: d.key, deps: d.asset.deps, codeLocation: d.codeLocation, source: d.source }))));
  problems.push(...partitionGraphProblems(kept.map((d) => d.asset)));
  problems.push(...duplicateJobProblems(locations));
  return problems;
}
