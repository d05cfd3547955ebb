import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AssetGraph, type GraphNode } from '../../definitions/graph';
import { CairnError, ErrorCodes } from '../../definitions/errors';

function node(key: string, deps: string[] = [], extra: Partial<GraphNode> = {}): GraphNode {
  return { key, deps, group: 'default', kinds: [], owners: [], tags: {}, codeLocation: 'main', ...extra };
}

/** a feeds b and c, which both feed d. */
const diamond = AssetGraph.fromNodes([node('d', ['b', 'c']), node('c', ['a']), node('b', ['a']), node('a')]);

/** a -> b -> c -> d, a straight line. */
const chain = AssetGraph.fromNodes([node('a'), node('b', ['a']), node('c', ['b']), node('d', ['c'])]);

/** z feeds a; b stands alone, so key order and dependency order disagree. */
const reversedNames = AssetGraph.fromNodes([node('a', ['z']), node('z'), node('b')]);

/** a -> b -> c -> a (b depends on a, c on b, a on c), plus a bystander d fed by c. */
const triangle = AssetGraph.fromNodes([node('a', ['c']), node('b', ['a']), node('c', ['b']), node('d', ['c'])]);

/** 100 layers of 100 assets; each asset depends on two neighbours in the previous layer. */
function layeredGraph(layers: number, width: number): AssetGraph {
  const name = (layer: number, i: number) => `l${String(layer).padStart(3, '0')}/n${String(i).padStart(3, '0')}`;
  const nodes: GraphNode[] = [];
  for (let layer = 0; layer < layers; layer++) {
    for (let i = 0; i < width; i++) {
      nodes.push(node(name(layer, i), layer === 0 ? [] : [name(layer - 1, i), name(layer - 1, (i + 1) % width)]));
    }
  }
  return AssetGraph.fromNodes(nodes);
}

function assertValidOrder(graph: AssetGraph, order: string[]): void {
  const position = new Map(order.map((key, i) => [key, i]));
  for (const key of order) {
    for (const parent of graph.parents(key)) {
      if (position.has(parent)) assert.ok(position.get(parent)! < position.get(key)!, `${parent} must come before ${key}`);
    }
  }
}

describe('AssetGraph construction', () => {
  test('keys are sorted and size counts every asset', () => {
    assert.deepEqual(diamond.keys(), ['a', 'b', 'c', 'd']);
    assert.equal(diamond.size, 4);
    assert.ok(diamond.has('a'));
    assert.ok(!diamond.has('e'));
  });

  test('parents and children are sorted', () => {
    assert.deepEqual(diamond.parents('d'), ['b', 'c']);
    assert.deepEqual(diamond.children('a'), ['b', 'c']);
    assert.deepEqual(diamond.parents('a'), []);
    assert.deepEqual(diamond.children('d'), []);
  });

  test('deps naming unknown keys make no edge', () => {
    const graph = AssetGraph.fromNodes([node('a', ['ghost']), node('b', ['a', 'a', 'missing'])]);
    assert.deepEqual(graph.parents('a'), []);
    assert.deepEqual(graph.parents('b'), ['a']);
    assert.deepEqual(graph.toposort(), ['a', 'b']);
  });

  test('when a key appears twice the last node wins', () => {
    const graph = AssetGraph.fromNodes([node('a', [], { group: 'first' }), node('b'), node('a', ['b'], { group: 'second' })]);
    assert.equal(graph.size, 2);
    assert.equal(graph.node('a').group, 'second');
    assert.deepEqual(graph.parents('a'), ['b']);
  });

  test('an unknown key is a CairnError that suggests the closest key', () => {
    assert.throws(
      () => diamond.node('dd'),
      (error: unknown) =>
        error instanceof CairnError && error.code === ErrorCodes.InvalidKey && /unknown asset key 'dd'; did you mean 'd'\?/.test(error.message),
    );
    assert.throws(() => diamond.parents('nope'), CairnError);
    assert.throws(() => diamond.upstream(['nope']), CairnError);
  });
});

describe('AssetGraph.toposort', () => {
  test('a diamond sorts parents first and breaks the tie between siblings by key', () => {
    assert.deepEqual(diamond.toposort(), ['a', 'b', 'c', 'd']);
  });

  test('among ready assets the smallest key comes first, even when a later name is a dependency', () => {
    assert.deepEqual(reversedNames.toposort(), ['b', 'z', 'a']);
  });

  test('the order does not depend on the order nodes were given in', () => {
    const shuffled = AssetGraph.fromNodes([node('b', ['a']), node('a'), node('d', ['c', 'b']), node('c', ['a'])]);
    assert.deepEqual(shuffled.toposort(), diamond.toposort());
  });

  test('a restricted sort orders only the given keys', () => {
    assert.deepEqual(diamond.toposort(['d', 'b']), ['b', 'd']);
    assert.deepEqual(diamond.toposort(new Set(['c', 'a'])), ['a', 'c']);
  });

  test('a restricted sort ignores paths through keys that are not included', () => {
    // a -> b -> c -> d: with b and c left out, a and d are unrelated and sort by key alone.
    assert.deepEqual(chain.toposort(['d', 'a']), ['a', 'd']);
    assert.deepEqual(reversedNames.toposort(['a', 'b']), ['a', 'b']);
    assert.deepEqual(reversedNames.toposort(['a', 'z']), ['z', 'a']);
  });

  test('a cyclic graph fails with the cycle in the message', () => {
    assert.throws(
      () => triangle.toposort(),
      (error: unknown) => error instanceof CairnError && error.code === ErrorCodes.Cycle && error.message.includes('a -> b -> c -> a'),
    );
  });

  test('a restricted sort of a cyclic graph succeeds when the subset breaks the cycle', () => {
    assert.deepEqual(triangle.toposort(['d', 'b', 'a']), ['a', 'b', 'd']);
  });

  test('10,000 layered assets sort layer by layer', () => {
    const graph = layeredGraph(100, 100);
    const order = graph.toposort();
    assert.equal(order.length, 10_000);
    assert.deepEqual(order, graph.keys());
    assertValidOrder(graph, order);
  });
});

describe('AssetGraph.findCycle', () => {
  test('an acyclic graph has no cycle', () => {
    assert.equal(diamond.findCycle(), undefined);
  });

  test('a cycle is a path in data-flow direction from its smallest key back to it', () => {
    assert.deepEqual(triangle.findCycle(), ['a', 'b', 'c', 'a']);
  });

  test('a self-dependency is a cycle of one', () => {
    const graph = AssetGraph.fromNodes([node('a'), node('x', ['x', 'a'])]);
    assert.deepEqual(graph.findCycle(), ['x', 'x']);
  });

  test('a cycle downstream of acyclic assets is found and rotated to its smallest key', () => {
    const graph = AssetGraph.fromNodes([node('a'), node('q', ['a', 'p']), node('p', ['r']), node('r', ['q'])]);
    assert.deepEqual(graph.findCycle(), ['p', 'q', 'r', 'p']);
  });
});

describe('AssetGraph traversal', () => {
  test('upstream without a depth is the whole ancestry, the keys included', () => {
    assert.deepEqual(chain.upstream(['c']), new Set(['c', 'b', 'a']));
    assert.deepEqual(diamond.upstream(['d']), new Set(['d', 'b', 'c', 'a']));
  });

  test('upstream with depth 1 adds direct parents only', () => {
    assert.deepEqual(chain.upstream(['d'], 1), new Set(['d', 'c']));
    assert.deepEqual(chain.upstream(['d'], 2), new Set(['d', 'c', 'b']));
    assert.deepEqual(chain.upstream(['d'], 0), new Set(['d']));
  });

  test('downstream with and without a depth', () => {
    assert.deepEqual(chain.downstream(['a']), new Set(['a', 'b', 'c', 'd']));
    assert.deepEqual(chain.downstream(['a'], 1), new Set(['a', 'b']));
    assert.deepEqual(diamond.downstream(['b']), new Set(['b', 'd']));
  });

  test('traversal from several keys unions their reach', () => {
    assert.deepEqual(diamond.downstream(['b', 'c'], 1), new Set(['b', 'c', 'd']));
    assert.deepEqual(chain.upstream(['b', 'd'], 1), new Set(['a', 'b', 'c', 'd']));
  });

  test('traversal terminates on a cycle', () => {
    assert.deepEqual(triangle.downstream(['a']), new Set(['a', 'b', 'c', 'd']));
  });

  test('roots and sinks of the whole graph', () => {
    assert.deepEqual(diamond.roots(), new Set(['a']));
    assert.deepEqual(diamond.sinks(), new Set(['d']));
    assert.deepEqual(reversedNames.roots(), new Set(['b', 'z']));
  });

  test('roots and sinks of a subset only look at edges inside it', () => {
    assert.deepEqual(diamond.roots(['b', 'c', 'd']), new Set(['b', 'c']));
    assert.deepEqual(diamond.sinks(['a', 'b']), new Set(['b']));
    assert.deepEqual(chain.roots(['a', 'c']), new Set(['a', 'c']));
  });
});

describe('AssetGraph.closestKey', () => {
  const graph = AssetGraph.fromNodes([node('marts/daily_revenue'), node('marts/customer_ltv'), node('raw/orders')]);

  test('a near miss finds the intended key', () => {
    assert.equal(graph.closestKey('marts/daly_revenue'), 'marts/daily_revenue');
    assert.equal(graph.closestKey('raw/order'), 'raw/orders');
  });

  test('nothing is suggested when no key is reasonably close', () => {
    assert.equal(graph.closestKey('staging/payments'), undefined);
    assert.equal(graph.closestKey('x'), undefined);
  });
});
