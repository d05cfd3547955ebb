import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AssetGraph, type GraphNode } from '../../definitions/graph';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import { formatLineage, lineageOf, parseLineageDepth, parseLineageFormat, type Lineage } from '../../definitions/lineage';

function node(key: string, deps: string[] = [], extra: Partial<GraphNode> = {}): GraphNode {
  return { key, deps, group: 'default', kinds: [], owners: [], tags: {}, codeLocation: 'main', ...extra };
}

/** a feeds b and c, which both feed d. */
const diamond = AssetGraph.fromNodes([node('d', ['b', 'c']), node('c', ['a']), node('b', ['a']), node('a')]);

/** a -> b -> c -> d -> e, a straight line. */
const chain = AssetGraph.fromNodes([node('a'), node('b', ['a']), node('c', ['b']), node('d', ['c']), node('e', ['d'])]);

/** A small pipeline with an external source, two locations and a shortcut edge (mart/m -> notify/d). */
const pipeline = AssetGraph.fromNodes([
  node('raw/a', [], { codeLocation: 'ingestion', group: 'raw', isExternal: true }),
  node('stg/a', ['raw/a'], { group: 'staging' }),
  node('mart/m', ['stg/a'], { group: 'marts' }),
  node('ml/s', ['mart/m'], { group: 'ml' }),
  node('notify/d', ['ml/s', 'mart/m'], { group: 'notify' }),
  node('other/x', ['raw/a']),
]);

const depths = (lineage: Lineage): Record<string, number> => Object.fromEntries(lineage.nodes.map((n) => [n.key, n.depth]));
const edges = (lineage: Lineage): string[] => lineage.edges.map((e) => `${e.from}->${e.to}`);

function assertCairnError(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CairnError, `expected a CairnError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe('lineageOf', () => {
  test('defaults to every level in both directions', () => {
    const l = lineageOf(chain, 'c');
    assert.equal(l.focus, 'c');
    assert.deepEqual(depths(l), { a: -2, b: -1, c: 0, d: 1, e: 2 });
    assert.deepEqual(edges(l), ['a->b', 'b->c', 'c->d', 'd->e']);
    assert.deepEqual(l.limits, { upstream: undefined, downstream: undefined });
  });

  test('each direction is limited on its own, and 0 means none', () => {
    assert.deepEqual(depths(lineageOf(chain, 'c', { upstream: 1 })), { b: -1, c: 0, d: 1, e: 2 });
    assert.deepEqual(depths(lineageOf(chain, 'c', { downstream: 1 })), { a: -2, b: -1, c: 0, d: 1 });
    assert.deepEqual(depths(lineageOf(chain, 'c', { upstream: 0, downstream: 0 })), { c: 0 });
    assert.deepEqual(lineageOf(chain, 'c', { upstream: 0, downstream: 0 }).edges, []);
    assert.deepEqual(depths(lineageOf(chain, 'a', { downstream: 3 })), { a: 0, b: 1, c: 2, d: 3 });
    assert.deepEqual(depths(lineageOf(chain, 'a', { upstream: 5 })), { a: 0, b: 1, c: 2, d: 3, e: 4 });
  });

  test('a diamond: depth is the shortest distance, and edges among the chosen nodes are kept', () => {
    const fromTop = lineageOf(diamond, 'a');
    assert.deepEqual(depths(fromTop), { a: 0, b: 1, c: 1, d: 2 });
    assert.deepEqual(edges(fromTop), ['a->b', 'a->c', 'b->d', 'c->d']);
    const one = lineageOf(diamond, 'd', { upstream: 1 });
    assert.deepEqual(depths(one), { b: -1, c: -1, d: 0 });
    assert.deepEqual(edges(one), ['b->d', 'c->d']);
    const middle = lineageOf(diamond, 'b');
    assert.deepEqual(depths(middle), { a: -1, b: 0, d: 1 });
    assert.deepEqual(edges(middle), ['a->b', 'b->d']);
  });

  test('a shortcut edge puts an asset at its nearest depth and keeps both edges', () => {
    const l = lineageOf(pipeline, 'mart/m', { upstream: 1, downstream: 1 });
    assert.deepEqual(depths(l), { 'stg/a': -1, 'mart/m': 0, 'ml/s': 1, 'notify/d': 1 });
    assert.deepEqual(edges(l), ['stg/a->mart/m', 'mart/m->ml/s', 'mart/m->notify/d', 'ml/s->notify/d']);
  });

  test('an edge between an upstream and a downstream asset that bypasses the focus is kept', () => {
    const graph = AssetGraph.fromNodes([node('a'), node('b', ['a']), node('c', ['a', 'b'])]);
    assert.deepEqual(edges(lineageOf(graph, 'b')), ['a->b', 'a->c', 'b->c']);
  });

  test('nodes carry code location, group and external, sorted by depth then key', () => {
    assert.deepEqual(lineageOf(pipeline, 'stg/a', { downstream: 1 }).nodes, [
      { key: 'raw/a', codeLocation: 'ingestion', group: 'raw', external: true, depth: -1 },
      { key: 'stg/a', codeLocation: 'main', group: 'staging', external: false, depth: 0 },
      { key: 'mart/m', codeLocation: 'main', group: 'marts', external: false, depth: 1 },
    ]);
  });

  test('a cycle through the focus does not loop and places each asset once', () => {
    const graph = AssetGraph.fromNodes([node('a', ['c']), node('b', ['a']), node('c', ['b'])]);
    const l = lineageOf(graph, 'a');
    assert.deepEqual(depths(l), { a: 0, b: 1, c: -1 });
    assert.deepEqual(edges(l), ['c->a', 'a->b', 'b->c']);
    assert.match(formatLineage(l, 'text'), /^a/);
  });

  test('an unknown key is UNKNOWN_ASSET with the closest key suggested', () => {
    assertCairnError(() => lineageOf(pipeline, 'mart/n'), ErrorCodes.UnknownAsset, /unknown asset key 'mart\/n'; did you mean 'mart\/m'\?/);
    assertCairnError(() => lineageOf(pipeline, 'zzzzzzzzzzzz'), ErrorCodes.UnknownAsset, /^unknown asset key 'zzzzzzzzzzzz'$/);
  });

  test('a negative or fractional depth is rejected, naming the direction', () => {
    assertCairnError(() => lineageOf(chain, 'c', { upstream: -1 }), ErrorCodes.InvalidArgument, /upstream depth must be a non-negative whole number, got -1/);
    assertCairnError(() => lineageOf(chain, 'c', { downstream: 1.5 }), ErrorCodes.InvalidArgument, /downstream depth/);
    assertCairnError(() => lineageOf(chain, 'c', { downstream: Number.NaN }), ErrorCodes.InvalidArgument, /downstream depth/);
  });
});

describe('parseLineageDepth and parseLineageFormat', () => {
  test('depths: whole numbers, or all for every level', () => {
    assert.equal(parseLineageDepth('0', '--upstream'), 0);
    assert.equal(parseLineageDepth('12', '--upstream'), 12);
    assert.equal(parseLineageDepth('all', '--upstream'), undefined);
    assert.equal(parseLineageDepth('ALL', '--upstream'), undefined);
  });

  test('a bad depth names the flag', () => {
    for (const bad of ['-1', '1.5', 'two', '', '1e3', '0x10']) {
      assertCairnError(() => parseLineageDepth(bad, '--downstream'), ErrorCodes.InvalidArgument, new RegExp(`^--downstream must be a non-negative whole number or 'all', got '${bad}'$`));
    }
    assertCairnError(() => parseLineageDepth('99999999999999999999', '--upstream'), ErrorCodes.InvalidArgument, /--upstream is too large/);
  });

  test('a bad format lists the accepted ones', () => {
    assert.equal(parseLineageFormat('dot'), 'dot');
    assertCairnError(() => parseLineageFormat('svg'), ErrorCodes.InvalidArgument, /unknown lineage format 'svg'; use one of: text, mermaid, dot, json/);
    assertCairnError(() => formatLineage(lineageOf(chain, 'a'), 'JSON'), ErrorCodes.InvalidArgument, /use one of: text, mermaid, dot, json/);
  });
});

describe('formatLineage', () => {
  const sub = lineageOf(pipeline, 'mart/m');

  test('text: the focus, then upstream and downstream indented by depth, each asset listed in full once', () => {
    assert.equal(
      formatLineage(sub, 'text'),
      [
        'mart/m      main  group marts',
        'upstream:',
        '  stg/a     main',
        '    raw/a   ingestion  external',
        'downstream:',
        '  ml/s      main',
        '    notify/d  (see below)',
        '  notify/d  main',
      ].join('\n'),
    );
  });

  test('text: limits show in the headings, a 0 limit drops its section, an empty side says none', () => {
    assert.equal(formatLineage(lineageOf(pipeline, 'mart/m', { upstream: 0, downstream: 1 }), 'text'), ['mart/m      main  group marts', 'downstream (1 level):', '  ml/s      main', '    notify/d  (see below)', '  notify/d  main'].join('\n'));
    assert.equal(formatLineage(lineageOf(pipeline, 'raw/a', { upstream: 2, downstream: 0 }), 'text'), ['raw/a  ingestion  group raw  external', 'upstream (2 levels): none'].join('\n'));
  });

  test('text: a second path to an already listed asset refers above', () => {
    assert.equal(formatLineage(lineageOf(diamond, 'd'), 'text'), ['d      main  group default', 'upstream:', '  b    main', '    a  main', '  c    main', '    a  (see above)', 'downstream: none'].join('\n'));
  });

  test('text: the style decorates without changing the layout', () => {
    const style = { focus: (s: string) => `<${s}>`, heading: (s: string) => s.toUpperCase(), dim: (s: string) => `~${s}~`, external: (s: string) => `!${s}!` };
    const lines = formatLineage(lineageOf(pipeline, 'stg/a', { downstream: 0 }), 'text', style).split('\n');
    assert.deepEqual(lines, ['<stg/a>    ~main~  ~group staging~', 'UPSTREAM:', '  raw/a  ~ingestion~  !external!']);
  });

  test('mermaid: flowchart LR, ids n0.. in node order, quoted labels, the focus and externals styled', () => {
    assert.equal(
      formatLineage(sub, 'mermaid'),
      [
        'flowchart LR',
        '  n0["raw/a"]',
        '  n1["stg/a"]',
        '  n2["mart/m"]',
        '  n3["ml/s"]',
        '  n4["notify/d"]',
        '  n0 --> n1',
        '  n1 --> n2',
        '  n2 --> n3',
        '  n2 --> n4',
        '  n3 --> n4',
        '  classDef focus fill:#fde68a,stroke:#b45309,stroke-width:3px',
        '  classDef external stroke-dasharray:5 5',
        '  class n2 focus',
        '  class n0 external',
      ].join('\n'),
    );
    assert.doesNotMatch(formatLineage(lineageOf(chain, 'a'), 'mermaid'), /external/);
  });

  test('mermaid: ids stay safe and labels escaped whatever the keys contain', () => {
    const odd = AssetGraph.fromNodes([node('end'), node('a "quoted" <b> #1', ['end'])]);
    const out = formatLineage(lineageOf(odd, 'end'), 'mermaid');
    for (const line of out.split('\n').slice(1)) assert.match(line, /^ {2}(n\d+(\[".*"\]| --> n\d+)|classDef .*|class n\d+(,n\d+)* \w+)$/);
    assert.match(out, /n1\["a #34;quoted#34; #60;b#62; #35;1"\]/);
    assert.doesNotMatch(out, /^ {2}end\b/m);
  });

  test('dot: a digraph with quoted ids, the focus filled, externals dashed', () => {
    assert.equal(
      formatLineage(lineageOf(pipeline, 'stg/a', { downstream: 1 }), 'dot'),
      [
        'digraph lineage {',
        '  rankdir=LR;',
        '  node [shape=box];',
        '  "raw/a" [style="dashed"];',
        '  "stg/a" [style="filled,bold", fillcolor="#fde68a"];',
        '  "mart/m";',
        '  "raw/a" -> "stg/a";',
        '  "stg/a" -> "mart/m";',
        '}',
      ].join('\n'),
    );
  });

  test('dot: quotes, backslashes and line breaks in keys are escaped', () => {
    const odd = AssetGraph.fromNodes([node('a"b'), node('c\\', ['a"b']), node('d\ne', ['c\\'])]);
    const out = formatLineage(lineageOf(odd, 'c\\'), 'dot');
    assert.match(out, /^ {2}"a\\"b";$/m);
    assert.match(out, /^ {2}"c\\\\" \[style=/m);
    assert.match(out, /^ {2}"d\\ne";$/m);
    assert.match(out, /^ {2}"a\\"b" -> "c\\\\";$/m);
    assert.match(out, /^ {2}"c\\\\" -> "d\\ne";$/m);
  });

  test('json: focus, nodes and edges only, in a stable order', () => {
    const out = formatLineage(lineageOf(diamond, 'b'), 'json');
    assert.deepEqual(JSON.parse(out), {
      focus: 'b',
      nodes: [
        { key: 'a', codeLocation: 'main', group: 'default', external: false, depth: -1 },
        { key: 'b', codeLocation: 'main', group: 'default', external: false, depth: 0 },
        { key: 'd', codeLocation: 'main', group: 'default', external: false, depth: 1 },
      ],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'd' },
      ],
    });
    // The same graph built in another order gives the same text.
    const shuffled = AssetGraph.fromNodes([node('a'), node('b', ['a']), node('c', ['a']), node('d', ['c', 'b'])]);
    assert.equal(formatLineage(lineageOf(shuffled, 'b'), 'json'), out);
  });
});
