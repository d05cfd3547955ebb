import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isTableInput } from '../../activities/duckdb';
import type { Audit, IOManager, OutputInfo, Row, StoredValue } from '../../activities/io-manager';
import { sql } from '../../definitions/sql';

/** What differs between IO managers; the suite expects each accordingly. */
export interface IOCapabilities {
  /** Stored values have SQL access (`StoredValue.sql`) and `relation` loads a table input (DuckDB, Parquet). */
  sql: boolean;
  /** Values other than rows (objects, arrays of numbers) are stored as they are (JSON, memory); else only rows are. */
  anyValue: boolean;
  /** How a Date in a row comes back: the same `Date`, or ISO-8601 text. */
  dates: 'date' | 'iso';
  /** Rows of a partitioned asset load with a `partition_key` column even when the output had none. */
  partitionColumn: boolean;
}

export interface IOManagerFixture {
  io: IOManager;
  cleanup(): Promise<void>;
}

const uid = (): string => randomUUID().replaceAll('-', '').slice(0, 10);
/** A fresh asset key, so tests never see each other's values. */
const newKey = (): string => `t${uid()}/value`;
const info = (assetKey: string, partitionKeys?: readonly string[], runId = `run-${uid()}`): OutputInfo => ({ assetKey, runId, ...(partitionKeys ? { partitionKeys } : {}) });

async function* generate<T>(batches: readonly T[]): AsyncGenerator<T> {
  for (const batch of batches) {
    await Promise.resolve();
    yield batch;
  }
}

async function collect(batches: AsyncIterable<Row[]>): Promise<Row[][]> {
  const out: Row[][] = [];
  for await (const batch of batches) {
    assert.ok(Array.isArray(batch), 'every batch is an array');
    out.push(batch);
  }
  return out;
}

const byId = (rows: readonly Row[]): Row[] => [...rows].sort((a, b) => Number(a.id) - Number(b.id));
const ids = (rows: readonly Row[]): number[] => byId(rows).map((r) => Number(r.id));
const idRows = (from: number, to: number): Row[] => Array.from({ length: to - from }, (_, i) => ({ id: from + i, label: `row-${from + i}` }));

const notMaterialized = (key: string) => (err: unknown) => {
  assert.equal((err as Error).name, 'AssetNotMaterializedError');
  assert.match((err as Error).message, new RegExp(key));
  return true;
};

/**
 * Registers the behaviour every {@link IOManager} must show. `makeManager` gives a manager and its cleanup;
 * each test makes its own and writes under fresh asset keys.
 */
export function ioManagerConformance(name: string, makeManager: () => Promise<IOManagerFixture>, capabilities: IOCapabilities): void {
  async function withManager(fn: (io: IOManager) => Promise<void>): Promise<void> {
    const { io, cleanup } = await makeManager();
    try {
      await fn(io);
    } finally {
      await cleanup();
    }
  }
  const loadRows = async (io: IOManager, key: string, partitionKeys?: readonly string[]): Promise<Row[]> =>
    byId((await io.loadInput(key, 'rows', partitionKeys)) as Row[]);
  /** Rows of a one-partition write as they load back. */
  const inPartition = (rows: readonly Row[], partitionKey: string): Row[] =>
    capabilities.partitionColumn ? rows.map((r) => ({ ...r, partition_key: partitionKey })) : [...rows];
  const date = (iso: string): unknown => (capabilities.dates === 'date' ? new Date(iso) : iso);

  describe(`${name} IO manager`, () => {
    test('rows round-trip with their numbers, strings, booleans, nulls, dates and nested values', async () => {
      await withManager(async (io) => {
        const key = newKey();
        const written = [
          { id: 1, name: 'a', ok: true, score: 1.5, note: null, at: new Date('2024-03-01T12:30:00.000Z'), extra: { tags: ['x'] } },
          { id: 2, name: 'b', ok: false, score: -2.25, note: 'late', at: new Date('2024-03-02T00:00:00.000Z'), extra: { tags: [] } },
        ];
        const out = await io.handleOutput(info(key), written);
        assert.deepEqual(out.metadata.rowCount, { type: 'row_count', value: 2 });
        assert.notEqual(out.published, false);
        assert.deepEqual(await loadRows(io, key), written.map((r) => ({ ...r, at: date(r.at.toISOString()) })));
      });
    });

    test('an async iterable of row batches is stored whole, in order', async () => {
      await withManager(async (io) => {
        const key = newKey();
        const out = await io.handleOutput(info(key), generate([idRows(0, 4), [], idRows(4, 8), idRows(8, 12)]));
        assert.deepEqual(out.metadata.rowCount, { type: 'row_count', value: 12 });
        assert.deepEqual(((await io.loadInput(key, 'rows')) as Row[]).map((r) => r.id), ids(idRows(0, 12)));
        function* sync(): Generator<Row[]> {
          yield idRows(20, 22);
          yield idRows(22, 23);
        }
        await io.handleOutput(info(key), sync());
        assert.deepEqual(await loadRows(io, key), idRows(20, 23));
      });
    });

    test('loading as a relation hands back the rows (a table input for SQL storage, else the value)', async () => {
      await withManager(async (io) => {
        const key = newKey();
        await io.handleOutput(info(key), idRows(0, 3));
        const relation = await io.loadInput(key, 'relation');
        if (capabilities.sql) {
          assert.ok(isTableInput(relation), 'a table input');
          assert.deepEqual(byId(await relation.rows()), idRows(0, 3));
        } else assert.deepEqual(relation, idRows(0, 3));
      });
    });

    test('loading as batches yields arrays of rows that add up to the value', async () => {
      await withManager(async (io) => {
        const key = newKey();
        await io.handleOutput(info(key), idRows(0, 25));
        const batches = await collect((await io.loadInput(key, 'batches')) as AsyncIterable<Row[]>);
        assert.deepEqual(byId(batches.flat()), idRows(0, 25));
        const sized = await collect((await io.loadStored!(key)).batches(10));
        assert.deepEqual(sized.map((b) => b.length), [10, 10, 5]);
      });
    });

    test('writing again replaces the value, and loadStored returns the published one', async () => {
      await withManager(async (io) => {
        const key = newKey();
        await io.handleOutput(info(key), idRows(0, 5));
        await io.handleOutput(info(key), idRows(100, 102));
        assert.deepEqual(await loadRows(io, key), idRows(100, 102));
        const stored = await io.loadStored!(key);
        assert.equal(stored.assetKey, key);
        assert.deepEqual(byId((await stored.load('rows')) as Row[]), idRows(100, 102));
        assert.deepEqual(byId((await collect(stored.batches())).flat()), idRows(100, 102));
        if (capabilities.sql) {
          const [count] = await stored.sql!.query<{ n: number }>(sql`select count(*) as n from ${stored.sql!.relation}`);
          assert.equal(Number(count?.n), 2);
        } else assert.equal(stored.sql, undefined);
      });
    });

    test('an undefined output stores nothing and keeps any earlier value', async () => {
      await withManager(async (io) => {
        const key = newKey();
        assert.deepEqual(await io.handleOutput(info(key), undefined), { metadata: {} });
        await assert.rejects(io.loadInput(key, 'rows'), notMaterialized(key));
        await io.handleOutput(info(key), idRows(0, 2));
        assert.deepEqual(await io.handleOutput(info(key), undefined), { metadata: {} });
        assert.deepEqual(await loadRows(io, key), idRows(0, 2));
      });
    });

    test('loading an asset that was never stored fails with AssetNotMaterializedError naming it', async () => {
      await withManager(async (io) => {
        const key = newKey();
        for (const mode of ['rows', 'relation', 'batches'] as const) await assert.rejects(io.loadInput(key, mode), notMaterialized(key));
        await assert.rejects(io.loadInput(key, 'rows', ['p1']), notMaterialized(key));
        await assert.rejects(io.loadStored!(key), notMaterialized(key));
      });
    });

    test('a batch with a row that is not an object fails naming the row and keeps the earlier value', async () => {
      await withManager(async (io) => {
        const key = newKey();
        await io.handleOutput(info(key), idRows(0, 2));
        await assert.rejects(io.handleOutput(info(key), generate([idRows(10, 12), [{ id: 12 }, 42]])), /row 3 is a number/);
        await assert.rejects(io.handleOutput(info(key), generate([idRows(10, 12), 'oops'])), /batch 1 is a string/);
        assert.deepEqual(await loadRows(io, key), idRows(0, 2));
      });
    });

    test(capabilities.anyValue ? 'an array of non-objects is stored as a value, and reading it as rows fails naming the row' : 'an array with a row that is not an object fails naming the row', async () => {
      await withManager(async (io) => {
        const key = newKey();
        if (!capabilities.anyValue) {
          await assert.rejects(io.handleOutput(info(key), [{ id: 1 }, 'x']), /row 1 is a string/);
          await assert.rejects(io.loadInput(key, 'rows'), notMaterialized(key));
          return;
        }
        await io.handleOutput(info(key), [{ id: 1 }, 7]);
        assert.deepEqual(await io.loadInput(key, 'rows'), [{ id: 1 }, 7]);
        await assert.rejects(collect((await io.loadInput(key, 'batches')) as AsyncIterable<Row[]>), /row 1 is a number/);
      });
    });

    if (capabilities.anyValue) {
      test('a value that is not rows round-trips, and batches of it fail naming the asset', async () => {
        await withManager(async (io) => {
          const key = newKey();
          const params = { learningRate: 0.01, layers: [64, 32], name: 'model', nested: { on: true, off: null } };
          await io.handleOutput(info(key), params);
          assert.deepEqual(await io.loadInput(key, 'rows'), params);
          assert.deepEqual(await io.loadInput(key, 'relation'), params);
          await assert.rejects(collect((await io.loadStored!(key)).batches()), new RegExp(`asset '${key}'.*not rows`));
        });
      });

      test('partitions holding values that are not rows load as an object by partition key', async () => {
        await withManager(async (io) => {
          const key = newKey();
          await io.handleOutput(info(key, ['p1']), { threshold: 1 });
          await io.handleOutput(info(key, ['p2']), { threshold: 2 });
          assert.deepEqual(await io.loadInput(key, 'rows', ['p1']), { threshold: 1 });
          assert.deepEqual(await io.loadInput(key, 'rows', ['p1', 'p2']), { p1: { threshold: 1 }, p2: { threshold: 2 } });
        });
      });
    }

    test('writing one partition replaces it and keeps the others', async () => {
      await withManager(async (io) => {
        const key = newKey();
        await io.handleOutput(info(key, ['p1']), [{ id: 1 }]);
        await io.handleOutput(info(key, ['p2']), [{ id: 2 }]);
        await io.handleOutput(info(key, ['p1']), [{ id: 10 }, { id: 11 }]);
        assert.deepEqual(await loadRows(io, key, ['p1']), inPartition([{ id: 10 }, { id: 11 }], 'p1'));
        assert.deepEqual(await loadRows(io, key, ['p2']), inPartition([{ id: 2 }], 'p2'));
        assert.deepEqual(ids(await loadRows(io, key)), [2, 10, 11]);
      });
    });

    test('loading a subset of partitions returns only those, and a missing partition adds nothing', async () => {
      await withManager(async (io) => {
        const key = newKey();
        for (const p of [1, 2, 3]) await io.handleOutput(info(key, [`p${p}`]), [{ id: p }]);
        assert.deepEqual(ids(await loadRows(io, key, ['p1', 'p3', 'p9'])), [1, 3]);
        assert.deepEqual(ids(await loadRows(io, key, ['p9'])), []);
        const stored = await io.loadStored!(key, ['p3', 'p2']);
        assert.deepEqual(stored.partitionKeys, ['p3', 'p2']);
        assert.deepEqual(ids((await collect(stored.batches())).flat()), [2, 3]);
        const relation = await io.loadInput(key, 'relation', ['p2']);
        assert.deepEqual(ids(capabilities.sql && isTableInput(relation) ? await relation.rows() : (relation as Row[])), [2]);
      });
    });

    test('a range run stores each row in the partition its partition_key names', async () => {
      await withManager(async (io) => {
        const key = newKey();
        const rows = [{ id: 1, partition_key: 'a' }, { id: 2, partition_key: 'b' }, { id: 3, partition_key: 'a' }];
        const out = await io.handleOutput(info(key, ['a', 'b']), generate([rows.slice(0, 2), rows.slice(2)]));
        assert.deepEqual(out.metadata.rowCount, { type: 'row_count', value: 3 });
        assert.deepEqual(await loadRows(io, key, ['a']), [rows[0], rows[2]]);
        assert.deepEqual(await loadRows(io, key, ['b']), [rows[1]]);
      });
    });

    test('a range run whose rows do not name a run partition fails and writes nothing', async () => {
      await withManager(async (io) => {
        const key = newKey();
        await io.handleOutput(info(key, ['a']), [{ id: 1 }]);
        await assert.rejects(io.handleOutput(info(key, ['a', 'b']), [{ id: 2 }]), /partition_key/);
        await assert.rejects(io.handleOutput(info(key, ['a', 'b']), [{ id: 2, partition_key: 'z' }]), /"z", which is not one of this run's partitions/);
        assert.deepEqual(ids(await loadRows(io, key)), [1]);
      });
    });

    test('partition keys with /, |, .. and spaces are stored apart and load back', async () => {
      await withManager(async (io) => {
        const key = newKey();
        const keys = ['a/b', 'a|b', '..', 'x y', '2024-01-01|us'];
        for (const [i, k] of keys.entries()) await io.handleOutput(info(key, [k]), [{ id: i }]);
        for (const [i, k] of keys.entries()) assert.deepEqual(await loadRows(io, key, [k]), inPartition([{ id: i }], k));
        assert.deepEqual(ids(await loadRows(io, key)), [0, 1, 2, 3, 4]);
      });
    });

    test('an audit that publishes makes the new value the published one', async () => {
      await withManager(async (io) => {
        const key = newKey();
        await io.handleOutput(info(key), idRows(0, 2));
        const out = await io.handleOutput(info(key), idRows(10, 13), async () => ({ publish: true }));
        assert.notEqual(out.published, false);
        assert.equal(out.staged, undefined);
        assert.deepEqual(await loadRows(io, key), idRows(10, 13));
      });
    });

    test('the audit sees exactly the new rows while readers still see the published value', async () => {
      await withManager(async (io) => {
        const key = newKey();
        await io.handleOutput(info(key), idRows(0, 2));
        let seen: StoredValue | undefined;
        const audit: Audit = async (staged) => {
          seen = staged;
          assert.equal(staged.assetKey, key);
          assert.deepEqual(byId((await collect(staged.batches(2))).flat()), idRows(10, 15));
          assert.ok((await collect(staged.batches(2))).every((b) => b.length <= 2));
          assert.deepEqual(byId((await staged.load('rows')) as Row[]), idRows(10, 15));
          if (capabilities.sql) {
            const [count] = await staged.sql!.query<{ n: number }>(sql`select count(*) as n from ${staged.sql!.relation}`);
            assert.equal(Number(count?.n), 5);
          }
          assert.deepEqual(await loadRows(io, key), idRows(0, 2));
          return { publish: true };
        };
        await io.handleOutput(info(key), generate([idRows(10, 12), idRows(12, 15)]), audit);
        assert.ok(seen, 'the audit ran');
        assert.deepEqual(await loadRows(io, key), idRows(10, 15));
      });
    });

    test('an audit that rejects leaves the published value as it was and keeps the staged one until dropped', async () => {
      await withManager(async (io) => {
        const key = newKey();
        await io.handleOutput(info(key), idRows(0, 2));
        const runId = `run-${uid()}`;
        const out = await io.handleOutput(info(key, undefined, runId), idRows(10, 13), async () => ({ publish: false, reason: 'too few rows' }));
        assert.equal(out.published, false);
        assert.ok(out.staged, 'the staged value is kept');
        assert.deepEqual({ ...out.staged, id: '', at: '' }, { id: '', at: '', assetKey: key, runId, reason: 'too few rows', rowCount: 3 });
        assert.ok(!Number.isNaN(Date.parse(out.staged.at)));
        assert.deepEqual(await loadRows(io, key), idRows(0, 2));
        assert.ok((await io.listStaged!()).some((s) => s.id === out.staged?.id && s.assetKey === key && s.reason === 'too few rows'));
        assert.equal(await io.dropStaged!(out.staged.id), true);
        assert.ok(!(await io.listStaged!()).some((s) => s.id === out.staged?.id));
        assert.equal(await io.dropStaged!(out.staged.id), false);
        assert.deepEqual(await loadRows(io, key), idRows(0, 2));
      });
    });

    test('an audit that throws fails the write, keeps the published value and keeps nothing staged', async () => {
      await withManager(async (io) => {
        const key = newKey();
        await io.handleOutput(info(key), idRows(0, 2));
        await assert.rejects(io.handleOutput(info(key), idRows(10, 13), async () => { throw new Error('check crashed'); }), /check crashed/);
        assert.deepEqual(await loadRows(io, key), idRows(0, 2));
        assert.ok(!(await io.listStaged!()).some((s) => s.assetKey === key));
      });
    });

    test('a rejected write with no rows keeps nothing staged', async () => {
      await withManager(async (io) => {
        const key = newKey();
        await io.handleOutput(info(key), idRows(0, 2));
        const out = await io.handleOutput(info(key), generate([[]]), async () => ({ publish: false, reason: 'empty' }));
        assert.equal(out.published, false);
        assert.equal(out.staged, undefined);
        assert.deepEqual(await loadRows(io, key), idRows(0, 2));
        assert.ok(!(await io.listStaged!()).some((s) => s.assetKey === key));
      });
    });

    test('a rejected partition write keeps every partition as it was and records its keys', async () => {
      await withManager(async (io) => {
        const key = newKey();
        await io.handleOutput(info(key, ['p1']), [{ id: 1 }]);
        await io.handleOutput(info(key, ['p2']), [{ id: 2 }]);
        let partitionKeys: readonly string[] | undefined;
        const out = await io.handleOutput(info(key, ['p1']), [{ id: 10 }], async (staged) => {
          partitionKeys = staged.partitionKeys;
          return { publish: false, reason: 'bad partition' };
        });
        assert.deepEqual(partitionKeys, ['p1']);
        assert.deepEqual(out.staged?.partitionKeys, ['p1']);
        assert.deepEqual(ids(await loadRows(io, key)), [1, 2]);
        assert.equal(await io.dropStaged!(out.staged?.id ?? ''), true);
      });
    });
  });
}
