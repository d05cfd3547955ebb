import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { cairn, FIXTURES } from './cli-helpers';

const small = ['--workspace', resolve(FIXTURES, 'small/cairn.workspace.json')];

describe('cairn check', () => {
  test('a broken workspace exits 2 and lists every problem', async () => {
    const r = await cairn(['check'], { cwd: resolve(FIXTURES, 'broken') });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /7 problems/);
    for (const code of ['INVALID_WORKSPACE', 'INVALID_KEY', 'EMPTY_CODE_LOCATION', 'DUPLICATE_KEY', 'UNKNOWN_DEP', 'SELF_DEPENDENCY', 'CYCLE']) assert.match(r.stderr, new RegExp(`\\[${code}\\]`));
    assert.match(r.stderr, /did you mean 'raw\/orders'/);
    assert.match(r.stderr, /cyc\/a -> cyc\/b -> cyc\/a/);
  });

  test('a workspace file that points nowhere exits 2 naming the entry and the path', async () => {
    const r = await cairn(['check', '--json'], { cwd: resolve(FIXTURES, 'nowhere') });
    assert.equal(r.code, 2);
    const out = JSON.parse(r.stdout) as { ok: boolean; problems: { code: string; message: string }[] };
    assert.equal(out.ok, false);
    assert.match(out.problems[0]?.message ?? '', /codeLocations\[0\]\.module 'does\/not\/exist\.ts' points nowhere/);
  });

  test('a valid workspace exits 0', async () => {
    const r = await cairn([...small, 'check']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /is valid: 1 code location, 4 assets/);
  });

  test('a missing workspace file exits 2', async () => {
    const r = await cairn(['--workspace', 'no-such.json', 'check']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /workspace file 'no-such.json' does not exist/);
  });
});

describe('cairn list', () => {
  test('--json prints the contract: key, group, kinds, deps, codeLocation', async () => {
    const r = await cairn([...small, 'list', '--json', '--select', '+ok/b']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [
      { key: 'ok/a', group: 'good', kinds: ['duckdb'], deps: [], codeLocation: 'small' },
      { key: 'ok/b', group: 'good', kinds: [], deps: ['ok/a'], codeLocation: 'small' },
    ]);
  });

  test('a selection that does not parse exits 2 pointing at the column', async () => {
    const r = await cairn([...small, 'list', '--select', 'group:good and']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /column 12/);
  });

  test('an unknown key exits 2 with the closest key suggested', async () => {
    const r = await cairn([...small, 'list', '--select', 'ok/c']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /did you mean 'ok\/[ab]'/);
  });

  test('an unknown command or option exits 2', async () => {
    assert.equal((await cairn(['frobnicate'])).code, 2);
    assert.equal((await cairn([...small, 'list', '--nope'])).code, 2);
  });
});
