/**
 * Synthetic dbt manifests for tests and benches: the JSON shape of dbt 1.11's `target/manifest.json`, limited to
 * the fields `definitions/dbt/manifest.ts` reads. Small builders (`model()`, `seed()`, `source()`,
 * `genericTest()`, `singularTest()`, `manifest()`) write hand-made fixtures; `generateManifest()` writes a large,
 * layered, realistic project deterministically from a seed (no Math.random).
 */

export interface ManifestColumn {
  name: string;
  description: string;
  data_type: string | null;
  meta: Record<string, unknown>;
  tags: string[];
}

export interface ManifestNodeConfig {
  enabled: boolean;
  materialized: string;
  group: string | null;
  meta: Record<string, unknown>;
  tags: string[];
  severity?: string;
}

/** A model, seed, snapshot or test of `manifest.nodes`. */
export interface ManifestNode {
  unique_id: string;
  resource_type: 'model' | 'seed' | 'snapshot' | 'test';
  name: string;
  package_name: string;
  fqn: string[];
  path: string;
  original_file_path: string;
  description: string;
  tags: string[];
  meta: Record<string, unknown>;
  config: ManifestNodeConfig;
  depends_on: { macros: string[]; nodes: string[] };
  columns: Record<string, ManifestColumn>;
  raw_code: string;
  checksum: { name: string; checksum: string };
  attached_node?: string | null;
  column_name?: string | null;
  test_metadata?: { name: string; kwargs: Record<string, unknown>; namespace: string | null };
  version?: string | number | null;
  database: string;
  schema: string;
  alias: string;
  relation_name: string | null;
}

/** A source table of `manifest.sources`. */
export interface ManifestSource {
  unique_id: string;
  resource_type: 'source';
  name: string;
  source_name: string;
  package_name: string;
  fqn: string[];
  path: string;
  original_file_path: string;
  description: string;
  source_description: string;
  tags: string[];
  meta: Record<string, unknown>;
  source_meta: Record<string, unknown>;
  columns: Record<string, ManifestColumn>;
  database: string;
  schema: string;
  identifier: string;
  relation_name: string;
}

export interface Manifest {
  metadata: { dbt_schema_version: string; dbt_version: string; generated_at: string; project_name?: string; adapter_type?: string | null };
  nodes: Record<string, ManifestNode>;
  sources: Record<string, ManifestSource>;
}

export const PROJECT = 'jaffle';

/** Columns as `{ name: data_type }`, or `{ name: { type, description } }`. */
export type ColumnsSpec = Record<string, string | { type?: string | null; description?: string }>;

function columnsOf(spec: ColumnsSpec | undefined): Record<string, ManifestColumn> {
  return Object.fromEntries(
    Object.entries(spec ?? {}).map(([name, c]) => {
      const type = typeof c === 'string' ? c : (c.type ?? null);
      const description = typeof c === 'string' ? '' : (c.description ?? '');
      return [name, { name, description, data_type: type, meta: {}, tags: [] }];
    }),
  );
}

/** A stable fake checksum of `text` (dbt uses sha256 of the file). */
function checksumOf(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0').repeat(8);
}

export const modelId = (name: string, project = PROJECT): string => `model.${project}.${name}`;
export const seedId = (name: string, project = PROJECT): string => `seed.${project}.${name}`;
export const sourceId = (sourceName: string, table: string, project = PROJECT): string => `source.${project}.${sourceName}.${table}`;

export interface ModelOptions {
  project?: string;
  /** Folders under `models/` (`['marts', 'finance']`). */
  folder?: readonly string[];
  /** Unique ids this model reads (`ref`/`source`). */
  deps?: readonly string[];
  materialized?: string;
  /** `config.group`: the dbt group. */
  group?: string | null;
  tags?: readonly string[];
  /** `config.tags` (merged with `tags` by dbt; kept apart here to test the merge). */
  configTags?: readonly string[];
  /** The node's `meta`. */
  meta?: Record<string, unknown>;
  /** `config.meta`, which wins over `meta`. */
  configMeta?: Record<string, unknown>;
  description?: string;
  columns?: ColumnsSpec;
  rawCode?: string;
  version?: string | number;
  schema?: string;
  alias?: string;
}

/** A model node: `models/<folder>/<name>.sql`, fqn `[project, ...folder, name]`. */
export function model(name: string, o: ModelOptions = {}): ManifestNode {
  const project = o.project ?? PROJECT;
  const folder = [...(o.folder ?? [])];
  const file = [...folder, `${name}.sql`].join('/');
  const deps = [...(o.deps ?? [])];
  const rawCode = o.rawCode ?? `select * from ${deps.map((d) => `{{ ref('${d.split('.').at(-1)}') }}`).join(' join ') || '(select 1 as id)'}`;
  const materialized = o.materialized ?? 'view';
  const schema = o.schema ?? 'main';
  const alias = o.alias ?? name;
  const fqn = [project, ...folder, name, ...(o.version !== undefined ? [`v${o.version}`] : [])];
  return {
    unique_id: `${modelId(name, project)}${o.version !== undefined ? `.v${o.version}` : ''}`,
    resource_type: 'model',
    name,
    package_name: project,
    fqn,
    path: file,
    original_file_path: `models/${file}`,
    description: o.description ?? '',
    tags: [...(o.tags ?? [])],
    meta: { ...(o.meta ?? {}) },
    config: { enabled: true, materialized, group: o.group ?? null, meta: { ...(o.configMeta ?? {}) }, tags: [...(o.configTags ?? [])] },
    depends_on: { macros: [], nodes: deps },
    columns: columnsOf(o.columns),
    raw_code: rawCode,
    checksum: { name: 'sha256', checksum: checksumOf(rawCode) },
    ...(o.version !== undefined ? { version: o.version } : {}),
    database: 'warehouse',
    schema,
    alias,
    relation_name: materialized === 'ephemeral' ? null : `"warehouse"."${schema}"."${alias}"`,
  };
}

export interface SeedOptions {
  project?: string;
  folder?: readonly string[];
  tags?: readonly string[];
  meta?: Record<string, unknown>;
  columns?: ColumnsSpec;
  /** The CSV's checksum (seeds have no raw_code). */
  checksum?: string;
}

/** A seed: `seeds/<folder>/<name>.csv`, no raw_code, a file checksum. */
export function seed(name: string, o: SeedOptions = {}): ManifestNode {
  const project = o.project ?? PROJECT;
  const folder = [...(o.folder ?? [])];
  const file = [...folder, `${name}.csv`].join('/');
  return {
    unique_id: seedId(name, project),
    resource_type: 'seed',
    name,
    package_name: project,
    fqn: [project, ...folder, name],
    path: file,
    original_file_path: `seeds/${file}`,
    description: '',
    tags: [...(o.tags ?? [])],
    meta: { ...(o.meta ?? {}) },
    config: { enabled: true, materialized: 'seed', group: null, meta: {}, tags: [] },
    depends_on: { macros: [], nodes: [] },
    columns: columnsOf(o.columns),
    raw_code: '',
    checksum: { name: 'sha256', checksum: o.checksum ?? checksumOf(`seed:${name}`) },
    database: 'warehouse',
    schema: 'main',
    alias: name,
    relation_name: `"warehouse"."main"."${name}"`,
  };
}

export interface SourceOptions {
  project?: string;
  /** The folder of the YAML file that declares it (`['staging']`), which is also in its fqn. */
  folder?: readonly string[];
  description?: string;
  sourceDescription?: string;
  tags?: readonly string[];
  meta?: Record<string, unknown>;
  sourceMeta?: Record<string, unknown>;
  columns?: ColumnsSpec;
}

/** A source table, `source('<sourceName>', '<table>')`. */
export function source(sourceName: string, table: string, o: SourceOptions = {}): ManifestSource {
  const project = o.project ?? PROJECT;
  const folder = [...(o.folder ?? ['staging'])];
  const file = [...folder, '_sources.yml'].join('/');
  return {
    unique_id: sourceId(sourceName, table, project),
    resource_type: 'source',
    name: table,
    source_name: sourceName,
    package_name: project,
    fqn: [project, ...folder, sourceName, table],
    path: file,
    original_file_path: `models/${file}`,
    description: o.description ?? '',
    source_description: o.sourceDescription ?? '',
    tags: [...(o.tags ?? [])],
    meta: { ...(o.meta ?? {}) },
    source_meta: { ...(o.sourceMeta ?? {}) },
    columns: columnsOf(o.columns),
    database: 'warehouse',
    schema: sourceName,
    identifier: table,
    relation_name: `"warehouse"."${sourceName}"."${table}"`,
  };
}

export interface TestOptions {
  project?: string;
  severity?: 'ERROR' | 'WARN' | 'error' | 'warn';
  meta?: Record<string, unknown>;
  configMeta?: Record<string, unknown>;
  description?: string;
  /** The tested column (generic tests). */
  column?: string;
  /** Other parents (a `relationships` test also reads its `to` model). */
  extraDeps?: readonly string[];
  /** The folder of the test's file, for its fqn. */
  folder?: readonly string[];
}

/** A generic (schema) test such as `not_null_orders_id`, attached to `attachedTo` (a model, seed or source id). */
export function genericTest(name: string, attachedTo: string, o: TestOptions = {}): ManifestNode {
  const project = o.project ?? PROJECT;
  const folder = [...(o.folder ?? [])];
  const kind = ['not_null', 'unique', 'accepted_values', 'relationships'].find((k) => name.startsWith(k)) ?? name;
  return {
    unique_id: `test.${project}.${name}.${checksumOf(`${name}:${attachedTo}`).slice(0, 10)}`,
    resource_type: 'test',
    name,
    package_name: project,
    fqn: [project, ...folder, name],
    path: `${name}.sql`,
    original_file_path: `models/${[...folder, '_schema.yml'].join('/')}`,
    description: o.description ?? '',
    tags: [],
    meta: { ...(o.meta ?? {}) },
    config: { enabled: true, materialized: 'test', group: null, meta: { ...(o.configMeta ?? {}) }, tags: [], severity: o.severity ?? 'ERROR' },
    depends_on: { macros: [`macro.dbt.test_${kind}`], nodes: [attachedTo, ...(o.extraDeps ?? [])] },
    columns: {},
    raw_code: `{{ test_${kind}(**_dbt_generic_test_kwargs) }}`,
    checksum: { name: 'none', checksum: '' },
    attached_node: attachedTo,
    column_name: o.column ?? null,
    test_metadata: { name: kind, kwargs: { column_name: o.column ?? null }, namespace: null },
    database: 'warehouse',
    schema: 'main_dbt_test__audit',
    alias: name,
    relation_name: null,
  };
}

/** A singular test (`tests/<name>.sql`): no attached node, its parents are what it reads. */
export function singularTest(name: string, parents: readonly string[], o: TestOptions = {}): ManifestNode {
  const project = o.project ?? PROJECT;
  const rawCode = `select * from ${parents.map((p) => `{{ ref('${p.split('.').at(-1)}') }}`).join(', ')} where false`;
  return {
    unique_id: `test.${project}.${name}`,
    resource_type: 'test',
    name,
    package_name: project,
    fqn: [project, ...(o.folder ?? []), name],
    path: `${name}.sql`,
    original_file_path: `tests/${name}.sql`,
    description: o.description ?? '',
    tags: [],
    meta: { ...(o.meta ?? {}) },
    config: { enabled: true, materialized: 'test', group: null, meta: { ...(o.configMeta ?? {}) }, tags: [], severity: o.severity ?? 'ERROR' },
    depends_on: { macros: [], nodes: [...parents] },
    columns: {},
    raw_code: rawCode,
    checksum: { name: 'sha256', checksum: checksumOf(rawCode) },
    attached_node: null,
    database: 'warehouse',
    schema: 'main_dbt_test__audit',
    alias: name,
    relation_name: null,
  };
}

export interface ManifestOptions {
  project?: string;
  adapter?: string | null;
  nodes?: readonly ManifestNode[];
  sources?: readonly ManifestSource[];
}

/** A manifest of the given nodes and sources, keyed by unique id as dbt writes them. */
export function manifest(o: ManifestOptions = {}): Manifest {
  return {
    metadata: {
      dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json',
      dbt_version: '1.11.2',
      generated_at: '2025-01-01T00:00:00.000000Z',
      project_name: o.project ?? PROJECT,
      adapter_type: o.adapter === undefined ? 'duckdb' : o.adapter,
    },
    nodes: Object.fromEntries((o.nodes ?? []).map((n) => [n.unique_id, n])),
    sources: Object.fromEntries((o.sources ?? []).map((s) => [s.unique_id, s])),
  };
}

// ------------------------------------------------------------------------------------------- generator

/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1). */
export function prng(seedValue: number): () => number {
  let a = seedValue >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GenerateOptions {
  /** Number of models (staging + intermediate + marts). */
  models: number;
  /** PRNG seed (default 1): the same seed gives the same manifest. */
  seed?: number;
  project?: string;
  adapter?: string;
}

export interface GeneratedManifest extends Manifest {
  /** What was generated, by layer (unique ids), for assertions. Not enumerable: JSON.stringify leaves it out. */
  readonly layers: { sources: string[]; seeds: string[]; staging: string[]; intermediate: string[]; ephemeral: string[]; marts: string[]; genericTests: string[]; singularTests: string[] };
}

const DOMAINS = ['core', 'finance', 'marketing', 'product', 'ops', 'sales'] as const;
const COLUMN_TYPES = ['integer', 'varchar', 'timestamp', 'double', 'boolean', 'date'] as const;

/**
 * A layered project of `models` models: sources → staging (one source each) → intermediate (a quarter of them
 * ephemeral) → marts, each model with 1–3 parents from earlier layers; about two generic tests per non-ephemeral
 * model (not_null and unique on its id), a few singular tests (one of them with two parents) and a few seeds.
 * Folders are `<layer>/<domain>`, some marts belong to a dbt group, some models carry tags and `meta.owner`.
 */
export function generateManifest(o: GenerateOptions): GeneratedManifest {
  const n = Math.max(3, Math.floor(o.models));
  const project = o.project ?? PROJECT;
  const rand = prng(o.seed ?? 1);
  const int = (max: number): number => Math.floor(rand() * max);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  /** 1–3 distinct elements of `xs` (fewer if it is shorter). */
  const pickSome = (xs: readonly string[]): string[] => {
    const want = Math.min(xs.length, 1 + int(3));
    const out = new Set<string>();
    while (out.size < want) out.add(pick(xs));
    return [...out].sort();
  };
  // Parents come mostly from the nearest earlier models, as in real projects (a mart reads a few recent ints).
  const recent = (xs: readonly string[], window: number): string[] => xs.slice(Math.max(0, xs.length - window));

  const nStaging = Math.max(1, Math.round(n * 0.3));
  const nIntermediate = Math.max(1, Math.round(n * 0.3));
  const nMarts = Math.max(1, n - nStaging - nIntermediate);
  const nSeeds = Math.max(2, Math.ceil(n / 250));
  const nSingular = Math.max(2, Math.ceil(n / 200));

  const sources: ManifestSource[] = [];
  const nodes: ManifestNode[] = [];
  const layers: GeneratedManifest['layers'] = { sources: [], seeds: [], staging: [], intermediate: [], ephemeral: [], marts: [], genericTests: [], singularTests: [] };
  const pad = (i: number): string => String(i).padStart(5, '0');
  const columnsFor = (): ColumnsSpec => {
    const spec: ColumnsSpec = { id: { type: 'integer', description: 'primary key' } };
    for (let c = 0, k = 1 + int(5); c < k; c++) spec[`col_${c}`] = pick(COLUMN_TYPES);
    return spec;
  };
  const tagsFor = (layer: string): string[] => [layer, ...(rand() < 0.2 ? ['nightly'] : []), ...(rand() < 0.05 ? ['pii'] : [])];
  const addTests = (node: ManifestNode, folder: readonly string[]): void => {
    for (const kind of ['not_null', 'unique'] as const) {
      const t = genericTest(`${kind}_${node.name}_id`, node.unique_id, { project, column: 'id', folder, ...(rand() < 0.1 ? { severity: 'warn' as const } : {}) });
      nodes.push(t);
      layers.genericTests.push(t.unique_id);
    }
  };

  for (let i = 0; i < nSeeds; i++) {
    const s = seed(`seed_${pad(i)}`, { project, columns: { id: 'integer', label: 'varchar' } });
    nodes.push(s);
    layers.seeds.push(s.unique_id);
  }

  for (let i = 0; i < nStaging; i++) {
    const domain = DOMAINS[i % DOMAINS.length] as string;
    const sourceName = `src_${domain}`;
    const table = `t_${pad(i)}`;
    const src = source(sourceName, table, { project, folder: ['staging', domain], columns: { id: 'integer' } });
    sources.push(src);
    layers.sources.push(src.unique_id);
    const folder = ['staging', domain];
    const m = model(`stg_${domain}_${pad(i)}`, {
      project, folder, deps: [src.unique_id], materialized: 'view', tags: tagsFor('staging'), columns: columnsFor(),
      rawCode: `select id, * exclude (id) from {{ source('${sourceName}', '${table}') }}`,
      ...(rand() < 0.3 ? { meta: { owner: `${domain}@example.com` } } : {}),
    });
    nodes.push(m);
    layers.staging.push(m.unique_id);
    addTests(m, folder);
  }

  for (let i = 0; i < nIntermediate; i++) {
    const domain = pick(DOMAINS);
    const folder = ['intermediate', domain];
    const ephemeral = rand() < 0.25;
    const pool = [...recent(layers.staging, 60), ...recent(layers.intermediate, 30), ...(rand() < 0.1 ? layers.seeds : [])];
    const deps = pickSome(pool);
    const name = `int_${domain}_${pad(i)}`;
    const m = model(name, {
      project, folder, deps, materialized: ephemeral ? 'ephemeral' : pick(['view', 'table']), tags: tagsFor('intermediate'), columns: columnsFor(),
      rawCode: `-- ${name}\nselect ${deps.map((_, k) => `p${k}.id`).join(', ')} from ${deps.map((d, k) => `{{ ref('${d.split('.').at(-1)}') }} p${k}`).join(' join ')}`,
    });
    nodes.push(m);
    layers.intermediate.push(m.unique_id);
    if (ephemeral) layers.ephemeral.push(m.unique_id);
    else addTests(m, folder);
  }

  for (let i = 0; i < nMarts; i++) {
    const domain = pick(DOMAINS);
    const folder = ['marts', domain];
    const pool = [...recent(layers.intermediate, 40), ...recent(layers.staging, 10), ...recent(layers.marts, 10), ...(rand() < 0.1 ? layers.seeds : [])];
    const deps = pickSome(pool);
    const name = `${rand() < 0.5 ? 'fct' : 'dim'}_${domain}_${pad(i)}`;
    const m = model(name, {
      project, folder, deps, materialized: pick(['table', 'table', 'incremental']), tags: tagsFor('marts'), columns: columnsFor(),
      group: domain === 'finance' ? 'finance' : null, description: `The ${domain} mart number ${i}.`,
      rawCode: `-- ${name}\nselect ${deps.map((_, k) => `p${k}.id`).join(', ')} from ${deps.map((d, k) => `{{ ref('${d.split('.').at(-1)}') }} p${k}`).join(' join ')}`,
      ...(rand() < 0.5 ? { meta: { owner: `${domain}-team@example.com` } } : {}),
    });
    nodes.push(m);
    layers.marts.push(m.unique_id);
    addTests(m, folder);
  }

  for (let i = 0; i < nSingular; i++) {
    // The last one reads two marts (not a check); the others read one.
    const parents = i === nSingular - 1 && layers.marts.length > 1 ? [layers.marts[0] as string, layers.marts[1] as string] : [pick(layers.marts)];
    const t = singularTest(`assert_${pad(i)}`, parents, { project });
    nodes.push(t);
    layers.singularTests.push(t.unique_id);
  }

  const out = manifest({ project, adapter: o.adapter ?? 'duckdb', nodes, sources });
  return Object.defineProperty(out, 'layers', { value: layers, enumerable: false }) as GeneratedManifest;
}
