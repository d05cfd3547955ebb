import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDbtManifest, translateDbtManifest } from '../../definitions/dbt/manifest';
import { selectDbtNodes, type DbtSelectableNode } from '../../definitions/dbt/selection';
import { dbtSelectors } from '../../definitions/dbt/selectors';
import { generateManifest, prng } from '../support/dbt-manifest';

const f = (dotted: string): string[] => dotted.split('.');

/**
 *   jaffle/staging/{stg_orders, stg_customers, stg_payments}
 *   jaffle/marts/finance/{orders, revenue}
 *   jaffle/marts/core/customers
 *   jaffle/top
 */
const BUILDABLE = [
  'jaffle.staging.stg_orders', 'jaffle.staging.stg_customers', 'jaffle.staging.stg_payments',
  'jaffle.marts.finance.orders', 'jaffle.marts.finance.revenue', 'jaffle.marts.core.customers', 'jaffle.top',
].map(f);

const selectors = (...wanted: string[]): string[] => dbtSelectors(wanted.map(f), BUILDABLE);

describe('dbtSelectors', () => {
  test('a folder whose buildable nodes are all wanted is selected by its prefix', () => {
    assert.deepEqual(selectors('jaffle.staging.stg_orders', 'jaffle.staging.stg_customers', 'jaffle.staging.stg_payments'), ['fqn:jaffle.staging']);
    assert.deepEqual(selectors('jaffle.marts.finance.orders', 'jaffle.marts.finance.revenue'), ['fqn:jaffle.marts.finance']);
    // A whole sub-folder compresses even when its parent folder is not wholly wanted.
    assert.deepEqual(selectors('jaffle.marts.core.customers', 'jaffle.marts.finance.orders'), ['fqn:jaffle.marts.core', 'fqn:jaffle.marts.finance.orders']);
  });

  test('everything wanted selects the whole project', () => {
    assert.deepEqual(dbtSelectors(BUILDABLE, BUILDABLE), ['fqn:jaffle']);
  });

  test('two projects wholly wanted are two selectors (the empty prefix is never one)', () => {
    const both = [...BUILDABLE, f('audit_helper.audit_log')];
    assert.deepEqual(dbtSelectors(both, both), ['fqn:audit_helper', 'fqn:jaffle']);
  });

  test('otherwise single nodes, sorted', () => {
    assert.deepEqual(selectors('jaffle.top', 'jaffle.staging.stg_payments', 'jaffle.marts.finance.orders'), ['fqn:jaffle.marts.finance.orders', 'fqn:jaffle.staging.stg_payments', 'fqn:jaffle.top']);
    assert.deepEqual(selectors('jaffle.staging.stg_orders'), ['fqn:jaffle.staging.stg_orders']);
  });

  test('nothing wanted selects nothing', () => {
    assert.deepEqual(dbtSelectors([], BUILDABLE), []);
    assert.deepEqual(dbtSelectors([], []), []);
  });

  test('a node whose fqn is also a folder prefix is selected by that fqn', () => {
    // models/a.sql and models/a/b.sql: the model's fqn jaffle.a is the folder's prefix.
    const buildable = ['jaffle.a', 'jaffle.a.b', 'jaffle.c'].map(f);
    assert.deepEqual(dbtSelectors([f('jaffle.a.b')], buildable), ['fqn:jaffle.a.b']);
    assert.deepEqual(dbtSelectors([f('jaffle.a'), f('jaffle.a.b')], buildable), ['fqn:jaffle.a']);
    // Only the model: its fqn is the one selector dbt has for it (it also matches the folder below it).
    assert.deepEqual(dbtSelectors([f('jaffle.a')], buildable), ['fqn:jaffle.a']);
    assert.deepEqual(dbtSelectors([f('jaffle.a'), f('jaffle.c')], buildable), ['fqn:jaffle.a', 'fqn:jaffle.c']);
  });

  test('on a generated project, the selectors select exactly the wanted nodes (evaluated as dbt does)', () => {
    const raw = generateManifest({ models: 400, seed: 3 });
    const manifest = parseDbtManifest(JSON.parse(JSON.stringify(raw)), 'manifest.json');
    const graph = translateDbtManifest(manifest, { name: 'dbt:jaffle', manifestPath: 'manifest.json' });
    const built = [...graph.nodesByKey.values()];
    // The buildable nodes as the dbt selector sees them (dbt's fqn method matches prefixes of the fqn).
    const selectable: DbtSelectableNode[] = built.map((n) => ({ uniqueId: n.uniqueId, resourceType: n.resourceType, name: n.fqn.at(-1) ?? '', packageName: 'jaffle', fqn: n.fqn, path: '', tags: [], parents: [] }));
    const rand = prng(9);
    const cases = [
      built, // everything
      built.filter((n) => n.fqn[1] === 'staging'), // one layer
      built.filter((n) => n.fqn[1] === 'marts' && n.fqn[2] === 'finance'), // one folder
      built.filter(() => rand() < 0.1), // a scattering
    ];
    for (const wanted of cases) {
      const out = dbtSelectors(wanted.map((n) => n.fqn), graph.buildableFqns);
      assert.ok(out.length > 0 && out.length <= wanted.length);
      assert.deepEqual([...selectDbtNodes(out.join(' '), selectable)].sort(), wanted.map((n) => n.uniqueId).sort());
    }
    assert.deepEqual(dbtSelectors(built.map((n) => n.fqn), graph.buildableFqns), ['fqn:jaffle']);
    assert.deepEqual(dbtSelectors(cases[1]!.map((n) => n.fqn), graph.buildableFqns), ['fqn:jaffle.staging']);
  });
});
