import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { SqliteCatalogStore } from '../../activities/catalog/sqlite-store';
import { DuckDBIOManager, DuckDBResource } from '../../activities/duckdb';
import { createLocationActivities } from '../../activities/location-activities';
import type { StepOutput } from '../../activities/types';
import { asset } from '../../definitions/asset';
import { codeLocation } from '../../definitions/code-location';

describe('the code-location step activity', () => {
  let dir: string;
  let catalog: SqliteCatalogStore;
  let warehouse: DuckDBResource;
  let calls = 0;
  const location = codeLocation({
    name: 'loc',
    assets: [
      asset({
        key: 'a/rows',
        codeVersion: '7',
        materialize: ({ attempt, log, addMetadata }) => {
          calls++;
          log.info(`attempt ${attempt}`);
          addMetadata({ attempt });
          return [{ id: 1 }, { id: 2 }, { id: 3 }];
        },
      }),
      asset({ key: 'a/configured', config: z.object({ threshold: z.number().min(0) }), materialize: ({ config }) => [{ t: (config as { threshold: number }).threshold }] }),
      asset({ key: 'a/needs_upstream', ins: { up: 'a/never' }, materialize: () => undefined }),
      asset({ key: 'a/never', materialize: () => undefined }),
      asset({
        key: 'a/shell',
        deps: ['a/rows'],
        async materialize({ exec, setDataVersion }) {
          const { stdout } = await exec('sh', ['-c', 'echo hello-out; echo hello-err >&2; echo second-out']);
          setDataVersion(`v-${stdout.split('\n').length}`);
          return undefined;
        },
      }),
      asset({ key: 'a/shell_fails', retry: { maxAttempts: 1 }, materialize: ({ exec }) => exec('sh', ['-c', 'echo about to fail; echo boom >&2; exit 3']) }),
    ],
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-loc-'));
    catalog = await SqliteCatalogStore.open(join(dir, 'catalog.db'));
    warehouse = new DuckDBResource({ path: join(dir, 'w.duckdb') });
  });
  after(async () => {
    await warehouse.close();
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const activities = () => createLocationActivities({ location, catalog, io: new DuckDBIOManager(warehouse), resources: {} });

  test('a step executed again for the same run (a retry after a lost completion) leaves one materialization row', async () => {
    const input = { runId: 'run-1', assetKey: 'a/rows' };
    const first = (await new MockActivityEnvironment({ attempt: 1 }).run(activities().materializeStep, input)) as StepOutput;
    const second = (await new MockActivityEnvironment({ attempt: 2 }).run(activities().materializeStep, input)) as StepOutput;
    assert.equal(calls, 2);
    assert.equal(first.metadata.rowCount?.value, 3);
    assert.equal(second.metadata.attempt?.value, 2);
    assert.equal(await catalog.countAssetEvents({ type: 'materialization', runId: 'run-1', assetKey: 'a/rows' }), 1);
    const [m] = (await catalog.assetHistory('a/rows')).events;
    assert.equal(m?.attempt, 2);
    assert.equal(m?.codeVersion, '7');
    assert.equal(m?.codeLocation, 'loc');
    const logs = await catalog.getLogs('run-1', 'a/rows');
    assert.deepEqual(logs.map((l) => [l.attempt, l.message]), [[1, 'attempt 1'], [2, 'attempt 2']]);
  });

  test('invalid run config fails without retry and names the config field', async () => {
    await assert.rejects(new MockActivityEnvironment().run(activities().materializeStep, { runId: 'run-2', assetKey: 'a/configured', config: { threshold: -1 } }), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.nonRetryable, true);
      assert.equal(err.type, 'INVALID_CONFIG');
      assert.match(err.message, /asset 'a\/configured': invalid run config: config field 'threshold'/);
      return true;
    });
    assert.equal(await catalog.countAssetEvents({ type: 'materialization', runId: 'run-2' }), 0);
  });

  test('an upstream that was never materialized fails without retry, naming the asset and table', async () => {
    await assert.rejects(new MockActivityEnvironment().run(activities().materializeStep, { runId: 'run-3', assetKey: 'a/needs_upstream' }), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /asset 'a\/never' has not been materialized/);
      return true;
    });
  });

  test('an asset the location does not define is a non-retryable failure that says to restart the worker', async () => {
    await assert.rejects(new MockActivityEnvironment().run(activities().materializeStep, { runId: 'run-4', assetKey: 'a/gone' }), /not defined in code location 'loc'; restart its worker/);
  });

  test('ctx.exec streams a subprocess\'s stdout and stderr into the step log; the step records its data version and inputs', async () => {
    await new MockActivityEnvironment({ attempt: 1 }).run(activities().materializeStep, { runId: 'run-5', assetKey: 'a/shell' });
    const logs = await catalog.getLogs('run-5', 'a/shell');
    // stdout lines keep their order; how they interleave with stderr lines depends on the pipes.
    assert.deepEqual(logs.filter((l) => l.level === 'info').map((l) => l.message), ['hello-out', 'second-out']);
    assert.deepEqual(logs.filter((l) => l.level === 'warn').map((l) => l.message), ['hello-err']);
    const [m] = (await catalog.assetHistory('a/shell')).events;
    assert.equal(m?.dataVersion, 'v-3');
    const rowsVersion = (await catalog.assetStatuses(['a/rows'])).get('a/rows')?.lastMaterialization?.dataVersion;
    assert.ok(rowsVersion);
    assert.deepEqual(m?.inputDataVersions, { 'a/rows': rowsVersion });
  });

  test('a subprocess exiting non-zero fails the step with its exit code and last stderr lines, kept in the log', async () => {
    await assert.rejects(new MockActivityEnvironment().run(activities().materializeStep, { runId: 'run-6', assetKey: 'a/shell_fails' }), /'sh' exited with code 3:\nboom/);
    const logs = await catalog.getLogs('run-6', 'a/shell_fails');
    assert.deepEqual(logs.filter((l) => l.level !== 'error').map((l) => l.message).sort(), ['about to fail', 'boom']);
    assert.equal(await catalog.countAssetEvents({ runId: 'run-6' }), 0);
  });
});
