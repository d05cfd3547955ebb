import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { computeStaleness, currentDataVersion, derivedDataVersion, type AssetFacts, type StalenessNode } from '../../definitions/staleness';
import { normalizeMetadata, parseMetadataJson } from '../../definitions/metadata';
import { CairnError } from '../../definitions/errors';

// raw (external) -> a -> b ; c (no deps)
const nodes = (over: Partial<Record<string, Partial<StalenessNode>>> = {}): Map<string, StalenessNode> =>
  new Map(
    [
      { key: 'raw', deps: [], isExternal: true },
      { key: 'a', deps: ['raw'], codeVersion: '1' },
      { key: 'b', deps: ['a'] },
      { key: 'c', deps: [] },
    ].map((n) => [n.key, { ...n, ...(over[n.key] ?? {}) } as StalenessNode]),
  );
const ORDER = ['raw', 'a', 'b', 'c'];

/** A world where raw was reported (v1), a consumed raw@v1, b consumed a@A1, c was materialized: all fresh. */
function freshFacts(): Map<string, AssetFacts> {
  return new Map<string, AssetFacts>([
    ['raw', { materialization: { at: '2024-01-01T00:00:00Z', dataVersion: 'v1' } }],
    ['a', { materialization: { at: '2024-01-01T01:00:00Z', codeVersion: '1', dataVersion: 'A1', inputDataVersions: { raw: 'v1' } } }],
    ['b', { materialization: { at: '2024-01-01T02:00:00Z', dataVersion: 'B1', inputDataVersions: { a: 'A1' } } }],
    ['c', { materialization: { at: '2024-01-01T02:00:00Z', dataVersion: 'C1', inputDataVersions: {} } }],
  ]);
}

describe('staleness', () => {
  test('everything consumed at its current version is FRESH; external assets with a report are FRESH', () => {
    const s = computeStaleness(ORDER, nodes(), freshFacts());
    assert.deepEqual([...s.values()].map((x) => x.state), ['FRESH', 'FRESH', 'FRESH', 'FRESH']);
    assert.ok([...s.values()].every((x) => !x.needsRun));
  });

  test('a changed code version makes the asset stale with that cause, and its downstream stale because of it', () => {
    const s = computeStaleness(ORDER, nodes({ a: { codeVersion: '2' } }), freshFacts());
    assert.equal(s.get('a')?.state, 'STALE');
    assert.deepEqual(s.get('a')?.causes.map((c) => c.kind), ['code_version_changed']);
    assert.match(s.get('a')?.causes[0]?.message ?? '', /from '1' to '2'/);
    assert.equal(s.get('b')?.state, 'STALE');
    assert.deepEqual(s.get('b')?.causes.map((c) => [c.kind, c.dependency]), [['upstream_stale', 'a']]);
    assert.equal(s.get('c')?.state, 'FRESH');
  });

  test('a re-materialized upstream makes its downstream stale; re-materializing the downstream makes it fresh', () => {
    const facts = freshFacts();
    facts.set('a', { materialization: { at: '2024-01-02T00:00:00Z', codeVersion: '1', dataVersion: 'A2', inputDataVersions: { raw: 'v1' } } });
    let s = computeStaleness(ORDER, nodes(), facts);
    assert.equal(s.get('a')?.state, 'FRESH');
    assert.equal(s.get('b')?.state, 'STALE');
    assert.deepEqual(s.get('b')?.causes.map((c) => [c.kind, c.dependency]), [['upstream_data_changed', 'a']]);
    assert.equal(s.get('b')?.needsRun, true);
    facts.set('b', { materialization: { at: '2024-01-02T01:00:00Z', dataVersion: 'B2', inputDataVersions: { a: 'A2' } } });
    s = computeStaleness(ORDER, nodes(), facts);
    assert.equal(s.get('b')?.state, 'FRESH');
  });

  test('a newer observation of an external asset counts as its current data version', () => {
    const facts = freshFacts();
    facts.set('raw', { materialization: { at: '2024-01-01T00:00:00Z', dataVersion: 'v1' }, observation: { at: '2024-01-03T00:00:00Z', dataVersion: 'v2' } });
    const s = computeStaleness(ORDER, nodes(), facts);
    assert.equal(s.get('a')?.state, 'STALE');
    assert.equal(s.get('a')?.causes[0]?.kind, 'upstream_data_changed');
    assert.equal(currentDataVersion(facts.get('raw')), 'v2');
  });

  test('a dependency added since the last materialization is a cause', () => {
    const s = computeStaleness(ORDER, nodes({ b: { deps: ['a', 'c'] } }), freshFacts());
    assert.deepEqual(s.get('b')?.causes.map((c) => [c.kind, c.dependency]), [['new_dependency', 'c']]);
  });

  test('MISSING, FAILED and IN_PROGRESS', () => {
    const facts = freshFacts();
    facts.delete('c');
    facts.set('b', { ...facts.get('b'), lastStep: { status: 'failed', at: '2024-01-05T00:00:00Z' } });
    facts.set('a', { ...facts.get('a'), inProgress: true });
    facts.delete('raw');
    const s = computeStaleness(ORDER, nodes(), facts);
    assert.equal(s.get('c')?.state, 'MISSING');
    assert.equal(s.get('c')?.needsRun, true);
    assert.equal(s.get('b')?.state, 'FAILED');
    assert.equal(s.get('a')?.state, 'IN_PROGRESS');
    assert.equal(s.get('raw')?.state, 'MISSING');
    assert.equal(s.get('raw')?.needsRun, false, 'an external asset is never run');
    // A failure older than the latest materialization does not make it FAILED.
    facts.set('b', { ...facts.get('b'), lastStep: { status: 'failed', at: '2023-01-01T00:00:00Z' } });
    assert.notEqual(computeStaleness(ORDER, nodes(), facts).get('b')?.state, 'FAILED');
  });

  test('derived data versions are stable and depend on code and inputs', () => {
    assert.equal(derivedDataVersion('1', { a: 'x', b: null }), derivedDataVersion('1', { b: null, a: 'x' }));
    assert.notEqual(derivedDataVersion('1', { a: 'x' }), derivedDataVersion('2', { a: 'x' }));
    assert.notEqual(derivedDataVersion('1', { a: 'x' }), derivedDataVersion('1', { a: 'y' }));
  });
});

describe('metadata', () => {
  test('plain values are typed by their JavaScript type; typed values are checked', () => {
    assert.deepEqual(normalizeMetadata({ n: 3, s: 'x', b: true, o: { k: [1] }, skip: undefined, u: { type: 'url', value: 'https://a.example/x' } }, 'here'), {
      n: { type: 'number', value: 3 }, s: { type: 'text', value: 'x' }, b: { type: 'bool', value: true }, o: { type: 'json', value: { k: [1] } },
      u: { type: 'url', value: 'https://a.example/x' },
    });
    assert.throws(() => normalizeMetadata({ rows: { type: 'row_count', value: -1 } }, "asset 'a'"), (e: unknown) => e instanceof CairnError && e.code === 'INVALID_METADATA' && /asset 'a': metadata entry 'rows' of type 'row_count'/.test(e.message));
    assert.throws(() => normalizeMetadata({ n: Number.NaN }, 'x'), /not a finite number/);
  });

  test('--metadata JSON must be an object of values', () => {
    assert.throws(() => parseMetadataJson('{rows: 1}', '--metadata'), /--metadata: metadata is not valid JSON/);
    assert.throws(() => parseMetadataJson('[1]', '--metadata'), /must be a JSON object/);
    assert.deepEqual(parseMetadataJson('{"rows": {"type": "row_count", "value": 5}}', '--metadata'), { rows: { type: 'row_count', value: 5 } });
  });
});
