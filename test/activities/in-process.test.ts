import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { duckdb, type TableInput } from '../../activities/duckdb';
import { materializeInProcess } from '../../activities/in-process';
import { asset } from '../../definitions/asset';

const warehouse = duckdb({ path: ':memory:' });
const raw = asset({ key: 'raw/nums', materialize: () => [1, 2, 3, 4].map((n) => ({ n })) });
const evens = asset({ key: 'stg/evens', ins: { raw: 'raw/nums' }, resources: ['warehouse'], materialize: ({ ins }) => warehouse.sql`select n from ${ins.raw as TableInput} where n % 2 = ${0}` });
const total = asset({
  key: 'marts/total',
  ins: { evens: { asset: 'stg/evens', load: 'rows' } },
  config: z.object({ factor: z.number().default(1) }),
  materialize: ({ ins, config, addMetadata }) => {
    const sum = (ins.evens as { n: number }[]).reduce((s, r) => s + r.n, 0) * (config as { factor: number }).factor;
    addMetadata({ sum });
    return [{ sum }];
  },
});
const broken = asset({ key: 'x/broken', deps: ['raw/nums'], materialize: () => { throw new Error('boom'); } });
const afterBroken = asset({ key: 'x/after', deps: ['x/broken'], materialize: () => undefined });

test('materializeInProcess runs the same step code without Temporal, in dependency order, with config', async () => {
  const result = await materializeInProcess([total, evens, raw], { resources: { warehouse }, config: { 'marts/total': { factor: 10 } } });
  assert.equal(result.status, 'succeeded');
  assert.deepEqual(result.assets.map((a) => [a.key, a.status]), [['raw/nums', 'materialized'], ['stg/evens', 'materialized'], ['marts/total', 'materialized']]);
  assert.equal(result.assets[2]?.metadata?.sum?.value, 60);
  assert.equal(result.assets[1]?.metadata?.rowCount?.value, 2);
});

test('materializeInProcess honours a selection and skips the downstream of a failure', async () => {
  const result = await materializeInProcess([raw, broken, afterBroken], { resources: { warehouse }, selection: '+x/after' });
  assert.equal(result.status, 'failed');
  assert.deepEqual(result.assets.map((a) => [a.key, a.status]), [['raw/nums', 'materialized'], ['x/broken', 'failed'], ['x/after', 'skipped']]);
  assert.match(result.assets[1]?.error ?? '', /boom/);
});

test('materializeInProcess rejects invalid definitions with every problem', async () => {
  await assert.rejects(materializeInProcess([asset({ key: 'bad key', materialize: () => undefined }), asset({ key: 'a/b', deps: ['a/c'], materialize: () => undefined })]), /invalid segment 'bad key'/);
});
