import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '../../definitions/sql';
import { AssetNotMaterializedError, DuckDBIOManager, DuckDBLockedError, duckdb } from '../../activities/duckdb/index';

/** The IO manager's typed metadata as plain values (a table schema as its column list), for compact asserts. */
function plain(metadata: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => {
    const typed = v as { type: string; value: unknown };
    return [k, typed.type === 'table_schema' ? (typed.value as { columns: unknown }).columns : typed.value];
  }));
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-duckdb-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

let files = 0;
function setup(opts: { lockTimeoutMs?: number } = {}) {
  const file = path.join(dir, `warehouse-${++files}.duckdb`);
  const resource = duckdb({ path: file, ...opts });
  return { file, resource, io: new DuckDBIOManager(resource) };
}

const run = (assetKey: string) => ({ assetKey, runId: 'run-1' });

/** Runs an ES module snippet in a separate Node process (so DuckDB's per-process file lock applies). */
function childScript(body: string): string {
  return `import { DuckDBInstance } from '@duckdb/node-api';\nconst file = process.env.DB;\n${body}`;
}

function runChild(file: string, body: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', childScript(body)], {
    cwd: repoRoot,
    env: { ...process.env, DB: file },
    encoding: 'utf8',
  });
}

/** Starts a child that opens `file`, prints `locked`, holds it for `holdMs`, closes it and exits. */
async function holdLockInChild(file: string, holdMs: number): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
  const code = childScript(`const db = await DuckDBInstance.create(file);
console.log('locked');
await new Promise((r) => setTimeout(r, Number(process.env.HOLD_MS)));
db.closeSync();`);
  const env = { ...process.env, DB: file, HOLD_MS: String(holdMs) };
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('locked')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
  return { child, exited };
}

const stagingTablesQuery = `select table_name from information_schema.tables where table_name like '%__cairn_staging_%'`;

test('rows returned by an asset land as a table with inferred column types and metadata', async () => {
  const { resource, io } = setup();
  const at = new Date('2024-03-01T12:30:00.000Z');
  const stored = await io.handleOutput(run('raw/stripe/payments'), [
    { id: 1, amount: 12, currency: 'usd', paid: true, at, meta: { card: 'visa' }, big: 9007199254740993n, mixed: 1 },
    { id: 2, amount: 7.5, currency: 'eur', paid: false, at: null, meta: [1, 2], big: 2n, mixed: 'x', note: 'late' },
  ]);
  assert.deepEqual(plain(stored.metadata), {
    table: 'raw_stripe.payments',
    rowCount: 2,
    columns: [
      { name: 'id', type: 'BIGINT' },
      { name: 'amount', type: 'DOUBLE' },
      { name: 'currency', type: 'VARCHAR' },
      { name: 'paid', type: 'BOOLEAN' },
      { name: 'at', type: 'TIMESTAMP' },
      { name: 'meta', type: 'JSON' },
      { name: 'big', type: 'BIGINT' },
      { name: 'mixed', type: 'VARCHAR' },
      { name: 'note', type: 'VARCHAR' },
    ],
  });
  const rows = await resource.query(sql`select * from raw_stripe.payments order by id`);
  assert.deepEqual(rows, [
    { id: 1, amount: 12, currency: 'usd', paid: true, at: '2024-03-01T12:30:00.000Z', meta: { card: 'visa' }, big: '9007199254740993', mixed: '1', note: null },
    { id: 2, amount: 7.5, currency: 'eur', paid: false, at: null, meta: [1, 2], big: 2, mixed: 'x', note: 'late' },
  ]);
  assert.equal(resource.isOpen, false);
});

test('asset keys map to a schema made of the leading segments and a table named by the last', () => {
  const { io } = setup();
  assert.deepEqual(io.tableFor('raw/stripe/payments'), { schema: 'raw_stripe', table: 'payments' });
  assert.deepEqual(io.tableFor('orders'), { schema: 'main', table: 'orders' });
  assert.deepEqual(io.tableFor('web-events/daily.v2'), { schema: 'web_events', table: 'daily_v2' });
});

test('batches from an async generator are streamed into one table', async () => {
  const { resource, io } = setup();
  async function* batches() {
    for (let b = 0; b < 10; b++) {
      yield Array.from({ length: 5_000 }, (_, i) => ({ id: b * 5_000 + i, amount: (b * 5_000 + i) / 2, label: `row ${b * 5_000 + i}` }));
    }
  }
  const stored = await io.handleOutput(run('events'), batches());
  assert.equal(plain(stored.metadata).table, 'main.events');
  assert.equal(plain(stored.metadata).rowCount, 50_000);
  assert.deepEqual(plain(stored.metadata).columns, [
    { name: 'id', type: 'BIGINT' },
    { name: 'amount', type: 'DOUBLE' },
    { name: 'label', type: 'VARCHAR' },
  ]);
  const [summary] = await resource.query(sql`select count(distinct id) as n, sum(amount) as total, max(label) as last from events`);
  assert.deepEqual(summary, { n: 50_000, total: (49_999 * 50_000) / 4, last: 'row 9999' });
});

test('a sql fragment is materialized inside DuckDB with its values bound as parameters', async () => {
  const { resource, io } = setup();
  await io.handleOutput(run('raw/stripe/payments'), [
    { id: 1, amount: 5, note: "it's small" },
    { id: 2, amount: 15, note: 'big' },
    { id: 3, amount: 25, note: "it's big" },
  ]);
  const input = await io.loadInput('raw/stripe/payments');
  const stored = await io.handleOutput(
    run('analytics/large_payments'),
    resource.sql`select id, amount from ${input} where amount > ${10} and note <> ${"it's big"}`,
  );
  assert.equal(plain(stored.metadata).table, 'analytics.large_payments');
  assert.equal(plain(stored.metadata).rowCount, 1);
  assert.deepEqual(await resource.query('select * from analytics.large_payments'), [{ id: 2, amount: 15 }]);
});

test('loadInput returns the upstream rows, whole and in batches', async () => {
  const { io } = setup();
  const rows = Array.from({ length: 2_500 }, (_, i) => ({ id: i, day: new Date(Date.UTC(2024, 0, 1 + (i % 30))) }));
  await io.handleOutput(run('raw/days'), rows);
  const input = await io.loadInput('raw/days');
  assert.equal(input.kind, 'table-input');
  assert.equal(input.table, 'raw.days');
  assert.deepEqual(input.toSql(), { kind: 'sql-identifier', parts: ['raw', 'days'] });
  const all = await input.rows<{ id: number; day: string }>();
  assert.equal(all.length, 2_500);
  assert.deepEqual(all.find((r) => r.id === 31), { id: 31, day: '2024-01-02T00:00:00.000Z' });
  const sizes: number[] = [];
  for await (const batch of input.batches(1_000)) sizes.push(batch.length);
  assert.deepEqual(sizes, [1_000, 1_000, 500]);
});

test('loadInput of an asset that was never materialized names the asset and its table', async () => {
  const { io } = setup();
  await assert.rejects(io.loadInput('raw/stripe/payments'), (err: unknown) => {
    assert.ok(err instanceof AssetNotMaterializedError);
    assert.equal(err.message, "asset 'raw/stripe/payments' has not been materialized: table raw_stripe.payments does not exist");
    return true;
  });
});

test('a write that fails midway leaves the published table unchanged and no staging table behind', async () => {
  const { resource, io } = setup();
  await io.handleOutput(run('orders'), [{ id: 1, total: 10 }]);

  async function* conflicting() {
    yield [{ id: 2, total: 20 }];
    yield [{ id: 3, total: 'thirty' }];
  }
  await assert.rejects(io.handleOutput(run('orders'), conflicting()), /asset 'orders': row 1: column 'total' is BIGINT but the value is a string \("thirty"\)/);

  async function* throwing() {
    yield [{ id: 4, total: 40 }];
    throw new Error('the source API went away');
  }
  await assert.rejects(io.handleOutput(run('orders'), throwing()), /the source API went away/);

  async function* newColumnLater() {
    yield [{ id: 5, total: 50 }];
    yield [{ id: 6, total: 60, extra: 1 }];
  }
  await assert.rejects(io.handleOutput(run('orders'), newColumnLater()), /row 1 has column 'extra', which is not in the schema inferred from the first batch/);
  await assert.rejects(io.handleOutput(run('orders'), [{ id: 7, total: 70 }, 'oops']), /asset 'orders': row 1 is a string \("oops"\), expected a plain object/);
  await assert.rejects(io.handleOutput(run('orders'), sql`select * from no_such_table`), /no_such_table/);

  assert.deepEqual(await resource.query('select * from orders'), [{ id: 1, total: 10 }]);
  assert.deepEqual(await resource.query(stagingTablesQuery), []);
});

test('a value the io manager cannot store is rejected with the asset key and what it got', async () => {
  const { io } = setup();
  await assert.rejects(io.handleOutput(run('raw/report'), 'hello'), /asset 'raw\/report' returned a string \("hello"\), which the DuckDB IO manager cannot store/);
  await assert.rejects(io.handleOutput(run('raw/report'), 42), /asset 'raw\/report' returned a number \(42\)/);
  await assert.rejects(io.handleOutput(run('raw/report'), [[{ a: 1 }]]), /returned an array of arrays; to stream batches/);
});

test('nothing is stored for undefined, and an empty output replaces the table with none', async () => {
  const { io } = setup();
  assert.deepEqual(await io.handleOutput(run('notify'), undefined), { metadata: {} });
  await io.handleOutput(run('orders'), [{ id: 1 }]);
  const stored = await io.handleOutput(run('orders'), []);
  assert.deepEqual(plain(stored.metadata), { table: 'main.orders', rowCount: 0, columns: [] });
  await assert.rejects(io.loadInput('orders'), AssetNotMaterializedError);
});

test('the warehouse file is not held open while the resource is idle', async () => {
  const { file, resource, io } = setup();
  await io.handleOutput(run('orders'), [{ id: 1 }, { id: 2 }]);
  assert.equal(resource.isOpen, false);
  const out = runChild(
    file,
    `const db = await DuckDBInstance.create(file);
const conn = await db.connect();
await conn.run('insert into main.orders values (3)');
const reader = await conn.runAndReadAll('select count(*)::integer as n from main.orders');
console.log(JSON.stringify(reader.getRowObjectsJson()));
conn.closeSync();
db.closeSync();`,
  );
  assert.equal(out.trim(), '[{"n":3}]');
  assert.deepEqual(await resource.query('select count(*) as n from orders'), [{ n: 3 }]);
});

test('opening waits while another process holds the file and succeeds once it is released', async () => {
  const { file, resource, io } = setup();
  await io.handleOutput(run('orders'), [{ id: 1 }]);
  const holder = await holdLockInChild(file, 1_500);
  const started = Date.now();
  const rows = await resource.query('select count(*) as n from orders');
  const waited = Date.now() - started;
  assert.deepEqual(rows, [{ n: 1 }]);
  assert.ok(waited >= 1_000, `expected to wait for the other process, waited ${waited} ms`);
  assert.equal(await holder.exited, 0);
});

test('opening gives up with an error naming the file when the other process never releases it', async () => {
  const { file, resource } = setup({ lockTimeoutMs: 400 });
  const holder = await holdLockInChild(file, 30_000);
  try {
    await assert.rejects(resource.query('select 1'), (err: unknown) => {
      assert.ok(err instanceof DuckDBLockedError);
      assert.equal(err.path, file);
      assert.match(err.message, new RegExp(`DuckDB warehouse '${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' is locked by another process`));
      return true;
    });
    assert.equal(resource.isOpen, false);
  } finally {
    holder.child.kill();
    await holder.exited;
  }
});

test('concurrent connections in one process share one open instance, which closes after the last lease', async () => {
  const { file, resource } = setup();
  const sameFile = duckdb({ path: file });
  let firstInside!: () => void;
  const firstIsInside = new Promise<void>((resolve) => (firstInside = resolve));
  let secondDone!: () => void;
  const secondIsDone = new Promise<void>((resolve) => (secondDone = resolve));

  const first = resource.withConnection(async (conn) => {
    await conn.run('set global threads = 3');
    firstInside();
    await secondIsDone;
  });
  const second = (async () => {
    await firstIsInside;
    const threads = await resource.withConnection(async (conn) => {
      const reader = await conn.runAndReadAll("select current_setting('threads')::integer as t");
      return reader.getRowObjectsJson()[0]?.t;
    });
    const [viaOtherResource] = await sameFile.query("select current_setting('threads')::integer as t");
    secondDone();
    return { threads, viaOtherResource };
  })();

  await firstIsInside;
  assert.equal(resource.isOpen, true);
  assert.equal(sameFile.isOpen, true);
  const [, seen] = await Promise.all([first, second]);
  assert.deepEqual(seen, { threads: 3, viaOtherResource: { t: 3 } });
  assert.equal(resource.isOpen, false);
  assert.equal(sameFile.isOpen, false);
});

test('concurrent writes in one process publish without catalog conflicts', async () => {
  const { resource, io } = setup();
  const stored = await Promise.all(['raw/a', 'raw/b', 'raw/c', 'raw/a'].map((key, i) => io.handleOutput(run(key), [{ i }])));
  assert.deepEqual(stored.map((s) => plain(s.metadata).rowCount), [1, 1, 1, 1]);
  assert.equal((await resource.query('select * from raw.a')).length, 1);
  assert.deepEqual(await resource.query(stagingTablesQuery), []);
});

test('an in-memory database keeps its data between leases until it is closed', async () => {
  const resource = duckdb({ path: ':memory:' });
  const io = new DuckDBIOManager(resource);
  await io.handleOutput(run('orders'), [{ id: 1 }]);
  assert.equal(resource.isOpen, true);
  assert.deepEqual(await (await io.loadInput('orders')).rows(), [{ id: 1 }]);
  await resource.close();
  assert.equal(resource.isOpen, false);
});

test('whileReleased waits for leases, keeps the file closed for another process (real Python duckdb), and holds new leases back', async () => {
  const { file, resource } = setup();
  await resource.execute('create table t as select 1 as x');
  const order: string[] = [];
  let releaseLease!: () => void;
  const leaseHeld = resource.withConnection(async () => {
    order.push('lease start');
    await new Promise<void>((r) => (releaseLease = r));
    order.push('lease end');
  });
  await new Promise((r) => setTimeout(r, 50));
  let laterQuery: Promise<unknown> | undefined;
  const released = resource.whileReleased(async () => {
    order.push('released');
    assert.equal(resource.isOpen, false, 'the file is closed while another process writes it');
    laterQuery = resource.query('select count(*) as n from t2').then((rows) => {
      order.push('later query');
      return rows;
    });
    // Another process can open the file for writing now.
    execFileSync(path.join(repoRoot, '.venv/bin/python'), ['-c', `import duckdb; c = duckdb.connect(${JSON.stringify(file)}); c.execute("create table t2 as select 42 as y"); c.close()`]);
    await new Promise((r) => setTimeout(r, 100));
    order.push('other process done');
  });
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(order, ['lease start'], 'whileReleased waits for the lease in use');
  releaseLease();
  await Promise.all([leaseHeld, released]);
  assert.deepEqual(await laterQuery, [{ n: 1 }]);
  assert.deepEqual(order, ['lease start', 'lease end', 'released', 'other process done', 'later query'], 'a lease taken meanwhile waits until the other process is done');
});
