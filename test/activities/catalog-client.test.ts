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
