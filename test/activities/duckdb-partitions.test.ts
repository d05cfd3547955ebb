import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import { renderSql, sql } from '../../definitions/sql';
import { AssetNotMaterializedError, DuckDBIOManager, PARTITION_COLUMN, duckdb } from '../../activities/duckdb/index';

/** The IO manager's typed metadata as plain values (a table schema as its column list), for compact asserts. */
function plain(metadata: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => {
    const typed = v as { type: string; value: unknown };
    return [k, typed.type === 'table_schema' ? (typed.value as { columns: unknown }).columns : typed.value];
  }));
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-duckdb-partitions-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

let files = 0;
function setup() {
  const resource = duckdb({ path: path.join(dir, `warehouse-${++files}.duckdb`) });
  return { resource, io: new DuckDBIOManager(resource) };
}

const write = (assetKey: string, ...partitionKeys: string[]) => ({ assetKey, runId: 'run-1', partitionKeys });

const stagingTablesQuery = `select table_name from information_schema.tables where table_name like '%__cairn_staging_%'`;

/** Row counts per partition, ordered by key. */
async function perPartition(resource: ReturnType<typeof duckdb>, table: string): Promise<Record<string, number>> {
  const rows = await resource.query<{ k: string; n: number }>(`select partition_key as k, count(*) as n from ${table} group by 1 order by 1`);
  return Object.fromEntries(rows.map((r) => [r.k, r.n]));
}

function isDefinitionError(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof CairnError, `expected a CairnError, got ${String(err)}`);
    assert.equal(err.code, ErrorCodes.InvalidDefinition);
    assert.match(err.message, pattern);
    return true;
  };
}

test('each partition write replaces only its own partition', async () => {
  const { resource, io } = setup();
  assert.equal(PARTITION_COLUMN, 'partition_key');
  const day1 = await io.handleOutput(write('raw/orders', '2024-01-01'), [{ id: 1, amount: 10 }, { id: 2, amount: 20 }]);
  assert.deepEqual(plain(day1.metadata), {
    table: 'raw.orders',
    rowCount: 2,
    columns: [
      { name: 'id', type: 'BIGINT' },
      { name: 'amount', type: 'BIGINT' },
      { name: 'partition_key', type: 'VARCHAR' },
    ],
  });
  const day2 = await io.handleOutput(write('raw/orders', '2024-01-02'), [{ id: 3, amount: 30 }]);
  assert.equal(plain(day2.metadata).rowCount, 1);
  assert.deepEqual(await perPartition(resource, 'raw.orders'), { '2024-01-01': 2, '2024-01-02': 1 });

  const again = await io.handleOutput(write('raw/orders', '2024-01-01'), [{ amount: 11, id: 4 }, { id: 5, amount: 21 }, { id: 6, amount: 31 }]);
  assert.equal(plain(again.metadata).rowCount, 3);
  assert.deepEqual(plain(again.metadata).columns, plain(day1.metadata).columns);
  assert.deepEqual(await resource.query('select id, amount, partition_key from raw.orders order by id'), [
    { id: 3, amount: 30, partition_key: '2024-01-02' },
    { id: 4, amount: 11, partition_key: '2024-01-01' },
    { id: 5, amount: 21, partition_key: '2024-01-01' },
    { id: 6, amount: 31, partition_key: '2024-01-01' },
  ]);
  assert.deepEqual(await resource.query(stagingTablesQuery), []);
});

test('a range run writes rows that carry their partition_key, from rows, batches or a query', async () => {
  const { resource, io } = setup();
  await io.handleOutput(write('events', '2024-01-01'), [{ id: 0, value: 0 }]);
  await io.handleOutput(write('events', '2024-01-05'), [{ id: 99, value: 99 }]);

  async function* batches() {
    yield [{ id: 1, value: 1, partition_key: '2024-01-01' }, { id: 2, value: 2, partition_key: '2024-01-02' }];
    yield [{ id: 3, value: 3, partition_key: '2024-01-02' }];
  }
  const stored = await io.handleOutput(write('events', '2024-01-01', '2024-01-02', '2024-01-03'), batches());
  assert.equal(plain(stored.metadata).rowCount, 3);
  assert.deepEqual(await perPartition(resource, 'events'), { '2024-01-01': 1, '2024-01-02': 2, '2024-01-05': 1 });

  // a DATE partition_key from a query is stored as its VARCHAR text
  const fromQuery = await io.handleOutput(
    write('events', '2024-01-03', '2024-01-04'),
    sql`select i as id, i * 10 as value, date '2024-01-03' + (i % 2)::integer as partition_key from range(${4}) t(i)`,
  );
  assert.equal(plain(fromQuery.metadata).rowCount, 4);
  assert.deepEqual(await perPartition(resource, 'events'), { '2024-01-01': 1, '2024-01-02': 2, '2024-01-03': 2, '2024-01-04': 2, '2024-01-05': 1 });
  assert.deepEqual(
    (await resource.query<{ name: string; type: string }>(`select column_name as name, data_type as type from information_schema.columns where table_name = 'events' order by ordinal_position`)),
    [{ name: 'id', type: 'BIGINT' }, { name: 'value', type: 'BIGINT' }, { name: 'partition_key', type: 'VARCHAR' }],
  );
});

test('the first write of a range run creates the table with its partition_key column', async () => {
  const { resource, io } = setup();
  const stored = await io.handleOutput(write('daily', 'a', 'b'), [{ partition_key: 'b', x: 1 }, { partition_key: 'a', x: 2 }]);
  assert.deepEqual(plain(stored.metadata), {
    table: 'main.daily',
    rowCount: 2,
    columns: [{ name: 'partition_key', type: 'VARCHAR' }, { name: 'x', type: 'BIGINT' }],
  });
  assert.deepEqual(await perPartition(resource, 'daily'), { a: 1, b: 1 });
});

test('a range run over many partitions writes and loads them (the keys bound as one list)', async () => {
  const { resource, io } = setup();
  const keys = Array.from({ length: 500 }, (_, i) => `k${String(i).padStart(3, '0')}`);
  await io.handleOutput(write('wide', 'other'), [{ i: -1.5, partition_key: 'other' }]);
  const stored = await io.handleOutput(write('wide', ...keys), keys.flatMap((k, i) => [{ i, partition_key: k }, { i: i + 0.5, partition_key: k }]));
  assert.equal(plain(stored.metadata).rowCount, 1_000);
  await io.handleOutput(write('wide', ...keys.slice(0, 100)), keys.slice(0, 100).map((k, i) => ({ i, partition_key: k })));
  assert.deepEqual(await resource.query('select count(*) as n from wide'), [{ n: 901 }]);
  const input = await io.loadInput('wide', 'relation', keys.slice(50, 150));
  assert.deepEqual(renderSql(sql`select * from ${input}`).params.length, 1);
  assert.deepEqual(await resource.query(sql`select count(*) as n from ${input}`), [{ n: 150 }]);
  await assert.rejects(
    io.handleOutput(write('wide', ...keys), [{ i: 0, partition_key: 'k500' }]),
    isDefinitionError(/a row has partition_key "k500", which is not one of this run's partitions \("k000"…"k499" \(500 keys\)\)/),
  );
  assert.deepEqual(await resource.query('select count(*) as n from wide'), [{ n: 901 }]);
});

test('a range run whose rows have no partition_key column fails and writes nothing', async () => {
  const { resource, io } = setup();
  await io.handleOutput(write('raw/orders', '2024-01-01'), [{ id: 1 }]);
  const keys = ['2024-01-01', '2024-01-02', '2024-01-03'];
  await assert.rejects(
    io.handleOutput(write('raw/orders', ...keys), [{ id: 2 }, { id: 3 }]),
    isDefinitionError(/^asset 'raw\/orders': this run writes 3 partitions \("2024-01-01"…"2024-01-03" \(3 keys\)\), so its rows must carry a 'partition_key' column holding one of the run's keys; nothing was written$/),
  );
  // nor is a missing table created
  await assert.rejects(io.handleOutput(write('raw/refunds', ...keys), sql`select 1 as id`), isDefinitionError(/'partition_key' column/));
  assert.deepEqual(await resource.query('select id, partition_key from raw.orders'), [{ id: 1, partition_key: '2024-01-01' }]);
  await assert.rejects(io.loadInput('raw/refunds'), AssetNotMaterializedError);
  assert.deepEqual(await resource.query(stagingTablesQuery), []);
});

test('a partition_key outside the run\'s keys fails, naming the value and the keys, and writes nothing', async () => {
  const { resource, io } = setup();
  await io.handleOutput(write('events', '2024-01-01', '2024-01-02'), [{ id: 1, partition_key: '2024-01-01' }, { id: 2, partition_key: '2024-01-02' }]);
  const before = await resource.query('select * from events order by id');

  await assert.rejects(
    io.handleOutput(write('events', '2024-01-01', '2024-01-02'), [{ id: 3, partition_key: '2024-01-02' }, { id: 4, partition_key: '2024-02-01' }]),
    isDefinitionError(/^asset 'events': a row has partition_key "2024-02-01", which is not one of this run's partitions \("2024-01-01"…"2024-01-02" \(2 keys\)\); nothing was written$/),
  );
  await assert.rejects(
    io.handleOutput(write('events', '2024-01-02'), [{ id: 5, partition_key: '2024-01-01' }]),
    isDefinitionError(/a row has partition_key "2024-01-01", which is not one of this run's partitions \("2024-01-02"\)/),
  );
  await assert.rejects(
    io.handleOutput(write('events', '2024-01-01', '2024-01-02'), [{ id: 6, partition_key: '2024-01-01' }, { id: 7, partition_key: null }]),
    isDefinitionError(/a row has partition_key NULL, which is not one of this run's partitions/),
  );
  assert.deepEqual(await resource.query('select * from events order by id'), before);
  assert.deepEqual(await resource.query(stagingTablesQuery), []);
});

test('an empty output deletes its partitions and keeps the others', async () => {
  const { resource, io } = setup();
  for (const day of ['d1', 'd2', 'd3']) await io.handleOutput(write('events', day), [{ id: day }]);

  const emptyRows = await io.handleOutput(write('events', 'd2'), []);
  assert.deepEqual(plain(emptyRows.metadata), { table: 'main.events', rowCount: 0, columns: [{ name: 'id', type: 'VARCHAR' }, { name: 'partition_key', type: 'VARCHAR' }] });
  assert.deepEqual(await perPartition(resource, 'events'), { d1: 1, d3: 1 });

  const emptyQuery = await io.handleOutput(write('events', 'd3'), sql`select 'x' as id where false`);
  assert.equal(plain(emptyQuery.metadata).rowCount, 0);
  assert.deepEqual(await perPartition(resource, 'events'), { d1: 1 });

  // nothing to delete and no table yet: still no table
  assert.deepEqual(plain((await io.handleOutput(write('other', 'd1'), [])).metadata), { table: 'main.other', rowCount: 0, columns: [] });
  await assert.rejects(io.loadInput('other'), AssetNotMaterializedError);
});

test('an output whose columns do not match the table fails, naming the columns, and writes nothing', async () => {
  const { resource, io } = setup();
  await io.handleOutput(write('raw/orders', 'd1'), [{ id: 1, amount: 1.5, note: 'a' }]);
  await assert.rejects(
    io.handleOutput(write('raw/orders', 'd1'), [{ id: 2, total: 3 }]),
    isDefinitionError(
      /^asset 'raw\/orders': the output's columns \(id, total, partition_key\) do not match the columns of raw\.orders \(id, amount, note, partition_key\): missing amount, note; not in the table: total; nothing was written$/,
    ),
  );
  await assert.rejects(
    io.handleOutput(write('raw/orders', 'd1'), [{ id: 'two', amount: 2, note: 'b' }]),
    isDefinitionError(/^asset 'raw\/orders': column 'id' is BIGINT in raw\.orders but VARCHAR in this output; cast it in the output to BIGINT; nothing was written$/),
  );
  assert.deepEqual(await resource.query('select id, amount, note from raw.orders'), [{ id: 1, amount: 1.5, note: 'a' }]);

  // types that convert without loss, and columns with only nulls, are fine
  await io.handleOutput(write('raw/orders', 'd2'), [{ id: 2, amount: 3, note: null }]);
  assert.deepEqual(await resource.query('select id, amount, note, partition_key from raw.orders order by id'), [
    { id: 1, amount: 1.5, note: 'a', partition_key: 'd1' },
    { id: 2, amount: 3, note: null, partition_key: 'd2' },
  ]);
  assert.deepEqual(await resource.query(stagingTablesQuery), []);
});

test('a partitioned write onto a table written without partitions fails and leaves it alone', async () => {
  const { resource, io } = setup();
  await io.handleOutput({ assetKey: 'orders', runId: 'run-1' }, [{ id: 1 }]);
  await assert.rejects(
    io.handleOutput(write('orders', 'd1'), [{ id: 2 }]),
    isDefinitionError(/^asset 'orders' is partitioned, but its table main\.orders has no 'partition_key' column \(it was written without partitions\)/),
  );
  assert.deepEqual(await resource.query('select * from orders'), [{ id: 1 }]);
});

test('loading some partitions gives a relation and rows covering exactly those partitions', async () => {
  const { resource, io } = setup();
  for (const [day, n] of [['2024-01-01', 3], ['2024-01-02', 4], ['2024-01-03', 5]] as const) {
    await io.handleOutput(write('raw/events', day), Array.from({ length: n }, (_, i) => ({ id: `${day}#${i}`, amount: i })));
  }
  const input = await io.loadInput('raw/events', 'relation', ['2024-01-01', '2024-01-03']);
  assert.equal(input.kind, 'table-input');
  assert.equal(input.table, 'raw.events');
  assert.deepEqual(input.partitionKeys, ['2024-01-01', '2024-01-03']);
  assert.deepEqual(renderSql(sql`select * from ${input}`), {
    text: 'select * from (select * from "raw"."events" where "partition_key" in ($1, $2)) as "events"',
    params: ['2024-01-01', '2024-01-03'],
  });

  const counts = await resource.query(sql`select partition_key, count(*) as n from ${input} group by 1 order by 1`);
  assert.deepEqual(counts, [{ partition_key: '2024-01-01', n: 3 }, { partition_key: '2024-01-03', n: 5 }]);
  // qualified by the table name, joined, and filtered with bound values, as with an unpartitioned input
  const [joined] = await resource.query(
    sql`select count(*) as n from ${input} join ${await io.loadInput('raw/events')} as whole on events.id = whole.id where events.amount >= ${2}`,
  );
  assert.deepEqual(joined, { n: 4 });

  assert.equal((await input.rows()).length, 8);
  const sizes: number[] = [];
  for await (const batch of input.batches(3)) sizes.push(batch.length);
  assert.deepEqual(sizes, [3, 3, 2]);

  const rows = await io.loadInput('raw/events', 'rows', ['2024-01-02']);
  assert.deepEqual(rows.map((r) => r.partition_key), Array(4).fill('2024-01-02'));

  // a partitioned input returned as the output of a partitioned asset copies exactly its partitions
  const copied = await io.handleOutput(write('marts/events', '2024-01-01', '2024-01-03'), input);
  assert.equal(plain(copied.metadata).rowCount, 8);
  assert.deepEqual(await perPartition(resource, 'marts.events'), { '2024-01-01': 3, '2024-01-03': 5 });

  // a key with no rows gives an empty relation
  assert.deepEqual(await io.loadInput('raw/events', 'rows', ['2023-12-31']), []);
});

test('loading an unpartitioned upstream for partitions loads the whole table; a missing one fails as before', async () => {
  const { io } = setup();
  await io.handleOutput({ assetKey: 'dim/customers', runId: 'run-1' }, [{ id: 1 }, { id: 2 }]);
  const input = await io.loadInput('dim/customers', 'relation', ['2024-01-01']);
  assert.equal(input.partitionKeys, undefined);
  assert.deepEqual(input.toSql(), { kind: 'sql-identifier', parts: ['dim', 'customers'] });
  assert.equal((await io.loadInput('dim/customers', 'rows', ['2024-01-01'])).length, 2);
  await assert.rejects(io.loadInput('dim/missing', 'relation', ['2024-01-01']), AssetNotMaterializedError);
});

test('concurrent writes of different partitions of one asset lose no rows', async () => {
  const { resource, io } = setup();
  const days = Array.from({ length: 8 }, (_, i) => `2024-01-0${i + 1}`);
  async function* rowsOf(day: string, n: number) {
    for (let b = 0; b < 4; b++) {
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      yield Array.from({ length: n }, (_, i) => ({ id: `${day}#${b}#${i}`, amount: i }));
    }
  }
  const writes = days.map((day, i) => io.handleOutput(write('raw/events', day), rowsOf(day, 100 + i)));
  // other tables of the same schema are written meanwhile
  const others = ['raw/a', 'raw/b'].map((key) => io.handleOutput({ assetKey: key, runId: 'run-1' }, [{ id: 1 }]));
  const stored = await Promise.all(writes);
  await Promise.all(others);
  assert.deepEqual(stored.map((s) => plain(s.metadata).rowCount), days.map((_, i) => 4 * (100 + i)));
  assert.deepEqual(await perPartition(resource, 'raw.events'), Object.fromEntries(days.map((d, i) => [d, 4 * (100 + i)])));

  // and rewriting them all at once again replaces each one exactly
  await Promise.all(days.map((day) => io.handleOutput(write('raw/events', day), [{ id: day, amount: 0 }])));
  assert.deepEqual(await perPartition(resource, 'raw.events'), Object.fromEntries(days.map((d) => [d, 1])));
  assert.deepEqual(await resource.query(stagingTablesQuery), []);
});

test('writes without partition keys still replace the whole table', async () => {
  const { resource, io } = setup();
  await io.handleOutput(write('events', 'd1'), [{ id: 1 }]);
  await io.handleOutput(write('events', 'd2'), [{ id: 2 }]);
  const stored = await io.handleOutput({ assetKey: 'events', runId: 'run-1' }, [{ id: 3, label: 'all' }]);
  assert.deepEqual(plain(stored.metadata), { table: 'main.events', rowCount: 1, columns: [{ name: 'id', type: 'BIGINT' }, { name: 'label', type: 'VARCHAR' }] });
  assert.deepEqual(await resource.query('select * from events'), [{ id: 3, label: 'all' }]);
});

test('an empty list of partition keys is refused', async () => {
  const { io } = setup();
  await assert.rejects(io.handleOutput(write('events'), [{ id: 1 }]), (err: unknown) => err instanceof CairnError && err.code === ErrorCodes.InvalidPartition);
  await assert.rejects(io.loadInput('events', 'rows', []), (err: unknown) => err instanceof CairnError && err.code === ErrorCodes.InvalidPartition);
});
