import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { asset, DEFAULT_RETRY, externalAsset, type AssetDefinition } from '../../definitions/asset';
import { backfillAssets, planBackfill, resolveBackfillTargets, unitLabel } from '../../definitions/backfill-plan';
import { parseDbtManifest, translateDbtManifest } from '../../definitions/dbt/manifest';
import { codeLocation } from '../../definitions/code-location';
import { ErrorCodes } from '../../definitions/errors';
import type { CheckSpec, MultiAssetDefinition } from '../../definitions/multi-asset';
import { dailyPartitions, singleRun } from '../../definitions/partitions';
import { graphFromSnapshots, groupMultiAssetSteps, planRun, type RunPlan } from '../../definitions/plan';
import type { LocationSnapshot } from '../../definitions/snapshot';
import { locationSnapshot } from '../../definitions/to-snapshot';
import { validateWorkspace } from '../../definitions/validate';
import { manifest, model, modelId, source, sourceId } from '../support/dbt-manifest';

const noop = () => undefined;
const ts = (key: string, deps: string[] = [], extra: Record<string, unknown> = {}) => asset({ key, deps, materialize: noop, ...extra });

/** A member of multi-asset `multi`, as dbtAssets() makes them. */
function member(multi: string, key: string, deps: string[] = [], extra: Partial<AssetDefinition> = {}): AssetDefinition {
  return { kind: 'asset', key, deps, ins: {}, partitionMappings: {}, group: 'dbt', kinds: ['dbt'], owners: [], tags: {}, metadata: {}, retry: { ...DEFAULT_RETRY, maxAttempts: 1 }, resources: [], isExternal: false, multiAsset: multi, ...extra };
}

/** A placeholder (a dbt source that the project reads): external, replaced by any real definition. */
function placeholder(key: string): AssetDefinition {
  return { ...externalAsset({ key, group: 'sources' }), placeholder: true };
}

/** A multi-asset whose step is never run by these tests. */
function multi(name: string, assets: AssetDefinition[], checks: CheckSpec[] = []): MultiAssetDefinition {
  return {
    kind: 'multi-asset', name, assets, checks, retry: { ...DEFAULT_RETRY, maxAttempts: 1 }, resources: [],
    execute: () => Promise.reject(new Error('the planner never runs a step')),
  };
}

const snap = (name: string, assets: (AssetDefinition | MultiAssetDefinition)[]): LocationSnapshot => locationSnapshot(codeLocation({ name, assets }));

const keysOf = (plan: RunPlan, indices: readonly number[]): string[] => indices.map((i) => plan.steps[i]?.key ?? `#${i}`);
const stepOf = (plan: RunPlan, key: string) => {
  const s = plan.steps.find((x) => x.key === key);
  assert.ok(s, `no step '${key}' in ${plan.steps.map((x) => x.key).join(', ')}`);
  return s;
};
const depKeys = (plan: RunPlan, key: string): string[] => keysOf(plan, stepOf(plan, key).deps).sort();
const groupIds = (plan: RunPlan): string[] => (plan.groups ?? []).map((g) => g.id);
const groupKeys = (plan: RunPlan, id: string): string[] => keysOf(plan, (plan.groups ?? []).find((g) => g.id === id)?.steps ?? []);

// raw/orders (ts) -> stg_orders -> orders -> customers; stg_customers -> customers; shop/customers is a dbt source.
const DBT = 'dbt:jaffle';
const jaffle = () =>
  multi(DBT, [
    member(DBT, 'stg_orders', ['raw/orders']),
    member(DBT, 'stg_customers', ['shop/customers']),
    member(DBT, 'orders', ['stg_orders']),
    member(DBT, 'customers', ['orders', 'stg_customers']),
    placeholder('raw/orders'),
    placeholder('shop/customers'),
  ], [{ name: 'not_null_orders_id', asset: 'orders', severity: 'ERROR', blocking: true }]);

describe('grouping the steps of a multi-asset', () => {
  test('all selected members run as one group whose id is the multi-asset name', () => {
    const plan = planRun([snap('warehouse', [ts('raw/orders'), jaffle(), ts('report', ['customers'])])], '*');
    assert.deepEqual(plan.steps.map((s) => s.key), ['raw/orders', 'stg_customers', 'stg_orders', 'orders', 'customers', 'report']);
    assert.equal(plan.groups?.length, 1);
    const [g] = plan.groups ?? [];
    assert.equal(g?.id, DBT);
    assert.equal(g?.multi, DBT);
    assert.equal(g?.location, 'warehouse');
    assert.equal(g?.taskQueue, 'cairn-loc-warehouse');
    assert.deepEqual(g?.retry, { ...DEFAULT_RETRY, maxAttempts: 1 });
    assert.deepEqual(groupKeys(plan, DBT), ['stg_customers', 'stg_orders', 'orders', 'customers']);
    for (const i of g?.steps ?? []) {
      assert.equal(plan.steps[i]?.group, 0);
      assert.equal(plan.steps[i]?.multi, DBT);
    }
    // The source nobody defines is selected as an external asset.
    assert.deepEqual(plan.external, ['shop/customers']);
    assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
  });

  test('steps outside groups have no group; deps stay per asset', () => {
    const plan = planRun([snap('warehouse', [ts('raw/orders'), jaffle(), ts('report', ['customers'])])], '*');
    for (const key of ['raw/orders', 'report']) {
      assert.equal('group' in stepOf(plan, key), false);
      assert.equal('multi' in stepOf(plan, key), false);
    }
    assert.deepEqual(depKeys(plan, 'stg_orders'), ['raw/orders']);
    assert.deepEqual(depKeys(plan, 'stg_customers'), []);
    assert.deepEqual(depKeys(plan, 'orders'), ['stg_orders']);
    assert.deepEqual(depKeys(plan, 'customers'), ['orders', 'stg_customers']);
    assert.deepEqual(depKeys(plan, 'report'), ['customers']);
  });

  test('a TypeScript asset between two members splits them into two groups, the second waiting on it', () => {
    // dbt a -> ts x -> dbt b, and dbt c (independent) joins the first group.
    const m = multi('dbt:p', [member('dbt:p', 'a'), member('dbt:p', 'b', ['x']), member('dbt:p', 'c')]);
    const plan = planRun([snap('loc', [m, ts('x', ['a'])])], '*');
    assert.deepEqual(groupIds(plan), ['dbt:p', 'dbt:p#2']);
    assert.deepEqual(groupKeys(plan, 'dbt:p').sort(), ['a', 'c']);
    assert.deepEqual(groupKeys(plan, 'dbt:p#2'), ['b']);
    assert.deepEqual(depKeys(plan, 'x'), ['a']);
    assert.deepEqual(depKeys(plan, 'b'), ['x']);
    assert.equal(stepOf(plan, 'b').group, 1);
    assert.equal(plan.groups?.[1]?.multi, 'dbt:p');
    assert.equal('group' in stepOf(plan, 'x'), false);
  });

  test('a member reached both directly and through a TypeScript asset goes to the later group, with everything after it', () => {
    // a -> b directly and a -> x -> b; c depends only on b: b and c form the second group.
    const m = multi('dbt:p', [member('dbt:p', 'a'), member('dbt:p', 'b', ['a', 'x']), member('dbt:p', 'c', ['b'])]);
    const plan = planRun([snap('loc', [m, ts('x', ['a'])])], '*');
    assert.deepEqual(groupIds(plan), ['dbt:p', 'dbt:p#2']);
    assert.deepEqual(groupKeys(plan, 'dbt:p'), ['a']);
    assert.deepEqual(groupKeys(plan, 'dbt:p#2'), ['b', 'c']);
    assert.deepEqual(depKeys(plan, 'b'), ['a', 'x']);
  });

  test('two multi-assets in one location stay separate groups', () => {
    const one = multi('dbt:one', [member('dbt:one', 'one_a'), member('dbt:one', 'one_b', ['one_a'])]);
    const two = multi('dbt:two', [member('dbt:two', 'two_a', ['one_b']), member('dbt:two', 'two_b', ['two_a'])]);
    const plan = planRun([snap('loc', [one, two])], '*');
    assert.deepEqual(groupIds(plan).sort(), ['dbt:one', 'dbt:two']);
    assert.deepEqual(groupKeys(plan, 'dbt:one'), ['one_a', 'one_b']);
    assert.deepEqual(groupKeys(plan, 'dbt:two'), ['two_a', 'two_b']);
    assert.notEqual(stepOf(plan, 'one_a').group, stepOf(plan, 'two_a').group);
    assert.deepEqual(depKeys(plan, 'two_a'), ['one_b']);
  });

  test('multi-assets of one name in two locations stay separate groups', () => {
    const a = multi(DBT, [member(DBT, 'left')]);
    const b = multi(DBT, [member(DBT, 'right', ['left'])]);
    const plan = planRun([snap('one', [a]), snap('two', [b])], '*');
    assert.equal(plan.groups?.length, 2);
    assert.deepEqual(plan.groups?.map((g) => [g.location, keysOf(plan, g.steps)]), [['one', ['left']], ['two', ['right']]]);
  });

  test('a subset selection groups only the selected members', () => {
    const plan = planRun([snap('warehouse', [ts('raw/orders'), jaffle(), ts('report', ['customers'])])], 'orders or customers or report');
    assert.deepEqual(plan.steps.map((s) => s.key), ['orders', 'customers', 'report']);
    assert.deepEqual(groupIds(plan), [DBT]);
    assert.deepEqual(groupKeys(plan, DBT), ['orders', 'customers']);
    assert.deepEqual(depKeys(plan, 'customers'), ['orders']);
  });

  test('a selection without members has no groups', () => {
    const plan = planRun([snap('warehouse', [ts('raw/orders'), jaffle(), ts('report', ['customers'])])], 'raw/orders or report');
    assert.equal(plan.groups, undefined);
    assert.ok(plan.steps.every((s) => s.group === undefined));
  });

  test('groupMultiAssetSteps regroups a narrowed plan from scratch', () => {
    const m = multi('dbt:p', [member('dbt:p', 'a'), member('dbt:p', 'b', ['x'])]);
    const full = planRun([snap('loc', [m, ts('x', ['a'])])], '*');
    assert.deepEqual(groupIds(full), ['dbt:p', 'dbt:p#2']);
    // Without x between them (x already materialized, say), a and b are one stage again.
    const a = stepOf(full, 'a');
    const b = stepOf(full, 'b');
    const narrowed = groupMultiAssetSteps({ selection: full.selection, steps: [a, { ...b, deps: [0] }], external: [], ...(full.groups ? { groups: full.groups } : {}) });
    assert.deepEqual(groupIds(narrowed), ['dbt:p']);
    assert.deepEqual(narrowed.steps.map((s) => s.group), [0, 0]);
    // A stale group index is dropped, not carried over.
    const none = groupMultiAssetSteps({ selection: full.selection, steps: [{ ...stepOf(full, 'x'), group: 1 }], external: [], ...(full.groups ? { groups: full.groups } : {}) });
    assert.equal(none.groups, undefined);
    assert.equal('group' in (none.steps[0] ?? {}), false);
  });

  test('groups never wait on each other both ways (two multi-assets reading each other)', () => {
    // dbt:A has a and e, dbt:B has b and d; b reads a, e reads d.
    const A = multi('dbt:A', [member('dbt:A', 'a'), member('dbt:A', 'e', ['d'])]);
    const B = multi('dbt:B', [member('dbt:B', 'b', ['a']), member('dbt:B', 'd')]);
    const plan = planRun([snap('loc', [A, B])], '*');
    const groups = plan.groups ?? [];
    // Group g waits on group h when a member of g depends on a member of h.
    const waits = groups.map((g, gi) => new Set(g.steps.flatMap((i) => plan.steps[i]?.deps ?? []).map((d) => plan.steps[d]?.group).filter((h): h is number => h !== undefined && h !== gi)));
    for (const [gi, hs] of waits.entries()) for (const h of hs) assert.ok(!waits[h]?.has(gi), `groups ${groups[gi]?.id} and ${groups[h]?.id} wait on each other`);
  });
});

describe('placeholders across locations', () => {
  const ingest = () => snap('ingest', [ts('raw/orders'), ts('shop/customers', ['raw/orders'])]);
  const warehouse = () => snap('warehouse', [jaffle()]);

  test('a placeholder gives way to a real definition in another location, in either order', () => {
    for (const snapshots of [[warehouse(), ingest()], [ingest(), warehouse()]]) {
      const plan = planRun(snapshots, '*');
      assert.deepEqual(plan.external, []);
      assert.equal(stepOf(plan, 'shop/customers').location, 'ingest');
      assert.equal(stepOf(plan, 'shop/customers').taskQueue, 'cairn-loc-ingest');
      assert.equal(plan.steps.filter((s) => s.key === 'shop/customers').length, 1);
      assert.deepEqual(depKeys(plan, 'stg_customers'), ['shop/customers']);
      assert.deepEqual(depKeys(plan, 'stg_orders'), ['raw/orders']);
      assert.deepEqual(groupKeys(plan, DBT), ['stg_customers', 'stg_orders', 'orders', 'customers']);
    }
  });

  test('graphFromSnapshots keeps the real node of a placeholder key', () => {
    for (const snapshots of [[warehouse(), ingest()], [ingest(), warehouse()]]) {
      const graph = graphFromSnapshots(snapshots);
      const node = graph.node('shop/customers');
      assert.equal(node.codeLocation, 'ingest');
      assert.equal(node.isExternal, false);
      assert.deepEqual(graph.parents('shop/customers'), ['raw/orders']);
      assert.deepEqual(graph.children('shop/customers'), ['stg_customers']);
    }
  });

  test('a placeholder nobody defines stays, as an external asset', () => {
    const plan = planRun([warehouse()], '*');
    assert.deepEqual(plan.external.sort(), ['raw/orders', 'shop/customers']);
    assert.equal(plan.steps.some((s) => s.key === 'shop/customers'), false);
    const graph = graphFromSnapshots([warehouse()]);
    assert.equal(graph.node('raw/orders').isExternal, true);
    assert.equal(graph.node('raw/orders').codeLocation, 'warehouse');
    assert.equal((graph.node('raw/orders') as { placeholder?: boolean }).placeholder, true);
  });

  test('placeholders of one key in two locations make one external node', () => {
    const other = snap('other', [multi('dbt:other', [member('dbt:other', 'other_orders', ['shop/customers']), placeholder('shop/customers')])]);
    const plan = planRun([warehouse(), other], '*');
    assert.deepEqual(plan.external.sort(), ['raw/orders', 'shop/customers']);
    assert.deepEqual(depKeys(plan, 'other_orders'), []);
  });

  test('validateWorkspace does not report a placeholder as a duplicate key, but still reports real duplicates', () => {
    const ingestLoc = codeLocation({ name: 'ingest', assets: [ts('raw/orders'), ts('shop/customers')] });
    const warehouseLoc = codeLocation({ name: 'warehouse', assets: [jaffle()] });
    assert.deepEqual(validateWorkspace([{ location: warehouseLoc, source: 'warehouse.ts' }, { location: ingestLoc, source: 'ingest.ts' }]), []);
    assert.deepEqual(validateWorkspace([{ location: ingestLoc, source: 'ingest.ts' }, { location: warehouseLoc, source: 'warehouse.ts' }]), []);
    const clash = codeLocation({ name: 'clash', assets: [ts('orders')] });
    const problems = validateWorkspace([{ location: warehouseLoc, source: 'warehouse.ts' }, { location: clash, source: 'clash.ts' }]);
    assert.deepEqual(problems.map((p) => p.code), [ErrorCodes.DuplicateKey]);
    assert.match(problems[0]?.message ?? '', /'orders' is defined twice/);
  });

  test('a placeholder and a real asset of one key in one location: the location keeps the real one', () => {
    const loc = codeLocation({ name: 'warehouse', assets: [ts('raw/orders'), jaffle()] });
    assert.deepEqual(loc.assets.filter((a) => a.key === 'raw/orders').map((a) => a.isExternal), [false]);
    assert.deepEqual(locationSnapshot(loc).assets.filter((a) => a.key === 'raw/orders').length, 1);
  });
});

describe('a translated dbt project in the planner', () => {
  // sources shop.orders (defined for real in another location) and shop.customers; stg_* -> orders -> customers.
  const dbtManifest = manifest({
    sources: [source('shop', 'orders'), source('shop', 'customers')],
    nodes: [
      model('stg_orders', { folder: ['staging'], deps: [sourceId('shop', 'orders')] }),
      model('stg_customers', { folder: ['staging'], deps: [sourceId('shop', 'customers')] }),
      model('eph', { folder: ['staging'], materialized: 'ephemeral', deps: [modelId('stg_orders')] }),
      model('orders', { folder: ['marts'], deps: [modelId('eph')] }),
      model('customers', { folder: ['marts'], deps: [modelId('stg_customers'), modelId('orders')] }),
    ],
  });
  const dbtProject = (extra: { partitioned?: boolean } = {}): MultiAssetDefinition => {
    const daily = dailyPartitions({ start: '2024-01-01' });
    const g = translateDbtManifest(parseDbtManifest(JSON.parse(JSON.stringify(dbtManifest)), 'manifest.json'), {
      name: DBT, manifestPath: 'manifest.json', ...(extra.partitioned ? { partitions: daily, backfillPolicy: singleRun() } : {}),
    });
    return multi(DBT, g.assets, g.checks);
  };

  test('plans one group for the whole project, after the real source in another location', () => {
    const plan = planRun([snap('warehouse', [dbtProject()]), snap('ingest', [ts('shop/orders')])], '*');
    assert.deepEqual(plan.external, ['shop/customers']);
    assert.deepEqual(groupIds(plan), [DBT]);
    assert.deepEqual(groupKeys(plan, DBT), ['stg_customers', 'stg_orders', 'orders', 'customers']);
    assert.deepEqual(depKeys(plan, 'stg_orders'), ['shop/orders']);
    assert.deepEqual(depKeys(plan, 'orders'), ['stg_orders']);
  });

  test('a backfill keeps the group in the unit plans of partitioned members', () => {
    const now = new Date('2024-06-01T00:00:00Z');
    const snapshots = [snap('warehouse', [dbtProject({ partitioned: true })])];
    const { nodes } = backfillAssets(snapshots, '*');
    const p = planBackfill(snapshots, '*', resolveBackfillTargets(nodes, { range: ['2024-01-01', '2024-01-05'] }, { now }), 'perPartition', { now });
    // singleRun(): one range unit for all members.
    assert.deepEqual(p.units.map((u) => [unitLabel(u), u.range ?? false]), [['2024-01-01...2024-01-05', true]]);
    assert.equal(p.groups.length, 1);
    const unitPlan = p.groups[0]!.plan;
    assert.deepEqual(unitPlan.steps.map((s) => s.key), ['stg_customers', 'stg_orders', 'orders', 'customers']);
    assert.deepEqual(groupIds(unitPlan), [DBT]);
    assert.deepEqual(unitPlan.groups?.[0]?.steps, [0, 1, 2, 3]);
    assert.ok(unitPlan.steps.every((s) => s.group === 0 && s.multi === DBT));
    assert.deepEqual(depKeys(unitPlan, 'customers'), ['orders', 'stg_customers']);
    assert.equal(p.assetPartitions, 20);
  });

  test('a backfill with a partitioned TypeScript asset between members keeps two groups', () => {
    const now = new Date('2024-06-01T00:00:00Z');
    const daily = dailyPartitions({ start: '2024-01-01' });
    const m = multi('dbt:p', [
      member('dbt:p', 'a', [], { partitions: daily, backfillPolicy: singleRun() }),
      member('dbt:p', 'b', ['x'], { partitions: daily, backfillPolicy: singleRun() }),
    ]);
    const snapshots = [snap('loc', [m, ts('x', ['a'], { partitions: daily, backfillPolicy: singleRun() })])];
    const { nodes } = backfillAssets(snapshots, '*');
    const p = planBackfill(snapshots, '*', resolveBackfillTargets(nodes, { range: ['2024-01-01', '2024-01-03'] }, { now }), 'perPartition', { now });
    assert.equal(p.units.length, 1);
    const unitPlan = p.groups[0]!.plan;
    assert.deepEqual(unitPlan.steps.map((s) => s.key), ['a', 'x', 'b']);
    assert.deepEqual(groupIds(unitPlan), ['dbt:p', 'dbt:p#2']);
    assert.equal('group' in (unitPlan.steps[1] ?? {}), false);
    assert.deepEqual(depKeys(unitPlan, 'b'), ['x']);
  });

  test('per-partition units of members each carry the group', () => {
    const now = new Date('2024-06-01T00:00:00Z');
    const daily = dailyPartitions({ start: '2024-01-01' });
    const m = multi('dbt:p', [member('dbt:p', 'a', [], { partitions: daily }), member('dbt:p', 'b', ['a'], { partitions: daily })]);
    const snapshots = [snap('loc', [m])];
    const { nodes } = backfillAssets(snapshots, '*');
    const p = planBackfill(snapshots, '*', resolveBackfillTargets(nodes, { range: ['2024-01-01', '2024-01-03'] }, { now }), 'perPartition', { now });
    assert.deepEqual(p.units.map((u) => unitLabel(u)), ['2024-01-01', '2024-01-02', '2024-01-03']);
    assert.ok(p.units.every((u) => groupIds(p.groups[u.group]!.plan).join() === 'dbt:p'));
    assert.deepEqual(p.groups[0]!.plan.groups?.[0]?.steps, [0, 1]);
  });
});
