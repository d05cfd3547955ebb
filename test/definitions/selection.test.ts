import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AssetGraph, type GraphNode } from '../../definitions/graph';
import { ErrorCodes, SelectionError } from '../../definitions/errors';
import { evaluateSelection, parseSelection, selectAssets, selectionToString, type SelectionNode } from '../../definitions/selection/index';

function asset(key: string, deps: string[], extra: Partial<GraphNode>): GraphNode {
  return { key, deps, group: 'default', kinds: [], owners: [], tags: {}, codeLocation: 'ingest', ...extra };
}

/**
 * A small warehouse: raw sources (location `ingest`) feed staging models, marts and a dashboard (`analytics`).
 *   raw/stripe/payments -> staging/payments ---------> marts/daily_revenue -> reports/revenue_dashboard
 *   raw/shop/orders ----> staging/orders ---------/--> marts/customer_ltv
 *   raw/shop/customers -> staging/customers --------/
 */
const pipeline = AssetGraph.fromNodes([
  asset('raw/stripe/payments', [], { group: 'raw', kinds: ['python'], owners: ['team:ingest'], tags: { source: 'stripe', pii: 'true' }, isExternal: true }),
  asset('raw/shop/orders', [], { group: 'raw', kinds: ['python'], owners: ['team:ingest'], tags: { source: 'shop' } }),
  asset('raw/shop/customers', [], { group: 'raw', kinds: ['python'], owners: ['team:ingest'], tags: { source: 'shop', pii: 'true' } }),
  asset('staging/payments', ['raw/stripe/payments'], { group: 'staging', kinds: ['dbt', 'duckdb'], owners: ['alice@example.com'], codeLocation: 'analytics' }),
  asset('staging/orders', ['raw/shop/orders'], { group: 'staging', kinds: ['dbt', 'duckdb'], owners: ['alice@example.com'], codeLocation: 'analytics' }),
  asset('staging/customers', ['raw/shop/customers'], { group: 'staging', kinds: ['dbt', 'duckdb'], owners: ['bob@example.com'], tags: { pii: 'true' }, codeLocation: 'analytics' }),
  asset('marts/daily_revenue', ['staging/payments', 'staging/orders'], { group: 'marts', kinds: ['dbt'], owners: ['team:finance'], tags: { tier: 'gold' }, codeLocation: 'analytics' }),
  asset('marts/customer_ltv', ['staging/orders', 'staging/customers'], { group: 'marts', kinds: ['dbt'], owners: ['team:finance'], tags: { tier: 'silver' }, codeLocation: 'analytics' }),
  asset('reports/revenue_dashboard', ['marts/daily_revenue'], { group: 'reports', kinds: ['dashboard'], owners: ['team:finance'], tags: { 'team name': 'finance & ops' }, codeLocation: 'analytics' }),
]);

/** The keys a selection picks from the pipeline, sorted, so expectations read as sets. */
function pick(text: string, graph: AssetGraph = pipeline): string[] {
  return [...evaluateSelection(parseSelection(text), graph, text)].sort();
}

/** A deep copy of a selection tree without its columns. */
function withoutColumns(node: unknown): unknown {
  return JSON.parse(JSON.stringify(node, (k, v: unknown) => (k === 'column' ? undefined : v)));
}

function assertSelectionError(run: () => unknown, column: number, message: RegExp, code: string = ErrorCodes.InvalidSelection): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof SelectionError, `expected a SelectionError, got ${String(error)}`);
    assert.equal(error.column, column, `column of: ${error.message}`);
    assert.match(error.message, message);
    assert.equal(error.code, code);
    return true;
  });
}

const STAGING = ['staging/customers', 'staging/orders', 'staging/payments'];
const MARTS = ['marts/customer_ltv', 'marts/daily_revenue'];
const RAW = ['raw/shop/customers', 'raw/shop/orders', 'raw/stripe/payments'];

describe('selection atoms', () => {
  test('a lone star selects every asset', () => {
    assert.deepEqual(pick('*'), pipeline.keys());
  });

  test('a bare key selects that asset, quoted or not', () => {
    assert.deepEqual(pick('raw/stripe/payments'), ['raw/stripe/payments']);
    assert.deepEqual(pick('"raw/stripe/payments"'), ['raw/stripe/payments']);
    assert.deepEqual(pick('key:raw/stripe/payments'), ['raw/stripe/payments']);
    assert.deepEqual(pick('key:"raw/stripe/payments"'), ['raw/stripe/payments']);
  });

  test('a star inside a key matches any run of characters, slashes included', () => {
    assert.deepEqual(pick('staging/*'), STAGING);
    assert.deepEqual(pick('raw/*'), RAW);
    assert.deepEqual(pick('*payments'), ['raw/stripe/payments', 'staging/payments']);
    assert.deepEqual(pick('key:"*/customer*"'), ['marts/customer_ltv', 'raw/shop/customers', 'staging/customers']);
    assert.deepEqual(pick('key:*'), pipeline.keys());
  });

  test('a wildcard is the only special character in a key pattern', () => {
    const graph = AssetGraph.fromNodes([asset('a.b', [], {}), asset('axb', [], {})]);
    assert.deepEqual(pick('a.*', graph), ['a.b']);
    assert.deepEqual(pick('a.b', graph), ['a.b']);
  });

  test('group, kind, owner and code_location match exactly', () => {
    assert.deepEqual(pick('group:marts'), MARTS);
    assert.deepEqual(pick('kind:duckdb'), STAGING);
    assert.deepEqual(pick('owner:alice@example.com'), ['staging/orders', 'staging/payments']);
    assert.deepEqual(pick('owner:"team:ingest"'), RAW);
    assert.deepEqual(pick('code_location:ingest'), RAW);
    assert.deepEqual(pick('group:mart'), []);
  });

  test('tag:k selects assets that have the tag and tag:k=v those with that value', () => {
    assert.deepEqual(pick('tag:pii'), ['raw/shop/customers', 'raw/stripe/payments', 'staging/customers']);
    assert.deepEqual(pick('tag:source=shop'), ['raw/shop/customers', 'raw/shop/orders']);
    assert.deepEqual(pick('tag:"team name"="finance & ops"'), ['reports/revenue_dashboard']);
    assert.deepEqual(pick('tag:tier=bronze'), []);
  });

  test('a quoted value may contain an escaped quote', () => {
    assert.deepEqual(parseSelection('group:"say \\"hi\\""'), { kind: 'attr', attr: 'group', value: 'say "hi"', column: 1 });
  });

  test('whitespace between tokens is insignificant', () => {
    assert.deepEqual(pick('  tag : source = shop '), pick('tag:source=shop'));
    assert.deepEqual(pick(' 1 + marts/daily_revenue + '), pick('1+marts/daily_revenue+'));
  });
});

describe('selection traversal', () => {
  test('+x adds everything upstream', () => {
    assert.deepEqual(pick('+marts/daily_revenue'), ['marts/daily_revenue', 'raw/shop/orders', 'raw/stripe/payments', 'staging/orders', 'staging/payments']);
  });

  test('N+x adds upstream up to N levels', () => {
    assert.deepEqual(pick('1+marts/daily_revenue'), ['marts/daily_revenue', 'staging/orders', 'staging/payments']);
    assert.deepEqual(pick('0+marts/daily_revenue'), ['marts/daily_revenue']);
  });

  test('x+ and x+N add downstream', () => {
    assert.deepEqual(pick('staging/orders+'), ['marts/customer_ltv', 'marts/daily_revenue', 'reports/revenue_dashboard', 'staging/orders']);
    assert.deepEqual(pick('staging/orders+1'), ['marts/customer_ltv', 'marts/daily_revenue', 'staging/orders']);
  });

  test('both sides traverse at once', () => {
    assert.deepEqual(pick('+staging/payments+'), ['marts/daily_revenue', 'raw/stripe/payments', 'reports/revenue_dashboard', 'staging/payments']);
    assert.deepEqual(pick('2+reports/revenue_dashboard+1'), ['marts/daily_revenue', 'reports/revenue_dashboard', 'staging/orders', 'staging/payments']);
  });

  test('traversal applies to attributes and parenthesised expressions', () => {
    assert.deepEqual(pick('group:marts+'), [...MARTS, 'reports/revenue_dashboard']);
    const expected = [...MARTS, 'reports/revenue_dashboard', 'staging/customers', 'staging/orders'];
    assert.deepEqual(pick('1+(marts/customer_ltv or reports/revenue_dashboard)'), expected);
  });

  test('a traversal binds to its atom, not to the whole expression', () => {
    assert.deepEqual(pick('staging/payments or marts/customer_ltv+'), ['marts/customer_ltv', 'staging/payments']);
  });

  test('the AST records depths as numbers and unbounded sides as all', () => {
    assert.deepEqual(parseSelection('2+a+'), { kind: 'traverse', up: 2, down: 'all', expr: { kind: 'key', pattern: 'a', column: 3 }, column: 1 });
  });
});

describe('selection operators and functions', () => {
  test('and intersects, or unites, not complements', () => {
    assert.deepEqual(pick('kind:dbt and tag:pii'), ['staging/customers']);
    assert.deepEqual(pick('group:marts or group:reports'), [...MARTS, 'reports/revenue_dashboard']);
    assert.deepEqual(pick('not code_location:analytics'), RAW);
  });

  test('keywords are case-insensitive', () => {
    assert.deepEqual(pick('group:raw AND NOT tag:pii'), ['raw/shop/orders']);
    assert.deepEqual(pick('group:marts Or group:reports'), pick('group:marts or group:reports'));
  });

  test('not binds tighter than and, which binds tighter than or', () => {
    // group:raw or (kind:dbt and (not tag:pii))
    assert.deepEqual(pick('group:raw or kind:dbt and not tag:pii'), [...MARTS, ...RAW, 'staging/orders', 'staging/payments']);
    const [a, b, c] = ['a', 'b', 'c'].map((pattern) => ({ kind: 'key', pattern }));
    const expected = { kind: 'or', left: a, right: { kind: 'and', left: b, right: { kind: 'not', expr: c } } };
    assert.deepEqual(withoutColumns(parseSelection('a or b and not c')), expected);
  });

  test('parentheses override precedence', () => {
    assert.deepEqual(pick('(group:raw or kind:dbt) and not tag:pii'), [...MARTS, 'raw/shop/orders', 'staging/orders', 'staging/payments']);
    assert.deepEqual(pick('not (group:raw or group:staging)'), [...MARTS, 'reports/revenue_dashboard']);
  });

  test('roots() and sinks() without an argument look at the whole graph', () => {
    assert.deepEqual(pick('roots()'), RAW);
    assert.deepEqual(pick('sinks()'), ['marts/customer_ltv', 'reports/revenue_dashboard']);
  });

  test('roots(expr) and sinks(expr) look only at edges inside the expression', () => {
    assert.deepEqual(pick('roots(+marts/daily_revenue)'), ['raw/shop/orders', 'raw/stripe/payments']);
    assert.deepEqual(pick('sinks(group:staging or group:raw)'), STAGING);
    assert.deepEqual(pick('roots(group:marts)+1'), [...MARTS, 'reports/revenue_dashboard']);
  });
});

describe('selectAssets', () => {
  test('returns the selection in topological order', () => {
    const expected = ['raw/shop/orders', 'raw/stripe/payments', 'staging/orders', 'staging/payments', 'marts/daily_revenue'];
    assert.deepEqual(selectAssets('+marts/daily_revenue', pipeline), expected);
  });

  test('a selection that matches nothing is an EmptySelection error', () => {
    assertSelectionError(() => selectAssets('group:nope', pipeline), 1, /selection 'group:nope' matched no assets/, ErrorCodes.EmptySelection);
    assertSelectionError(() => selectAssets('nothing/*', pipeline), 1, /matched no assets/, ErrorCodes.EmptySelection);
  });

  test('a non-key attribute matching nothing is fine when the whole selection matches something', () => {
    assert.deepEqual(selectAssets('group:nope or raw/shop/orders', pipeline), ['raw/shop/orders']);
  });

  test('10,000 layered assets select an upstream closure in topological order', () => {
    // 100 layers of 100; each asset depends on two neighbours in the previous layer.
    const name = (layer: number, i: number) => `l${String(layer).padStart(3, '0')}/n${String(i % 100).padStart(3, '0')}`;
    const graph = AssetGraph.fromNodes(
      Array.from({ length: 10_000 }, (_, n) => {
        const [layer, i] = [Math.floor(n / 100), n % 100];
        return asset(name(layer, i), layer === 0 ? [] : [name(layer - 1, i), name(layer - 1, i + 1)], {});
      }),
    );
    const selected = selectAssets('+l099/n000', graph);
    // Layer 99 - k contributes n000..n00k, so 1 + 2 + ... + 100 assets in all, each layer before the next.
    assert.equal(selected.length, 5050);
    assert.equal(selected.at(-1), 'l099/n000');
    assert.deepEqual(selected, [...selected].sort());
    assert.equal(selectAssets('*', graph).length, 10_000);
  });
});

describe('selectionToString', () => {
  const examples = [
    '*', 'raw/stripe/payments', 'key:"raw/*"', '"and"', 'key:"*"', 'key:"has space"',
    'key:"quote \\" and backslash \\\\"', 'group:marts', 'group:"two words"', 'kind:dbt', 'tag:pii',
    'tag:source=shop', 'tag:"team name"="finance & ops"', 'owner:alice@example.com', 'code_location:analytics', '+a',
    '2+a', 'a+', 'a+3', '+a+', '2+a+1', '+(a or b)+', '+(a+)', 'not a', 'not not a', 'not (a or b)', 'not +a',
    'a and b and c', 'a and (b and c)', '(a or b) and c', 'a or b and c', 'a or (b or c)', 'not a and b', 'roots()',
    'sinks()', 'roots(a or b)', 'sinks(+group:marts)+', 'ROOTS(a) OR b',
  ];

  for (const text of examples) {
    test(`'${text}' survives printing and parsing again`, () => {
      const node = parseSelection(text);
      const printed = selectionToString(node);
      assert.deepEqual(withoutColumns(parseSelection(printed)), withoutColumns(node), `printed as '${printed}'`);
    });
  }

  test('printing is canonical', () => {
    assert.equal(selectionToString(parseSelection('( +a )AND(b)')), '+a and b');
    assert.equal(selectionToString(parseSelection('key:raw/x')), 'raw/x');
  });

  test('a parsed selection survives a JSON round trip', () => {
    const node = parseSelection('2+(group:marts or tag:pii=true) and not roots()');
    const copy = JSON.parse(JSON.stringify(node)) as SelectionNode;
    assert.deepEqual(copy, node);
    assert.deepEqual(pick(selectionToString(copy)), pick('2+(group:marts or tag:pii=true) and not roots()'));
  });
});

describe('selection errors', () => {
  /** [what is wrong, selection, column of the problem, message]. */
  const parseErrors: [string, string, number, RegExp][] = [
    ['an empty selection is an error at column 1', '', 1, /empty selection/],
    ['a blank selection is an error at column 1', '   ', 1, /empty selection/],
    ['an unexpected character is reported where it is', 'group:raw & kind:dbt', 11, /unexpected character '&'/],
    ['a comma is an unexpected character', 'a,b', 2, /unexpected character ','/],
    ['an unterminated quote is reported at the opening quote', 'group:raw or key:"raw/x', 18, /unterminated quoted string/],
    ['an unmatched opening parenthesis is reported at that parenthesis', 'a or (b and (c or d)', 6, /unmatched '\('/],
    ["an unclosed function call is reported at its '('", 'roots(a', 6, /unmatched '\('/],
    ['an unmatched closing parenthesis is reported at that parenthesis', '(a or b)) and c', 9, /unmatched '\)'/],
    ['a lone closing parenthesis is unmatched', ')', 1, /unmatched '\)'/],
    ['empty parentheses are reported at the opening one', 'a and ()', 7, /empty parentheses/],
    ['an unknown attribute suggests the closest known one', 'group:raw or grop:x', 14, /unknown attribute 'grop'; did you mean 'group'\?/],
    ['a misspelt code_location is recognised', 'codelocation:x', 1, /did you mean 'code_location'\?/],
    ['an attribute like nothing known lists the known ones', 'zzzzzzz:x', 1, /unknown attribute 'zzzzzzz'; known attributes: key, group/],
    ['an unknown function suggests the closest known one', 'a or root(b)', 6, /unknown function 'root'; did you mean 'roots'\?/],
    ['an and without a right operand is reported at the and', 'a and', 3, /'and' is missing its right operand/],
    ['an or followed by another or is missing its right operand', 'a or or b', 3, /'or' is missing its right operand, found 'or'/],
    ['an and closed by a parenthesis is missing its right operand', '(a and ) or b', 4, /'and' is missing its right operand, found '\)'/],
    ['an and at the start is missing its left operand', 'and b', 1, /'and' is missing its left operand/],
    ['an or just inside a parenthesis is missing its left operand', 'a and (or b)', 8, /'or' is missing its left operand/],
    ['a lone not is missing its operand', 'not', 1, /'not' is missing its operand/],
    ['a trailing not is missing its operand', 'a and not', 7, /'not' is missing its operand/],
    ['a lone plus is missing its operand', 'a or +', 6, /'\+' is missing its operand/],
    ['a depth prefix is missing its operand', '2+', 1, /'2\+' is missing its operand/],
    ['an attribute without a value is reported at the attribute', 'a or group:', 6, /'group:' is missing its value/],
    ['a tag with = but no value is reported at the attribute', 'tag:k=', 1, /'tag:k=' is missing its value/],
    ['an empty key pattern is an error', 'key:""', 1, /an asset key pattern must not be empty/],
    ['= after an attribute other than tag is an error at the =', 'group:a=b', 8, /'=' only follows a tag name/],
    ['a depth that is not a whole number is an error at the depth', 'a or 1.5+b', 6, /traversal depth must be a whole number, found '1.5'/],
    ['trailing tokens are an error at the first of them', 'group:raw kind:dbt', 11, /unexpected 'kind'.*combine selections with 'and' or 'or'/],
    ['trailing tokens inside parentheses are an error', '(a b)', 4, /unexpected 'b'; expected 'and', 'or' or the '\)' closing the '\(' at column 1/],
  ];

  for (const [sentence, text, column, message] of parseErrors) {
    test(`${sentence}: '${text}'`, () => assertSelectionError(() => parseSelection(text), column, message));
  }

  test('a key without wildcards that names no asset is an error at its column with a suggestion', () => {
    assertSelectionError(() => selectAssets('group:raw or marts/daly_revenue', pipeline), 14, /no asset has key 'marts\/daly_revenue'; did you mean 'marts\/daily_revenue'\?/);
    assertSelectionError(() => selectAssets('+key:"staging/order"', pipeline), 2, /did you mean 'staging\/orders'\?/);
    assertSelectionError(() => selectAssets('not something/else/entirely', pipeline), 5, /no asset has key 'something\/else\/entirely' at column 5/);
  });

  test('evaluating a parsed selection reports unknown keys at their column in the given text', () => {
    const text = '(raw/shop/orders or raw/shop/order)';
    assertSelectionError(() => evaluateSelection(parseSelection(text), pipeline, text), 21, /did you mean 'raw\/shop\/orders'\?/);
  });

  test('the caret line points at the column of the problem', () => {
    assertSelectionError(() => parseSelection('a or grop:x'), 6, /\n {2}a or grop:x\n {7}\^$/);
  });

  test('a wildcard key that matches nothing is not an error by itself', () => {
    assert.deepEqual(pick('nothing/* or raw/shop/orders'), ['raw/shop/orders']);
  });
});
