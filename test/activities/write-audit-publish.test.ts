import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { z } from 'zod';
import { DuckDBIOManager, duckdb } from '../../activities/duckdb';
import { materializeInProcess } from '../../activities/in-process';
import { asset } from '../../definitions/asset';
import { notNull, rowCountAtLeast } from '../../definitions/builtin-checks';
import { check } from '../../definitions/checks';
import { codeLocation } from '../../definitions/code-location';
import { dailyPartitions } from '../../definitions/partitions';
import { sql } from '../../definitions/sql';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-wap-'));
let n = 0;
const resources: { close(): Promise<void> }[] = [];
after(async () => {
  for (const r of resources) await r.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function warehouse() {
  const w = duckdb({ path: path.join(dir, `w${++n}.duckdb`) });
  resources.push(w);
  return w;
}

async function* slowBatches(batches: Record<string, unknown>[][], ms: number): AsyncGenerator<Record<string, unknown>[]> {
  for (const b of batches) {
    await sleep(ms);
    yield b;
  }
}

test('a failed blocking check leaves the published table exactly as it was while a concurrent reader runs, and keeps the staged rows', async () => {
  const w = warehouse();
  let version = 1;
  const orders = asset({
    key: 'shop/orders',
    checks: [notNull('amount', { blocking: true })],
    materialize: () =>
      version === 1
        ? [{ id: 1, amount: 10 }, { id: 2, amount: 20 }, { id: 3, amount: 30 }]
        : slowBatches([[{ id: 4, amount: 1 }], [{ id: 5, amount: null }], [{ id: 6, amount: 2 }], [{ id: 7, amount: 3 }]], 30),
  });
  const location = codeLocation({ name: 'shop', assets: [orders], resources: { warehouse: w } });
  assert.equal((await materializeInProcess(location)).status, 'succeeded');

  // A reader polls the published table for the whole second write; it must only ever see version 1.
  const seen = new Set<string>();
  let reads = 0;
  let reading = true;
  const reader = (async () => {
    while (reading) {
      const rows = await w.query<{ ids: string }>(sql`select string_agg(id::varchar, ',' order by id) as ids from shop.orders`);
      seen.add(String(rows[0]?.ids));
      reads++;
      await sleep(5);
    }
  })();
  version = 2;
  const result = await materializeInProcess(location);
  reading = false;
  await reader;

  assert.equal(result.status, 'failed');
  assert.equal(result.assets[0]?.status, 'failed');
  assert.equal(result.assets[0]?.failedCheck, 'not_null_amount');
  assert.ok(reads >= 5, `the reader read while the write ran (${reads} reads)`);
  assert.deepEqual([...seen], ['1,2,3'], 'the reader never saw staged or partial rows');
  assert.deepEqual(await w.query(sql`select id, amount from shop.orders order by id`), [{ id: 1, amount: 10 }, { id: 2, amount: 20 }, { id: 3, amount: 30 }]);

  const io = new DuckDBIOManager(w);
  const staged = await io.listStaged();
  assert.equal(staged.length, 1);
  assert.equal(staged[0]?.assetKey, 'shop/orders');
  assert.equal(staged[0]?.reason, 'blocked by check not_null_amount');
  assert.equal(staged[0]?.rowCount, 4);
  assert.match(staged[0]?.id ?? '', /^shop\.orders__cairn_wap_\d{14}_/);
  const kept = await w.query<{ n: number }>(`select count(*) as n from ${staged[0]?.id}`);
  assert.equal(kept[0]?.n, 4, 'the staged rows can be inspected');
  assert.equal(await io.dropStaged(staged[0]?.id ?? ''), true);
  assert.deepEqual(await io.listStaged(), []);
  assert.equal(await io.dropStaged('shop.orders'), false, 'only kept staged tables can be dropped');
});

test('a blocking check skips the downstream with the reason, a non-blocking or warn check does not block', async () => {
  const w = warehouse();
  const source = asset({
    key: 'a/source',
    checks: [
      rowCountAtLeast(100, { name: 'big_enough' }),
      check({ name: 'soft', severity: 'warn', blocking: true, run: () => false }),
    ],
    materialize: () => [{ x: 1 }],
  });
  const middle = asset({ key: 'a/middle', deps: ['a/source'], checks: [rowCountAtLeast(2, { blocking: true })], materialize: () => [{ y: 1 }] });
  const leaf = asset({ key: 'a/leaf', deps: ['a/middle'], materialize: () => [{ z: 1 }] });
  const result = await materializeInProcess(codeLocation({ name: 'a', assets: [source, middle, leaf], resources: { warehouse: w } }));
  const by = Object.fromEntries(result.assets.map((a) => [a.key, a]));
  assert.equal(by['a/source']?.status, 'materialized', 'a failed non-blocking check still publishes');
  assert.deepEqual(by['a/source']?.checks?.map((c) => [c.name, c.passed, c.severity]), [['big_enough', false, 'ERROR'], ['soft', false, 'WARN']]);
  assert.equal(by['a/middle']?.status, 'failed');
  assert.equal(by['a/leaf']?.status, 'skipped');
  assert.equal(by['a/leaf']?.error, "skipped: blocked by check row_count_at_least of 'a/middle'");
  assert.equal(result.status, 'failed');
});

test('a partitioned write rejected by a check keeps every published partition as it was', async () => {
  const w = warehouse();
  let rows = 2;
  const daily = asset({
    key: 'p/daily',
    partitions: dailyPartitions({ start: '2024-01-01', end: '2024-01-10' }),
    checks: [rowCountAtLeast(2, { blocking: true })],
    materialize: ({ partition }) => Array.from({ length: rows }, (_, i) => ({ day: partition?.key, i })),
  });
  const location = codeLocation({ name: 'p', assets: [daily], resources: { warehouse: w } });
  await materializeInProcess(location, { partition: '2024-01-01' });
  await materializeInProcess(location, { partition: '2024-01-02' });
  rows = 1;
  const result = await materializeInProcess(location, { partition: '2024-01-02' });
  assert.equal(result.assets[0]?.failedCheck, 'row_count_at_least');
  const counts = await w.query(sql`select partition_key, count(*) as n from p.daily group by 1 order by 1`);
  assert.deepEqual(counts, [{ partition_key: '2024-01-01', n: 2 }, { partition_key: '2024-01-02', n: 2 }]);
  const [staged] = await new DuckDBIOManager(w).listStaged();
  assert.deepEqual(staged?.partitionKeys, ['2024-01-02']);
});

test('a contract violation names the row, field and zod message, and nothing is stored', async () => {
  const w = warehouse();
  const schema = z.object({ id: z.number().int(), email: z.email() });
  const users = asset({
    key: 'c/users',
    schema,
    materialize: () => [{ id: 1, email: 'a@x.io' }, { id: 2.5, email: 'b@x.io' }, { id: 3, email: 'nope' }],
  });
  const result = await materializeInProcess(codeLocation({ name: 'c', assets: [users], resources: { warehouse: w } }));
  const error = result.assets[0]?.error ?? '';
  assert.match(error, /asset 'c\/users': the output breaks its schema \(first 2 violations in the first 3 rows; rows are numbered from 0\); nothing was stored/);
  assert.match(error, /row 1, field 'id': Invalid input: expected int, received number/);
  assert.match(error, /row 2, field 'email': Invalid email address/);
  assert.equal((await w.query(sql`select count(*) as n from information_schema.tables where table_name = 'users'`))[0]?.n, 0);
});

test('a streamed output is validated batch by batch: a violation in a later batch stores nothing', async () => {
  const w = warehouse();
  const events = asset({
    key: 'c/events',
    schema: z.object({ kind: z.enum(['click', 'view']) }),
    materialize: async function* () {
      yield [{ kind: 'click' }, { kind: 'view' }];
      yield [{ kind: 'view' }, { kind: 'scroll' }];
    },
  });
  const result = await materializeInProcess(codeLocation({ name: 'c', assets: [events], resources: { warehouse: w } }));
  assert.match(result.assets[0]?.error ?? '', /row 3, field 'kind': Invalid option: expected one of "click"\|"view"/);
  assert.equal((await w.query(sql`select count(*) as n from information_schema.tables where table_name = 'events'`))[0]?.n, 0);
});

test('a SQL output is validated from its staged rows before it replaces the published table', async () => {
  const w = warehouse();
  let bad = false;
  const totals = asset({
    key: 'c/totals',
    schema: z.object({ total: z.number().nonnegative() }),
    materialize: () => (bad ? sql`select -5 as total` : sql`select 7 as total`),
  });
  const location = codeLocation({ name: 'c', assets: [totals], resources: { warehouse: w } });
  assert.equal((await materializeInProcess(location)).status, 'succeeded');
  bad = true;
  const result = await materializeInProcess(location);
  assert.match(result.assets[0]?.error ?? '', /row 0, field 'total': Too small: expected number to be >=0/);
  assert.deepEqual(await w.query(sql`select total from c.totals`), [{ total: 7 }]);
});

test('rows that are not objects break the contract with a clear message; a sampled contract validates every n-th row', async () => {
  const w = warehouse();
  const scalars = asset({ key: 'c/scalars', schema: z.object({ n: z.number() }), materialize: () => [{ n: 1 }, 2, 'three'] });
  const sampled = asset({
    key: 'c/sampled',
    schema: z.object({ n: z.number() }),
    schemaSample: 0.5,
    materialize: () => [{ n: 0 }, { n: 'one' }, { n: 2 }, { n: 'three' }],
  });
  const result = await materializeInProcess(codeLocation({ name: 'c', assets: [scalars, sampled], resources: { warehouse: w } }));
  const by = Object.fromEntries(result.assets.map((a) => [a.key, a]));
  assert.match(by['c/scalars']?.error ?? '', /row 1, field '\(row\)': the row is a number, not an object/);
  assert.match(by['c/scalars']?.error ?? '', /row 2, field '\(row\)': the row is a string, not an object/);
  assert.equal(by['c/sampled']?.status, 'materialized', 'rows 1 and 3 are outside the sample');
});
