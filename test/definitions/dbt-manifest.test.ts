import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AssetDefinition } from '../../definitions/asset';
import { defaultDbtKey, parseDbtManifest, translateDbtManifest, type DbtNode, type DbtProjectGraph, type DbtTranslateOptions } from '../../definitions/dbt/manifest';
import { CairnError, CairnErrors, ErrorCodes } from '../../definitions/errors';
import { dailyPartitions, singleRun } from '../../definitions/partitions';
import {
  generateManifest, genericTest, manifest, model, modelId, seed, seedId, singularTest, source, sourceId,
  type Manifest, type ManifestNode, type ManifestOptions, type ManifestSource,
} from '../support/dbt-manifest';

const MANIFEST_PATH = 'dbt/target/manifest.json';
const NAME = 'dbt:jaffle';

/**
 * A jaffle-shop project (edges point downstream):
 *   shop.orders -> stg_orders ----\
 *   stripe.payments -> stg_payments -> int_order_payments (ephemeral) -> int_enriched (ephemeral) -> orders -> customers -> top
 *   seed regions ---------------------------------------------------------/                          /
 *   shop.customers -> stg_customers ---------------------------------------------------------------/
 */
const SHOP_ORDERS = sourceId('shop', 'orders');
const SHOP_CUSTOMERS = sourceId('shop', 'customers');
const STRIPE_PAYMENTS = sourceId('stripe', 'payments');
const ORDERS = modelId('orders');
const CUSTOMERS = modelId('customers');

const sources = (): ManifestSource[] => [
  source('shop', 'orders', { description: 'Raw orders.', tags: ['raw'], meta: { owner: 'ingest@example.com' } }),
  source('shop', 'customers', { sourceDescription: 'The shop database.' }),
  source('stripe', 'payments'),
];

const nodes = (): ManifestNode[] => [
  seed('regions', { columns: { region: 'varchar' } }),
  model('stg_orders', { folder: ['staging'], deps: [SHOP_ORDERS] }),
  model('stg_customers', { folder: ['staging'], deps: [SHOP_CUSTOMERS] }),
  model('stg_payments', { folder: ['staging'], deps: [STRIPE_PAYMENTS], tags: ['finance'] }),
  model('int_order_payments', { folder: ['intermediate'], materialized: 'ephemeral', deps: [modelId('stg_orders'), modelId('stg_payments')] }),
  model('int_enriched', { folder: ['intermediate'], materialized: 'ephemeral', deps: [modelId('int_order_payments'), seedId('regions')] }),
  model('orders', {
    folder: ['marts', 'finance'], materialized: 'table', group: 'finance', deps: [modelId('int_enriched')], tags: ['nightly'], configTags: ['finance'],
    meta: { owner: 'alice@example.com' }, description: 'One row per order.',
    columns: { order_id: { type: 'integer', description: 'The id.' }, amount: 'double', note: { type: null } },
  }),
  model('customers', { folder: ['marts', 'core'], materialized: 'table', deps: [modelId('stg_customers'), ORDERS] }),
  model('top', { deps: [CUSTOMERS] }),
  genericTest('not_null_orders_order_id', ORDERS, { column: 'order_id', description: 'Every order has an id.' }),
  genericTest('relationships_orders_customer_id', ORDERS, { column: 'customer_id', extraDeps: [CUSTOMERS] }),
  genericTest('unique_customers_customer_id', CUSTOMERS, { column: 'customer_id', severity: 'warn' }),
  genericTest('source_not_null_shop_orders_id', SHOP_ORDERS, { column: 'id' }),
  singularTest('assert_positive_amount', [ORDERS]),
  singularTest('assert_orders_match_customers', [ORDERS, CUSTOMERS]),
];

function jaffle(o: ManifestOptions = {}): Manifest {
  return manifest({ nodes: nodes(), sources: sources(), ...o });
}

/** Parses (after a JSON round trip, as read from disk) and translates. */
function translate(m: Manifest = jaffle(), opts: Partial<DbtTranslateOptions> = {}): DbtProjectGraph {
  return translateDbtManifest(parseDbtManifest(JSON.parse(JSON.stringify(m)), MANIFEST_PATH), { name: NAME, manifestPath: MANIFEST_PATH, ...opts });
}

/** The nodes of the jaffle project with `name`'s node changed by `f`. */
function withNode(name: string, f: (n: ManifestNode) => ManifestNode, extra: ManifestNode[] = []): Manifest {
  return manifest({ nodes: [...nodes().map((n) => (n.name === name ? f(n) : n)), ...extra], sources: sources() });
}

function assetOf(g: DbtProjectGraph, key: string): AssetDefinition {
  const a = g.assets.find((x) => x.key === key);
  assert.ok(a, `no asset '${key}' among ${g.assets.map((x) => x.key).join(', ')}`);
  return a;
}

const realKeys = (g: DbtProjectGraph): string[] => g.assets.filter((a) => !a.placeholder).map((a) => a.key).sort();
const placeholderKeys = (g: DbtProjectGraph): string[] => g.assets.filter((a) => a.placeholder).map((a) => a.key).sort();
const checkOf = (g: DbtProjectGraph, name: string) => g.checks.find((c) => c.name === name);

/** Asserts that `f` throws a CairnError with `code` whose message matches every pattern; returns it. */
function throwsCairn(f: () => unknown, code: string, ...patterns: RegExp[]): CairnError {
  let caught: unknown;
  assert.throws(f, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof CairnError, `expected a CairnError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
}

describe('defaultDbtKey', () => {
  const view = (extra: Partial<DbtNode>): DbtNode => ({ uniqueId: 'x', resourceType: 'model', name: 'orders', packageName: 'jaffle', fqn: [], path: '', tags: [], meta: {}, ...extra });

  test('a model, seed or snapshot is keyed by its name; a source by <source>/<table>', () => {
    assert.equal(defaultDbtKey(view({})), 'orders');
    assert.equal(defaultDbtKey(view({ resourceType: 'seed', name: 'regions' })), 'regions');
    assert.equal(defaultDbtKey(view({ resourceType: 'snapshot', name: 'orders_snapshot' })), 'orders_snapshot');
    assert.equal(defaultDbtKey(view({ resourceType: 'source', name: 'orders', sourceName: 'shop' })), 'shop/orders');
  });
});

describe('parseDbtManifest', () => {
  test('reads a manifest, tolerating null tags and meta, and defaulting sources', () => {
    const m = jaffle() as unknown as { nodes: Record<string, Record<string, unknown>> };
    (m.nodes[ORDERS] as Record<string, unknown>).tags = null;
    (m.nodes[ORDERS] as Record<string, unknown>).meta = 'not an object';
    const { sources: _s, ...noSources } = m as unknown as Manifest;
    const parsed = parseDbtManifest(JSON.parse(JSON.stringify(noSources)), MANIFEST_PATH);
    assert.deepEqual(parsed.sources, {});
    assert.deepEqual(parsed.nodes[ORDERS]?.tags, []);
    assert.deepEqual(parsed.nodes[ORDERS]?.meta, {});
    assert.equal(parsed.metadata.project_name, 'jaffle');
  });

  test('a malformed node is an error naming the file and the field', () => {
    const m = jaffle() as unknown as { nodes: Record<string, Record<string, unknown>> };
    delete (m.nodes[ORDERS] as Record<string, unknown>).fqn;
    const e = throwsCairn(() => parseDbtManifest(m, MANIFEST_PATH), ErrorCodes.InvalidDefinition, /dbt manifest dbt\/target\/manifest\.json /, /field 'nodes\.model\.jaffle\.orders\.fqn'/, /dbt parse/);
    assert.equal(e.where, MANIFEST_PATH);
  });

  test('a malformed source and a missing metadata block are errors naming the field', () => {
    const m = jaffle() as unknown as { sources: Record<string, Record<string, unknown>> };
    (m.sources[SHOP_ORDERS] as Record<string, unknown>).source_name = 42;
    throwsCairn(() => parseDbtManifest(m, MANIFEST_PATH), ErrorCodes.InvalidDefinition, /field 'sources\.source\.jaffle\.shop\.orders\.source_name'/);
    const { metadata: _m, ...noMetadata } = jaffle();
    throwsCairn(() => parseDbtManifest(noMetadata, MANIFEST_PATH), ErrorCodes.InvalidDefinition, /field 'metadata'/);
    throwsCairn(() => parseDbtManifest({ metadata: {}, nodes: [] }, MANIFEST_PATH), ErrorCodes.InvalidDefinition, /field 'nodes'/);
  });

  test('something that is not an object at all is an error naming the file', () => {
    throwsCairn(() => parseDbtManifest(null, MANIFEST_PATH), ErrorCodes.InvalidDefinition, /dbt manifest dbt\/target\/manifest\.json is not a manifest/);
    throwsCairn(() => parseDbtManifest([], MANIFEST_PATH), ErrorCodes.InvalidDefinition, /dbt manifest dbt\/target\/manifest\.json is not a manifest/);
  });

  test('an error at the root names the field (root)', () => {
    throwsCairn(() => parseDbtManifest(null, MANIFEST_PATH), ErrorCodes.InvalidDefinition, /field '\(root\)'/);
  });
});

describe('translateDbtManifest: assets', () => {
  test('one asset per model, seed and snapshot; ephemeral models and tests are not assets', () => {
    const g = translate();
    assert.deepEqual(realKeys(g), ['customers', 'orders', 'regions', 'stg_customers', 'stg_orders', 'stg_payments', 'top']);
    assert.deepEqual([...g.nodesByKey.keys()].sort(), realKeys(g));
    assert.equal(g.nodesByKey.get('orders')?.uniqueId, ORDERS);
    assert.deepEqual(g.nodesByKey.get('orders')?.fqn, ['jaffle', 'marts', 'finance', 'orders']);
    assert.equal(g.nodesByKey.get('regions')?.resourceType, 'seed');
    assert.equal(g.keyByUniqueId.get(SHOP_ORDERS), 'shop/orders');
    assert.equal(g.keyByUniqueId.has(modelId('int_enriched')), false);
    assert.equal(g.projectName, 'jaffle');
    assert.equal(g.adapterType, 'duckdb');
  });

  test('ephemeral models are walked through to their real parents, along a chain of ephemerals', () => {
    const g = translate();
    // orders <- int_enriched (ephemeral) <- int_order_payments (ephemeral) <- stg_orders, stg_payments; int_enriched <- regions
    assert.deepEqual([...assetOf(g, 'orders').deps].sort(), ['regions', 'stg_orders', 'stg_payments']);
    assert.deepEqual([...assetOf(g, 'customers').deps].sort(), ['orders', 'stg_customers']);
    assert.deepEqual(assetOf(g, 'stg_orders').deps, ['shop/orders']);
    assert.deepEqual(assetOf(g, 'regions').deps, []);
  });

  test('an ephemeral model that reads a source gives its child a dep on the source placeholder', () => {
    const eph = model('eph_raw', { materialized: 'ephemeral', deps: [STRIPE_PAYMENTS] });
    const child = model('from_eph', { folder: ['marts'], deps: [eph.unique_id, modelId('stg_orders')] });
    const g = translate(manifest({ nodes: [...nodes(), eph, child], sources: sources() }));
    assert.deepEqual([...assetOf(g, 'from_eph').deps].sort(), ['stg_orders', 'stripe/payments']);
  });

  test('sources become placeholder external assets keyed <source>/<table>', () => {
    const g = translate();
    assert.deepEqual(placeholderKeys(g), ['shop/customers', 'shop/orders', 'stripe/payments']);
    const src = assetOf(g, 'shop/orders');
    assert.equal(src.placeholder, true);
    assert.equal(src.isExternal, true);
    assert.equal(src.multiAsset, undefined);
    assert.deepEqual(src.deps, []);
    assert.equal(src.group, 'shop');
    assert.deepEqual(src.kinds, ['duckdb', 'source']);
    assert.deepEqual(src.owners, ['ingest@example.com']);
    assert.deepEqual(src.tags, { raw: '' });
    assert.equal(src.description, 'Raw orders.');
    assert.equal(src.metadata['dbt/unique_id'], SHOP_ORDERS);
    assert.equal(assetOf(g, 'shop/customers').description, 'The shop database.');
  });

  test('a source nobody reads is not an asset', () => {
    const g = translate(manifest({ nodes: nodes(), sources: [...sources(), source('shop', 'unused')] }));
    assert.equal(g.assets.some((a) => a.key === 'shop/unused'), false);
  });

  test('unselected parents become placeholders; only selected nodes are built', () => {
    const g = translate(jaffle(), { select: 'customers' });
    assert.deepEqual(realKeys(g), ['customers']);
    assert.deepEqual(placeholderKeys(g), ['orders', 'stg_customers']);
    const orders = assetOf(g, 'orders');
    assert.equal(orders.isExternal, true);
    assert.equal(orders.placeholder, true);
    assert.equal(orders.multiAsset, undefined);
    assert.equal(orders.group, 'dbt');
    assert.deepEqual(orders.kinds, ['dbt', 'duckdb']);
    assert.deepEqual([...g.nodesByKey.keys()], ['customers']);
    // Unselected nodes still count for compressing selectors.
    assert.equal(g.buildableFqns.length, 7);
  });

  test('buildableFqns lists every model, seed and snapshot dbt builds, without ephemerals and tests', () => {
    const fqns = translate().buildableFqns.map((f) => f.join('.')).sort();
    assert.deepEqual(fqns, ['jaffle.marts.core.customers', 'jaffle.marts.finance.orders', 'jaffle.regions', 'jaffle.staging.stg_customers', 'jaffle.staging.stg_orders', 'jaffle.staging.stg_payments', 'jaffle.top']);
  });
});

describe('translateDbtManifest: select and exclude', () => {
  test('select takes dbt selection syntax; tags include config tags', () => {
    assert.deepEqual(realKeys(translate(jaffle(), { select: 'tag:nightly' })), ['orders']);
    assert.deepEqual(realKeys(translate(jaffle(), { select: 'tag:finance' })), ['orders', 'stg_payments']);
    // Ancestors include ephemerals and sources: only models, seeds and snapshots that dbt builds are kept.
    assert.deepEqual(realKeys(translate(jaffle(), { select: '+orders' })), ['orders', 'regions', 'stg_orders', 'stg_payments']);
    assert.deepEqual(realKeys(translate(jaffle(), { select: 'resource_type:seed' })), ['regions']);
  });

  test('exclude removes nodes from the selection, or from the whole project', () => {
    assert.deepEqual(realKeys(translate(jaffle(), { exclude: 'staging' })), ['customers', 'orders', 'regions', 'top']);
    assert.deepEqual(realKeys(translate(jaffle(), { select: 'marts', exclude: 'orders' })), ['customers']);
    // The excluded staging models are read by orders and customers: placeholders.
    assert.deepEqual(placeholderKeys(translate(jaffle(), { exclude: 'staging' })), ['stg_customers', 'stg_orders', 'stg_payments']);
  });

  test('a selection that matches nothing is EMPTY_SELECTION naming the project, the manifest and the expression', () => {
    const e = throwsCairn(() => translate(jaffle(), { select: 'tag:nope' }), ErrorCodes.EmptySelection, /dbt project 'jaffle'/, /dbt\/target\/manifest\.json/, /select 'tag:nope'/);
    assert.equal(e.where, MANIFEST_PATH);
    throwsCairn(() => translate(jaffle(), { select: 'config.materialized:ephemeral' }), ErrorCodes.EmptySelection, /select 'config\.materialized:ephemeral' matches no model/);
    throwsCairn(() => translate(jaffle(), { select: 'marts', exclude: 'jaffle' }), ErrorCodes.EmptySelection, /select 'marts' and exclude 'jaffle'/);
    throwsCairn(() => translate(manifest({ nodes: [genericTest('unique_x_id', 'model.jaffle.x')] })), ErrorCodes.EmptySelection, /the project matches no model, seed or snapshot/);
  });

  test('a bad selection expression is the selection error', () => {
    throwsCairn(() => translate(jaffle(), { select: 'nope:x' }), ErrorCodes.InvalidSelection, /unknown selection method 'nope'/);
  });
});

describe('translateDbtManifest: keys and groups', () => {
  test('meta.cairn.key renames a node, and its dependents follow', () => {
    const m = withNode('orders', (n) => ({ ...n, meta: { ...n.meta, cairn: { key: 'marts/orders' } } }));
    const g = translate(m);
    assert.ok(realKeys(g).includes('marts/orders'));
    assert.ok(!realKeys(g).includes('orders'));
    assert.ok(assetOf(g, 'customers').deps.includes('marts/orders'));
    assert.equal(checkOf(g, 'not_null_orders_order_id')?.asset, 'marts/orders');
    assert.equal(g.keyByUniqueId.get(ORDERS), 'marts/orders');
    assert.equal(g.nodesByKey.get('marts/orders')?.uniqueId, ORDERS);
  });

  test('config.meta wins over meta; a source takes meta.cairn.key from its meta or source_meta', () => {
    const m = withNode('orders', (n) => ({ ...n, meta: { cairn: { key: 'from/meta' } }, config: { ...n.config, meta: { cairn: { key: 'from/config' } } } }));
    assert.ok(realKeys(translate(m)).includes('from/config'));
    const s = manifest({ nodes: nodes(), sources: sources().map((x) => (x.unique_id === SHOP_ORDERS ? { ...x, source_meta: { cairn: { key: 'raw/shop/orders' } } } : x)) });
    const g = translate(s);
    assert.deepEqual(assetOf(g, 'stg_orders').deps, ['raw/shop/orders']);
    assert.equal(assetOf(g, 'raw/shop/orders').placeholder, true);
  });

  test('the key() option wins over meta.cairn.key; undefined falls back to it, then to the default', () => {
    const m = withNode('orders', (n) => ({ ...n, meta: { cairn: { key: 'marts/orders' } } }));
    const seen: DbtNode[] = [];
    const g = translate(m, {
      key: (n) => {
        seen.push(n);
        return n.resourceType === 'source' ? `raw/${n.sourceName}/${n.name}` : n.name === 'customers' ? 'marts/customers' : undefined;
      },
    });
    assert.deepEqual(realKeys(g), ['marts/customers', 'marts/orders', 'regions', 'stg_customers', 'stg_orders', 'stg_payments', 'top']);
    assert.deepEqual(placeholderKeys(g), ['raw/shop/customers', 'raw/shop/orders', 'raw/stripe/payments']);
    assert.deepEqual([...assetOf(g, 'top').deps], ['marts/customers']);
    const orders = seen.find((n) => n.uniqueId === ORDERS);
    assert.ok(orders);
    assert.equal(orders.resourceType, 'model');
    assert.equal(orders.packageName, 'jaffle');
    assert.equal(orders.path, 'models/marts/finance/orders.sql');
    assert.equal(orders.materialized, 'table');
    assert.equal(orders.dbtGroup, 'finance');
    assert.equal(orders.schema, 'main');
    assert.deepEqual([...orders.tags].sort(), ['finance', 'nightly']);
    assert.equal(seen.find((n) => n.uniqueId === SHOP_ORDERS)?.sourceName, 'shop');
  });

  test('a versioned model is keyed <name>_v<version>', () => {
    const g = translate(manifest({ nodes: [model('dim_customers', { version: 2 })] }));
    assert.deepEqual(realKeys(g), ['dim_customers_v2']);
  });

  test('group: meta.cairn.group, then the dbt group, then the folder (fqn[1]), then dbt', () => {
    const g = translate();
    assert.equal(assetOf(g, 'orders').group, 'finance'); // dbt group
    assert.equal(assetOf(g, 'customers').group, 'marts'); // models/marts/core/customers.sql
    assert.equal(assetOf(g, 'stg_orders').group, 'staging');
    assert.equal(assetOf(g, 'top').group, 'dbt'); // models/top.sql: no folder
    assert.equal(assetOf(g, 'regions').group, 'dbt'); // seeds/regions.csv
    const meta = translate(withNode('orders', (n) => ({ ...n, config: { ...n.config, meta: { cairn: { group: 'revenue' } } } })));
    assert.equal(assetOf(meta, 'orders').group, 'revenue');
  });

  test('the group() option wins; undefined falls back', () => {
    const m = withNode('orders', (n) => ({ ...n, meta: { cairn: { group: 'revenue' } } }));
    const g = translate(m, { group: (n) => (n.name.startsWith('stg_') ? 'landing' : undefined) });
    assert.equal(assetOf(g, 'stg_orders').group, 'landing');
    assert.equal(assetOf(g, 'orders').group, 'revenue');
    assert.equal(assetOf(g, 'customers').group, 'marts');
    const all = translate(m, { group: () => 'everything' });
    assert.equal(assetOf(all, 'orders').group, 'everything');
  });

  test('two nodes mapping to one key are DUPLICATE_KEY naming both unique ids', () => {
    const other = { ...model('orders', { project: 'other_pkg' }) };
    throwsCairn(() => translate(manifest({ nodes: [...nodes(), other], sources: sources() })), ErrorCodes.DuplicateKey, /'model\.jaffle\.orders'/, /'model\.other_pkg\.orders'/, /asset key 'orders'/, /dbt\/target\/manifest\.json/);
  });

  test('a model keyed like a source it shares the graph with is a duplicate too', () => {
    const m = withNode('top', (n) => ({ ...n, meta: { cairn: { key: 'shop/orders' } } }));
    throwsCairn(() => translate(m), ErrorCodes.DuplicateKey, /'model\.jaffle\.top'/, /'source\.jaffle\.shop\.orders'/, /'shop\/orders'/);
  });

  test('an invalid key is INVALID_KEY naming the node and its file', () => {
    const m = withNode('orders', (n) => ({ ...n, meta: { cairn: { key: 'marts//orders' } } }));
    const e = throwsCairn(() => translate(m), ErrorCodes.InvalidKey, /dbt node 'model\.jaffle\.orders' \(models\/marts\/finance\/orders\.sql\)/, /empty segment/, /meta\.cairn\.key or the key\(\) option/);
    assert.equal(e.where, ORDERS);
    throwsCairn(() => translate(manifest({ nodes: [model('2024_orders')] })), ErrorCodes.InvalidKey, /'model\.jaffle\.2024_orders'/);
  });

  test('every key problem is reported at once', () => {
    const m = withNode('orders', (n) => ({ ...n, meta: { cairn: { key: 'bad key' } } }), [model('stg_orders', { project: 'other_pkg' })]);
    const e = throwsCairn(() => translate(m), ErrorCodes.InvalidKey);
    assert.ok(e instanceof CairnErrors);
    assert.deepEqual(e.errors.map((x) => x.code).sort(), [ErrorCodes.DuplicateKey, ErrorCodes.InvalidKey]);
  });
});

describe('translateDbtManifest: tests become checks', () => {
  test('a generic test is a check on its attached node, also with a second parent', () => {
    const g = translate();
    assert.deepEqual(checkOf(g, 'not_null_orders_order_id'), { name: 'not_null_orders_order_id', asset: 'orders', description: 'Every order has an id.', severity: 'ERROR', blocking: true });
    assert.equal(checkOf(g, 'relationships_orders_customer_id')?.asset, 'orders');
    const id = Object.values(jaffle().nodes).find((n) => n.name === 'not_null_orders_order_id')?.unique_id as string;
    assert.equal(g.checksByTestId.get(id)?.check.name, 'not_null_orders_order_id');
    assert.equal(g.checksByTestId.get(id)?.uniqueId, id);
  });

  test('a singular test with exactly one parent is a check on it; with two it is not a check', () => {
    const g = translate();
    assert.deepEqual(checkOf(g, 'assert_positive_amount'), { name: 'assert_positive_amount', asset: 'orders', severity: 'ERROR', blocking: true });
    assert.equal(checkOf(g, 'assert_orders_match_customers'), undefined);
    assert.equal(g.checksByTestId.has('test.jaffle.assert_orders_match_customers'), false);
    assert.equal(g.checks.length, 4);
  });

  test('a test on a source or on an unselected node is not a check', () => {
    assert.equal(checkOf(translate(), 'source_not_null_shop_orders_id'), undefined);
    const g = translate(jaffle(), { select: 'customers' });
    assert.deepEqual(g.checks.map((c) => c.name), ['unique_customers_customer_id']);
  });

  test('severity warn is WARN and never blocking, whatever the options or meta say', () => {
    const g = translate();
    assert.deepEqual(checkOf(g, 'unique_customers_customer_id'), { name: 'unique_customers_customer_id', asset: 'customers', severity: 'WARN', blocking: false });
    const warnBlocking = genericTest('not_null_top_id', modelId('top'), { severity: 'warn', meta: { cairn: { blocking: true } } });
    const w = translate(manifest({ nodes: [...nodes(), warnBlocking], sources: sources() }), { blockingTests: true });
    assert.equal(checkOf(w, 'not_null_top_id')?.severity, 'WARN');
    assert.equal(checkOf(w, 'not_null_top_id')?.blocking, false);
  });

  test('blockingTests: false makes error tests non-blocking; meta.cairn.blocking decides per test', () => {
    const on = genericTest('not_null_top_id', modelId('top'), { meta: { cairn: { blocking: true } } });
    const off = genericTest('unique_top_id', modelId('top'), { configMeta: { cairn: { blocking: false } } });
    const m = manifest({ nodes: [...nodes(), on, off], sources: sources() });
    const dflt = translate(m);
    assert.equal(checkOf(dflt, 'not_null_orders_order_id')?.blocking, true);
    assert.equal(checkOf(dflt, 'unique_top_id')?.blocking, false);
    const nonBlocking = translate(m, { blockingTests: false });
    assert.equal(checkOf(nonBlocking, 'not_null_orders_order_id')?.blocking, false);
    assert.equal(checkOf(nonBlocking, 'assert_positive_amount')?.blocking, false);
    assert.equal(checkOf(nonBlocking, 'not_null_top_id')?.blocking, true);
    assert.equal(checkOf(nonBlocking, 'not_null_top_id')?.severity, 'ERROR');
  });

  test('two tests of one name on one asset are DUPLICATE_KEY naming both', () => {
    const a = singularTest('same_name', [ORDERS]);
    const b = { ...singularTest('same_name', [ORDERS]), unique_id: 'test.other_pkg.same_name' };
    throwsCairn(() => translate(manifest({ nodes: [...nodes(), a, b], sources: sources() })), ErrorCodes.DuplicateKey, /'test\.jaffle\.same_name' and 'test\.other_pkg\.same_name'/);
  });
});

describe('translateDbtManifest: asset fields', () => {
  test('the code version follows raw_code and nothing else', () => {
    const base = translate();
    const again = translate();
    assert.equal(assetOf(base, 'orders').codeVersion, assetOf(again, 'orders').codeVersion);
    const edited = translate(withNode('orders', (n) => ({ ...n, raw_code: `${n.raw_code} where amount > 0` })));
    assert.notEqual(assetOf(edited, 'orders').codeVersion, assetOf(base, 'orders').codeVersion);
    assert.equal(assetOf(edited, 'customers').codeVersion, assetOf(base, 'customers').codeVersion);
    const described = translate(withNode('orders', (n) => ({ ...n, description: 'changed', tags: ['other'], config: { ...n.config, materialized: 'incremental' } })));
    assert.equal(assetOf(described, 'orders').codeVersion, assetOf(base, 'orders').codeVersion);
    // Models of one SQL have one code version; a seed's follows its file checksum.
    assert.match(assetOf(base, 'orders').codeVersion ?? '', /^[0-9a-f]{16}$/);
    const reseeded = translate(withNode('regions', (n) => ({ ...n, checksum: { name: 'sha256', checksum: 'f00' } })));
    assert.notEqual(assetOf(reseeded, 'regions').codeVersion, assetOf(base, 'regions').codeVersion);
  });

  test('editing an ephemeral model changes the code version of the models that inline it', () => {
    const base = translate();
    const edited = translate(withNode('int_enriched', (n) => ({ ...n, raw_code: `${n.raw_code} where false` })));
    assert.notEqual(assetOf(edited, 'orders').codeVersion, assetOf(base, 'orders').codeVersion);
  });

  test('columns become a `columns` table_schema entry; metadata names the node, its file and materialization', () => {
    const orders = assetOf(translate(), 'orders');
    assert.deepEqual(orders.metadata, {
      'dbt/unique_id': ORDERS,
      'dbt/path': 'models/marts/finance/orders.sql',
      'dbt/materialized': 'table',
      columns: { type: 'table_schema', value: { columns: [{ name: 'order_id', type: 'integer', description: 'The id.' }, { name: 'amount', type: 'double' }, { name: 'note', type: '' }] } },
    });
    assert.equal('columns' in assetOf(translate(), 'top').metadata, false);
  });

  test("tags become { tag: '' }, from the node's tags and its config tags", () => {
    assert.deepEqual(assetOf(translate(), 'orders').tags, { nightly: '', finance: '' });
    assert.deepEqual(assetOf(translate(), 'top').tags, {});
  });

  test('owners come from meta.owner, config meta, or meta.cairn.owners', () => {
    assert.deepEqual(assetOf(translate(), 'orders').owners, ['alice@example.com']);
    assert.deepEqual(assetOf(translate(), 'top').owners, []);
    const cfg = translate(withNode('orders', (n) => ({ ...n, config: { ...n.config, meta: { owner: 'bob@example.com' } } })));
    assert.deepEqual(assetOf(cfg, 'orders').owners, ['bob@example.com']);
    const list = translate(withNode('orders', (n) => ({ ...n, meta: { owner: 'alice@example.com', cairn: { owners: ['team:finance', 'carol@example.com'] } } })));
    assert.deepEqual(assetOf(list, 'orders').owners, ['team:finance', 'carol@example.com']);
  });

  test("kinds are 'dbt' and the adapter type, plus the resource type for seeds", () => {
    const g = translate();
    assert.deepEqual(assetOf(g, 'orders').kinds, ['dbt', 'duckdb']);
    assert.deepEqual(assetOf(g, 'regions').kinds, ['dbt', 'duckdb', 'seed']);
    const noAdapter = translate(jaffle({ adapter: null }));
    assert.deepEqual(assetOf(noAdapter, 'orders').kinds, ['dbt']);
    assert.equal(noAdapter.adapterType, 'dbt');
    assert.deepEqual(assetOf(translate(jaffle({ adapter: 'snowflake' })), 'orders').kinds, ['dbt', 'snowflake']);
  });

  test('description, multiAsset, retry and resources', () => {
    const g = translate(jaffle(), { retry: { maxAttempts: 4, initialIntervalMs: 10, backoffCoefficient: 3 }, resources: ['warehouse'] });
    const orders = assetOf(g, 'orders');
    assert.equal(orders.description, 'One row per order.');
    assert.equal(orders.isExternal, false);
    assert.deepEqual(orders.retry, { maxAttempts: 4, initialIntervalMs: 10, backoffCoefficient: 3 });
    assert.deepEqual(orders.resources, ['warehouse']);
    assert.ok(g.assets.filter((a) => !a.placeholder).every((a) => a.multiAsset === NAME));
    assert.ok(g.assets.filter((a) => a.placeholder).every((a) => a.multiAsset === undefined && a.resources.length === 0));
    assert.equal(assetOf(translate(), 'orders').retry.maxAttempts, 1);
    assert.equal(assetOf(translate(jaffle(), { name: 'dbt:other' }), 'orders').multiAsset, 'dbt:other');
  });

  test('partitions are passed through with the backfill policy, to built assets only', () => {
    const daily = dailyPartitions({ start: '2024-01-01' });
    const g = translate(jaffle(), { partitions: daily, backfillPolicy: singleRun() });
    assert.deepEqual(assetOf(g, 'orders').partitions, daily);
    assert.deepEqual(assetOf(g, 'orders').backfillPolicy, singleRun());
    assert.equal(assetOf(g, 'shop/orders').partitions, undefined);
    const noPolicy = translate(jaffle(), { partitions: daily });
    assert.deepEqual(assetOf(noPolicy, 'orders').partitions, daily);
    assert.equal('backfillPolicy' in assetOf(noPolicy, 'orders'), false);
    const noPartitions = translate(jaffle(), { backfillPolicy: singleRun() });
    assert.equal('partitions' in assetOf(noPartitions, 'orders'), false);
    assert.equal('backfillPolicy' in assetOf(noPartitions, 'orders'), false);
  });
});

describe('translateDbtManifest on a generated project', () => {
  test('a generated manifest of 300 models translates: every model but the ephemerals, every source a placeholder', () => {
    const m = generateManifest({ models: 300, seed: 11 });
    const g = translate(m);
    const { layers } = m;
    assert.equal(layers.staging.length + layers.intermediate.length + layers.marts.length, 300);
    assert.ok(layers.ephemeral.length > 0);
    assert.equal(realKeys(g).length, 300 - layers.ephemeral.length + layers.seeds.length);
    assert.equal(placeholderKeys(g).length, layers.sources.length);
    const keys = new Set(g.assets.map((a) => a.key));
    for (const a of g.assets) for (const d of a.deps) assert.ok(keys.has(d), `${a.key} depends on unknown ${d}`);
    for (const id of layers.ephemeral) assert.equal(g.keyByUniqueId.has(id), false);
    // Two generic tests per built model, and every singular test but the last (it has two parents).
    const built = layers.staging.length + layers.intermediate.length - layers.ephemeral.length + layers.marts.length;
    assert.equal(g.checks.length, 2 * built + layers.singularTests.length - 1);
  });

  test('the generator is deterministic per seed', () => {
    assert.equal(JSON.stringify(generateManifest({ models: 120, seed: 5 })), JSON.stringify(generateManifest({ models: 120, seed: 5 })));
    assert.notEqual(JSON.stringify(generateManifest({ models: 120, seed: 5 })), JSON.stringify(generateManifest({ models: 120, seed: 6 })));
  });
});

test('dbt models take an automation condition from the option (per node) or from meta.cairn.automation; sources never do', () => {
  const upstream = { type: 'onUpstreamChange' } as const;
  const g = translate(withNode('top', (n) => ({ ...n, meta: { cairn: { automation: { type: 'onMissing' } } } })), {
    automation: (node) => (node.name.startsWith('stg_') ? upstream : undefined),
  });
  assert.deepEqual(assetOf(g, 'stg_orders').automation, upstream);
  assert.deepEqual(assetOf(g, 'top').automation, { type: 'onMissing' });
  assert.equal(assetOf(g, 'customers').automation, undefined);
  assert.equal(g.assets.filter((a) => a.placeholder).some((a) => a.automation !== undefined), false);
});
