import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'libsql';
import { CATALOG_URL_ENV, SqliteCatalogStore, openCatalog } from '../../activities/catalog';
import { LAST_REQUEST_OF_PAIRS, LATEST_MATERIALIZATION_OF_PAIRS } from '../../activities/catalog/sqlite-store';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import { assertSchema3Data, assertSchema5Data, catalogConformance, UNDO_SCHEMA_5, writeSchema2Data, writeSchema4Data } from './catalog-conformance';

const dir = mkdtempSync(join(tmpdir(), 'cairn-catalog-'));
after(() => rmSync(dir, { recursive: true, force: true }));

catalogConformance('SQLite', () => SqliteCatalogStore.open(join(dir, 'conformance', 'catalog.db')));

/** Opens a catalog with `CAIRN_CATALOG_URL` set to `value` (or unset), restoring the variable afterwards. */
async function withEnv<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = process.env[CATALOG_URL_ENV];
  if (value === undefined) delete process.env[CATALOG_URL_ENV];
  else process.env[CATALOG_URL_ENV] = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env[CATALOG_URL_ENV];
    else process.env[CATALOG_URL_ENV] = saved;
  }
}

describe('openCatalog', () => {
  test('without a URL it opens .cairn/catalog.db under the workspace root', async () => {
    const root = join(dir, 'default-root');
    const store = await withEnv(undefined, () => openCatalog({ root }));
    await store.close();
    assert.ok(existsSync(join(root, '.cairn', 'catalog.db')));
  });

  test('without a URL it honours CAIRN_CATALOG_URL', async () => {
    const root = join(dir, 'env-root');
    const store = await withEnv('sqlite:from-env/catalog.db', () => openCatalog({ root }));
    await store.close();
    assert.ok(existsSync(join(root, 'from-env', 'catalog.db')));
    assert.ok(!existsSync(join(root, '.cairn', 'catalog.db')));
  });

  test('an explicit sqlite: URL or plain path wins over the environment', async () => {
    const root = join(dir, 'explicit-root');
    await withEnv('sqlite:ignored.db', async () => {
      await (await openCatalog({ root, url: 'sqlite:relative/catalog.db' })).close();
      await (await openCatalog({ root, url: join(dir, 'absolute', 'catalog.db') })).close();
    });
    assert.ok(existsSync(join(root, 'relative', 'catalog.db')));
    assert.ok(existsSync(join(dir, 'absolute', 'catalog.db')));
    assert.ok(!existsSync(join(root, 'ignored.db')));
  });

  test('a SQLite catalog whose schema_migrations has version 999 fails to open with CATALOG_TOO_NEW', async () => {
    const path = join(dir, 'too-new', 'catalog.db');
    await (await SqliteCatalogStore.open(path)).close();
    const db = new Database(path);
    try {
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run([999, 'from the future', '2099-01-01T00:00:00.000Z']);
    } finally {
      db.close();
    }
    await assert.rejects(
      SqliteCatalogStore.open(path),
      (err: unknown) => err instanceof CairnError && err.code === ErrorCodes.CatalogTooNew && /schema version 999/.test(err.message),
    );
    const check = new Database(path);
    try {
      const versions = check.prepare('SELECT version FROM schema_migrations ORDER BY version').all([]) as { version: number }[];
      assert.deepEqual(versions.map((r) => Number(r.version)), [1, 2, 3, 4, 5, 999]);
    } finally {
      check.close();
    }
  });

  test('a schema-2 SQLite catalog migrates to 3: its runs and events stay, a run with one partition counts for partition status', async () => {
    const path = join(dir, 'v2', 'catalog.db');
    // A schema-2 catalog with data: migrate, write through the store as schema-2 code did (runs.partition, no
    // partition keys), then take schema 3 away again.
    const v2 = await SqliteCatalogStore.open(path);
    await writeSchema2Data(v2);
    await v2.close();
    const db = new Database(path);
    try {
      db.exec('DROP TABLE run_partitions; DROP TABLE dynamic_partitions; DELETE FROM schema_migrations WHERE version = 3;');
      const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all([]) as { version: number }[];
      assert.deepEqual(versions.map((r) => Number(r.version)), [1, 2, 4, 5]);
    } finally {
      db.close();
    }

    const store = await SqliteCatalogStore.open(path);
    try {
      assert.equal(await store.schemaVersion(), 5);
      await assertSchema3Data(store);
    } finally {
      await store.close();
    }
  });

  test('a schema-4 SQLite catalog migrates to 5: its runs and events stay and are found by the new lookups', async () => {
    const path = join(dir, 'v4', 'catalog.db');
    const v4 = await SqliteCatalogStore.open(path);
    assert.equal(await v4.eventWatermark(), 0, 'an empty catalog has watermark 0');
    await writeSchema4Data(v4);
    await v4.close();
    const db = new Database(path);
    try {
      db.exec(UNDO_SCHEMA_5);
      const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all([]) as { version: number }[];
      assert.deepEqual(versions.map((r) => Number(r.version)), [1, 2, 3, 4]);
    } finally {
      db.close();
    }

    const store = await SqliteCatalogStore.open(path);
    try {
      assert.equal(await store.schemaVersion(), 5);
      await assertSchema5Data(store);
    } finally {
      await store.close();
    }
  });

  test('the latest materialization of a pair and the last request of a pair are each one probe of a partial index', async () => {
    const path = join(dir, 'plans', 'catalog.db');
    await (await SqliteCatalogStore.open(path)).close();
    const db = new Database(path);
    try {
      const plan = (from: string): string =>
        (db.prepare(`EXPLAIN QUERY PLAN SELECT e.id FROM ${from}`).all(['[]']) as { detail: string }[]).map((r) => r.detail).join('\n');
      assert.match(plan(LATEST_MATERIALIZATION_OF_PAIRS), /SEARCH x USING COVERING INDEX events_materialization_by_partition \(asset_key=\? AND partition_key=\?\)/);
      assert.match(plan(LAST_REQUEST_OF_PAIRS), /SEARCH x USING COVERING INDEX automation_requests \(asset_key=\? AND partition_key=\?\)/);
    } finally {
      db.close();
    }
  });
});

/** A child process that opens the catalog, waits for "go" on stdin, then records 200 materializations. */
const WRITER = `
import { SqliteCatalogStore } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, '../../activities/catalog/sqlite-store.ts')).href)};
const [path, label] = process.argv.slice(2);
const store = await SqliteCatalogStore.open(path);
process.stdout.write('ready\\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
let inserted = 0;
for (let i = 0; i < 200; i++) {
  const runId = 'run-' + label;
  const r = await store.recordAssetEvent({
    eventKey: 'materialization:' + runId + ':asset/' + (i % 20) + ':p' + i, type: 'materialization', source: 'run',
    runId, assetKey: 'asset/' + (i % 20), partition: 'p' + i, attempt: 1,
    metadata: { i: { type: 'number', value: i } }, at: new Date().toISOString(),
  });
  if (r.inserted) inserted++;
}
await store.close();
process.stdout.write('done ' + inserted + '\\n');
process.stdin.destroy();
`;

interface ChildResult { code: number | null; stdout: string; stderr: string }

describe('SQLite catalog across processes', () => {
  test('two processes writing 200 materializations each to one file store exactly 400 rows without SQLITE_BUSY', { timeout: 120_000 }, async () => {
    const work = mkdtempSync(join(dir, 'concurrent-'));
    const script = join(work, 'writer.mts');
    writeFileSync(script, WRITER);
    const dbPath = join(work, 'catalog.db');
    let ready = 0;
    const children = ['one', 'two'].map((label) =>
      spawn(process.execPath, ['--import', 'tsx', script, dbPath, label], { cwd: join(import.meta.dirname, '..', '..'), stdio: ['pipe', 'pipe', 'pipe'] }),
    );
    const results = children.map(
      (child) =>
        new Promise<ChildResult>((resolve, reject) => {
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (chunk: Buffer) => {
            const wasReady = stdout.includes('ready');
            stdout += chunk.toString();
            if (!wasReady && stdout.includes('ready') && ++ready === children.length) {
              for (const c of children) c.stdin.write('go\n');
            }
          });
          child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          child.on('error', reject);
          child.on('close', (code) => resolve({ code, stdout, stderr }));
        }),
    );
    const outcomes = await Promise.all(results);
    for (const o of outcomes) {
      assert.doesNotMatch(o.stderr, /SQLITE_BUSY|database is locked/i);
      assert.equal(o.code, 0, o.stderr);
      assert.match(o.stdout, /done 200/);
    }
    const store = await SqliteCatalogStore.open(dbPath);
    try {
      assert.equal(await store.countAssetEvents(), 400);
      assert.equal(await store.countAssetEvents({ runId: 'run-one' }), 200);
      assert.equal(await store.countAssetEvents({ runId: 'run-two' }), 200);
    } finally {
      await store.close();
    }
  });
});
