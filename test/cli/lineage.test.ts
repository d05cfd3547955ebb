import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { cairn, FIXTURES } from './cli-helpers';

const small = ['--workspace', resolve(FIXTURES, 'small/cairn.workspace.json')];

describe('cairn lineage', () => {
  test('text: the focus with its upstream and downstream, indented by depth', async () => {
    const r = await cairn(['lineage', 'marts/customer_revenue']); // the example workspace at the root
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        'marts/customer_revenue   analytics  group marts',
        'upstream:',
        '  staging/customers      analytics',
        '    raw/shop/customers   ingestion',
        '  staging/orders         analytics',
        '    raw/shop/orders      ingestion',
        'downstream:',
        '  ml/customer_scores     analytics',
        '    notify/revenue_digest  (see below)',
        '  notify/revenue_digest  analytics',
        '',
      ].join('\n'),
    );
  });

  test('--format json with depth limits prints { focus, nodes, edges }', async () => {
    const r = await cairn([...small, 'lineage', 'ok/b', '--format', 'json', '--upstream', '1', '--downstream', 'all']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      focus: 'ok/b',
      nodes: [
        { key: 'ok/a', codeLocation: 'small', group: 'good', external: false, depth: -1 },
        { key: 'ok/b', codeLocation: 'small', group: 'good', external: false, depth: 0 },
      ],
      edges: [{ from: 'ok/a', to: 'ok/b' }],
    });
    const none = await cairn([...small, 'lineage', 'ok/b', '--format', 'json', '--upstream', '0']);
    assert.deepEqual((JSON.parse(none.stdout) as { nodes: unknown[] }).nodes.length, 1);
  });

  test('--format mermaid and dot', async () => {
    const mermaid = await cairn([...small, 'lineage', 'bad/fails', '--format', 'mermaid']);
    assert.equal(mermaid.code, 0, mermaid.stderr);
    assert.match(mermaid.stdout, /^flowchart LR\n {2}n0\["bad\/fails"\]\n {2}n1\["bad\/after"\]\n {2}n0 --> n1\n/);
    assert.match(mermaid.stdout, /class n0 focus\n$/);
    const dot = await cairn([...small, 'lineage', 'bad/after', '--format', 'dot']);
    assert.equal(dot.code, 0, dot.stderr);
    assert.match(dot.stdout, /^digraph lineage \{\n {2}rankdir=LR;\n/);
    assert.match(dot.stdout, /^ {2}"bad\/fails" -> "bad\/after";$/m);
  });

  test('an unknown key exits 2 with the closest key suggested', async () => {
    const r = await cairn([...small, 'lineage', 'ok/c']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /unknown asset key 'ok\/c'; did you mean 'ok\/[ab]'\?/);
  });

  test('a bad --format or depth exits 2 naming the problem', async () => {
    const format = await cairn([...small, 'lineage', 'ok/a', '--format', 'svg']);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /unknown lineage format 'svg'; use one of: text, mermaid, dot, json/);
    const depth = await cairn([...small, 'lineage', 'ok/a', '--downstream', '-1']);
    assert.equal(depth.code, 2);
    assert.match(depth.stderr, /--downstream must be a non-negative whole number or 'all', got '-1'/);
  });
});
