import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runEventKey, type AssetEvent, type CatalogStore, type StepResultRecord } from '../../activities/catalog';
import { pairKey, type AutomationEvaluationRecord } from '../../activities/catalog/catalog-store';
import type { Metadata } from '../../definitions/metadata';
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

/** A run's materialization event, keyed like the step activity keys it. */
function materialization(over: Partial<AssetEvent> & { runId: string; assetKey: string }): AssetEvent {
  const partition = over.partition ?? null;
  return {
    eventKey: runEventKey('materialization', over.runId, over.assetKey, partition), type: 'materialization', partition,
    attempt: 1, metadata: {}, at: '2024-01-01T00:00:00.000Z', source: 'run', ...over,
  };
}

/** A run's check evaluation, keyed like the step activity keys it. */
function checkEvaluation(over: Partial<AssetEvent> & { runId: string; assetKey: string; name: string; passed: boolean }): AssetEvent {
  const { name, passed, ...rest } = over;
  const partition = rest.partition ?? null;
  return {
    eventKey: runEventKey('check_evaluation', rest.runId, rest.assetKey, partition, name), type: 'check_evaluation', partition,
    attempt: 1, metadata: {}, at: '2024-01-01T00:00:00.000Z', source: 'run', check: { name, passed, severity: 'ERROR' }, ...rest,
  };
}

/** An event reported from outside (`cairn report`). */
function reported(over: Partial<AssetEvent> & { assetKey: string; type: AssetEvent['type'] }): AssetEvent {
  return { eventKey: `report:${uid()}`, partition: null, runId: null, attempt: 1, metadata: {}, at: '2024-01-01T00:00:00.000Z', source: 'report', ...over };
}

/** One automation evaluation of an asset (or partition): not requested unless said otherwise. */
function evaluation(over: Partial<AutomationEvaluationRecord> & { evaluationId: string; assetKey: string }): AutomationEvaluationRecord {
  return { at: '2024-01-01T00:00:00.000Z', partition: null, requested: false, reason: 'nothing changed', watermark: 0, ...over };
}

const run = (runId: string, startedAt = '2024-01-01T00:00:00.000Z') => ({ runId, workflowId: `wf-${runId}`, selection: '*', tags: {}, stepCount: 1, startedAt });

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
        assert.deepEqual(await s.getRun(runId), { ...started, status: 'running', trigger: 'manual', locations: [] });
        await s.recordRunFinished(runId, 'succeeded', '2024-01-01T00:01:00.000Z', { materialized: 3 });
        await s.recordRunFinished(runId, 'failed', '2024-01-01T00:02:00.000Z', { replayed: true });
        await s.recordRunStarted(started);
        assert.deepEqual(await s.getRun(runId), {
          ...started, status: 'succeeded', finishedAt: '2024-01-01T00:01:00.000Z', summary: { materialized: 3 }, trigger: 'manual', locations: [],
        });
        assert.deepEqual(await s.runLifecycleEvents(runId), [
          { type: 'run_started', runId, at: '2024-01-01T00:00:00.000Z' },
          { type: 'run_finished', runId, at: '2024-01-01T00:01:00.000Z', status: 'succeeded' },
        ]);
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
        assert.deepEqual((await s.listRuns({ limit: 2 })).map((r) => r.runId), [`${p}-1`, `${p}-2`]);
        const all = (await s.listRuns()).filter((r) => r.runId.startsWith(p));
        assert.deepEqual(all.map((r) => r.runId), [`${p}-1`, `${p}-2`, `${p}-0`]);
      });
    });

    test('a retried materialization of the same run, key and partition leaves one row with the later metadata', async () => {
      const runId = `run-${uid()}`;
      const assetKey = `asset/${uid()}`;
      await withStore(async (s) => {
        const first = await s.recordAssetEvent(materialization({ runId, assetKey, metadata: { rows: { type: 'row_count', value: 1 } }, codeVersion: 'c1', codeLocation: 'loc' }));
        const second = await s.recordAssetEvent(materialization({
          runId, assetKey, attempt: 2, metadata: { rows: { type: 'row_count', value: 2 } }, codeVersion: 'c1', codeLocation: 'loc',
          at: '2024-01-01T00:05:00.000Z', dataVersion: 'dv2', inputDataVersions: { up: 'x', gone: null },
        }));
        const late = await s.recordAssetEvent(materialization({ runId, assetKey, attempt: 1, metadata: { stale: { type: 'text', value: 'late' } } }));
        assert.deepEqual([first, second, late], [{ inserted: true }, { inserted: false }, { inserted: false }]);
        assert.equal(await s.countAssetEvents({ runId, assetKey }), 1);
        const { events } = await s.assetHistory(assetKey);
        assert.equal(events.length, 1);
        const { id, ...rest } = events[0] as NonNullable<(typeof events)[0]>;
        assert.ok(id > 0);
        assert.deepEqual(rest, materialization({
          runId, assetKey, attempt: 2, metadata: { rows: { type: 'row_count', value: 2 } }, codeVersion: 'c1', codeLocation: 'loc',
          at: '2024-01-01T00:05:00.000Z', dataVersion: 'dv2', inputDataVersions: { up: 'x', gone: null },
        }));
        assert.equal((await s.assetStatuses([assetKey])).get(assetKey)?.lastMaterialization?.at, '2024-01-01T00:05:00.000Z');
      });
    });

    test('typed metadata of every kind round-trips', async () => {
      const assetKey = `asset/${uid()}`;
      const metadata = {
        n: { type: 'number', value: 1.5 }, t: { type: 'text', value: 'hello' }, md: { type: 'markdown', value: '# Title' },
        u: { type: 'url', value: 'https://example.com/x' }, b: { type: 'bool', value: false }, j: { type: 'json', value: { a: [1, null] } },
        rows: { type: 'row_count', value: 42 }, schema: { type: 'table_schema', value: { columns: [{ name: 'id', type: 'BIGINT' }, { name: 'x', type: 'TEXT', description: 'x' }] } },
      } satisfies Metadata;
      await withStore(async (s) => {
        await s.recordAssetEvent(reported({ assetKey, type: 'observation', metadata }));
        assert.deepEqual((await s.assetHistory(assetKey)).events[0]?.metadata, metadata);
      });
    });

    test('materializations of different partitions are different rows; history pages newest first with a cursor', async () => {
      const runId = `run-${uid()}`;
      const assetKey = `asset/${uid()}`;
      await withStore(async (s) => {
        await s.recordAssetEvent(materialization({ runId, assetKey, partition: '2024-01-01', at: '2024-01-02T00:00:00.000Z' }));
        await s.recordAssetEvent(materialization({ runId, assetKey, partition: '2024-01-02', at: '2024-01-03T00:00:00.000Z' }));
        await s.recordAssetEvent(materialization({ runId, assetKey, partition: null, at: '2024-01-01T00:00:00.000Z' }));
        await s.recordAssetEvent(reported({ assetKey, type: 'observation', at: '2024-01-04T00:00:00.000Z' }));
        assert.equal(await s.countAssetEvents({ assetKey }), 4);
        assert.equal(await s.countAssetEvents({ assetKey, type: 'materialization' }), 3);
        assert.equal(await s.countAssetEvents({ runId }), 3);
        const page1 = await s.assetHistory(assetKey, { limit: 3 });
        assert.deepEqual(page1.events.map((e) => [e.type, e.partition]), [['observation', null], ['materialization', null], ['materialization', '2024-01-02']]);
        assert.ok(page1.nextCursor !== undefined);
        const page2 = await s.assetHistory(assetKey, { limit: 3, before: page1.nextCursor });
        assert.deepEqual(page2.events.map((e) => e.partition), ['2024-01-01']);
        assert.equal(page2.nextCursor, undefined);
        const onlyMat = await s.assetHistory(assetKey, { types: ['materialization'], partition: '2024-01-02' });
        assert.deepEqual(onlyMat.events.map((e) => e.partition), ['2024-01-02']);
        assert.deepEqual((await s.runEvents(runId)).map((e) => e.partition), ['2024-01-01', '2024-01-02', null]);
      });
    });

    test('a reported event with the same event key is stored once', async () => {
      const assetKey = `asset/${uid()}`;
      await withStore(async (s) => {
        const e = reported({ assetKey, type: 'materialization', dataVersion: 'v1' });
        assert.deepEqual(await s.recordAssetEvent(e), { inserted: true });
        assert.deepEqual(await s.recordAssetEvent({ ...e, dataVersion: 'v2', metadata: { n: { type: 'number', value: 1 } } }), { inserted: false });
        assert.equal(await s.countAssetEvents({ assetKey }), 1);
        assert.deepEqual((await s.assetHistory(assetKey)).events[0]?.metadata, {}, 'the first report stands');
        const st = (await s.assetStatuses([assetKey])).get(assetKey);
        assert.equal(st?.lastMaterialization?.source, 'report');
        assert.equal(st?.lastMaterialization?.runId, null);
        assert.equal(st?.lastMaterialization?.dataVersion, 'v1');
      });
    });

    test('the run index filters by asset, status, trigger and time', async () => {
      const p = uid();
      const base = Date.now() + 200 * 365 * 24 * 3600 * 1000;
      const at = (minutes: number): string => new Date(base + minutes * 60_000).toISOString();
      await withStore(async (s) => {
        await s.recordRunStarted({ ...run(`${p}-a`, at(0)), trigger: 'cli', locations: ['l1'], assetKeys: [`${p}/x`, `${p}/y`], config: { [`${p}/x`]: { k: 1 } } });
        await s.recordRunStarted({ ...run(`${p}-b`, at(10)), trigger: 'schedule', assetKeys: [`${p}/y`], partition: '2024-01-01' });
        await s.recordRunStarted({ ...run(`${p}-c`, at(20)), trigger: 'reexecution', assetKeys: [`${p}/x`], parentRunId: `${p}-a`, rootRunId: `${p}-a` });
        await s.recordRunFinished(`${p}-a`, 'failed', at(5));
        await s.recordRunFinished(`${p}-b`, 'succeeded', at(15));
        const ids = async (f: Parameters<CatalogStore['listRuns']>[0]): Promise<string[]> => (await s.listRuns(f)).map((r) => r.runId).filter((id) => id.startsWith(p));
        assert.deepEqual(await ids({ asset: `${p}/x` }), [`${p}-c`, `${p}-a`]);
        assert.deepEqual(await ids({ asset: `${p}/y`, status: 'succeeded' }), [`${p}-b`]);
        assert.deepEqual(await ids({ trigger: 'cli' }), [`${p}-a`]);
        assert.deepEqual(await ids({ since: at(10), until: at(20) }), [`${p}-b`]);
        assert.deepEqual(await ids({ status: 'failed', since: at(0) }), [`${p}-a`]);
        const c = await s.getRun(`${p}-c`);
        assert.equal(c?.parentRunId, `${p}-a`);
        assert.equal(c?.trigger, 'reexecution');
        assert.equal((await s.getRun(`${p}-b`))?.partition, '2024-01-01');
        assert.deepEqual((await s.getRun(`${p}-a`))?.config, { [`${p}/x`]: { k: 1 } });
        assert.deepEqual(await s.getRunAssets(`${p}-a`), [`${p}/x`, `${p}/y`]);
      });
    });

    test('an asset planned by a running run is in progress until the run materializes it', async () => {
      const p = uid();
      const [x, y] = [`${p}/x`, `${p}/y`];
      await withStore(async (s) => {
        await s.recordRunStarted({ ...run(`${p}-r`), assetKeys: [x, y] });
        let st = await s.assetStatuses([x, y]);
        assert.equal(st.get(x)?.inProgressRunId, `${p}-r`);
        await s.recordAssetEvent(materialization({ runId: `${p}-r`, assetKey: x }));
        st = await s.assetStatuses([x, y]);
        assert.equal(st.get(x)?.inProgressRunId, undefined);
        assert.equal(st.get(y)?.inProgressRunId, `${p}-r`);
        await s.recordRunFinished(`${p}-r`, 'failed', '2024-01-01T00:01:00.000Z');
        assert.equal((await s.assetStatuses([y])).get(y)?.inProgressRunId, undefined);
      });
    });

    test('an asset of a running partitioned run is in progress until the run materializes its partitions', async () => {
      const p = uid();
      const x = `${p}/x`;
      await withStore(async (s) => {
        await s.recordRunStarted({ ...run(`${p}-r`), assetKeys: [x], partitionKeys: ['2024-01-01', '2024-01-02'] });
        assert.equal((await s.assetStatuses([x])).get(x)?.inProgressRunId, `${p}-r`);
        for (const partition of ['2024-01-01', '2024-01-02']) await s.recordAssetEvent(materialization({ runId: `${p}-r`, assetKey: x, partition }));
        assert.equal((await s.assetStatuses([x])).get(x)?.inProgressRunId, undefined);
      });
    });

    test('pruning deletes old events and logs but keeps each asset\'s latest event of each type and partition', async () => {
      const p = uid();
      const [x, y] = [`${p}/x`, `${p}/y`];
      await withStore(async (s) => {
        for (const [i, day] of ['01', '02', '03'].entries()) {
          await s.recordRunStarted({ ...run(`${p}-${i}`, `1990-01-${day}T00:00:00.000Z`), assetKeys: [x] });
          await s.recordAssetEvent(materialization({ runId: `${p}-${i}`, assetKey: x, at: `1990-01-${day}T00:00:01.000Z` }));
          await s.appendLogs(`${p}-${i}`, x, 1, [{ seq: 0, level: 'info', message: 'hi', at: `1990-01-${day}T00:00:01.000Z` }]);
          await s.recordRunFinished(`${p}-${i}`, 'succeeded', `1990-01-${day}T00:00:02.000Z`);
        }
        await s.recordAssetEvent(reported({ assetKey: y, type: 'observation', at: '1990-01-01T00:00:00.000Z' }));
        await s.recordAssetEvent(reported({ assetKey: x, type: 'observation', at: '1990-01-01T00:00:00.000Z' }));
        const dry = await s.prune('1990-01-03T00:00:00.000Z', { dryRun: true });
        assert.ok(dry.events >= 2 && dry.logs >= 2, JSON.stringify(dry));
        assert.equal(await s.countAssetEvents({ assetKey: x }), 4, 'a dry run deletes nothing');
        await s.prune('1990-01-03T00:00:00.000Z');
        const left = (await s.assetHistory(x)).events.map((e) => [e.type, e.runId]);
        assert.deepEqual(left, [['observation', null], ['materialization', `${p}-2`]]);
        assert.equal(await s.countAssetEvents({ assetKey: y }), 1);
        assert.equal((await s.getLogs(`${p}-0`)).length, 0);
        assert.equal((await s.getLogs(`${p}-2`)).length, 1);
        assert.equal((await s.assetStatuses([x])).get(x)?.lastMaterialization?.runId, `${p}-2`);
        assert.ok((await s.getRun(`${p}-0`)) !== undefined, 'runs stay in the index');
      });
    });

    test('the schema version is the newest migration', async () => {
      await withStore(async (s) => assert.equal(await s.schemaVersion(), 5));
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

    test('a run records its partition keys once; its partition column is the key or the range of keys', async () => {
      const p = uid();
      const asset = `${p}/x`;
      await withStore(async (s) => {
        await s.recordRunStarted({ ...run(`${p}-range`), assetKeys: [asset], partitionKeys: ['k1', 'k2', 'k2', 'k3'] });
        await s.recordRunStarted({ ...run(`${p}-range`), assetKeys: [asset], partitionKeys: ['k9'] });
        await s.recordRunStarted({ ...run(`${p}-one`), assetKeys: [`${p}/y`], partitionKeys: ['only'] });
        await s.recordRunStarted({ ...run(`${p}-given`), assetKeys: [`${p}/y`], partitionKeys: ['a', 'b'], partition: 'custom' });
        await s.recordRunStarted({ ...run(`${p}-none`), assetKeys: [`${p}/y`], partitionKeys: [] });
        assert.equal((await s.getRun(`${p}-range`))?.partition, 'k1...k3');
        assert.equal((await s.getRun(`${p}-one`))?.partition, 'only');
        assert.equal((await s.getRun(`${p}-given`))?.partition, 'custom');
        assert.equal((await s.getRun(`${p}-none`))?.partition, undefined);
        const states = await s.partitionStates(asset);
        assert.deepEqual([...states.keys()].sort(), ['k1', 'k2', 'k3'], 'the second start changed nothing');
        for (const st of states.values()) assert.deepEqual(st, { status: 'in_progress', runId: `${p}-range`, at: '2024-01-01T00:00:00.000Z' });
        assert.equal((await s.partitionStates(`${p}/unknown`)).size, 0);
      });
    });

    test('partition states: the latest materialization of each partition; unpartitioned events and observations do not count', async () => {
      const p = uid();
      const asset = `${p}/x`;
      await withStore(async (s) => {
        await s.recordAssetEvent(materialization({ runId: `${p}-r1`, assetKey: asset, partition: '2024-01-01', at: '2024-01-02T00:00:00.000Z' }));
        await s.recordAssetEvent(materialization({ runId: `${p}-r2`, assetKey: asset, partition: '2024-01-01', at: '2024-01-05T00:00:00.000Z' }));
        await s.recordAssetEvent(materialization({ runId: `${p}-r3`, assetKey: asset, partition: '2024-01-01', at: '2024-01-03T00:00:00.000Z' }));
        await s.recordAssetEvent(reported({ assetKey: asset, type: 'materialization', partition: '2024-01-02', at: '2024-01-04T00:00:00.000Z' }));
        await s.recordAssetEvent(reported({ assetKey: asset, type: 'observation', partition: '2024-01-03', at: '2024-01-04T00:00:00.000Z' }));
        await s.recordAssetEvent(materialization({ runId: `${p}-r1`, assetKey: asset, partition: null, at: '2024-01-06T00:00:00.000Z' }));
        await s.recordAssetEvent(materialization({ runId: `${p}-r1`, assetKey: `${p}/other`, partition: '2024-01-09', at: '2024-01-06T00:00:00.000Z' }));
        const states = await s.partitionStates(asset);
        assert.deepEqual(Object.fromEntries(states), {
          '2024-01-01': { status: 'materialized', runId: `${p}-r2`, at: '2024-01-05T00:00:00.000Z' },
          '2024-01-02': { status: 'materialized', at: '2024-01-04T00:00:00.000Z' },
        });
      });
    });

    test('partition states: a failed step after the latest materialization is failed; a materialization after a failure (or at the same time) wins', async () => {
      const p = uid();
      const asset = `${p}/x`;
      const failedStep = (runId: string, at: string): StepResultRecord => ({ runId, assetKey: asset, status: 'failed', error: 'boom', attempt: 1, at });
      await withStore(async (s) => {
        // 'late-failure': materialized on the 1st, failed on the 2nd.
        await s.recordRunStarted({ ...run(`${p}-m1`), assetKeys: [asset], partitionKeys: ['late-failure'] });
        await s.recordAssetEvent(materialization({ runId: `${p}-m1`, assetKey: asset, partition: 'late-failure', at: '2024-01-01T00:00:00.000Z' }));
        await s.recordStepResults([{ runId: `${p}-m1`, assetKey: asset, status: 'materialized', attempt: 1, at: '2024-01-01T00:00:00.000Z' }]);
        await s.recordRunFinished(`${p}-m1`, 'succeeded', '2024-01-01T00:00:01.000Z');
        await s.recordRunStarted({ ...run(`${p}-f1`, '2024-01-02T00:00:00.000Z'), assetKeys: [asset], partitionKeys: ['late-failure'] });
        await s.recordStepResults([failedStep(`${p}-f1`, '2024-01-02T00:00:05.000Z')]);
        await s.recordRunFinished(`${p}-f1`, 'failed', '2024-01-02T00:00:06.000Z');
        // 'recovered': failed on the 3rd, materialized on the 4th; 'tie': failed and materialized at the same instant.
        await s.recordRunStarted({ ...run(`${p}-f2`, '2024-01-03T00:00:00.000Z'), assetKeys: [asset], partitionKeys: ['recovered', 'tie'] });
        await s.recordStepResults([failedStep(`${p}-f2`, '2024-01-03T00:00:05.000Z')]);
        await s.recordRunFinished(`${p}-f2`, 'failed', '2024-01-03T00:00:06.000Z');
        await s.recordAssetEvent(materialization({ runId: `${p}-m2`, assetKey: asset, partition: 'recovered', at: '2024-01-04T00:00:00.000Z' }));
        await s.recordAssetEvent(reported({ assetKey: asset, type: 'materialization', partition: 'tie', at: '2024-01-03T00:00:05.000Z' }));
        // A failed step of another asset in a run of the same partition does not count.
        await s.recordRunStarted({ ...run(`${p}-f3`, '2024-01-05T00:00:00.000Z'), assetKeys: [`${p}/y`], partitionKeys: ['recovered'] });
        await s.recordStepResults([{ runId: `${p}-f3`, assetKey: `${p}/y`, status: 'failed', attempt: 1, at: '2024-01-05T00:00:05.000Z' }]);
        await s.recordRunFinished(`${p}-f3`, 'failed', '2024-01-05T00:00:06.000Z');
        assert.deepEqual(Object.fromEntries(await s.partitionStates(asset)), {
          'late-failure': { status: 'failed', runId: `${p}-f1`, at: '2024-01-02T00:00:05.000Z' },
          recovered: { status: 'materialized', runId: `${p}-m2`, at: '2024-01-04T00:00:00.000Z' },
          tie: { status: 'materialized', at: '2024-01-03T00:00:05.000Z' },
        });
      });
    });

    test('partition states: a range run of 3 keys whose step failed marks all 3 failed', async () => {
      const p = uid();
      const asset = `${p}/x`;
      await withStore(async (s) => {
        await s.recordRunStarted({ ...run(`${p}-range`), assetKeys: [asset, `${p}/down`], partitionKeys: ['2024-01-01', '2024-01-02', '2024-01-03'] });
        await s.recordAssetEvent(materialization({ runId: `${p}-range`, assetKey: asset, partition: '2024-01-01', at: '2024-01-01T00:00:01.000Z' }));
        await s.recordStepResults([
          { runId: `${p}-range`, assetKey: asset, status: 'failed', error: 'boom', attempt: 3, at: '2024-01-01T00:00:09.000Z' },
          { runId: `${p}-range`, assetKey: `${p}/down`, status: 'skipped', attempt: 1, at: '2024-01-01T00:00:09.000Z' },
        ]);
        await s.recordRunFinished(`${p}-range`, 'failed', '2024-01-01T00:00:10.000Z');
        const failed = { status: 'failed', runId: `${p}-range`, at: '2024-01-01T00:00:09.000Z' };
        assert.deepEqual(Object.fromEntries(await s.partitionStates(asset)), { '2024-01-01': failed, '2024-01-02': failed, '2024-01-03': failed });
        assert.equal((await s.partitionStates(`${p}/down`)).size, 0, 'a skipped step is no outcome');
      });
    });

    test('partition states: a running run that plans the asset keeps its partitions in progress until it materializes each', async () => {
      const p = uid();
      const asset = `${p}/x`;
      await withStore(async (s) => {
        await s.recordAssetEvent(materialization({ runId: `${p}-old`, assetKey: asset, partition: 'a', at: '2024-01-01T00:00:00.000Z' }));
        await s.recordRunStarted({ ...run(`${p}-live`, '2024-01-02T00:00:00.000Z'), assetKeys: [asset], partitionKeys: ['a', 'b'] });
        // A running run of the same partitions that does not plan this asset changes nothing.
        await s.recordRunStarted({ ...run(`${p}-elsewhere`, '2024-01-02T00:00:00.000Z'), assetKeys: [`${p}/y`], partitionKeys: ['a', 'c'] });
        assert.deepEqual(Object.fromEntries(await s.partitionStates(asset)), {
          a: { status: 'in_progress', runId: `${p}-live`, at: '2024-01-02T00:00:00.000Z' },
          b: { status: 'in_progress', runId: `${p}-live`, at: '2024-01-02T00:00:00.000Z' },
        });
        await s.recordAssetEvent(materialization({ runId: `${p}-live`, assetKey: asset, partition: 'a', at: '2024-01-02T00:00:03.000Z' }));
        assert.deepEqual(Object.fromEntries(await s.partitionStates(asset)), {
          a: { status: 'materialized', runId: `${p}-live`, at: '2024-01-02T00:00:03.000Z' },
          b: { status: 'in_progress', runId: `${p}-live`, at: '2024-01-02T00:00:00.000Z' },
        });
        await s.recordRunFinished(`${p}-live`, 'canceled', '2024-01-02T00:00:05.000Z');
        assert.deepEqual(Object.fromEntries(await s.partitionStates(asset)), {
          a: { status: 'materialized', runId: `${p}-live`, at: '2024-01-02T00:00:03.000Z' },
        });
      });
    });

    test('partition states of 10,000 partitions: one range run in progress with 100 of its keys materialized', { timeout: 120_000 }, async () => {
      const p = uid();
      const asset = `${p}/x`;
      const keys = Array.from({ length: 10_000 }, (_, i) => `k${String(i).padStart(5, '0')}`);
      await withStore(async (s) => {
        await s.recordRunStarted({ ...run(`${p}-big`), assetKeys: [asset], partitionKeys: keys });
        for (const key of keys.slice(0, 100)) {
          await s.recordAssetEvent(materialization({ runId: `${p}-big`, assetKey: asset, partition: key, at: '2024-01-01T00:00:01.000Z' }));
        }
        const started = Date.now();
        const states = await s.partitionStates(asset);
        const ms = Date.now() - started;
        assert.equal(states.size, 10_000);
        const counts: Record<string, number> = {};
        for (const st of states.values()) counts[st.status] = (counts[st.status] ?? 0) + 1;
        assert.deepEqual(counts, { materialized: 100, in_progress: 9_900 });
        assert.ok(ms < 5_000, `partitionStates took ${ms} ms`);
      });
    });

    test('dynamic partitions keep the order added; adding a known key or removing an unknown one changes nothing', async () => {
      const name = `customers-${uid()}`;
      const other = `${name}-other`;
      await withStore(async (s) => {
        assert.deepEqual(await s.dynamicPartitionKeys(name), []);
        assert.deepEqual(await s.addDynamicPartitions(name, ['zeta', 'alpha', 'mid'], '2024-01-01T00:00:00.000Z'), { added: ['zeta', 'alpha', 'mid'] });
        assert.deepEqual(await s.addDynamicPartitions(name, ['alpha', 'beta', 'beta', 'aardvark'], '2024-01-02T00:00:00.000Z'), { added: ['beta', 'aardvark'] });
        assert.deepEqual(await s.addDynamicPartitions(name, ['zeta'], '2024-01-03T00:00:00.000Z'), { added: [] });
        assert.deepEqual(await s.addDynamicPartitions(name, [], '2024-01-03T00:00:00.000Z'), { added: [] });
        await s.addDynamicPartitions(other, ['alpha'], '2024-01-03T00:00:00.000Z');
        assert.deepEqual(await s.dynamicPartitionKeys(name), ['zeta', 'alpha', 'mid', 'beta', 'aardvark']);
        assert.deepEqual(await s.removeDynamicPartitions(name, ['mid', 'nope', 'zeta', 'mid']), { removed: ['mid', 'zeta'] });
        assert.deepEqual(await s.removeDynamicPartitions(name, ['mid']), { removed: [] });
        assert.deepEqual(await s.dynamicPartitionKeys(name), ['alpha', 'beta', 'aardvark']);
        // A removed key added again goes to the end.
        assert.deepEqual(await s.addDynamicPartitions(name, ['zeta'], '2024-01-04T00:00:00.000Z'), { added: ['zeta'] });
        assert.deepEqual(await s.dynamicPartitionKeys(name), ['alpha', 'beta', 'aardvark', 'zeta']);
        assert.deepEqual(await s.dynamicPartitionKeys(other), ['alpha'], 'names are independent');
        await assert.rejects(s.addDynamicPartitions(name, ['ok', ''], '2024-01-04T00:00:00.000Z'), /non-empty/);
        await assert.rejects(s.addDynamicPartitions('', ['ok'], '2024-01-04T00:00:00.000Z'), /non-empty name/);
        assert.deepEqual(await s.dynamicPartitionKeys(name), ['alpha', 'beta', 'aardvark', 'zeta'], 'a rejected add writes nothing');
      });
    });

    test('asset statuses report the latest materialization and the latest step result of each asset', async () => {
      const p = uid();
      const [a, b, c] = [`${p}/a`, `${p}/b`, `${p}/c`];
      await withStore(async (s) => {
        await s.recordAssetEvent(materialization({ runId: `${p}-r1`, assetKey: a, metadata: { n: { type: 'number', value: 1 } }, at: '2024-01-01T00:00:00.000Z' }));
        await s.recordStepResults([{ runId: `${p}-r1`, assetKey: a, status: 'materialized', attempt: 1, at: '2024-01-01T00:00:00.000Z' }]);
        await s.recordAssetEvent(materialization({ runId: `${p}-r2`, assetKey: a, metadata: { n: { type: 'number', value: 2 } }, at: '2024-01-02T00:00:00.000Z' }));
        await s.recordStepResults([
          { runId: `${p}-r3`, assetKey: a, status: 'failed', error: 'x', attempt: 3, at: '2024-01-03T00:00:00.000Z' },
          { runId: `${p}-r3`, assetKey: b, status: 'skipped', attempt: 1, at: '2024-01-03T00:00:00.000Z' },
        ]);
        const statuses = await s.assetStatuses([a, b, c]);
        assert.deepEqual([...statuses.keys()].sort(), [a, b, c]);
        assert.deepEqual(statuses.get(a)?.lastMaterialization?.metadata, { n: { type: 'number', value: 2 } });
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

    test('latest check evaluations: the newest evaluation of each check wins, ordered by asset key and check name', async () => {
      const p = uid();
      const [a, b] = [`${p}/a`, `${p}/b`];
      await withStore(async (s) => {
        await s.recordAssetEvent(checkEvaluation({ runId: `${p}-r1`, assetKey: b, name: 'positive', passed: true }));
        await s.recordAssetEvent(checkEvaluation({ runId: `${p}-r1`, assetKey: a, name: 'unique', passed: true }));
        await s.recordAssetEvent(checkEvaluation({
          runId: `${p}-r1`, assetKey: a, name: 'not_null', passed: false, metadata: { failing_rows: { type: 'row_count', value: 3 } },
        }));
        await s.recordAssetEvent(materialization({ runId: `${p}-r2`, assetKey: a }));
        // An older timestamp does not matter: the evaluation recorded last is the latest.
        await s.recordAssetEvent(checkEvaluation({
          runId: `${p}-r2`, assetKey: a, name: 'not_null', passed: true, at: '2023-12-31T00:00:00.000Z',
          check: { name: 'not_null', passed: true, severity: 'WARN', description: 'ids are set' },
        }));
        const latest = await s.latestCheckEvaluations([b, a]);
        assert.deepEqual(latest.map((e) => [e.assetKey, e.check?.name, e.runId, e.check?.passed]), [
          [a, 'not_null', `${p}-r2`, true], [a, 'unique', `${p}-r1`, true], [b, 'positive', `${p}-r1`, true],
        ]);
        const { id, ...notNull } = latest[0] as NonNullable<(typeof latest)[0]>;
        assert.ok(id > 0);
        assert.deepEqual(notNull, checkEvaluation({
          runId: `${p}-r2`, assetKey: a, name: 'not_null', passed: true, at: '2023-12-31T00:00:00.000Z',
          check: { name: 'not_null', passed: true, severity: 'WARN', description: 'ids are set' },
        }));
      });
    });

    test('latest check evaluations: keys narrow the assets; without keys every asset with check results is covered', async () => {
      const p = uid();
      const [a, b, none] = [`${p}/a`, `${p}/b`, `${p}/none`];
      await withStore(async (s) => {
        await s.recordAssetEvent(checkEvaluation({ runId: `${p}-r1`, assetKey: a, name: 'c1', passed: true }));
        await s.recordAssetEvent(checkEvaluation({ runId: `${p}-r1`, assetKey: b, name: 'c1', passed: false }));
        await s.recordAssetEvent(materialization({ runId: `${p}-r1`, assetKey: none }));
        const pairs = (events: { assetKey: string; check?: { name: string } }[]) => events.map((e) => `${e.assetKey}:${e.check?.name ?? ''}`);
        assert.deepEqual(pairs(await s.latestCheckEvaluations([a])), [`${a}:c1`]);
        assert.deepEqual(pairs(await s.latestCheckEvaluations([b, a, b])), [`${a}:c1`, `${b}:c1`], 'a key given twice counts once');
        assert.deepEqual(await s.latestCheckEvaluations([none, `${p}/unknown`]), []);
        assert.deepEqual(await s.latestCheckEvaluations([]), []);
        const everything = pairs(await s.latestCheckEvaluations()).filter((x) => x.startsWith(`${p}/`));
        assert.deepEqual(everything, [`${a}:c1`, `${b}:c1`]);
      });
    });

    test('latest check evaluations: across partitions the newest evaluation wins; a retry of an older one keeps its place', async () => {
      const p = uid();
      const a = `${p}/a`;
      await withStore(async (s) => {
        await s.recordAssetEvent(checkEvaluation({ runId: `${p}-r1`, assetKey: a, name: 'rows', passed: false, partition: '2024-01-01' }));
        await s.recordAssetEvent(checkEvaluation({ runId: `${p}-r2`, assetKey: a, name: 'rows', passed: true, partition: '2024-01-02' }));
        assert.deepEqual((await s.latestCheckEvaluations([a])).map((e) => [e.partition, e.runId]), [['2024-01-02', `${p}-r2`]]);
        // The step of run 1 retried: its event is updated in place, and stays older than run 2's.
        await s.recordAssetEvent(checkEvaluation({ runId: `${p}-r1`, assetKey: a, name: 'rows', passed: true, partition: '2024-01-01', attempt: 2 }));
        assert.deepEqual((await s.latestCheckEvaluations([a])).map((e) => [e.partition, e.runId]), [['2024-01-02', `${p}-r2`]]);
        await s.recordAssetEvent(checkEvaluation({ runId: `${p}-r3`, assetKey: a, name: 'rows', passed: false, partition: '2024-01-01' }));
        const [latest] = await s.latestCheckEvaluations([a]);
        assert.deepEqual([latest?.partition, latest?.runId, latest?.check?.passed], ['2024-01-01', `${p}-r3`, false]);
      });
    });

    test('latest check evaluations: a reported evaluation counts like a run\'s', async () => {
      const p = uid();
      const a = `${p}/a`;
      await withStore(async (s) => {
        await s.recordAssetEvent(checkEvaluation({ runId: `${p}-r1`, assetKey: a, name: 'fresh', passed: true }));
        await s.recordAssetEvent(reported({
          assetKey: a, type: 'check_evaluation', check: { name: 'fresh', passed: false, severity: 'WARN' }, metadata: { lag_h: { type: 'number', value: 30 } },
        }));
        const [latest, ...rest] = await s.latestCheckEvaluations([a]);
        assert.deepEqual(rest, []);
        assert.equal(latest?.source, 'report');
        assert.equal(latest?.runId, null);
        assert.deepEqual(latest?.check, { name: 'fresh', passed: false, severity: 'WARN' });
        assert.deepEqual(latest?.metadata, { lag_h: { type: 'number', value: 30 } });
      });
    });

    test('latest materializations of pairs: the newest of each pair wins, a null partition is its own pair, pairs never materialized are absent', async () => {
      const p = uid();
      const [a, b] = [`${p}/a`, `${p}/b`];
      await withStore(async (s) => {
        assert.equal((await s.latestMaterializationsOf([])).size, 0);
        await s.recordAssetEvent(materialization({ runId: `${p}-r1`, assetKey: a, at: '2024-01-02T00:00:00.000Z' }));
        // Recorded later with an older timestamp: the event id decides, not `at`.
        await s.recordAssetEvent(materialization({ runId: `${p}-r2`, assetKey: a, at: '2024-01-01T00:00:00.000Z' }));
        await s.recordAssetEvent(materialization({ runId: `${p}-r1`, assetKey: b, partition: 'k1', at: '2024-01-01T00:00:01.000Z' }));
        await s.recordAssetEvent(materialization({ runId: `${p}-r1`, assetKey: b, partition: 'k2', at: '2024-01-01T00:00:02.000Z' }));
        await s.recordAssetEvent(reported({ assetKey: b, type: 'materialization', partition: 'k1', at: '2024-01-01T00:00:03.000Z' }));
        // Neither an observation nor a check evaluation is a materialization.
        await s.recordAssetEvent(reported({ assetKey: b, type: 'observation', partition: 'k2', at: '2024-01-01T00:00:04.000Z' }));
        await s.recordAssetEvent(checkEvaluation({ runId: `${p}-r3`, assetKey: b, name: 'rows', passed: true, partition: 'k2' }));
        const ids = new Map<string, number>();
        for (const key of [a, b]) {
          for (const e of (await s.assetHistory(key, { types: ['materialization'] })).events) ids.set(`${key}:${e.partition ?? ''}:${e.runId ?? 'report'}`, e.id);
        }
        const marks = await s.latestMaterializationsOf([
          { assetKey: a, partition: null }, { assetKey: b, partition: 'k1' }, { assetKey: b, partition: 'k2' }, { assetKey: b, partition: 'k1' },
          { assetKey: b, partition: null }, { assetKey: a, partition: 'k1' }, { assetKey: b, partition: 'k3' }, { assetKey: `${p}/unknown`, partition: null },
        ]);
        assert.deepEqual(Object.fromEntries(marks), {
          [pairKey(a, null)]: { id: ids.get(`${a}::${p}-r2`), at: '2024-01-01T00:00:00.000Z', runId: `${p}-r2` },
          [pairKey(b, 'k1')]: { id: ids.get(`${b}:k1:report`), at: '2024-01-01T00:00:03.000Z', runId: null },
          [pairKey(b, 'k2')]: { id: ids.get(`${b}:k2:${p}-r1`), at: '2024-01-01T00:00:02.000Z', runId: `${p}-r1` },
        });
        // A retry updates its event in place: same id, the retry's time.
        await s.recordAssetEvent(materialization({ runId: `${p}-r1`, assetKey: b, partition: 'k2', attempt: 2, at: '2024-01-01T00:00:05.000Z' }));
        const [mark] = (await s.latestMaterializationsOf([{ assetKey: b, partition: 'k2' }])).values();
        assert.deepEqual(mark, { id: ids.get(`${b}:k2:${p}-r1`), at: '2024-01-01T00:00:05.000Z', runId: `${p}-r1` });
      });
    });

    test('latest materializations of 600 pairs of one asset with 1,000 partitions come back from one call', { timeout: 120_000 }, async () => {
      const p = uid();
      const asset = `${p}/wide`;
      const keys = Array.from({ length: 1_000 }, (_, i) => `k${String(i).padStart(4, '0')}`);
      await withStore(async (s) => {
        for (const [i, partition] of keys.entries()) {
          if (i % 4 !== 3) await s.recordAssetEvent(materialization({ runId: `${p}-r`, assetKey: asset, partition, at: '2024-01-01T00:00:00.000Z' }));
        }
        const wanted = keys.slice(0, 600).map((partition) => ({ assetKey: asset, partition }));
        const marks = await s.latestMaterializationsOf(wanted);
        assert.equal(marks.size, 450, 'every fourth key was never materialized');
        assert.equal(marks.has(pairKey(asset, 'k0003')), false);
        assert.equal(marks.get(pairKey(asset, 'k0598'))?.runId, `${p}-r`);
      });
    });

    test('the event watermark is the highest event id: a new event raises it, a retry of an event does not', async () => {
      const p = uid();
      const a = `${p}/a`;
      await withStore(async (s) => {
        await s.recordAssetEvent(materialization({ runId: `${p}-r1`, assetKey: a }));
        const first = (await s.assetHistory(a)).events[0]?.id;
        assert.equal(await s.eventWatermark(), first);
        await s.recordAssetEvent(materialization({ runId: `${p}-r1`, assetKey: a, attempt: 2 }));
        assert.equal(await s.eventWatermark(), first);
        await s.recordRunStarted(run(`${p}-r2`));
        const later = await s.eventWatermark();
        assert.ok(first !== undefined && later > first, `${later} > ${first}`);
      });
    });

    test('automation evaluations: recording one twice stores it once, the first record standing', async () => {
      const p = uid();
      const [a, b] = [`${p}/a`, `${p}/b`];
      await withStore(async (s) => {
        const records = [
          evaluation({ evaluationId: `${p}-1`, assetKey: a, requested: true, reason: 'upstream changed', runWorkflowId: `wf-${p}-1`, watermark: 7 }),
          evaluation({ evaluationId: `${p}-1`, assetKey: b, partition: 'k1' }),
          evaluation({ evaluationId: `${p}-1`, assetKey: b, partition: null }),
        ];
        await s.recordAutomationEvaluations(records);
        await s.recordAutomationEvaluations(records.map((r) => ({ ...r, reason: 'a retried activity', requested: true })));
        await s.recordAutomationEvaluations([]);
        const stored = [...(await s.automationEvaluations(a)), ...(await s.automationEvaluations(b))];
        assert.equal(stored.length, 3);
        assert.deepEqual(stored.map(({ id, ...rest }) => (assert.ok(id > 0), rest)), [records[0], records[2], records[1]]);
        // One batch holding the same (evaluation, asset, partition) twice also keeps the first.
        await s.recordAutomationEvaluations([
          evaluation({ evaluationId: `${p}-2`, assetKey: a, reason: 'first' }), evaluation({ evaluationId: `${p}-2`, assetKey: a, reason: 'second' }),
        ]);
        assert.deepEqual((await s.automationEvaluations(a)).map((e) => [e.evaluationId, e.reason]), [[`${p}-2`, 'first'], [`${p}-1`, 'upstream changed']]);
      });
    });

    test('the last automation request of each pair is its newest requested evaluation; later evaluations that did not request it do not count', async () => {
      const p = uid();
      const [a, b] = [`${p}/a`, `${p}/b`];
      await withStore(async (s) => {
        assert.equal((await s.lastAutomationRequests([])).size, 0);
        await s.recordAutomationEvaluations([
          evaluation({ evaluationId: `${p}-1`, assetKey: a, requested: true, runWorkflowId: 'wf-1', watermark: 1 }),
          evaluation({ evaluationId: `${p}-1`, assetKey: b, partition: 'k1', requested: false, watermark: 1 }),
          evaluation({ evaluationId: `${p}-1`, assetKey: b, partition: 'k2', requested: true, runWorkflowId: 'wf-1', watermark: 1 }),
        ]);
        await s.recordAutomationEvaluations([
          evaluation({ evaluationId: `${p}-2`, assetKey: a, requested: false, watermark: 2 }),
          evaluation({ evaluationId: `${p}-2`, assetKey: b, partition: 'k1', requested: true, runWorkflowId: 'wf-2', watermark: 2 }),
          evaluation({ evaluationId: `${p}-2`, assetKey: b, partition: 'k2', requested: true, runWorkflowId: 'wf-2', watermark: 2 }),
        ]);
        const last = await s.lastAutomationRequests([
          { assetKey: a, partition: null }, { assetKey: b, partition: 'k1' }, { assetKey: b, partition: 'k2' }, { assetKey: a, partition: null },
          { assetKey: b, partition: null }, { assetKey: a, partition: 'k1' }, { assetKey: `${p}/unknown`, partition: null },
        ]);
        assert.deepEqual([...last.keys()].sort(), [pairKey(a, null), pairKey(b, 'k1'), pairKey(b, 'k2')].sort());
        assert.deepEqual([last.get(pairKey(a, null))?.evaluationId, last.get(pairKey(a, null))?.runWorkflowId], [`${p}-1`, 'wf-1']);
        assert.deepEqual([last.get(pairKey(b, 'k1'))?.evaluationId, last.get(pairKey(b, 'k1'))?.watermark], [`${p}-2`, 2]);
        const { id, ...k2 } = last.get(pairKey(b, 'k2')) ?? { id: 0 };
        assert.ok(id > 0);
        assert.deepEqual(k2, evaluation({ evaluationId: `${p}-2`, assetKey: b, partition: 'k2', requested: true, runWorkflowId: 'wf-2', watermark: 2 }));
      });
    });

    test('an asset\'s automation evaluations come newest first, 20 by default, optionally of one partition', async () => {
      const p = uid();
      const [a, b] = [`${p}/a`, `${p}/b`];
      await withStore(async (s) => {
        for (let n = 1; n <= 25; n++) await s.recordAutomationEvaluations([evaluation({ evaluationId: `${p}-${n}`, assetKey: a, watermark: n })]);
        const page = await s.automationEvaluations(a);
        assert.deepEqual(page.map((e) => e.watermark), Array.from({ length: 20 }, (_, i) => 25 - i));
        assert.ok(page.every((e, i) => i === 0 || e.id < (page[i - 1]?.id ?? 0)), 'ids descend');
        assert.deepEqual((await s.automationEvaluations(a, { limit: 2 })).map((e) => e.evaluationId), [`${p}-25`, `${p}-24`]);
        for (let n = 1; n <= 3; n++) {
          await s.recordAutomationEvaluations(
            [null, 'k1', 'k2'].map((partition) => evaluation({ evaluationId: `${p}-${n}`, assetKey: b, partition, watermark: n })),
          );
        }
        const of = async (opts: Parameters<CatalogStore['automationEvaluations']>[1]): Promise<string[]> =>
          (await s.automationEvaluations(b, opts)).map((e) => `${e.evaluationId}:${e.partition ?? '-'}`);
        assert.deepEqual(await of({ limit: 4 }), [`${p}-3:k2`, `${p}-3:k1`, `${p}-3:-`, `${p}-2:k2`]);
        assert.deepEqual(await of({ partition: 'k1' }), [`${p}-3:k1`, `${p}-2:k1`, `${p}-1:k1`]);
        assert.deepEqual(await of({ partition: null, limit: 2 }), [`${p}-3:-`, `${p}-2:-`]);
        assert.deepEqual(await of({ partition: 'k9' }), []);
        assert.deepEqual(await s.automationEvaluations(`${p}/unknown`), []);
      });
    });

    test('pruning automation evaluations deletes those recorded before the cutoff but keeps each pair\'s latest requested one', async () => {
      const p = uid();
      const [a, b] = [`${p}/a`, `${p}/b`];
      // Far in the past, so no other test's evaluations are this old.
      const day = (d: number): string => `2001-01-${String(d).padStart(2, '0')}T00:00:00.000Z`;
      await withStore(async (s) => {
        await s.recordAutomationEvaluations([
          evaluation({ evaluationId: `${p}-1`, at: day(1), assetKey: a, requested: true }),
          evaluation({ evaluationId: `${p}-1`, at: day(1), assetKey: b, partition: 'k1' }),
          evaluation({ evaluationId: `${p}-1`, at: day(1), assetKey: b, partition: 'k2', requested: true }),
        ]);
        await s.recordAutomationEvaluations([evaluation({ evaluationId: `${p}-2`, at: day(2), assetKey: a, requested: true })]);
        await s.recordAutomationEvaluations([evaluation({ evaluationId: `${p}-3`, at: day(3), assetKey: a })]);
        await s.recordAutomationEvaluations([evaluation({ evaluationId: `${p}-4`, at: day(20), assetKey: a })]);
        assert.equal(await s.pruneAutomationEvaluations(day(10)), 3);
        const left = async (key: string): Promise<string[]> => (await s.automationEvaluations(key)).map((e) => `${e.evaluationId}:${e.partition ?? '-'}`);
        assert.deepEqual(await left(a), [`${p}-4:-`, `${p}-2:-`]);
        assert.deepEqual(await left(b), [`${p}-1:k2`]);
        assert.equal(await s.pruneAutomationEvaluations(day(10)), 0, 'pruning again deletes nothing');
        // A newer request takes over as the one to keep.
        await s.recordAutomationEvaluations([evaluation({ evaluationId: `${p}-5`, at: day(5), assetKey: a, requested: true })]);
        assert.equal(await s.pruneAutomationEvaluations(day(10)), 1);
        assert.deepEqual(await left(a), [`${p}-5:-`, `${p}-4:-`]);
        assert.equal((await s.lastAutomationRequests([{ assetKey: a, partition: null }])).get(pairKey(a, null))?.evaluationId, `${p}-5`);
      });
    });

    test('5,000 evaluations recorded in one call are all stored, and pruning them all returns 5,000', { timeout: 60_000 }, async () => {
      const p = uid();
      // Older than any other test's evaluations, so this prune counts only these.
      const records = Array.from({ length: 5_000 }, (_, i) =>
        evaluation({ evaluationId: `${p}-1`, at: '2000-06-01T00:00:00.000Z', assetKey: `${p}/a${i % 10}`, partition: `k${i}`, watermark: i }));
      await withStore(async (s) => {
        await s.recordAutomationEvaluations(records);
        assert.equal((await s.automationEvaluations(`${p}/a3`, { limit: 1_000 })).length, 500);
        assert.deepEqual((await s.automationEvaluations(`${p}/a3`, { partition: 'k4993' })).map((e) => e.watermark), [4993]);
        assert.equal(await s.pruneAutomationEvaluations('2000-07-01T00:00:00.000Z'), 5_000);
        assert.deepEqual(await s.automationEvaluations(`${p}/a3`), []);
      });
    });

    test('a setting can be set, replaced and cleared; an unknown one is undefined', async () => {
      const key = `automation.enabled.${uid()}`;
      await withStore(async (s) => {
        assert.equal(await s.getSetting(key), undefined);
        await s.setSetting(key, 'true');
        assert.equal(await s.getSetting(key), 'true');
        await s.setSetting(key, '');
        assert.equal(await s.getSetting(key), '', 'an empty value is a value');
        await s.setSetting(key, 'false');
        assert.equal(await s.getSetting(key), 'false');
        await s.setSetting(key, undefined);
        assert.equal(await s.getSetting(key), undefined);
        await s.setSetting(key, undefined);
      });
      assert.equal(await withStore((s) => s.getSetting(key)), undefined);
    });
  });
}

/** Data as schema-2 code wrote it (runs.partition, no partition keys), for the v2 -> v3 migration tests. */
export async function writeSchema2Data(v2: CatalogStore): Promise<void> {
  await v2.recordRunStarted({ runId: 'one', workflowId: 'wf', selection: '*', tags: {}, stepCount: 1, startedAt: '2024-01-01T00:00:00.000Z', assetKeys: ['a'], partition: '2024-01-01' });
  await v2.recordRunStarted({ runId: 'range', workflowId: 'wf', selection: '*', tags: {}, stepCount: 1, startedAt: '2024-01-01T00:00:00.000Z', assetKeys: ['a'], partition: '2024-01-02...2024-01-03' });
  await v2.recordStepResults([
    { runId: 'one', assetKey: 'a', status: 'failed', error: 'boom', attempt: 1, at: '2024-01-01T00:00:05.000Z' },
    { runId: 'range', assetKey: 'a', status: 'failed', error: 'boom', attempt: 1, at: '2024-01-01T00:00:05.000Z' },
  ]);
  await v2.recordRunFinished('one', 'failed', '2024-01-01T00:00:06.000Z');
  await v2.recordRunFinished('range', 'failed', '2024-01-01T00:00:06.000Z');
  await v2.recordAssetEvent({ eventKey: 'report:x', type: 'materialization', assetKey: 'a', partition: '2023-12-31', runId: null, attempt: 1, at: '2024-01-01T00:00:00.000Z', metadata: {}, source: 'report' });
}

/** What the schema-2 data of {@link writeSchema2Data} reads as after the migration to schema 3. */
export async function assertSchema3Data(store: CatalogStore): Promise<void> {
  assert.equal((await store.getRun('range'))?.partition, '2024-01-02...2024-01-03');
  assert.equal(await store.countAssetEvents({ assetKey: 'a' }), 1);
  assert.deepEqual(Object.fromEntries(await store.partitionStates('a')), {
    '2023-12-31': { status: 'materialized', at: '2024-01-01T00:00:00.000Z' },
    '2024-01-01': { status: 'failed', runId: 'one', at: '2024-01-01T00:00:05.000Z' },
  });
  assert.deepEqual(await store.addDynamicPartitions('customers', ['acme'], '2024-01-02T00:00:00.000Z'), { added: ['acme'] });
  assert.deepEqual(await store.dynamicPartitionKeys('customers'), ['acme']);
}

/** Undoes schema 5 in a catalog at schema 5 (both stores take this SQL): what a schema-4 catalog looks like. */
export const UNDO_SCHEMA_5 = `DROP INDEX events_materialization_by_partition; DROP TABLE automation_evaluations; DROP TABLE settings;
  DELETE FROM schema_migrations WHERE version = 5;`;

/** Data as schema-4 code wrote it, for the v4 -> v5 migration tests. */
export async function writeSchema4Data(v4: CatalogStore): Promise<void> {
  await v4.recordRunStarted({ runId: 'four', workflowId: 'wf', selection: '*', tags: {}, stepCount: 1, startedAt: '2024-01-01T00:00:00.000Z', assetKeys: ['a', 'b'] });
  await v4.recordAssetEvent(materialization({ runId: 'four', assetKey: 'a', at: '2024-01-01T00:00:01.000Z' }));
  for (const partition of ['k1', 'k2']) await v4.recordAssetEvent(materialization({ runId: 'four', assetKey: 'b', partition, at: '2024-01-01T00:00:02.000Z' }));
  await v4.recordAssetEvent(reported({ eventKey: 'report:b-k1', assetKey: 'b', type: 'materialization', partition: 'k1', at: '2024-01-01T00:00:03.000Z' }));
  await v4.recordRunFinished('four', 'succeeded', '2024-01-01T00:00:04.000Z');
}

/** What the schema-4 data of {@link writeSchema4Data} reads as after the migration to schema 5; the new tables work. */
export async function assertSchema5Data(store: CatalogStore): Promise<void> {
  assert.equal((await store.getRun('four'))?.status, 'succeeded');
  assert.equal(await store.countAssetEvents({ runId: 'four' }), 3);
  const ids = new Map((await store.assetHistory('b')).events.map((e) => [`${e.partition ?? ''}:${e.runId ?? 'report'}`, e.id]));
  const marks = await store.latestMaterializationsOf([{ assetKey: 'a', partition: null }, { assetKey: 'b', partition: 'k1' }, { assetKey: 'b', partition: 'k2' }]);
  assert.deepEqual(marks.get(pairKey('b', 'k1')), { id: ids.get('k1:report'), at: '2024-01-01T00:00:03.000Z', runId: null });
  assert.deepEqual(marks.get(pairKey('b', 'k2')), { id: ids.get('k2:four'), at: '2024-01-01T00:00:02.000Z', runId: 'four' });
  assert.equal(marks.get(pairKey('a', null))?.runId, 'four');
  // The run's events and its lifecycle events: the highest id is run_finished's, the last one recorded.
  assert.ok((await store.eventWatermark()) > (ids.get('k1:report') ?? Infinity));
  assert.deepEqual(await store.automationEvaluations('a'), []);
  await store.recordAutomationEvaluations([evaluation({ evaluationId: 'e-1', assetKey: 'a', requested: true, watermark: await store.eventWatermark() })]);
  assert.equal((await store.lastAutomationRequests([{ assetKey: 'a', partition: null }])).get(pairKey('a', null))?.evaluationId, 'e-1');
  assert.equal(await store.getSetting('automation.enabled'), undefined);
  await store.setSetting('automation.enabled', 'true');
  assert.equal(await store.getSetting('automation.enabled'), 'true');
}
