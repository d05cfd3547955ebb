import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { z } from 'zod';
import { DuckDBIOManager, duckdb } from '../../activities/duckdb';
import { runChecks, type CheckEvaluation } from '../../activities/run-checks';
import { acceptedValues, matchesSchema, notNull, rowCountAtLeast, unique } from '../../definitions/builtin-checks';
import { check, type AssetCheckDefinition } from '../../definitions/checks';
import type { Row, StoredValue } from '../../definitions/stored-value';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-checks-'));
const warehouse = duckdb({ path: path.join(dir, 'w.duckdb') });
const io = new DuckDBIOManager(warehouse);
after(async () => {
  await warehouse.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const good: Row[] = [
  { id: 1, status: 'paid', email: 'a@x.io' },
  { id: 2, status: 'open', email: 'b@x.io' },
  { id: 3, status: 'paid', email: 'c@x.io' },
];
const bad: Row[] = [
  { id: 1, status: 'paid', email: 'a@x.io' },
  { id: 1, status: 'lost', email: null },
  { id: 2, status: 'weird', email: 'b@x.io' },
  { id: 2, status: 'lost', email: null },
];

/** The rows as a value that can only be streamed (the path of JSON files and in-memory values). */
function streamed(rows: Row[]): StoredValue {
  return {
    assetKey: 't/rows',
    async *batches(size = 2) {
      for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
    },
    load: async () => rows,
  };
}

let tables = 0;
/** The rows as a DuckDB table, so the check runs as SQL. */
async function inDuckDB(rows: Row[]): Promise<StoredValue> {
  const key = `t/rows_${++tables}`;
  await io.handleOutput({ assetKey: key, runId: 'r' }, rows);
  const stored = await io.loadStored(key);
  assert.ok(stored.sql, 'a DuckDB table offers SQL access');
  return stored;
}

const logs: string[] = [];
const ctx = {
  runId: 'r', assetKey: 't/rows', partition: undefined, resources: {}, signal: new AbortController().signal,
  log: { debug: () => undefined, info: () => undefined, warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) },
};

async function one(c: AssetCheckDefinition, value: StoredValue): Promise<CheckEvaluation> {
  const [e] = await runChecks([{ ...c, asset: 't/rows' }], value, ctx);
  assert.ok(e);
  return e;
}

const plainMeta = (e: CheckEvaluation) => Object.fromEntries(Object.entries(e.metadata).filter(([k]) => k !== 'duration_ms').map(([k, v]) => [k, v.value]));

for (const [path_, load] of [['as SQL in DuckDB', inDuckDB], ['streamed in batches', async (rows: Row[]) => streamed(rows)]] as const) {
  describe(`built-in checks ${path_}`, () => {
    test('rowCountAtLeast passes at the bound and fails below it', async () => {
      assert.equal((await one(rowCountAtLeast(3), await load(good))).passed, true);
      const failed = await one(rowCountAtLeast(5), await load(good));
      assert.equal(failed.passed, false);
      assert.deepEqual(plainMeta(failed), { row_count: 3, at_least: 5 });
    });

    test('notNull passes without nulls and counts the null rows', async () => {
      assert.equal((await one(notNull('email'), await load(good))).passed, true);
      const failed = await one(notNull('email'), await load(bad));
      assert.equal(failed.name, 'not_null_email');
      assert.equal(failed.passed, false);
      assert.deepEqual(plainMeta(failed), { null_rows: 2, row_count: 4 });
    });

    test('unique passes on distinct values and lists the duplicate groups', async () => {
      assert.equal((await one(unique('id'), await load(good))).passed, true);
      const failed = await one(unique('id'), await load(bad));
      assert.equal(failed.passed, false);
      assert.equal(failed.metadata.duplicate_groups?.value, 2);
      const examples = failed.metadata.examples?.value as { id: number; n: number }[];
      assert.deepEqual(examples.map((e) => [e.id, e.n]).sort(), [[1, 2], [2, 2]]);
      assert.equal((await one(unique(['id', 'status']), await load(bad))).passed, true, 'several columns make a unique key together');
    });

    test('acceptedValues passes on known values and counts the others', async () => {
      assert.equal((await one(acceptedValues('status', ['paid', 'open']), await load(good))).passed, true);
      const failed = await one(acceptedValues('status', ['paid', 'open']), await load(bad));
      assert.equal(failed.passed, false);
      assert.equal(failed.metadata.unexpected_rows?.value, 3);
      assert.deepEqual(failed.metadata.examples?.value, [{ value: 'lost', n: 2 }, { value: 'weird', n: 1 }]);
    });

    test('matchesSchema passes on conforming rows and names the row, field and message of each violation', async () => {
      const schema = z.object({ id: z.number(), status: z.string(), email: z.string() });
      assert.equal((await one(matchesSchema(schema), await load(good))).passed, true);
      const failed = await one(matchesSchema(schema), await load(bad));
      assert.equal(failed.passed, false);
      const violations = failed.metadata.violations?.value as { row: number; path: string; message: string }[];
      // The scan ends with the first batch that has a violation: rows 1 and 3 in one batch, row 1 alone in batches of 2.
      assert.deepEqual(violations[0] && [violations[0].row, violations[0].path], [1, 'email']);
      assert.ok(violations.every((v) => (v.row === 1 || v.row === 3) && v.path === 'email'));
      assert.match(violations[0]?.message ?? '', /expected string, received null/i);
      assert.match(failed.description ?? '', /row 1, field 'email'/);
    });
  });
}

test('a check that throws is a failed evaluation carrying the error, not a crash', async () => {
  const throwing = check({ name: 'explodes', run: () => { throw new Error('connection refused'); } });
  const e = await one(throwing, streamed(good));
  assert.equal(e.passed, false);
  assert.equal(e.error, 'connection refused');
  assert.equal(e.metadata.error?.value, 'connection refused');
  assert.ok(logs.some((l) => l.includes("check 'explodes' of asset 't/rows' threw")));
});

test('a check that returns something other than a verdict is reported as a failed evaluation', async () => {
  const e = await one(check({ name: 'odd', run: () => 'yes' as unknown as boolean }), streamed(good));
  assert.equal(e.passed, false);
  assert.match(e.error ?? '', /returned string; a check returns a boolean or \{ passed: boolean/);
});

test('severity and blocking are carried into the evaluation', async () => {
  const e = await one(rowCountAtLeast(10, { severity: 'warn', blocking: true, name: 'enough' }), streamed(good));
  assert.deepEqual([e.name, e.severity, e.blocking, e.passed], ['enough', 'WARN', true, false]);
});

test('built-ins refuse bad arguments at declaration', () => {
  assert.throws(() => rowCountAtLeast(-1), /non-negative integer/);
  assert.throws(() => unique([]), /at least one column/);
  assert.throws(() => acceptedValues('status', []), /at least one value/);
});
