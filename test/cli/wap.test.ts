import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { duckdb } from '../../activities/duckdb';
import { materializeInProcess } from '../../activities/in-process';
import { runEventKey } from '../../activities/catalog/catalog-store';
import { SqliteCatalogStore } from '../../activities/catalog/sqlite-store';
import { importLocation } from '../../workers/workspace-loader';
import { cairn, FIXTURES } from './cli-helpers';

describe('cairn wap, and checks in cairn status', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-wap-cli-'));
  const workspaceDir = join(FIXTURES, 'quality');
  const workspace = join(workspaceDir, 'cairn.workspace.json');
  const env = { CAIRN_WAREHOUSE_PATH: join(dir, 'warehouse.duckdb'), CAIRN_STATE_DIR: join(dir, 'state') };
  before(async () => {
    mkdirSync(env.CAIRN_STATE_DIR, { recursive: true });
    // Two rejected writes of the workspace's asset, into the warehouse the CLI will read.
    const location = await importLocation(join(workspaceDir, 'quality.ts'), 'quality.ts');
    const warehouse = duckdb({ path: env.CAIRN_WAREHOUSE_PATH });
    for (let i = 0; i < 2; i++) {
      const result = await materializeInProcess(location, { resources: { warehouse } });
      assert.equal(result.assets[0]?.failedCheck, 'row_count_at_least');
    }
    await warehouse.close();
    // The run's check evaluations, as a worker would record them, for `cairn status`.
    const catalog = await SqliteCatalogStore.open(join(env.CAIRN_STATE_DIR, 'catalog.db'));
    for (const [name, passed, severity] of [['row_count_at_least', false, 'ERROR'], ['has_ids', true, 'ERROR'], ['soft', false, 'WARN']] as const) {
      await catalog.recordAssetEvent({
        eventKey: runEventKey('check_evaluation', 'r1', 'q/orders', null, name), type: 'check_evaluation', source: 'run', runId: 'r1',
        assetKey: 'q/orders', partition: null, attempt: 1, at: new Date().toISOString(), metadata: {}, check: { name, passed, severity },
      });
    }
    await catalog.close();
  });

  test('status shows the latest check results of each asset', async () => {
    const text = await cairn(['-w', workspace, 'status'], { env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /CHECKS/);
    assert.match(text.stdout, /q\/orders .*1\/3 FAIL .*checks: row_count_at_least, soft \(cairn checks\)/);
    const json = JSON.parse((await cairn(['-w', workspace, 'status', '--json'], { env })).stdout) as { key: string; checks?: unknown }[];
    assert.deepEqual(json.find((r) => r.key === 'q/orders')?.checks, { passed: 1, failed: ['row_count_at_least'], warned: ['soft'] });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('list shows each kept staged output with its asset, run, reason and rows', async () => {
    const r = await cairn(['-w', workspace, 'wap', 'list'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.match(/^q\.orders__cairn_wap_\d{14}_/gm)?.length, 2, r.stdout);
    assert.match(r.stdout, /asset q\/orders, run in-process-/);
    assert.match(r.stdout, /blocked by check row_count_at_least, 3 rows/);
    const json = JSON.parse((await cairn(['-w', workspace, 'wap', 'list', '--json'], { env })).stdout) as { id: string; assetKey: string }[];
    assert.deepEqual(json.map((s) => s.assetKey), ['q/orders', 'q/orders']);
  });

  test('drop removes one by id, refuses an unknown id or no id with exit 2, and --all removes the rest', async () => {
    const [first] = JSON.parse((await cairn(['-w', workspace, 'wap', 'list', '--json'], { env })).stdout) as { id: string }[];
    const dropped = await cairn(['-w', workspace, 'wap', 'drop', first?.id ?? ''], { env });
    assert.equal(dropped.code, 0, dropped.stderr);
    assert.match(dropped.stdout, new RegExp(`dropped ${first?.id}`));
    const unknown = await cairn(['-w', workspace, 'wap', 'drop', 'q.orders'], { env });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no staged output 'q\.orders'; `cairn wap list` shows the ids/);
    assert.equal((await cairn(['-w', workspace, 'wap', 'drop'], { env })).code, 2);
    assert.equal((await cairn(['-w', workspace, 'wap', 'drop', '--all'], { env })).code, 0);
    assert.match((await cairn(['-w', workspace, 'wap', 'list'], { env })).stdout, /no staged outputs/);
  });
});
