import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CliExit } from '../../cli/errors';
import { cursorAction, parseLimit, resolveSensor } from '../../cli/sensors';
import { freePort } from '../../workers/dev-server';
import { cairn, FIXTURES } from './cli-helpers';

const ws = ['--workspace', join(FIXTURES, 'sensors', 'cairn.workspace.json')];
const badInput = (pattern: RegExp) => (err: unknown): boolean => err instanceof CliExit && err.exitCode === 2 && pattern.test(err.message);

describe('cairn sensors without a Temporal server', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'cairn-sensors-cli-'));
  after(() => rmSync(stateDir, { recursive: true, force: true }));

  test('a sensor is named by its name, by location/name, or by its workflow id', () => {
    const known = [{ location: 'a', name: 'synced' }, { location: 'a', name: 'pager' }, { location: 'b', name: 'synced' }];
    assert.equal(resolveSensor('pager', known), known[1]);
    assert.equal(resolveSensor('b/synced', known), known[2]);
    assert.equal(resolveSensor('cairn/sensor/a/synced', known), known[0]);
    assert.throws(() => resolveSensor('synced', known), badInput(/'synced' names 2 sensors: a\/synced, b\/synced; give <location>\/<name>/));
    assert.throws(() => resolveSensor('pag', known), badInput(/no sensor 'pag': the workspace's sensors are a\/synced, a\/pager, b\/synced/), 'a prefix is not a match');
    assert.throws(() => resolveSensor('c/synced', known), badInput(/no sensor 'c\/synced'/));
    assert.throws(() => resolveSensor('x', []), badInput(/the workspace defines no sensors: declare one with sensor\(\{ name, evaluate \}\)/));
  });

  test('cursor takes --set or --clear or neither, and --limit a positive whole number', () => {
    assert.deepEqual(cursorAction({}), { print: true });
    assert.deepEqual(cursorAction({ set: '42' }), { set: '42' });
    assert.deepEqual(cursorAction({ clear: true }), { clear: true });
    assert.throws(() => cursorAction({ set: '42', clear: true }), badInput(/give --set <value> or --clear, not both/));
    assert.throws(() => cursorAction({ set: '' }), badInput(/--set needs a non-empty cursor; use --clear/));
    assert.equal(parseLimit(undefined, 20), 20);
    assert.equal(parseLimit('5', 20), 5);
    for (const bad of ['0', '-1', '2.5', 'all']) assert.throws(() => parseLimit(bad, 20), badInput(/--limit must be a positive whole number/));
  });

  test('bad arguments and unknown sensors exit 2 before Temporal is needed; list exits 1 when Temporal does not answer', async () => {
    const env = { CAIRN_STATE_DIR: stateDir, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` };
    const both = await cairn([...ws, 'sensors', 'cursor', 'ticker', '--set', '7', '--clear'], { env });
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /give --set <value> or --clear, not both/);
    const limit = await cairn([...ws, 'sensors', 'ticks', 'ticker', '--limit', '0'], { env });
    assert.equal(limit.code, 2, limit.stderr);
    assert.match(limit.stderr, /--limit must be a positive whole number, got '0'/);
    const unknown = await cairn([...ws, 'sensors', 'stop', 'tickr'], { env });
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /no sensor 'tickr': the workspace's sensors are sensors\/ticker, sensors\/asset-sens-raw, sensors\/on-failure, sensors\/doomed/);
    const list = await cairn([...ws, 'sensors', 'list'], { env });
    assert.equal(list.code, 1, list.stderr);
    assert.match(list.stderr, /Temporal does not answer at 127\.0\.0\.1:\d+; start `npx cairn dev`/);
  });
});
