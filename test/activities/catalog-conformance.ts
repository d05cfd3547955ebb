import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CatalogStore, MaterializationRecord, StepResultRecord } from '../../activities/catalog';
import type { LocationSnapshot } from '../../definitions/snapshot';

/** A short unique prefix: every test writes under its own ids, so the suite can share one database. */
const uid = (): string => randomUUID().slice(0, 8);

function snapshot(name: string, version: string, assetKey = `${name}/a`): LocationSnapshot {
  return {
    name,
    taskQueue: `cairn-loc-${name}`,
    version,
    resources: { warehouse: { type: 'duckdb' } },
    assets: [
      {
        key: assetKey, deps: [], group: 'default', kinds: ['table'], owners: [], tags: {}, metadata: { rows: 1 },
        isExternal: false, resources: ['warehouse'], codeLocation: name,
      },
    ],
  };
}

function materialization(over: Partial<MaterializationRecord> & Pick<MaterializationRecord, 'runId' | 'assetKey'>): MaterializationRecord {
  return { partition: null, attempt: 1, metadata: {}, at: '2024-01-01T00:00:00.000Z', ...over };
}

/**
 * Registers the behaviour every {@link CatalogStore} must show. `open` must open the SAME database on every
 * call (the suite reopens it); tests isolate themselves with unique run ids, asset keys and location names.
 */
export function catalogConformance(name: string, open: () => Promise<CatalogStore>): void {
  async function withStore<T>(fn: (store: CatalogStore) => Promise<T>): Promise<T> {
    const store = await open();
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  }

  describe(`${name} catalog store`, () => {
    test('opening the catalog twice and migrating again keeps the schema and the data', async () => {
      const runId = `run-${uid()}`;
      await withStore((s) => s.recordRunStarted({ runId, workflowId: 'wf', selection: '*', tags: {}, stepCount: 1, startedAt: '2024-01-01T00:00:00.000Z' }));
      const [a, b] = await Promise.all([open(), open()]);
      try {
        await a.migrate();
        await b.migrate();
        assert.equal((await b.getRun(runId))?.status, 'running');
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('a published snapshot replaces the previous one of its location and snapshots come back sorted by name', async () => {
      const p = uid();
      await withStore(async (s) => {
        await s.publishSnapshot(snapshot(`${p}-zeta`, 'v1'), '2024-01-01T00:00:00.000Z');
        await s.publishSnapshot(snapshot(`${p}-alpha`, 'v1'), '2024-01-01T00:00:00.000Z');
        await s.publishSnapshot(snapshot(`${p}-alpha`, 'v2', 'alpha/b'), '2024-01-02T00:00:00.000Z');
        await s.publishSnapshot(snapshot(`${p}-alpha`, 'v2', 'alpha/b'), '2024-01-03T00:00:00.000Z');
        const mine = (await s.getSnapshots()).filter((x) => x.name.startsWith(p));
        assert.deepEqual(mine.map((x) => [x.name, x.version]), [[`${p}-alpha`, 'v2'], [`${p}-zeta`, 'v1']]);
        assert.deepEqual(mine[0], snapshot(`${p}-alpha`, 'v2', 'alpha/b'));
        await s.removeSnapshot(`${p}-zeta`);
        const left = (await s.getSnapshots()).filter((x) => x.name.startsWith(p));
        assert.deepEqual(left.map((x) => x.name), [`${p}-alpha`]);
      });
    });

    test('starting and finishing a run twice records it once and keeps the first outcome', async () => {
      const runId = `run-${uid()}`;
      const started = { runId, workflowId: `wf-${runId}`, selection: 'raw/*', tags: { team: 'data' }, stepCount: 3, startedAt: '2024-01-01T00:00:00.000Z' };
      await withStore(async (s) => {
        await s.recordRunStarted(started);
        await s.recordRunStarted({ ...started, selection: 'other', stepCount: 9 });
        assert.deepEqual(await s.getRun(runId), { ...started, status: 'running' });
        await s.recordRunFinished(runId, 'succeeded', '2024-01-01T00:01:00.000Z', { materialized: 3 });
        await s.recordRunFinished(runId, 'failed', '2024-01-01T00:02:00.000Z', { replayed: true });
        await s.recordRunStarted(started);
        assert.deepEqual(await s.getRun(runId), {
          ...started, status: 'succeeded', finishedAt: '2024-01-01T00:01:00.000Z', summary: { materialized: 3 },
        });
        assert.equal(await s.getRun(`missing-${uid()}`), undefined);
      });
    });

    test('runs are listed newest first and the limit is honoured', async () => {
      const p = uid();
      await withStore(async (s) => {
        // Far in the future (and later on every suite run), so these are the newest runs of a shared database.
        const base = Date.now() + 100 * 365 * 24 * 3600 * 1000;
        for (const [i, offset] of [0, 2000, 1000].entries()) {
          const startedAt = new Date(base + offset).toISOString();
          await s.recordRunStarted({ runId: `${p}-${i}`, workflowId: 'wf', selection: '*', tags: {}, stepCount: 0, startedAt });
        }
        assert.deepEqual((await s.listRuns(2)).map((r) => r.runId), [`${p}-1`, `${p}-2`]);
        const all = (await s.listRuns()).filter((r) => r.runId.startsWith(p));
        assert.deepEqual(all.map((r) => r.runId), [`${p}-1`, `${p}-2`, `${p}-0`]);
      });
    });

    test('a retried materialization of the same run, key and partition leaves one row with the later metadata', async () => {
      const runId = `run-${uid()}`;
      const assetKey = `asset/${uid()}`;
      await withStore(async (s) => {
        const first = await s.recordMaterialization(materialization({ runId, assetKey, metadata: { rows: 1 }, codeVersion: 'c1', codeLocation: 'loc' }));
        const second = await s.recordMaterialization(materialization({ runId, assetKey, attempt: 2, metadata: { rows: 2 }, codeVersion: 'c1', codeLocation: 'loc', at: '2024-01-01T00:05:00.000Z' }));
        assert.deepEqual([first, second], [{ inserted: true }, { inserted: false }]);
        assert.equal(await s.countMaterializations({ runId, assetKey }), 1);
        assert.deepEqual(await s.listMaterializations(assetKey), [
          { runId, assetKey, partition: null, attempt: 2, metadata: { rows: 2 }, codeVersion: 'c1', codeLocation: 'loc', at: '2024-01-01T00:05:00.000Z' },
        ]);
      });
    });

    test('materializations of different partitions are different rows and are listed newest first', async () => {
      const runId = `run-${uid()}`;
      const assetKey = `asset/${uid()}`;
      await withStore(async (s) => {
        await s.recordMaterialization(materialization({ runId, assetKey, partition: '2024-01-01', at: '2024-01-02T00:00:00.000Z' }));
        await s.recordMaterialization(materialization({ runId, assetKey, partition: '2024-01-02', at: '2024-01-03T00:00:00.000Z' }));
        await s.recordMaterialization(materialization({ runId, assetKey, partition: null, at: '2024-01-01T00:00:00.000Z' }));
        assert.equal(await s.countMaterializations({ assetKey }), 3);
        assert.equal(await s.countMaterializations({ runId }), 3);
        assert.ok((await s.countMaterializations()) >= 3);
        assert.deepEqual((await s.listMaterializations(assetKey)).map((m) => m.partition), ['2024-01-02', '2024-01-01', null]);
        assert.deepEqual((await s.listMaterializations(assetKey, 1)).map((m) => m.partition), ['2024-01-02']);
      });
    });

    test('step results upsert on run and asset key and the later attempt wins', async () => {
      const runId = `run-${uid()}`;
      const step = (assetKey: string, over: Partial<StepResultRecord> = {}): StepResultRecord => ({
        runId, assetKey, status: 'failed', error: 'boom', attempt: 1, at: '2024-01-01T00:00:00.000Z', ...over,
      });
      await withStore(async (s) => {
        await s.recordStepResults([step('a'), step('b', { status: 'skipped', error: undefined, at: '2024-01-01T00:00:01.000Z' })]);
        await s.recordStepResults([step('a', { status: 'materialized', error: undefined, attempt: 2, at: '2024-01-01T00:00:02.000Z' })]);
        await s.recordStepResults([step('a', { attempt: 1, at: '2024-01-01T00:00:03.000Z' })]);
        const results = await s.getStepResults(runId);
        assert.deepEqual(results, [
          { runId, assetKey: 'b', status: 'skipped', attempt: 1, at: '2024-01-01T00:00:01.000Z' },
          { runId, assetKey: 'a', status: 'materialized', attempt: 2, at: '2024-01-01T00:00:02.000Z' },
        ]);
      });
    });

    test('appending the same log lines twice stores them once', async () => {
      const runId = `run-${uid()}`;
      const lines = [
        { seq: 0, level: 'info' as const, message: 'start', at: '2024-01-01T00:00:00.000Z' },
        { seq: 1, level: 'warn' as const, message: 'slow', at: '2024-01-01T00:00:01.000Z' },
      ];
      await withStore(async (s) => {
        await s.appendLogs(runId, 'a', 1, lines);
        await s.appendLogs(runId, 'a', 1, lines);
        await s.appendLogs(runId, 'a', 2, lines.slice(0, 1));
        await s.appendLogs(runId, 'b', 1, [{ seq: 0, level: 'error', message: 'bad', at: '2024-01-01T00:00:02.000Z' }]);
        assert.equal((await s.getLogs(runId)).length, 4);
        assert.deepEqual(await s.getLogs(runId, 'a'), [
          { ...lines[0], assetKey: 'a', attempt: 1 },
          { ...lines[0], assetKey: 'a', attempt: 2 },
          { ...lines[1], assetKey: 'a', attempt: 1 },
        ]);
        assert.deepEqual(await s.getLogs(`other-${uid()}`), []);
      });
    });

    test('asset statuses report the latest materialization and the latest step result of each asset', async () => {
      const p = uid();
      const [a, b, c] = [`${p}/a`, `${p}/b`, `${p}/c`];
      await withStore(async (s) => {
        await s.recordMaterialization(materialization({ runId: `${p}-r1`, assetKey: a, metadata: { n: 1 }, at: '2024-01-01T00:00:00.000Z' }));
        await s.recordStepResults([{ runId: `${p}-r1`, assetKey: a, status: 'materialized', attempt: 1, at: '2024-01-01T00:00:00.000Z' }]);
        await s.recordMaterialization(materialization({ runId: `${p}-r2`, assetKey: a, metadata: { n: 2 }, at: '2024-01-02T00:00:00.000Z' }));
        await s.recordStepResults([
          { runId: `${p}-r3`, assetKey: a, status: 'failed', error: 'x', attempt: 3, at: '2024-01-03T00:00:00.000Z' },
          { runId: `${p}-r3`, assetKey: b, status: 'skipped', attempt: 1, at: '2024-01-03T00:00:00.000Z' },
        ]);
        const statuses = await s.assetStatuses([a, b, c]);
        assert.deepEqual([...statuses.keys()].sort(), [a, b, c]);
        assert.deepEqual(statuses.get(a)?.lastMaterialization?.metadata, { n: 2 });
        assert.equal(statuses.get(a)?.lastMaterialization?.runId, `${p}-r2`);
        assert.deepEqual(statuses.get(a)?.lastStep, { runId: `${p}-r3`, assetKey: a, status: 'failed', error: 'x', attempt: 3, at: '2024-01-03T00:00:00.000Z' });
        assert.equal(statuses.get(b)?.lastMaterialization, undefined);
        assert.equal(statuses.get(b)?.lastStep?.status, 'skipped');
        assert.deepEqual(statuses.get(c), {});
        const everything = await s.assetStatuses();
        assert.equal(everything.get(a)?.lastMaterialization?.runId, `${p}-r2`);
        assert.equal(everything.has(c), false);
      });
    });
  });
}
