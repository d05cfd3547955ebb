import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import { DbtSelectionError, selectDbtNodes, type DbtSelectableNode } from '../../definitions/dbt/selection';

function node(uniqueId: string, fqn: string[], path: string, extra: Partial<DbtSelectableNode> = {}): DbtSelectableNode {
  const [resourceType = '', packageName = ''] = uniqueId.split('.');
  return { uniqueId, resourceType, name: fqn.at(-1) ?? '', packageName, fqn, path, tags: [], parents: [], ...extra };
}

function source(sourceName: string, table: string, tags: string[] = []): DbtSelectableNode {
  return node(`source.jaffle.${sourceName}.${table}`, ['jaffle', 'staging', sourceName, table], 'models/staging/_sources.yml', { sourceName, tags });
}

/**
 * A jaffle-shop project plus one model from an installed package (edges point downstream):
 *   shop.orders -> stg_orders --\
 *   stripe.payments -> stg_payments -> orders -> test unique_orders_order_id
 *                                        \
 *   shop.customers -> stg_customers --> customers -> audit_log (package audit_helper)
 *   seed regions -----------------------/
 */
const nodes: DbtSelectableNode[] = [
  source('shop', 'orders'),
  source('shop', 'customers', ['pii']),
  source('stripe', 'payments', ['finance']),
  node('seed.jaffle.regions', ['jaffle', 'regions'], 'seeds/regions.csv'),
  node('model.jaffle.stg_orders', ['jaffle', 'staging', 'stg_orders'], 'models/staging/stg_orders.sql', {
    tags: ['staging'], materialized: 'view', parents: ['source.jaffle.shop.orders'],
  }),
  node('model.jaffle.stg_customers', ['jaffle', 'staging', 'stg_customers'], 'models/staging/stg_customers.sql', {
    tags: ['staging', 'pii'], materialized: 'view', parents: ['source.jaffle.shop.customers'],
  }),
  node('model.jaffle.stg_payments', ['jaffle', 'staging', 'stg_payments'], 'models/staging/stg_payments.sql', {
    tags: ['staging', 'finance'], materialized: 'view', parents: ['source.jaffle.stripe.payments'],
  }),
  node('model.jaffle.orders', ['jaffle', 'marts', 'finance', 'orders'], 'models/marts/finance/orders.sql', {
    tags: ['finance', 'nightly'], materialized: 'table', parents: ['model.jaffle.stg_orders', 'model.jaffle.stg_payments'],
  }),
  node('model.jaffle.customers', ['jaffle', 'marts', 'core', 'customers'], 'models/marts/core/customers.sql', {
    tags: ['nightly'], materialized: 'incremental', parents: ['model.jaffle.stg_customers', 'model.jaffle.orders', 'seed.jaffle.regions'],
  }),
  node('test.jaffle.unique_orders_order_id.abc123', ['jaffle', 'marts', 'finance', 'unique_orders_order_id'], 'models/marts/finance/_models.yml', {
    parents: ['model.jaffle.orders'],
  }),
  node('model.audit_helper.audit_log', ['audit_helper', 'audit_log'], 'models/audit_log.sql', {
    tags: ['audit'], materialized: 'table', parents: ['model.jaffle.customers', 'model.gone.not_in_manifest'],
  }),
];

/** The unique ids an expression selects, sorted, so expectations read as sets. */
function pick(expression: string): string[] {
  return [...selectDbtNodes(expression, nodes)].sort();
}

function assertDbtSelectionError(expression: string, column: number, message: RegExp): void {
  assert.throws(
    () => selectDbtNodes(expression, nodes),
    (error: unknown) => {
      assert.ok(error instanceof DbtSelectionError, `expected a DbtSelectionError, got ${String(error)}`);
      assert.ok(error instanceof CairnError);
      assert.equal(error.code, ErrorCodes.InvalidSelection);
      assert.equal(error.column, column, `column of: ${error.message}`);
      assert.equal(error.where, `column ${column}`);
      assert.equal(error.expression, expression);
      assert.ok(error.message.startsWith(`dbt selection '${expression}' column ${column}: `), error.message);
      assert.match(error.message, message);
      return true;
    },
  );
}

const ALL = nodes.map((n) => n.uniqueId).sort();
const SRC_ORDERS = 'source.jaffle.shop.orders';
const SRC_CUSTOMERS = 'source.jaffle.shop.customers';
const SRC_PAYMENTS = 'source.jaffle.stripe.payments';
const REGIONS = 'seed.jaffle.regions';
const STG_ORDERS = 'model.jaffle.stg_orders';
const STG_CUSTOMERS = 'model.jaffle.stg_customers';
const STG_PAYMENTS = 'model.jaffle.stg_payments';
const ORDERS = 'model.jaffle.orders';
const CUSTOMERS = 'model.jaffle.customers';
const TEST = 'test.jaffle.unique_orders_order_id.abc123';
const AUDIT_LOG = 'model.audit_helper.audit_log';
const STAGING = [STG_CUSTOMERS, STG_ORDERS, STG_PAYMENTS];

describe('dbt selection: union and intersection', () => {
  test('whitespace-separated terms are a union', () => {
    assert.deepEqual(pick('resource_type:seed tag:pii'), [REGIONS, STG_CUSTOMERS, SRC_CUSTOMERS].sort());
    assert.deepEqual(pick('  orders\n\tcustomers  '), [CUSTOMERS, ORDERS]);
  });

  test('comma-separated atoms are an intersection', () => {
    assert.deepEqual(pick('tag:staging,tag:pii'), [STG_CUSTOMERS]);
    assert.deepEqual(pick('tag:finance,resource_type:model,config.materialized:table'), [ORDERS]);
    assert.deepEqual(pick('tag:staging,tag:nightly'), []);
  });

  test('graph operators apply to their atom before intersecting, and terms mix both', () => {
    assert.deepEqual(pick('+orders,resource_type:source'), [SRC_ORDERS, SRC_PAYMENTS]);
    assert.deepEqual(pick('stg_orders+,tag:nightly resource_type:seed'), [CUSTOMERS, ORDERS, REGIONS].sort());
  });
});

describe('dbt selection: methods', () => {
  test('fqn matches a prefix of the fqn, with or without the package', () => {
    assert.deepEqual(pick('fqn:jaffle.staging'), STAGING);
    assert.deepEqual(pick('staging'), STAGING);
    assert.deepEqual(pick('marts.finance'), [ORDERS, TEST].sort());
    assert.deepEqual(pick('jaffle.marts.finance.orders'), [ORDERS]);
    assert.deepEqual(pick('audit_helper'), [AUDIT_LOG]);
    assert.deepEqual(pick('jaffle.staging.stg_orders.extra'), []);
  });

  test('fqn matches a node by name, but never a source', () => {
    assert.deepEqual(pick('orders'), [ORDERS]);
    assert.deepEqual(pick('fqn:customers'), [CUSTOMERS]);
    assert.deepEqual(pick('regions'), [REGIONS]);
    assert.deepEqual(pick('unique_orders_order_id'), [TEST]);
    assert.deepEqual(pick('shop'), []);
  });

  test('fqn wildcards match within a segment', () => {
    assert.deepEqual(pick('stg_*'), STAGING);
    assert.deepEqual(pick('stg_order?'), [STG_ORDERS]);
    assert.deepEqual(pick('*.finance.*'), [ORDERS, TEST].sort());
    assert.deepEqual(pick('jaffle.marts.*.customers'), [CUSTOMERS]);
    assert.deepEqual(pick('stg_[co]*'), [STG_CUSTOMERS, STG_ORDERS]);
    assert.deepEqual(pick('stg_[!co]*'), [STG_PAYMENTS]);
    assert.deepEqual(pick('*'), ALL.filter((id) => !id.startsWith('source.')));
  });

  test('tag matches any tag of any node, with wildcards', () => {
    assert.deepEqual(pick('tag:finance'), [ORDERS, STG_PAYMENTS, SRC_PAYMENTS].sort());
    assert.deepEqual(pick('tag:night*'), [CUSTOMERS, ORDERS]);
    assert.deepEqual(pick('tag:Finance'), []);
  });

  test('path matches a directory, with or without a trailing slash', () => {
    const staging = [...STAGING, SRC_CUSTOMERS, SRC_ORDERS, SRC_PAYMENTS].sort();
    assert.deepEqual(pick('path:models/staging'), staging);
    assert.deepEqual(pick('path:models/staging/'), staging);
    assert.deepEqual(pick('models/staging/'), staging);
    assert.deepEqual(pick('./models/marts/core'), [CUSTOMERS]);
    assert.deepEqual(pick('models/marts'), [CUSTOMERS, ORDERS, TEST].sort());
    assert.deepEqual(pick('models/stag'), []);
  });

  test('path matches a file, and a bare .sql or .csv value is a path', () => {
    assert.deepEqual(pick('path:models/marts/finance/orders.sql'), [ORDERS]);
    assert.deepEqual(pick('models/marts/finance/orders.sql'), [ORDERS]);
    assert.deepEqual(pick('seeds/regions.csv'), [REGIONS]);
    assert.deepEqual(pick('path:models/marts/finance/orders'), []);
  });

  test('a bare file name without a directory matches by file name, as dbt does', () => {
    assert.deepEqual(pick('regions.csv'), [REGIONS]);
    assert.deepEqual(pick('stg_*.sql'), STAGING);
  });

  test('path wildcards stay within a segment; ** spans directories', () => {
    assert.deepEqual(pick('models/*/finance'), [ORDERS, TEST].sort());
    assert.deepEqual(pick('models/staging/stg_*.sql'), STAGING);
    assert.deepEqual(pick('models/*.sql'), [AUDIT_LOG]);
    assert.deepEqual(pick('models/**/orders.sql'), [ORDERS]);
  });

  test('resource_type matches exactly', () => {
    assert.deepEqual(pick('resource_type:seed'), [REGIONS]);
    assert.deepEqual(pick('resource_type:source'), [SRC_CUSTOMERS, SRC_ORDERS, SRC_PAYMENTS]);
    assert.deepEqual(pick('resource_type:test'), [TEST]);
    assert.deepEqual(pick('resource_type:snapshot'), []);
  });

  test('source selects all tables of a source, one table, or a package-qualified table', () => {
    assert.deepEqual(pick('source:shop'), [SRC_CUSTOMERS, SRC_ORDERS]);
    assert.deepEqual(pick('source:shop.orders'), [SRC_ORDERS]);
    assert.deepEqual(pick('source:jaffle.stripe.payments'), [SRC_PAYMENTS]);
    assert.deepEqual(pick('source:jaffle.shop.*'), [SRC_CUSTOMERS, SRC_ORDERS]);
    assert.deepEqual(pick('source:*.orders'), [SRC_ORDERS]);
    assert.deepEqual(pick('source:other.shop.orders'), []);
    assert.deepEqual(pick('source:orders'), []);
  });

  test('config.materialized matches exactly', () => {
    assert.deepEqual(pick('config.materialized:table'), [AUDIT_LOG, ORDERS]);
    assert.deepEqual(pick('config.materialized:view'), STAGING);
    assert.deepEqual(pick('config.materialized:incr*'), []);
  });

  test('package matches the package name, with wildcards', () => {
    assert.deepEqual(pick('package:audit_helper'), [AUDIT_LOG]);
    assert.deepEqual(pick('package:audit_*'), [AUDIT_LOG]);
    assert.deepEqual(pick('package:jaffle'), ALL.filter((id) => id !== AUDIT_LOG));
  });
});

describe('dbt selection: graph operators', () => {
  test('+x adds every ancestor, sources included', () => {
    assert.deepEqual(pick('+orders'), [ORDERS, STG_ORDERS, STG_PAYMENTS, SRC_ORDERS, SRC_PAYMENTS].sort());
  });

  test('N+x adds ancestors up to N levels', () => {
    assert.deepEqual(pick('1+orders'), [ORDERS, STG_ORDERS, STG_PAYMENTS].sort());
    assert.deepEqual(pick('2+customers'), [CUSTOMERS, STG_CUSTOMERS, ORDERS, REGIONS, SRC_CUSTOMERS, STG_ORDERS, STG_PAYMENTS].sort());
    assert.deepEqual(pick('0+orders'), [ORDERS]);
  });

  test('x+ adds every descendant, tests and other packages included', () => {
    assert.deepEqual(pick('stg_orders+'), [STG_ORDERS, ORDERS, CUSTOMERS, AUDIT_LOG, TEST].sort());
    assert.deepEqual(pick('source:shop+'), [SRC_CUSTOMERS, SRC_ORDERS, STG_CUSTOMERS, STG_ORDERS, ORDERS, CUSTOMERS, AUDIT_LOG, TEST].sort());
  });

  test('x+N adds descendants up to N levels', () => {
    assert.deepEqual(pick('stg_orders+1'), [ORDERS, STG_ORDERS]);
    assert.deepEqual(pick('stg_orders+2'), [STG_ORDERS, ORDERS, CUSTOMERS, TEST].sort());
  });

  test('both sides at once', () => {
    assert.deepEqual(pick('+stg_customers+'), [SRC_CUSTOMERS, STG_CUSTOMERS, CUSTOMERS, AUDIT_LOG].sort());
    assert.deepEqual(pick('1+orders+1'), [STG_ORDERS, STG_PAYMENTS, ORDERS, CUSTOMERS, TEST].sort());
  });

  test('@x adds descendants and every ancestor of those descendants', () => {
    // customers' other parents (orders, regions, their ancestors) come in; the test on orders does not.
    assert.deepEqual(pick('@stg_customers'), ALL.filter((id) => id !== TEST));
    assert.deepEqual(pick('@audit_log'), ALL.filter((id) => id !== TEST));
    assert.deepEqual(pick('@regions,resource_type:source'), [SRC_CUSTOMERS, SRC_ORDERS, SRC_PAYMENTS]);
  });

  test('unknown parents are ignored', () => {
    assert.deepEqual(pick('1+audit_log'), [AUDIT_LOG, CUSTOMERS]);
  });
});

describe('dbt selection errors', () => {
  test('an unknown method names the method, its column and the known ones', () => {
    assert.throws(() => selectDbtNodes('tag:finance,foo:bar', nodes), {
      message: "dbt selection 'tag:finance,foo:bar' column 13: unknown selection method 'foo' (known: fqn, tag, path, resource_type, source, config.materialized, package)",
    });
    assertDbtSelectionError('orders config.schema:audit', 8, /unknown selection method 'config\.schema'/);
    assertDbtSelectionError('+foo:bar', 2, /unknown selection method 'foo'/);
  });

  test('an empty or blank expression is an error at column 1', () => {
    assertDbtSelectionError('', 1, /the selection is empty/);
    assertDbtSelectionError(' \n\t ', 1, /the selection is empty/);
  });

  test('a dangling comma is an error at the comma', () => {
    assertDbtSelectionError('tag:finance,', 12, /expected a selector after ','/);
    assertDbtSelectionError('orders tag:a,,tag:b', 13, /expected a selector after ','/);
    assertDbtSelectionError('orders ,tag:a', 8, /expected a selector before ','/);
  });

  test('@ cannot be combined with a + prefix', () => {
    assertDbtSelectionError('@+orders', 2, /'@' cannot be combined with a '\+' prefix/);
    assertDbtSelectionError('stg_orders @2+orders', 13, /'@' cannot be combined with a '\+' prefix/);
  });

  test('a missing value is an error where the value should be', () => {
    assertDbtSelectionError('orders tag:', 12, /'tag:' is missing its value/);
    assertDbtSelectionError('+', 2, /expected a selector value/);
    assertDbtSelectionError('@', 2, /expected a selector value/);
  });

  test('stray operators are errors', () => {
    assertDbtSelectionError('orders++', 7, /unexpected '\+'/);
    assertDbtSelectionError('++orders', 2, /unexpected '\+'/);
  });

  test('invalid values are errors at the value', () => {
    assertDbtSelectionError('source:a.b.c.d', 8, /source 'a\.b\.c\.d' must be/);
    assertDbtSelectionError('orders resource_type:widget', 22, /unknown resource type 'widget'/);
  });

  test('a syntax error anywhere fails the whole expression', () => {
    assert.throws(() => selectDbtNodes('orders stg_orders+ tag:', nodes), DbtSelectionError);
  });
});
