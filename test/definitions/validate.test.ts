import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { asset, externalAsset } from '../../definitions/asset';
import { codeLocation } from '../../definitions/code-location';
import { ErrorCodes } from '../../definitions/errors';
import { validateWorkspace } from '../../definitions/validate';

const noop = () => undefined;
const a = (key: string, deps: string[] = [], extra: Record<string, unknown> = {}) => asset({ key, deps, materialize: noop, ...extra });

function problems(...locations: [ReturnType<typeof codeLocation>, string][]) {
  return validateWorkspace(locations.map(([location, source]) => ({ location, source })));
}

describe('workspace validation', () => {
  test('a valid workspace across two locations has no problems', () => {
    const ingest = codeLocation({ name: 'ingest', assets: [externalAsset({ key: 'raw/x' }), a('raw/y')] });
    const marts = codeLocation({ name: 'marts', assets: [a('marts/z', ['raw/x', 'raw/y'])] });
    assert.deepEqual(problems([ingest, 'ingest.ts'], [marts, 'marts.ts']), []);
  });

  test('a duplicate key names both places', () => {
    const [p] = problems([codeLocation({ name: 'one', assets: [a('k/x')] }), 'one.ts'], [codeLocation({ name: 'two', assets: [a('k/x')] }), 'two.ts']);
    assert.equal(p?.code, ErrorCodes.DuplicateKey);
    assert.match(p!.message, /'k\/x' is defined twice: in location 'one' \(one\.ts\) and in location 'two' \(two\.ts\)/);
  });

  test('an unknown dep suggests the closest existing key', () => {
    const [p] = problems([codeLocation({ name: 'l', assets: [a('raw/orders'), a('stg/orders', ['raw/order'])] }), 'l.ts']);
    assert.equal(p?.code, ErrorCodes.UnknownDep);
    assert.match(p!.message, /asset 'stg\/orders' in location 'l' \(l\.ts\) depends on unknown asset 'raw\/order'; did you mean 'raw\/orders'\?/);
  });

  test('a cycle is printed as a path', () => {
    const [p] = problems([codeLocation({ name: 'l', assets: [a('c/a', ['c/c']), a('c/b', ['c/a']), a('c/c', ['c/b'])] }), 'l.ts']);
    assert.equal(p?.code, ErrorCodes.Cycle);
    assert.match(p!.message, /c\/a -> c\/b -> c\/c -> c\/a/);
  });

  test('a self-dependency is reported as such, not as a cycle', () => {
    const ps = problems([codeLocation({ name: 'l', assets: [a('s/a', ['s/a'])] }), 'l.ts']);
    assert.deepEqual(ps.map((p) => p.code), [ErrorCodes.SelfDependency]);
    assert.match(ps[0]!.message, /asset 's\/a' .* depends on itself/);
  });

  test('invalid keys are reported with the offending segment', () => {
    const ps = problems([codeLocation({ name: 'l', assets: [a('raw//x'), a('raw/has space'), a('/lead')] }), 'l.ts']);
    assert.deepEqual(ps.map((p) => p.code), [ErrorCodes.InvalidKey, ErrorCodes.InvalidKey, ErrorCodes.InvalidKey]);
    assert.match(ps[0]!.message, /empty segment/);
    assert.match(ps[1]!.message, /invalid segment 'has space'/);
  });

  test('an invalid config schema is reported: not zod, or not an object', () => {
    const ps = problems([codeLocation({ name: 'l', assets: [a('cfg/a', [], { config: { threshold: 'number' } }), a('cfg/b', [], { config: z.string() }), a('cfg/ok', [], { config: z.object({ n: z.number() }) })] }), 'l.ts']);
    assert.deepEqual(ps.map((p) => [p.code, p.where]), [[ErrorCodes.InvalidConfigSchema, 'cfg/a'], [ErrorCodes.InvalidConfigSchema, 'cfg/b']]);
    assert.match(ps[0]!.message, /must be a zod schema/);
    assert.match(ps[1]!.message, /zod object schema .* type 'string'/);
  });

  test('a code location with no assets is an error', () => {
    const ps = problems([codeLocation({ name: 'empty', assets: [] }), 'empty.ts']);
    assert.deepEqual(ps.map((p) => p.code), [ErrorCodes.EmptyCodeLocation]);
    assert.match(ps[0]!.message, /location 'empty' \(empty\.ts\) has no assets/);
  });

  test('a resource an asset needs but its location lacks is named', () => {
    const ps = problems([codeLocation({ name: 'l', assets: [a('r/a', [], { resources: ['warehouse'] })] }), 'l.ts']);
    assert.deepEqual(ps.map((p) => p.code), [ErrorCodes.MissingResource]);
    assert.match(ps[0]!.message, /uses resource 'warehouse'/);
  });

  test('every problem is listed, not only the first', () => {
    const ps = problems([codeLocation({ name: 'l', assets: [a('bad key'), a('m/x', ['m/missing']), a('m/y', ['m/y'])] }), 'l.ts']);
    assert.deepEqual(ps.map((p) => p.code).sort(), [ErrorCodes.InvalidKey, ErrorCodes.SelfDependency, ErrorCodes.UnknownDep].sort());
  });

  test('two locations with one name are an error', () => {
    const ps = problems([codeLocation({ name: 'same', assets: [a('n/a')] }), 'a.ts'], [codeLocation({ name: 'same', assets: [a('n/b')] }), 'b.ts']);
    assert.deepEqual(ps.map((p) => p.code), [ErrorCodes.InvalidWorkspace]);
  });

  test('a retry policy with zero attempts is an error', () => {
    const ps = problems([codeLocation({ name: 'l', assets: [a('r/x', [], { retry: { maxAttempts: 0 } })] }), 'l.ts']);
    assert.deepEqual(ps.map((p) => p.code), [ErrorCodes.InvalidDefinition]);
  });
});
