import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CairnCatalog } from '../../client/catalog-client';
import { asset, externalAsset } from '../../definitions/asset';
import { codeLocation } from '../../definitions/code-location';
import { CairnError } from '../../definitions/errors';
import { locationSnapshot } from '../../definitions/to-snapshot';

const dir = mkdtempSync(join(tmpdir(), 'cairn-catalog-client-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('CairnCatalog reports events from a script with the same checks and effects as the CLI', async () => {
  const url = `sqlite:${join(dir, 'catalog.db')}`;
  const catalog = await CairnCatalog.open({ url });
  try {
    await assert.rejects(catalog.reportMaterialization('raw/partner/files'), (e: unknown) => e instanceof CairnError && e.code === 'NO_SNAPSHOTS');
    const location = codeLocation({
      name: 'partner',
      assets: [
        externalAsset({ key: 'raw/partner/files', freshness: { maxLag: '1h' } }),
        asset({ key: 'clean/files', deps: ['raw/partner/files'], materialize: () => undefined }),
      ],
    });
    await catalog.store.publishSnapshot(locationSnapshot(location), new Date().toISOString());

    await assert.rejects(catalog.reportObservation('raw/partner/filez'), (e: unknown) => e instanceof CairnError && e.code === 'UNKNOWN_ASSET' && /did you mean 'raw\/partner\/files'/.test(e.message));
    await assert.rejects(catalog.reportMaterialization('raw/partner/files', { metadata: { link: { type: 'url', value: 'nope' } } }), (e: unknown) => e instanceof CairnError && e.code === 'INVALID_METADATA');
    assert.equal((await catalog.history('raw/partner/files')).events.length, 0, 'bad input writes nothing');

    const at = new Date('2024-06-01T10:00:00Z');
    const first = await catalog.reportMaterialization('raw/partner/files', { metadata: { files: 3 }, at: at.toISOString() });
    assert.equal(first.inserted, true);
    assert.match(first.dataVersion ?? '', /^r-/);
    const [reported, clean] = await catalog.assetStates(['raw/partner/files', 'clean/files'], new Date('2024-06-01T10:30:00Z'));
    assert.equal(reported?.state, 'FRESH');
    assert.equal(reported?.freshness?.status, 'PASS');
    assert.equal(clean?.state, 'MISSING');
    let [files] = await catalog.assetStates(['raw/partner/files'], new Date('2024-06-01T12:00:00Z'));
    assert.equal(files?.freshness?.status, 'FAIL');
    assert.equal(files?.freshness?.lag, '2h');
    // A later observation also counts as an update of an external asset.
    await catalog.reportObservation('raw/partner/files', { at: '2024-06-01T11:45:00Z' });
    [files] = await catalog.assetStates(['raw/partner/files'], new Date('2024-06-01T12:00:00Z'));
    assert.equal(files?.freshness?.status, 'PASS');
  } finally {
    await catalog.close();
  }
});

test('CairnCatalog manages dynamic partitions and reports partition status like the CLI', async () => {
  const { dynamicPartitions, dailyPartitions } = await import('../../definitions/partitions');
  const catalog = await CairnCatalog.open({ url: `sqlite:${join(dir, 'partitions.db')}` });
  try {
    const location = codeLocation({
      name: 'parts',
      assets: [
        asset({ key: 'by_customer', partitions: dynamicPartitions('customers'), materialize: () => undefined }),
        asset({ key: 'by_day', partitions: dailyPartitions({ start: '2024-01-01', end: '2024-01-06' }), materialize: () => undefined }),
        asset({ key: 'plain', materialize: () => undefined }),
      ],
    });
    await catalog.store.publishSnapshot(locationSnapshot(location), new Date().toISOString());
    assert.deepEqual(await catalog.addDynamicPartitions('customers', ['acme', 'globex']), ['acme', 'globex']);
    assert.deepEqual(await catalog.addDynamicPartitions('customers', ['globex', 'initech']), ['initech']);
    await assert.rejects(catalog.addDynamicPartitions('customers', ['a|b']), (e: unknown) => e instanceof CairnError && /invalid dynamic partition key "a\|b"/.test(e.message));
    assert.deepEqual(await catalog.removeDynamicPartitions('customers', ['globex', 'nope']), ['globex']);
    assert.deepEqual(await catalog.dynamicPartitionKeys('customers'), ['acme', 'initech']);

    await catalog.store.recordRunStarted({ runId: 'r1', workflowId: 'wf', selection: 'by_day', tags: {}, stepCount: 1, startedAt: '2024-02-01T00:00:00.000Z', assetKeys: ['by_day'], partitionKeys: ['2024-01-02'] });
    const report = await catalog.partitionStatus('by_day', new Date('2024-03-01T00:00:00Z'));
    assert.equal(report.total, 5);
    assert.deepEqual(report.ranges.map((r) => [r.status, r.from, r.to]), [['missing', '2024-01-01', '2024-01-01'], ['in_progress', '2024-01-02', '2024-01-02'], ['missing', '2024-01-03', '2024-01-05']]);
    await catalog.store.recordAssetEvent({ eventKey: 'materialization:r1:by_day:2024-01-02', type: 'materialization', assetKey: 'by_day', partition: '2024-01-02', runId: 'r1', attempt: 1, at: '2024-02-01T00:00:01.000Z', metadata: {}, source: 'run' });
    await catalog.store.recordRunFinished('r1', 'succeeded', '2024-02-01T00:00:02.000Z');
    assert.equal((await catalog.partitionStatus('by_day', new Date('2024-03-01T00:00:00Z'))).counts.materialized, 1);
    assert.equal((await catalog.partitionStatus('by_customer')).total, 2);
    await assert.rejects(catalog.partitionStatus('plain'), /asset 'plain' is not partitioned/);
    await assert.rejects(catalog.partitionStatus('by_dya'), /did you mean 'by_day'/);
  } finally {
    await catalog.close();
  }
});
