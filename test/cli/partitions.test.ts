/**
 * `cairn partitions add|remove|list` and `cairn status --partitions` through the real `cairn` binary, without
 * Temporal: snapshots, runs and events are written straight into a temporary SQLite catalog.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runEventKey, type AssetEvent } from '../../activities/catalog/catalog-store';
import { SqliteCatalogStore } from '../../activities/catalog/sqlite-store';
import type { LocationSnapshot } from '../../definitions/snapshot';
import { cairn, FIXTURES } from './cli-helpers';

const dir = mkdtempSync(join(tmpdir(), 'cairn-cli-partitions-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const WS = ['--workspace', join(FIXTURES, 'small', 'cairn.workspace.json')];

/** Runs cairn against the small fixture workspace (for its settings) with its own catalog file. */
const run = (catalogFile: string, args: string[]) =>
  cairn([...WS, ...args], { env: { CAIRN_CATALOG_URL: `sqlite:${join(dir, catalogFile)}`, CAIRN_STATE_DIR: join(dir, 'state') } });

type AssetNode = LocationSnapshot['assets'][number];

function node(key: string, partitions?: AssetNode['partitions']): AssetNode {
  return {
    key, deps: [], group: 'default', kinds: [], owners: [], tags: {}, metadata: {}, isExternal: false, resources: [], codeLocation: 'parts',
    ...(partitions ? { partitions } : {}),
  };
}

/** Ten daily keys, 2024-01-01 to 2024-01-10, whatever the day the test runs. */
const DAILY = { kind: 'time', cron: '0 0 * * *', start: '2024-01-01', timezone: 'UTC', format: 'yyyy-MM-dd', endOffset: 0, end: '2024-01-11' } as const;

const SNAPSHOT: LocationSnapshot = {
  name: 'parts', taskQueue: 'cairn-loc-parts', version: 'v1', resources: {},
  assets: [
    node('daily/events', DAILY),
    node('per/customer', { kind: 'dynamic', name: 'customers' }),
    node('per/region_customer', { kind: 'multi', dimensions: [{ name: 'customer', partitions: { kind: 'dynamic', name: 'customers' } }, { name: 'region', partitions: { kind: 'static', keys: ['eu', 'us'] } }] }),
    node('per/tenant', { kind: 'multi', dimensions: [{ name: 'date', partitions: DAILY }, { name: 'tenant', partitions: { kind: 'dynamic', name: 'tenants' } }] }),
    node('plain/table'),
  ],
};

async function withStore<T>(catalogFile: string, fn: (s: SqliteCatalogStore) => Promise<T>): Promise<T> {
  const store = await SqliteCatalogStore.open(join(dir, catalogFile));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const materialized = (runId: string, assetKey: string, partition: string, at: string): AssetEvent => ({
  eventKey: runEventKey('materialization', runId, assetKey, partition), type: 'materialization', assetKey, partition, runId, attempt: 1, at, metadata: {}, source: 'run',
});

const runStart = (runId: string, assetKey: string, partitionKeys: string[], startedAt: string) => ({
  runId, workflowId: `wf-${runId}`, selection: assetKey, tags: {}, stepCount: 1, startedAt, assetKeys: [assetKey], partitionKeys,
});

describe('cairn partitions', () => {
  test('add keeps the order added, skips known keys, and list prints the keys; remove reports what it removed', async () => {
    await withStore('dyn.db', (s) => s.publishSnapshot(SNAPSHOT, '2024-01-01T00:00:00.000Z'));
    const add = await run('dyn.db', ['partitions', 'add', 'customers', 'globex', 'acme', 'initech']);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stderr, '', 'a name that an asset uses gives no warning');
    assert.match(add.stdout, /dynamic partitions 'customers': added 3 key\(s\) \(globex, acme, initech\)/);
    const again = await run('dyn.db', ['partitions', 'add', 'customers', 'acme', 'umbrella', '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), { name: 'customers', added: ['umbrella'], existing: ['acme'] });

    const list = await run('dyn.db', ['partitions', 'list', 'customers']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, 'globex\nacme\ninitech\numbrella\n');

    const remove = await run('dyn.db', ['partitions', 'remove', 'customers', 'acme', 'nobody']);
    assert.equal(remove.code, 0, remove.stderr);
    assert.match(remove.stdout, /removed 1 key\(s\) \(acme\); 1 not there \(nobody\)/);
    const json = await run('dyn.db', ['partitions', 'list', 'customers', '--json']);
    assert.deepEqual(JSON.parse(json.stdout), { name: 'customers', keys: ['globex', 'initech', 'umbrella'] });

    const empty = await run('dyn.db', ['partitions', 'list', 'nobody-uses-this', '--json']);
    assert.deepEqual(JSON.parse(empty.stdout), { name: 'nobody-uses-this', keys: [] });
  });

  test('add rejects an empty key or one with | or , (naming it) and writes nothing', async () => {
    await withStore('bad.db', (s) => s.publishSnapshot(SNAPSHOT, '2024-01-01T00:00:00.000Z'));
    const pipe = await run('bad.db', ['partitions', 'add', 'customers', 'ok', 'a|b']);
    assert.equal(pipe.code, 2);
    assert.match(pipe.stderr, /invalid partition key 'a\|b': dynamic partition keys cannot contain '\|' or ','/);
    const comma = await run('bad.db', ['partitions', 'add', 'customers', 'x,y']);
    assert.equal(comma.code, 2);
    assert.match(comma.stderr, /invalid partition key 'x,y'/);
    const blank = await run('bad.db', ['partitions', 'add', 'customers', '']);
    assert.equal(blank.code, 2);
    assert.match(blank.stderr, /a partition key must be a non-empty string/);
    assert.deepEqual(await withStore('bad.db', (s) => s.dynamicPartitionKeys('customers')), []);
  });

  test('adding to a name that no asset uses works, with a warning naming the known dynamic partitions', async () => {
    await withStore('warn.db', (s) => s.publishSnapshot(SNAPSHOT, '2024-01-01T00:00:00.000Z'));
    const typo = await run('warn.db', ['partitions', 'add', 'customer', 'acme']);
    assert.equal(typo.code, 0, typo.stderr);
    assert.match(typo.stderr, /warning: no asset in the catalog's snapshots uses dynamic partitions 'customer' \(did you mean 'customers'\?\); known dynamic partitions: customers, tenants\. Adding the keys anyway/);
    assert.deepEqual(await withStore('warn.db', (s) => s.dynamicPartitionKeys('customer')), ['acme']);

    const noSnapshots = await run('warn-empty.db', ['partitions', 'add', 'customers', 'acme']);
    assert.equal(noSnapshots.code, 0, noSnapshots.stderr);
    assert.match(noSnapshots.stderr, /warning: no asset in the catalog's snapshots uses dynamic partitions yet, so none uses 'customers'/);
  });
});

describe('cairn status --partitions', () => {
  test('prints ranges of one status and the totals; --json prints asset, total, counts and ranges', async () => {
    await withStore('status.db', async (s) => {
      await s.publishSnapshot(SNAPSHOT, '2024-01-01T00:00:00.000Z');
      // 01-01..01-05 materialized; 01-06 failed (a range run of 01-06 whose step failed); 01-07..01-08 in progress.
      const asset = 'daily/events';
      for (const day of ['01', '02', '03', '04', '05']) await s.recordAssetEvent(materialized('r-ok', asset, `2024-01-${day}`, '2024-02-01T00:00:00.000Z'));
      await s.recordRunStarted(runStart('r-fail', asset, ['2024-01-06'], '2024-02-02T00:00:00.000Z'));
      await s.recordStepResults([{ runId: 'r-fail', assetKey: asset, status: 'failed', error: 'boom', attempt: 1, at: '2024-02-02T00:00:05.000Z' }]);
      await s.recordRunFinished('r-fail', 'failed', '2024-02-02T00:00:06.000Z');
      await s.recordRunStarted(runStart('r-live', asset, ['2024-01-07', '2024-01-08'], '2024-02-03T00:00:00.000Z'));
      // A record of a key that is not a partition of the definition is left out.
      await s.recordAssetEvent(materialized('r-ok', asset, '2023-12-31', '2024-02-01T00:00:00.000Z'));
    });
    const text = await run('status.db', ['status', '--partitions', 'daily/events']);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'daily/events: daily partitions starting 2024-01-01 (UTC) until 2024-01-11');
    assert.deepEqual(lines.slice(1, 5).map((l) => l.replace(/\s+/g, ' ')), [
      '2024-01-01...2024-01-05 materialized (5)',
      '2024-01-06 failed',
      '2024-01-07...2024-01-08 in_progress (2)',
      '2024-01-09...2024-01-10 missing (2)',
    ]);
    assert.equal(lines[5], '10 partitions: 5 materialized, 1 failed, 2 in_progress, 2 missing');
    assert.match(lines[6] ?? '', /1 partition key\(s\) with records are not keys of the definition now/);

    const json = await run('status.db', ['status', '--partitions', 'daily/events', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), {
      asset: 'daily/events',
      total: 10,
      counts: { materialized: 5, failed: 1, in_progress: 2, missing: 2 },
      ranges: [
        { status: 'materialized', from: '2024-01-01', to: '2024-01-05', count: 5 },
        { status: 'failed', from: '2024-01-06', to: '2024-01-06', count: 1 },
        { status: 'in_progress', from: '2024-01-07', to: '2024-01-08', count: 2 },
        { status: 'missing', from: '2024-01-09', to: '2024-01-10', count: 2 },
      ],
    });
  });

  test('dynamic and multi partitions read their keys from the catalog', async () => {
    await withStore('dynamic.db', async (s) => {
      await s.publishSnapshot(SNAPSHOT, '2024-01-01T00:00:00.000Z');
      await s.addDynamicPartitions('customers', ['globex', 'acme', 'initech'], '2024-01-01T00:00:00.000Z');
      await s.recordAssetEvent(materialized('r1', 'per/customer', 'acme', '2024-01-02T00:00:00.000Z'));
      await s.recordAssetEvent(materialized('r1', 'per/region_customer', 'globex|us', '2024-01-02T00:00:00.000Z'));
    });
    const dynamic = await run('dynamic.db', ['status', '--partitions', 'per/customer', '--json']);
    assert.equal(dynamic.code, 0, dynamic.stderr);
    assert.deepEqual((JSON.parse(dynamic.stdout) as { ranges: unknown }).ranges, [
      { status: 'missing', from: 'globex', to: 'globex', count: 1 },
      { status: 'materialized', from: 'acme', to: 'acme', count: 1 },
      { status: 'missing', from: 'initech', to: 'initech', count: 1 },
    ]);
    const multi = await run('dynamic.db', ['status', '--partitions', 'per/region_customer', '--json']);
    assert.equal(multi.code, 0, multi.stderr);
    const report = JSON.parse(multi.stdout) as { total: number; counts: Record<string, number>; ranges: { from: string; status: string }[] };
    assert.equal(report.total, 6);
    assert.deepEqual(report.counts, { materialized: 1, failed: 0, in_progress: 0, missing: 5 });
    assert.deepEqual(report.ranges.map((r) => [r.from, r.status]), [['globex|eu', 'missing'], ['globex|us', 'materialized'], ['acme|eu', 'missing']]);

    const none = await run('dynamic.db', ['status', '--partitions', 'per/tenant']);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /^0 partitions: 0 materialized, 0 failed, 0 in_progress, 0 missing$/m);
  });

  test('an unknown asset (with a did-you-mean), an unpartitioned asset and --select with --partitions are errors, exit 2', async () => {
    await withStore('errors.db', (s) => s.publishSnapshot(SNAPSHOT, '2024-01-01T00:00:00.000Z'));
    const unknown = await run('errors.db', ['status', '--partitions', 'daily/event']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /\[UNKNOWN_ASSET\] unknown asset 'daily\/event'; did you mean 'daily\/events'\?/);
    const plain = await run('errors.db', ['status', '--partitions', 'plain/table']);
    assert.equal(plain.code, 2);
    assert.match(plain.stderr, /asset 'plain\/table' is not partitioned/);
    const both = await run('errors.db', ['status', '--partitions', 'daily/events', '--select', '*']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /cannot be used with option '-s, --select/);
    const noSnapshots = await run('errors-empty.db', ['status', '--partitions', 'daily/events']);
    assert.equal(noSnapshots.code, 2);
    assert.match(noSnapshots.stderr, /no code location has published its definitions to the catalog yet/);
  });
});
