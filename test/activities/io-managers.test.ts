import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBIOManager, DuckDBResource } from '../../activities/duckdb';
import { jsonIO, memoryIO, parquetIO, WAP_DIR } from '../../activities/io';
import { partitionFileName, partitionKeyOfFile } from '../../activities/io/file-paths';
import type { IOManager, Row } from '../../activities/io-manager';
import { sql } from '../../definitions/sql';
import { ioManagerConformance } from './io-conformance';

const root = mkdtempSync(join(tmpdir(), 'cairn-io-'));
after(() => rmSync(root, { recursive: true, force: true }));

let made = 0;
/** A fresh folder under the suite's temp root. */
const freshDir = (): string => join(root, `m${++made}`);

ioManagerConformance('in-memory', async () => ({ io: memoryIO(), cleanup: async () => undefined }), {
  sql: false, anyValue: true, dates: 'date', partitionColumn: false,
});

ioManagerConformance('JSON', async () => {
  const dir = freshDir();
  return { io: jsonIO({ dir }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}, { sql: false, anyValue: true, dates: 'iso', partitionColumn: false });

ioManagerConformance('Parquet', async () => {
  const dir = freshDir();
  const io = parquetIO({ dir });
  return { io, cleanup: async () => { await io.close(); rmSync(dir, { recursive: true, force: true }); } };
}, { sql: true, anyValue: false, dates: 'iso', partitionColumn: true });

ioManagerConformance('DuckDB', async () => {
  const file = join(root, `warehouse-${++made}.duckdb`);
  const resource = new DuckDBResource({ path: file });
  const io: IOManager = new DuckDBIOManager(resource);
  return { io, cleanup: async () => { await resource.close(); rmSync(file, { force: true }); } };
}, { sql: true, anyValue: false, dates: 'iso', partitionColumn: true });

const run = (assetKey: string, partitionKeys?: readonly string[]) => ({ assetKey, runId: 'run-1', ...(partitionKeys ? { partitionKeys } : {}) });

async function* batchesOf(count: number, size: number): AsyncGenerator<Row[]> {
  for (let start = 0; start < count; start += size) {
    yield Array.from({ length: Math.min(size, count - start) }, (_, i) => ({ id: start + i, label: `order-${start + i}` }));
  }
}

describe('file names of partitions', () => {
  test('a partition key becomes a file name that holds no separator or glob character and decodes back', () => {
    for (const key of ['2024-01-01', 'us|2024-01-01', 'a/b', '..', '.', '*?[x]', '100%', 'é ü', '']) {
      const name = partitionFileName('raw/days', key, '.json');
      assert.match(name, /^partition_key=[A-Za-z0-9_.%-]*\.json$/);
      assert.equal(partitionKeyOfFile(name, '.json'), key);
    }
    assert.equal(partitionFileName('raw/days', 'us|2024-01-01', '.parquet'), 'partition_key=us%7C2024-01-01.parquet');
    assert.equal(partitionKeyOfFile('orders.json', '.json'), undefined);
  });

  test('a partition key too long for a file name fails naming the asset', () => {
    assert.throws(() => partitionFileName('raw/days', 'x'.repeat(300), '.json'), /asset 'raw\/days': partition key "x+…" is too long for a file name/);
  });
});

describe('in-memory IO manager staging', () => {
  test('a rejected write keeps its value for inspection until dropped', async () => {
    const io = memoryIO();
    const out = await io.handleOutput(run('mem/a'), [{ id: 1 }], async () => ({ publish: false, reason: 'no' }));
    const id = out.staged?.id ?? '';
    assert.deepEqual(await io.stagedValue(id)?.load('rows'), [{ id: 1 }]);
    await io.dropStaged(id);
    assert.equal(io.stagedValue(id), undefined);
  });
});

describe('JSON IO manager files', () => {
  test('a value is a JSON file named after its key, rows one per line, partitions one file each', async () => {
    const dir = freshDir();
    const io = jsonIO({ dir });
    await io.handleOutput(run('raw/orders'), [{ id: 1, note: 'a\nb' }, { id: 2, note: null }]);
    const text = readFileSync(join(dir, 'raw', 'orders.json'), 'utf8');
    assert.equal(text, '[\n{"id":1,"note":"a\\nb"},\n{"id":2,"note":null}\n]\n');
    await io.handleOutput(run('raw/days', ['2024-01-01|us/east']), [{ id: 3 }]);
    assert.deepEqual(readdirSync(join(dir, 'raw', 'days')), ['partition_key=2024-01-01%7Cus%2Feast.json']);
  });

  test('bigints become decimal strings, Dates ISO strings and bytes base64; an object is written indented', async () => {
    const io = jsonIO({ dir: freshDir() });
    await io.handleOutput(run('model/params'), { big: 2n ** 70n, at: new Date('2024-01-02T03:04:05.000Z'), bytes: new Uint8Array([1, 2, 3]) });
    assert.deepEqual(await io.loadInput('model/params', 'rows'), { big: '1180591620717411303424', at: '2024-01-02T03:04:05.000Z', bytes: 'AQID' });
    assert.match(readFileSync(io.fileFor('model/params'), 'utf8'), /^\{\n {2}"big"/);
  });

  test('a value JSON cannot hold fails naming the asset and writes nothing', async () => {
    const io = jsonIO({ dir: freshDir() });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(io.handleOutput(run('bad/cycle'), cyclic), /asset 'bad\/cycle': the value cannot be written as JSON/);
    await assert.rejects(io.handleOutput(run('bad/query'), sql`select 1`), /asset 'bad\/query' returned a sql`…` query, which the JSON IO manager cannot store/);
    assert.equal(existsSync(io.fileFor('bad/cycle')), false);
  });

  test('a file edited by hand into another layout still loads as batches', async () => {
    const dir = freshDir();
    const io = jsonIO({ dir });
    await io.handleOutput(run('hand/edited'), [{ id: 1 }]);
    writeFileSync(io.fileFor('hand/edited'), JSON.stringify([{ id: 1 }, { id: 2 }, { id: 3 }], null, 2));
    const batches: Row[][] = [];
    for await (const batch of (await io.loadInput('hand/edited', 'batches')) as AsyncIterable<Row[]>) batches.push(batch);
    assert.deepEqual(batches, [[{ id: 1 }, { id: 2 }, { id: 3 }]]);
  });

  test('a rejected write is kept under .cairn-wap with a sidecar describing it', async () => {
    const dir = freshDir();
    const io = jsonIO({ dir });
    const out = await io.handleOutput(run('raw/orders'), [{ id: 1 }], async () => ({ publish: false, reason: 'no' }));
    const id = out.staged?.id ?? '';
    assert.ok(id.startsWith(join(dir, WAP_DIR, 'raw_orders__cairn_wap_')), id);
    assert.deepEqual(JSON.parse(readFileSync(id, 'utf8')), [{ id: 1 }]);
    const sidecar = JSON.parse(readFileSync(id.replace(/\.json$/, '.meta.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(sidecar.assetKey, 'raw/orders');
    assert.equal(await io.dropStaged('../../etc/passwd'), false);
  });
});

describe('Parquet IO manager files', () => {
  test('files are Parquet any DuckDB reads, and partition files carry partition_key', async () => {
    const dir = freshDir();
    const io = parquetIO({ dir });
    const reader = new DuckDBResource({ path: ':memory:' });
    try {
      await io.handleOutput(run('raw/orders'), [{ id: 1, amount: 2.5 }]);
      await io.handleOutput(run('raw/days', ['2024-01-01']), [{ id: 2 }]);
      const file = join(dir, 'raw', 'orders.parquet');
      assert.deepEqual(await reader.query(sql`select * from read_parquet(${file})`), [{ id: 1, amount: 2.5 }]);
      const part = join(dir, 'raw', 'days', 'partition_key=2024-01-01.parquet');
      assert.deepEqual(await reader.query(sql`select * from read_parquet(${part})`), [{ id: 2, partition_key: '2024-01-01' }]);
    } finally {
      await reader.close();
      await io.close();
    }
  });

  test('a query runs in the given DuckDB, parameters bound, and its relation works in another database', async () => {
    const warehouse = new DuckDBResource({ path: ':memory:' });
    const io = parquetIO({ dir: freshDir(), duckdb: warehouse });
    const other = new DuckDBResource({ path: ':memory:' });
    try {
      await warehouse.execute('create table src as select range as id from range(10)');
      const out = await io.handleOutput(run('lake/big'), sql`select id, id * 2 as twice from src where id >= ${7}`);
      assert.deepEqual(out.metadata.columns, { type: 'table_schema', value: { columns: [{ name: 'id', type: 'BIGINT' }, { name: 'twice', type: 'BIGINT' }] } });
      const input = await io.loadInput('lake/big', 'relation');
      assert.deepEqual(await other.query(sql`select sum(twice) as s from ${input}`), [{ s: 14 + 16 + 18 }]);
    } finally {
      await other.close();
      await warehouse.close();
    }
  });

  test('a query with no rows still writes a file with its columns; row batches with no rows remove it', async () => {
    const io = parquetIO({ dir: freshDir() });
    try {
      await io.handleOutput(run('lake/empty'), sql`select 1 as id where false`);
      assert.deepEqual(await io.loadInput('lake/empty', 'rows'), []);
      await io.handleOutput(run('lake/empty'), []);
      assert.equal(existsSync(io.fileFor('lake/empty')), false);
      await assert.rejects(io.loadInput('lake/empty', 'rows'), { name: 'AssetNotMaterializedError' });
    } finally {
      await io.close();
    }
  });

  test('a folder with glob characters is refused', () => {
    assert.throws(() => parquetIO({ dir: join(root, 'data*') }), /glob character/);
  });

  test('200,000 rows from an async generator are streamed to one file', async () => {
    const io = parquetIO({ dir: freshDir() });
    try {
      const out = await io.handleOutput(run('lake/stream'), batchesOf(200_000, 10_000));
      assert.deepEqual(out.metadata.rowCount, { type: 'row_count', value: 200_000 });
      const stored = await io.loadStored('lake/stream');
      assert.deepEqual(await stored.sql?.query(sql`select count(*) as n, count(distinct id) as d from ${stored.sql.relation}`), [{ n: 200_000, d: 200_000 }]);
    } finally {
      await io.close();
    }
  });
});
