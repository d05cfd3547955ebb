/**
 * The catalog commands through the real `cairn` binary, without Temporal: report, status, history, runs,
 * catalog prune, and the catalog errors (cannot connect, written by a newer Cairn).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'libsql';
import { SqliteCatalogStore } from '../../activities/catalog/sqlite-store';
import { cairn, FIXTURES } from './cli-helpers';

const dir = mkdtempSync(join(tmpdir(), 'cairn-cli-catalog-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const WS = ['--workspace', join(FIXTURES, 'small', 'cairn.workspace.json')];

/** Runs cairn against the small fixture workspace with its own catalog file. */
const run = (catalogFile: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  cairn([...WS, ...args], { env: { CAIRN_CATALOG_URL: `sqlite:${join(dir, catalogFile)}`, CAIRN_STATE_DIR: join(dir, 'state'), ...env } });

async function countEvents(catalogFile: string): Promise<number> {
  const store = await SqliteCatalogStore.open(join(dir, catalogFile));
  try {
    return await store.countAssetEvents();
  } finally {
    await store.close();
  }
}

describe('catalog commands', () => {
  test('report: bad input exits 2 naming the problem and writes nothing', async () => {
    const unknown = await run('a.db', ['report', 'materialization', 'ok/z']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown asset 'ok\/z'; did you mean 'ok\/a'\?/);
    const badJson = await run('a.db', ['report', 'materialization', 'ok/a', '--metadata', '{rows: 1}']);
    assert.equal(badJson.code, 2);
    assert.match(badJson.stderr, /--metadata: metadata is not valid JSON/);
    const badTyped = await run('a.db', ['report', 'observation', 'ok/a', '--metadata', '{"docs": {"type": "url", "value": "not a url"}}']);
    assert.equal(badTyped.code, 2);
    assert.match(badTyped.stderr, /metadata entry 'docs' of type 'url' is invalid/);
    const badTime = await run('a.db', ['report', 'observation', 'ok/a', '--at', 'yesterday']);
    assert.equal(badTime.code, 2);
    assert.match(badTime.stderr, /time 'yesterday' is not an ISO-8601 timestamp/);
    assert.equal(await countEvents('a.db'), 0);
  });

  test('a reported materialization drives status and history; its downstream stays missing', async () => {
    const r = await run('b.db', ['report', 'materialization', 'ok/a', '--metadata', '{"rows": {"type": "row_count", "value": 5}, "note": "manual load"}', '--data-version', 'v1', '--event-id', 'load-1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { type: 'materialization', assetKey: 'ok/a', eventKey: 'report:materialization:load-1', inserted: true, dataVersion: 'v1' });
    const again = await run('b.db', ['report', 'materialization', 'ok/a', '--data-version', 'v1', '--event-id', 'load-1']);
    assert.match(again.stdout, /already recorded/);

    const status = await run('b.db', ['status', '--select', 'ok/*', '--json']);
    assert.equal(status.code, 0, status.stderr);
    const rows = JSON.parse(status.stdout) as { key: string; state: string; lastMaterialization?: { source: string; dataVersion: string } }[];
    assert.deepEqual(rows.map((x) => [x.key, x.state]), [['ok/a', 'FRESH'], ['ok/b', 'MISSING']]);
    assert.equal(rows[0]?.lastMaterialization?.source, 'report');
    assert.equal(rows[0]?.lastMaterialization?.dataVersion, 'v1');
    const text = await run('b.db', ['status', '--select', 'ok/*']);
    assert.match(text.stdout, /ok\/a\s+FRESH\s+\S+ \(reported\)/);

    const history = await run('b.db', ['history', 'ok/a', '--json']);
    const page = JSON.parse(history.stdout) as { events: { type: string; metadata: Record<string, unknown> }[] };
    assert.equal(page.events.length, 1);
    assert.deepEqual(page.events[0]?.metadata, { rows: { type: 'row_count', value: 5 }, note: { type: 'text', value: 'manual load' } });
    const unknown = await run('b.db', ['history', 'ok/nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown asset 'ok\/nope'/);
  });

  test('runs and catalog prune check their flags; prune keeps the latest event', async () => {
    const badStatus = await run('c.db', ['runs', '--status', 'done']);
    assert.equal(badStatus.code, 2);
    assert.match(badStatus.stderr, /--status 'done' is not a run status; use one of running, succeeded, failed, canceled/);
    const badSince = await run('c.db', ['runs', '--since', 'last week']);
    assert.equal(badSince.code, 2);
    assert.match((await run('c.db', ['runs'])).stdout, /no runs match/);

    const noAge = await run('c.db', ['catalog', 'prune']);
    assert.equal(noAge.code, 2);
    assert.match(noAge.stderr, /no retention age: pass --older-than 90d or set catalog.retention.maxAge/);
    const badAge = await run('c.db', ['catalog', 'prune', '--older-than', '90 days']);
    assert.equal(badAge.code, 2);
    for (const at of ['2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z', '2020-01-03T00:00:00Z']) {
      assert.equal((await run('c.db', ['report', 'observation', 'ok/a', '--at', at])).code, 0);
    }
    const pruned = await run('c.db', ['catalog', 'prune', '--older-than', '30d', '--json']);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.equal((JSON.parse(pruned.stdout) as { events: number }).events, 2);
    assert.equal(await countEvents('c.db'), 1);
  });

  test('a catalog that cannot be reached or was written by a newer Cairn is a clear error, exit 2', async () => {
    const unreachable = await run('unused.db', ['status'], { CAIRN_CATALOG_URL: 'postgres://cairn:s3cret-pw@127.0.0.1:1/cairn' });
    assert.equal(unreachable.code, 2);
    assert.match(unreachable.stderr, /CATALOG_UNAVAILABLE.*cannot connect to the PostgreSQL catalog 'postgres:\/\/cairn:\*\*\*@127\.0\.0\.1:1\/cairn'/);
    assert.doesNotMatch(unreachable.stderr, /s3cret-pw/);

    const file = join(dir, 'newer.db');
    await (await SqliteCatalogStore.open(file)).close();
    const db = new Database(file);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run([999, 'from the future', new Date().toISOString()]);
    db.close();
    const newer = await run('newer.db', ['status']);
    assert.equal(newer.code, 2);
    assert.match(newer.stderr, /CATALOG_TOO_NEW.*schema version 999, but this Cairn knows versions up to 5/);
  });
});
