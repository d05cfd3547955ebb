import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { openCatalog, type StepResultRecord } from '../../activities/catalog';
import { PostgresCatalogStore } from '../../activities/catalog/postgres-store';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import { createDatabase, startPostgres, type PostgresServer } from '../support/postgres-server';
import { assertSchema3Data, assertSchema5Data, catalogConformance, UNDO_SCHEMA_5, writeSchema2Data, writeSchema4Data } from './catalog-conformance';

// One private PostgreSQL cluster for the whole file; the conformance suite shares its default database, and the
// PostgreSQL-specific tests that need a fresh catalog create their own database in it.
let server: PostgresServer | undefined;
const root = mkdtempSync(join(tmpdir(), 'cairn-catalog-pg-'));

before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

const serverUrl = (): string => {
  if (!server) throw new Error('the PostgreSQL server did not start');
  return server.url;
};

catalogConformance('PostgreSQL', () => PostgresCatalogStore.open(serverUrl()));

async function query<T extends Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Every table of the public schema with its row count: a fingerprint to show that a failed open changed nothing. */
async function fingerprint(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = (await client.query("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).rows as { name: string }[];
    const out: Record<string, number> = {};
    for (const { name } of tables) {
      const [row] = (await client.query(`SELECT count(*) AS n FROM ${pg.escapeIdentifier(name)}`)).rows as { n: string }[];
      out[name] = Number(row?.n);
    }
    return out;
  } finally {
    await client.end();
  }
}

/** A TCP port on which nothing listens (the kernel handed it out a moment ago and we closed it). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

let databases = 0;
const freshDatabase = (label: string): Promise<string> => {
  if (!server) throw new Error('the PostgreSQL server did not start');
  return createDatabase(server, `cairn_${label}_${++databases}`);
};

describe('PostgreSQL catalog', () => {
  test('openCatalog with a postgres:// URL returns a working PostgreSQL store', async () => {
    const store = await openCatalog({ url: serverUrl(), root });
    try {
      assert.ok(store instanceof PostgresCatalogStore);
      const runId = `open-catalog-${Date.now()}`;
      await store.recordRunStarted({ runId, workflowId: 'wf', selection: '*', tags: {}, stepCount: 0, startedAt: '2024-01-01T00:00:00.000Z' });
      assert.equal((await store.getRun(runId))?.status, 'running');
      assert.equal(await store.schemaVersion(), 5);
    } finally {
      await store.close();
    }
    await store.close(); // closing twice is harmless
    await assert.rejects(store.getRun('x'), (err: unknown) => err instanceof CairnError && err.code === ErrorCodes.CatalogUnavailable);
  });

  test('a wrong port fails fast with CATALOG_UNAVAILABLE and never shows the password', async () => {
    const port = await closedPort();
    const url = `postgres://cairn:pa55-w0rd-secret@127.0.0.1:${port}/cairn_test`;
    const started = Date.now();
    for (const open of [() => PostgresCatalogStore.open(url), () => openCatalog({ url, root })]) {
      await assert.rejects(open(), (err: unknown) => {
        assert.ok(err instanceof CairnError, String(err));
        assert.equal(err.code, ErrorCodes.CatalogUnavailable);
        assert.ok(!err.message.includes('pa55-w0rd-secret'), err.message);
        assert.ok(err.message.includes(`'postgres://cairn:***@127.0.0.1:${port}/cairn_test'`), err.message);
        assert.match(err.message, /^cannot connect to the PostgreSQL catalog '.*': \S/);
        return true;
      });
    }
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  });

  test('a catalog with a newer schema version fails with CATALOG_TOO_NEW and is left unchanged', async () => {
    // A bare database that holds only schema_migrations at version 999: opening must not create the tables.
    const bare = await freshDatabase('too_new_bare');
    await query(bare, 'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    await query(bare, "INSERT INTO schema_migrations VALUES (999, 'from the future', '2099-01-01T00:00:00.000Z')");
    // A catalog migrated by this code, with data, later upgraded by a newer Cairn.
    const used = await freshDatabase('too_new_used');
    const store = await PostgresCatalogStore.open(used);
    await store.recordRunStarted({ runId: 'r1', workflowId: 'wf', selection: '*', tags: {}, stepCount: 1, startedAt: '2024-01-01T00:00:00.000Z', assetKeys: ['a'] });
    await store.close();
    await query(used, "INSERT INTO schema_migrations VALUES (999, 'from the future', '2099-01-01T00:00:00.000Z')");

    for (const url of [bare, used]) {
      const before = await fingerprint(url);
      await assert.rejects(PostgresCatalogStore.open(url), (err: unknown) => {
        assert.ok(err instanceof CairnError, String(err));
        assert.equal(err.code, ErrorCodes.CatalogTooNew);
        assert.match(err.message, /schema version 999, but this Cairn knows versions up to 5/);
        return true;
      });
      assert.deepEqual(await fingerprint(url), before);
      assert.deepEqual((await query<{ v: number }>(url, 'SELECT version AS v FROM schema_migrations ORDER BY version')).map((r) => r.v), url === bare ? [999] : [1, 2, 3, 4, 5, 999]);
    }
    assert.deepEqual(Object.keys(await fingerprint(bare)), ['schema_migrations']);
  });

  test('several stores migrating one fresh database at once all succeed and apply each migration once', async () => {
    const url = await freshDatabase('race');
    const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresCatalogStore.open(url, { poolSize: 2 })));
    try {
      for (const s of stores) assert.equal(await s.schemaVersion(), 5);
      await Promise.all(stores.map((s) => s.migrate()));
      const rows = await query<{ v: number }>(url, 'SELECT version AS v FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows.map((r) => r.v), [1, 2, 3, 4, 5]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('a schema-2 catalog migrates to 3: its runs and events stay, a run with one partition counts for partition status', async () => {
    const url = await freshDatabase('v2');
    // A schema-2 catalog with data: migrate, write through the store as schema-2 code did (runs.partition, no
    // partition keys), then take schema 3 away again.
    const v2 = await PostgresCatalogStore.open(url);
    await writeSchema2Data(v2);
    await v2.close();
    await query(url, 'DROP TABLE run_partitions; DROP TABLE dynamic_partitions; DELETE FROM schema_migrations WHERE version = 3');
    assert.deepEqual((await query<{ v: number }>(url, 'SELECT version AS v FROM schema_migrations ORDER BY version')).map((r) => r.v), [1, 2, 4, 5]);

    const store = await PostgresCatalogStore.open(url);
    try {
      assert.equal(await store.schemaVersion(), 5);
      await assertSchema3Data(store);
    } finally {
      await store.close();
    }
  });

  test('a schema-4 catalog migrates to 5: its runs and events stay and are found by the new lookups', async () => {
    const url = await freshDatabase('v4');
    const v4 = await PostgresCatalogStore.open(url);
    assert.equal(await v4.eventWatermark(), 0, 'an empty catalog has watermark 0');
    await writeSchema4Data(v4);
    await v4.close();
    await query(url, UNDO_SCHEMA_5);
    assert.deepEqual((await query<{ v: number }>(url, 'SELECT version AS v FROM schema_migrations ORDER BY version')).map((r) => r.v), [1, 2, 3, 4]);

    const store = await PostgresCatalogStore.open(url);
    try {
      assert.equal(await store.schemaVersion(), 5);
      await assertSchema5Data(store);
    } finally {
      await store.close();
    }
  });

  test('2,000 step results recorded in one call are all stored, with the latest-step pointers', async () => {
    const store = await PostgresCatalogStore.open(serverUrl());
    try {
      const runId = `bulk-${Date.now()}`;
      const results: StepResultRecord[] = Array.from({ length: 2000 }, (_, i) => ({
        runId, assetKey: `${runId}/asset-${String(i).padStart(4, '0')}`, status: i % 10 === 0 ? 'failed' : 'materialized',
        ...(i % 10 === 0 ? { error: `boom ${i}` } : {}), attempt: 1, at: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(),
      }));
      await store.recordStepResults(results);
      assert.deepEqual(await store.getStepResults(runId), results);
      const statuses = await store.assetStatuses(results.map((r) => r.assetKey));
      assert.equal(statuses.size, 2000);
      for (const r of results) assert.deepEqual(statuses.get(r.assetKey)?.lastStep, r);
    } finally {
      await store.close();
    }
  });

  test('a batch naming one run and asset several times keeps what row-by-row upserts would keep', async () => {
    const store = await PostgresCatalogStore.open(serverUrl());
    try {
      const runId = `dup-${Date.now()}`;
      const step = (assetKey: string, attempt: number, at: string, status: StepResultRecord['status'] = 'failed'): StepResultRecord => ({ runId, assetKey, status, attempt, at });
      await store.recordStepResults([
        step('a', 1, '2024-01-01T00:00:01.000Z'),
        step('a', 2, '2024-01-01T00:00:02.000Z', 'materialized'),
        step('a', 1, '2024-01-01T00:00:03.000Z'),
        step('b', 1, '2024-01-01T00:00:04.000Z'),
        step('b', 1, '2024-01-01T00:00:05.000Z', 'skipped'),
      ]);
      assert.deepEqual(await store.getStepResults(runId), [
        step('a', 2, '2024-01-01T00:00:02.000Z', 'materialized'),
        step('b', 1, '2024-01-01T00:00:05.000Z', 'skipped'),
      ]);
    } finally {
      await store.close();
    }
  });
});
