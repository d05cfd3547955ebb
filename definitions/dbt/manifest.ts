/**
 * From a dbt manifest (`target/manifest.json`) to Cairn assets and checks. Pure: the caller reads the file and
 * runs `dbt parse`; this module only translates, so it is fast (a 1,000-model manifest in well under a second)
 * and unit-testable without dbt.
 */
import type { AutomationCondition } from '../automation';
import { z } from 'zod';
import type { AssetDefinition } from '../asset';
import { DEFAULT_RETRY } from '../asset';
import { keyProblem } from '../asset-key';
import { CairnError, CairnErrors, ErrorCodes } from '../errors';
import { fnv1a64 } from '../hash';
import { meta as metaValue, type TableColumn } from '../metadata';
import type { CheckSpec } from '../multi-asset';
import type { PartitionsDefinition } from '../partitions/definitions';
import type { BackfillPolicy } from '../partitions/schema';
import type { RetryPolicy } from '../snapshot';
import { selectDbtNodes, type DbtSelectableNode } from './selection';

const Meta = z.record(z.string(), z.unknown()).catch({});
const Strings = z.array(z.string()).catch([]);

const ColumnSchema = z.looseObject({
  name: z.string(),
  description: z.string().nullish(),
  data_type: z.string().nullish(),
});

const NodeSchema = z.looseObject({
  unique_id: z.string(),
  resource_type: z.string(),
  name: z.string(),
  package_name: z.string(),
  fqn: z.array(z.string()),
  original_file_path: z.string().default(''),
  description: z.string().nullish(),
  tags: Strings.optional(),
  meta: Meta.optional(),
  config: z.looseObject({ materialized: z.string().nullish(), group: z.string().nullish(), meta: Meta.optional(), tags: z.unknown().optional(), severity: z.string().nullish() }).optional(),
  depends_on: z.looseObject({ nodes: z.array(z.string()).default([]) }).optional(),
  columns: z.record(z.string(), ColumnSchema).catch({}).optional(),
  raw_code: z.string().nullish(),
  checksum: z.looseObject({ checksum: z.string() }).nullish(),
  attached_node: z.string().nullish(),
  version: z.union([z.string(), z.number()]).nullish(),
  schema: z.string().nullish(),
  alias: z.string().nullish(),
  relation_name: z.string().nullish(),
});

const SourceSchema = z.looseObject({
  unique_id: z.string(),
  name: z.string(),
  source_name: z.string(),
  package_name: z.string(),
  fqn: z.array(z.string()),
  original_file_path: z.string().default(''),
  description: z.string().nullish(),
  source_description: z.string().nullish(),
  tags: Strings.optional(),
  meta: Meta.optional(),
  source_meta: Meta.optional(),
  columns: z.record(z.string(), ColumnSchema).catch({}).optional(),
  relation_name: z.string().nullish(),
});

export const DbtManifestSchema = z.looseObject({
  metadata: z.looseObject({ project_name: z.string().optional(), adapter_type: z.string().nullish(), dbt_version: z.string().optional() }),
  nodes: z.record(z.string(), NodeSchema),
  sources: z.record(z.string(), SourceSchema).default({}),
});
export type DbtManifest = z.infer<typeof DbtManifestSchema>;

/** A model, seed, snapshot or source as `key()` and `group()` see it. */
export interface DbtNode {
  uniqueId: string;
  resourceType: 'model' | 'seed' | 'snapshot' | 'source';
  name: string;
  packageName: string;
  fqn: readonly string[];
  /** The file, relative to the project. */
  path: string;
  description?: string;
  tags: readonly string[];
  /** `meta`, merged from the node and its config. */
  meta: Readonly<Record<string, unknown>>;
  /** For sources: the source's name (`shop` of `source('shop', 'orders')`). */
  sourceName?: string;
  materialized?: string;
  /** The dbt group, if the node belongs to one. */
  dbtGroup?: string;
  schema?: string;
  alias?: string;
}

export interface DbtTranslateOptions {
  /** The multi-asset name the assets belong to (`dbt:<project>`). */
  name: string;
  /** Where the manifest came from, for messages. */
  manifestPath: string;
  /** The asset key of a node; undefined falls back to `meta.cairn.key`, then the default. */
  key?: (node: DbtNode) => string | undefined;
  /** The group of a node; undefined falls back to `meta.cairn.group`, the dbt group, the model's folder. */
  group?: (node: DbtNode) => string | undefined;
  /** dbt selection syntax: which models, seeds and snapshots become assets (default: all). */
  select?: string;
  exclude?: string;
  partitions?: PartitionsDefinition;
  backfillPolicy?: BackfillPolicy;
  /** Whether an error-severity test failure skips the model's downstream in the run (default true). */
  blockingTests?: boolean;
  retry?: RetryPolicy;
  /** Resources the dbt step uses (the DuckDB warehouse), recorded on every asset. */
  resources?: readonly string[];
  /** The automation condition of a node; undefined falls back to `meta.cairn.automation`, then manual. */
  automation?: (node: DbtNode) => AutomationCondition | undefined;
}

/** What a dbt node becomes in the run: its asset and the selector that builds it. */
export interface DbtAssetNode {
  key: string;
  uniqueId: string;
  resourceType: DbtNode['resourceType'];
  /** Selected with `dbt build --select fqn:<fqn joined by dots>`. */
  fqn: readonly string[];
}

export interface DbtCheckNode {
  uniqueId: string;
  check: CheckSpec;
}

export interface DbtProjectGraph {
  projectName: string;
  adapterType: string;
  assets: AssetDefinition[];
  checks: CheckSpec[];
  /** The assets Cairn builds, by key. */
  nodesByKey: Map<string, DbtAssetNode>;
  /** Every model, seed, snapshot and source by unique id → asset key (placeholders included). */
  keyByUniqueId: Map<string, string>;
  /** dbt tests that are checks, by test unique id. */
  checksByTestId: Map<string, DbtCheckNode>;
  /** The fqn of every model, seed and snapshot dbt builds (selected or not), for compressing selections. */
  buildableFqns: string[][];
}

const ASSET_TYPES = new Set(['model', 'seed', 'snapshot']);

/** Parses and checks the manifest's shape; the error names the file and the first bad field. */
export function parseDbtManifest(raw: unknown, manifestPath: string): DbtManifest {
  const parsed = DbtManifestSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const at = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
  throw new CairnError(ErrorCodes.InvalidDefinition, `dbt manifest ${manifestPath} is not a manifest Cairn can read: field '${at}': ${issue?.message ?? 'invalid'}; run \`dbt parse\` again with dbt >= 1.8`, manifestPath);
}

function cairnMeta(m: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const c = m.cairn;
  return typeof c === 'object' && c !== null && !Array.isArray(c) ? (c as Record<string, unknown>) : {};
}

function nodeView(n: z.infer<typeof NodeSchema>): DbtNode {
  const m = { ...(n.meta ?? {}), ...(n.config?.meta ?? {}) };
  const configTags = Array.isArray(n.config?.tags) ? (n.config.tags as unknown[]).filter((t): t is string => typeof t === 'string') : [];
  return {
    uniqueId: n.unique_id,
    resourceType: n.resource_type as DbtNode['resourceType'],
    name: n.version !== undefined && n.version !== null ? `${n.name}_v${n.version}` : n.name,
    packageName: n.package_name,
    fqn: n.fqn,
    path: n.original_file_path,
    ...(n.description ? { description: n.description } : {}),
    tags: [...new Set([...(n.tags ?? []), ...configTags])],
    meta: m,
    ...(n.config?.materialized ? { materialized: n.config.materialized } : {}),
    ...(n.config?.group ? { dbtGroup: n.config.group } : {}),
    ...(n.schema ? { schema: n.schema } : {}),
    ...(n.alias ? { alias: n.alias } : {}),
  };
}

function sourceView(s: z.infer<typeof SourceSchema>): DbtNode {
  return {
    uniqueId: s.unique_id,
    resourceType: 'source',
    name: s.name,
    packageName: s.package_name,
    fqn: s.fqn,
    path: s.original_file_path,
    ...(s.description || s.source_description ? { description: s.description || s.source_description || '' } : {}),
    tags: s.tags ?? [],
    meta: { ...(s.source_meta ?? {}), ...(s.meta ?? {}) },
    sourceName: s.source_name,
  };
}

/** `<source>/<table>` for a source, the node name for a model, seed or snapshot. */
export function defaultDbtKey(node: DbtNode): string {
  return node.resourceType === 'source' ? `${node.sourceName}/${node.name}` : node.name;
}

function columnsOf(columns: Record<string, z.infer<typeof ColumnSchema>> | undefined): TableColumn[] {
  return Object.values(columns ?? {}).map((c) => ({ name: c.name, type: c.data_type ?? '', ...(c.description ? { description: c.description } : {}) }));
}

function ownersOf(m: Readonly<Record<string, unknown>>): string[] {
  const raw = cairnMeta(m).owners ?? m.owner ?? m.owners;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.filter((o): o is string => typeof o === 'string' && o !== '');
}

/**
 * Translates a parsed manifest: one asset per selected model, seed and snapshot (ephemeral models are walked
 * through to their real parents), a placeholder external asset per source or unselected node they read, and one
 * check per test attached to a selected asset. Every problem (bad or duplicate keys, a selection that matches
 * nothing) is reported at once.
 */
export function translateDbtManifest(manifest: DbtManifest, opts: DbtTranslateOptions): DbtProjectGraph {
  const projectName = manifest.metadata.project_name ?? 'dbt';
  const adapterType = manifest.metadata.adapter_type ?? 'dbt';
  const problems: CairnError[] = [];
  const nodes = Object.values(manifest.nodes);
  const views = new Map<string, DbtNode>();
  for (const n of nodes) if (ASSET_TYPES.has(n.resource_type)) views.set(n.unique_id, nodeView(n));
  for (const s of Object.values(manifest.sources)) views.set(s.unique_id, sourceView(s));
  const raw = new Map(nodes.map((n) => [n.unique_id, n]));
  const ephemeral = (id: string): boolean => raw.get(id)?.config?.materialized === 'ephemeral';

  // Only a select/exclude option needs the selection view of every node.
  const selectable = (): DbtSelectableNode[] => [
    ...nodes.map((n) => ({
      uniqueId: n.unique_id, resourceType: n.resource_type, name: n.name, packageName: n.package_name, fqn: n.fqn, path: n.original_file_path,
      tags: views.get(n.unique_id)?.tags ?? n.tags ?? [], ...(n.config?.materialized ? { materialized: n.config.materialized } : {}), parents: n.depends_on?.nodes ?? [],
    })),
    ...Object.values(manifest.sources).map((s) => ({ uniqueId: s.unique_id, resourceType: 'source', name: s.name, packageName: s.package_name, fqn: s.fqn, path: s.original_file_path, tags: s.tags ?? [], sourceName: s.source_name, parents: [] })),
  ];
  const isBuildable = (id: string): boolean => ASSET_TYPES.has(raw.get(id)?.resource_type ?? '') && !ephemeral(id);
  let selected = new Set(nodes.filter((n) => isBuildable(n.unique_id)).map((n) => n.unique_id));
  if (opts.select !== undefined) selected = new Set([...selectDbtNodes(opts.select, selectable())].filter(isBuildable));
  if (opts.exclude !== undefined) for (const id of selectDbtNodes(opts.exclude, selectable())) selected.delete(id);
  if (selected.size === 0) {
    const what = [opts.select !== undefined ? `select '${opts.select}'` : '', opts.exclude !== undefined ? `exclude '${opts.exclude}'` : ''].filter(Boolean).join(' and ');
    throw new CairnError(ErrorCodes.EmptySelection, `dbt project '${projectName}' (${opts.manifestPath}): ${what || 'the project'} matches no model, seed or snapshot`, opts.manifestPath);
  }

  // Keys of every node an asset may reference: selected ones, and the sources/unselected nodes they read.
  const keyByUniqueId = new Map<string, string>();
  const keyOwner = new Map<string, string>();
  const keyOf = (id: string): string | undefined => {
    const known = keyByUniqueId.get(id);
    if (known !== undefined) return known;
    const view = views.get(id);
    if (!view) return undefined;
    const given = opts.key?.(view) ?? (typeof cairnMeta(view.meta).key === 'string' ? (cairnMeta(view.meta).key as string) : undefined);
    const key = given ?? defaultDbtKey(view);
    const issue = keyProblem(key);
    if (issue) problems.push(new CairnError(ErrorCodes.InvalidKey, `dbt node '${id}' (${view.path}): ${issue}; set meta.cairn.key or the key() option`, id));
    const other = keyOwner.get(key);
    if (other !== undefined && other !== id) {
      problems.push(new CairnError(ErrorCodes.DuplicateKey, `dbt nodes '${other}' and '${id}' both map to asset key '${key}' (in ${opts.manifestPath}); give one a different key with meta.cairn.key or the key() option`, key));
    }
    keyOwner.set(key, id);
    keyByUniqueId.set(id, key);
    return key;
  };

  // The real parents of a node: through ephemeral models, to models, seeds, snapshots and sources.
  const realParents = new Map<string, string[]>();
  const parentsOf = (id: string, stack: string[] = []): string[] => {
    const done = realParents.get(id);
    if (done) return done;
    const out = new Set<string>();
    for (const p of raw.get(id)?.depends_on?.nodes ?? []) {
      if (ephemeral(p)) {
        if (!stack.includes(p)) for (const q of parentsOf(p, [...stack, id])) out.add(q);
      } else if (views.has(p)) out.add(p);
    }
    const list = [...out].sort();
    realParents.set(id, list);
    return list;
  };

  const ephemeralAncestors = (id: string, seen = new Set<string>()): string[] => {
    for (const p of raw.get(id)?.depends_on?.nodes ?? []) {
      if (ephemeral(p) && !seen.has(p)) {
        seen.add(p);
        ephemeralAncestors(p, seen);
      }
    }
    return [...seen].sort();
  };

  const members = [...selected].sort();
  for (const id of members) keyOf(id);
  const assets: AssetDefinition[] = [];
  const nodesByKey = new Map<string, DbtAssetNode>();
  const placeholders = new Map<string, AssetDefinition>();
  const retry = opts.retry ?? { ...DEFAULT_RETRY, maxAttempts: 1 };
  for (const id of members) {
    const view = views.get(id) as DbtNode;
    const n = raw.get(id) as z.infer<typeof NodeSchema>;
    const key = keyOf(id) as string;
    const deps = parentsOf(id).map((p) => keyOf(p)).filter((k): k is string => k !== undefined);
    for (const p of parentsOf(id)) {
      if (selected.has(p)) continue;
      const pk = keyOf(p);
      const pv = views.get(p);
      if (pk === undefined || !pv || placeholders.has(pk)) continue;
      placeholders.set(pk, placeholderAsset(pk, pv, adapterType));
    }
    const columns = columnsOf(n.columns);
    const cm = cairnMeta(view.meta);
    const automation = opts.automation?.(view) ?? (cm.automation as AutomationCondition | undefined);
    assets.push({
      kind: 'asset',
      key,
      deps: [...new Set(deps)],
      ins: {},
      partitionMappings: {},
      ...(opts.partitions ? { partitions: opts.partitions } : {}),
      ...(opts.partitions && opts.backfillPolicy ? { backfillPolicy: opts.backfillPolicy } : {}),
      group: opts.group?.(view) ?? (typeof cm.group === 'string' ? cm.group : undefined) ?? view.dbtGroup ?? (view.fqn.length > 2 ? view.fqn[1] : undefined) ?? 'dbt',
      kinds: ['dbt', adapterType, ...(view.resourceType === 'model' ? [] : [view.resourceType])].filter((k, i, all) => all.indexOf(k) === i),
      owners: ownersOf(view.meta),
      tags: Object.fromEntries(view.tags.map((t) => [t, ''])),
      ...(view.description ? { description: view.description } : {}),
      metadata: {
        'dbt/unique_id': view.uniqueId,
        'dbt/path': view.path,
        ...(view.materialized ? { 'dbt/materialized': view.materialized } : {}),
        ...(columns.length > 0 ? { columns: metaValue.tableSchema(columns) } : {}),
      },
      // dbt inlines ephemeral parents' SQL into the model: their code is part of its code.
      codeVersion: fnv1a64([n.raw_code || n.checksum?.checksum || view.uniqueId, ...ephemeralAncestors(id).map((e) => raw.get(e)?.raw_code ?? '')].join('\u0000')),
      retry,
      resources: [...(opts.resources ?? [])],
      ...(automation !== undefined ? { automation } : {}),
      isExternal: false,
      multiAsset: opts.name,
    });
    nodesByKey.set(key, { key, uniqueId: id, resourceType: view.resourceType, fqn: n.fqn });
  }
  for (const [k, p] of placeholders) if (!nodesByKey.has(k)) assets.push(p);

  const checks: CheckSpec[] = [];
  const checksByTestId = new Map<string, DbtCheckNode>();
  const checkNames = new Map<string, string>();
  for (const t of nodes) {
    if (t.resource_type !== 'test') continue;
    const parents = (t.depends_on?.nodes ?? []).filter((p) => views.has(p) || ephemeral(p));
    const attached = t.attached_node ?? (parents.length === 1 ? parents[0] : undefined);
    if (attached === undefined || !selected.has(attached)) continue;
    const asset = keyByUniqueId.get(attached) as string;
    const m = { ...(t.meta ?? {}), ...(t.config?.meta ?? {}) };
    const severity = (t.config?.severity ?? 'error').toLowerCase() === 'warn' ? 'WARN' : 'ERROR';
    const blockingMeta = cairnMeta(m).blocking;
    const blocking = severity === 'ERROR' && (typeof blockingMeta === 'boolean' ? blockingMeta : (opts.blockingTests ?? true));
    const dup = checkNames.get(`${asset}\u0000${t.name}`);
    if (dup !== undefined) {
      problems.push(new CairnError(ErrorCodes.DuplicateKey, `dbt tests '${dup}' and '${t.unique_id}' are both named '${t.name}' on asset '${asset}'; rename one`, t.unique_id));
      continue;
    }
    checkNames.set(`${asset}\u0000${t.name}`, t.unique_id);
    const check: CheckSpec = { name: t.name, asset, ...(t.description ? { description: t.description } : {}), severity, blocking };
    checks.push(check);
    checksByTestId.set(t.unique_id, { uniqueId: t.unique_id, check });
  }
  if (problems.length === 1) throw problems[0] as CairnError;
  if (problems.length > 1) throw new CairnErrors(problems);
  const buildableFqns = nodes.filter((n) => isBuildable(n.unique_id)).map((n) => n.fqn);
  return { projectName, adapterType, assets, checks, nodesByKey, keyByUniqueId, checksByTestId, buildableFqns };
}

function placeholderAsset(key: string, view: DbtNode, adapterType: string): AssetDefinition {
  return {
    kind: 'asset',
    key,
    deps: [],
    ins: {},
    partitionMappings: {},
    group: view.resourceType === 'source' ? (view.sourceName ?? 'sources') : 'dbt',
    kinds: view.resourceType === 'source' ? [adapterType, 'source'] : ['dbt', adapterType],
    owners: ownersOf(view.meta),
    tags: Object.fromEntries(view.tags.map((t) => [t, ''])),
    ...(view.description ? { description: view.description } : {}),
    metadata: { 'dbt/unique_id': view.uniqueId },
    retry: DEFAULT_RETRY,
    resources: [],
    isExternal: true,
    placeholder: true,
  };
}
