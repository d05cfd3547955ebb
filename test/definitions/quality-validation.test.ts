import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { asset, externalAsset } from '../../definitions/asset';
import { rowCountAtLeast, unique } from '../../definitions/builtin-checks';
import { check } from '../../definitions/checks';
import { codeLocation } from '../../definitions/code-location';
import { ContractValidator, ContractViolationError } from '../../definitions/contract';
import { locationSnapshot } from '../../definitions/to-snapshot';
import { validateLocation } from '../../definitions/validate';

const messages = (loc: ReturnType<typeof codeLocation>) => validateLocation(loc, 'loc.ts').map((p) => p.message);

test('inline checks are attached to their asset and standalone checks to the asset they name', () => {
  const orders = asset({ key: 'shop/orders', checks: [rowCountAtLeast(1)], materialize: () => [] });
  const positive = check({ asset: orders, name: 'positive', blocking: true, run: () => true });
  const loc = codeLocation({ name: 'shop', assets: [orders], checks: [positive] });
  assert.deepEqual(loc.assets[0]?.checks?.map((c) => [c.asset, c.name, c.blocking, c.severity]), [
    ['shop/orders', 'row_count_at_least', false, 'ERROR'],
    ['shop/orders', 'positive', true, 'ERROR'],
  ]);
  assert.deepEqual(messages(loc), []);
  const snap = locationSnapshot(loc).assets[0];
  assert.deepEqual(snap?.checks?.map((c) => c.name), ['row_count_at_least', 'positive']);
});

test('the snapshot carries the contract as JSON Schema and the IO manager name', () => {
  const users = asset({ key: 'u', schema: z.object({ id: z.number() }), io: 'files', materialize: () => [] });
  const snap = locationSnapshot(codeLocation({ name: 'x', assets: [users], resources: { files: {} } })).assets[0];
  assert.deepEqual((snap?.contract as { properties?: unknown })?.properties, { id: { type: 'number' } });
  assert.equal(snap?.io, 'files');
});

test('validation names each bad check, contract and IO manager with its asset', () => {
  const a = asset({
    key: 'a',
    checks: [rowCountAtLeast(1), rowCountAtLeast(2), check({ name: 'bad name!', run: () => true }), check({ name: 'loud', severity: 'fatal' as 'error', run: () => true })],
    schema: z.string() as unknown as z.ZodObject,
    io: 'parquet',
    materialize: () => [],
  });
  const b = asset({ key: 'b', schema: {} as z.ZodObject, schemaSample: 2, materialize: () => [] });
  const ext = externalAsset({ key: 'ext' });
  const orphan = check({ asset: 'missing', name: 'c1', run: () => true });
  const onExternal = check({ asset: 'ext', name: 'c2', run: () => true });
  const found = messages(codeLocation({ name: 'x', assets: [a, b, ext], checks: [orphan, onExternal] }));
  const expect = [
    "asset 'a' has two checks named 'row_count_at_least'",
    "check 'bad name!' of asset 'a': the name must match",
    "check 'loud' of asset 'a': severity must be 'error' or 'warn', got \"fatal\"",
    "asset 'a': schema must be a zod object schema (z.object({ ... })), got a zod string",
    "asset 'a': unknown IO manager 'parquet'; io names a resource of the location that is an IO manager (resources: none)",
    "asset 'b': schema must be a zod object schema such as z.object({ id: z.number() }), got object",
    "asset 'b': schemaSample must be a fraction of rows in (0, 1], such as 0.01, got 2",
    "asset 'ext' is external: Cairn runs TypeScript checks only for assets it materializes itself",
    "check 'c1' is for asset 'missing', which this location does not define",
  ];
  for (const e of expect) assert.ok(found.some((m) => m.includes(e)), `expected a problem containing: ${e}\nfound:\n${found.join('\n')}`);
});

test('a contract validator reports the first violations with row, path and message, then stops', () => {
  const v = new ContractValidator('t', z.object({ id: z.number(), tags: z.array(z.string()) }));
  v.checkBatch([{ id: 1, tags: [] }]);
  assert.throws(
    () => v.checkBatch([{ id: 2, tags: ['a', 3] }, { id: 'x', tags: [] }]),
    (err: unknown) => {
      assert.ok(err instanceof ContractViolationError);
      assert.deepEqual(err.violations.map((x) => [x.row, x.path]), [[1, 'tags.1'], [2, 'id']]);
      assert.equal(err.code, 'CONTRACT_VIOLATION');
      return true;
    },
  );
});

test('a contract validator lists at most ten violations', () => {
  const v = new ContractValidator('t', z.object({ id: z.number() }));
  assert.throws(() => v.checkBatch(Array.from({ length: 50 }, () => ({ id: 'no' }))), (err: unknown) => err instanceof ContractViolationError && err.violations.length === 10);
});

test('unique() derives its default name from its columns', () => {
  assert.equal(unique(['order id', 'day']).name, 'unique_order_id_day');
});
