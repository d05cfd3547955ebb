/**
 * `cairn checks` through the real `cairn` binary, without Temporal: the declared checks come from a snapshot
 * published to a real SQLite catalog, their results from check evaluations recorded in it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runEventKey, type AssetEvent } from '../../activities/catalog/catalog-store';
import { SqliteCatalogStore } from '../../activities/catalog/sqlite-store';
import type { AssetNodeSnapshot, LocationSnapshot } from '../../definitions/snapshot';
import type { CheckRow } from '../../cli/checks';
import { cairn, FIXTURES } from './cli-helpers';

const dir = mkdtempSync(join(tmpdir(), 'cairn-cli-checks-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const WS = ['--workspace', join(FIXTURES, 'small', 'cairn.workspace.json')];

/** Runs cairn against the small fixture workspace with its own catalog file. */
const run = (catalogFile: string, args: string[]) =>
  cairn([...WS, ...args], { env: { CAIRN_CATALOG_URL: `sqlite:${join(dir, catalogFile)}`, CAIRN_STATE_DIR: join(dir, 'state') } });

function node(key: string, deps: string[], checks: AssetNodeSnapshot['checks']): AssetNodeSnapshot {
  return {
    key, deps, group: 'quality', kinds: ['table'], owners: [], tags: {}, metadata: {}, isExternal: false, resources: [], codeLocation: 'quality',
    ...(checks ? { checks } : {}),
  };
}

const SNAPSHOT: LocationSnapshot = {
  name: 'quality', taskQueue: 'cairn-loc-quality', version: 'v1', resources: {},
  assets: [
    node('shop/orders', [], [
      { name: 'ids_not_null', description: 'every order has an id', severity: 'ERROR', blocking: true },
      { name: 'recent_rows', severity: 'WARN', blocking: false },
    ]),
    node('shop/customers', [], [{ name: 'unique_emails', severity: 'ERROR', blocking: false }, { name: 'email_format', severity: 'ERROR', blocking: false }]),
    node('shop/revenue', ['shop/orders'], [{ name: 'amounts_positive', severity: 'ERROR', blocking: true }]),
    node('shop/plain', [], undefined),
  ],
};

function evaluation(runId: string, assetKey: string, name: string, passed: boolean, over: Partial<AssetEvent> = {}): AssetEvent {
  return {
    eventKey: runEventKey('check_evaluation', runId, assetKey, null, name), type: 'check_evaluation', assetKey, partition: null, runId,
    attempt: 1, at: '2024-05-01T10:00:00.000Z', metadata: {}, source: 'run', check: { name, passed, severity: 'ERROR' }, ...over,
  };
}

before(async () => {
  const store = await SqliteCatalogStore.open(join(dir, 'checks.db'));
  try {
    await store.publishSnapshot(SNAPSHOT, '2024-05-01T00:00:00.000Z');
    await store.recordAssetEvent(evaluation('run-1', 'shop/orders', 'ids_not_null', false, { metadata: { failing_rows: { type: 'row_count', value: 3 } } }));
    await store.recordAssetEvent(evaluation('run-2', 'shop/orders', 'ids_not_null', true, { at: '2024-05-02T10:00:00.000Z' }));
    await store.recordAssetEvent(evaluation('run-2', 'shop/orders', 'recent_rows', false, {
      check: { name: 'recent_rows', passed: false, severity: 'WARN' }, metadata: { newest_row_age_h: { type: 'number', value: 30 } },
    }));
    await store.recordAssetEvent(evaluation('run-2', 'shop/orders', 'retired_check', true));
    await store.recordAssetEvent(evaluation('run-2', 'shop/customers', 'email_format', false, {
      check: { name: 'email_format', passed: false, severity: 'ERROR', description: 'emails contain one @' }, metadata: { failing_rows: { type: 'row_count', value: 2 } },
    }));
    await store.recordAssetEvent(evaluation('run-3', 'shop/revenue', 'amounts_positive', false, {
      metadata: { error: { type: 'text', value: 'Binder Error: column "amount" not found\nLINE 1: ...' } },
    }));
  } finally {
    await store.close();
  }
  await (await SqliteCatalogStore.open(join(dir, 'empty.db'))).close();
});

describe('cairn checks', () => {
  test('shows the latest result of each check; a declared check without results is never run', async () => {
    const r = await run('checks.db', ['checks']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const line = (asset: string, check: string): string => lines.find((l) => l.startsWith(asset) && l.includes(` ${check} `)) ?? '';
    assert.match(lines[0] ?? '', /^ASSET\s+CHECK\s+SEVERITY\s+RESULT\s+WHEN\s+RUN\s+DETAILS$/);
    assert.match(line('shop/orders', 'ids_not_null'), /ERROR blocking\s+PASS\s+2024-05-02T10:00:00\.000Z\s+run-2\s+every order has an id$/);
    assert.match(line('shop/orders', 'recent_rows'), /WARN\s+WARN\s+2024-05-01T10:00:00\.000Z\s+run-2\s+newest_row_age_h=30$/);
    assert.match(line('shop/orders', 'retired_check'), /ERROR \(undeclared\)\s+PASS/);
    assert.match(line('shop/customers', 'unique_emails'), /ERROR\s+never run\s+-\s+-/);
    assert.match(line('shop/customers', 'email_format'), /ERROR\s+FAIL\s+\S+\s+run-2\s+emails contain one @; failing_rows=2$/);
    assert.match(line('shop/revenue', 'amounts_positive'), /ERROR blocking\s+ERROR\s+\S+\s+run-3\s+threw: Binder Error: column "amount" not found$/);
    assert.deepEqual(
      lines.slice(1).filter((l) => l.startsWith('shop/')).map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
      ['shop/customers email_format', 'shop/customers unique_emails', 'shop/orders ids_not_null', 'shop/orders recent_rows', 'shop/orders retired_check', 'shop/revenue amounts_positive'],
    );
    assert.match(r.stdout, /6 checks: 2 PASS, 1 WARN, 1 FAIL, 1 ERROR, 1 never run/);
  });

  test('--select narrows the checks to the selected assets', async () => {
    const [orders, downstream, plain] = await Promise.all([
      run('checks.db', ['checks', '--select', 'shop/orders', '--json']),
      run('checks.db', ['checks', '--select', 'shop/orders+ and not shop/orders', '--json']),
      run('checks.db', ['checks', '--select', 'shop/plain']),
    ]);
    assert.equal(orders.code, 0, orders.stderr);
    assert.deepEqual((JSON.parse(orders.stdout) as CheckRow[]).map((x) => x.check), ['ids_not_null', 'recent_rows', 'retired_check']);
    assert.deepEqual((JSON.parse(downstream.stdout) as CheckRow[]).map((x) => [x.asset, x.check]), [['shop/revenue', 'amounts_positive']]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /no checks: the selected assets declare no checks and have no check results/);
  });

  test('a bad selection exits 2 pointing at the column; an unknown key suggests the closest', async () => {
    const [r, unknown] = await Promise.all([run('checks.db', ['checks', '--select', 'shop/orders and']), run('checks.db', ['checks', '--select', 'shop/order'])]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /INVALID_SELECTION.*column 13 of selection 'shop\/orders and'/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /did you mean 'shop\/orders'/);
  });

  test('--json prints one row per check with its latest evaluation', async () => {
    const r = await run('checks.db', ['checks', '--select', 'shop/orders or shop/customers', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as CheckRow[];
    assert.deepEqual(rows[0], {
      asset: 'shop/customers', check: 'email_format', severity: 'ERROR', blocking: false, declared: true, result: 'FAIL',
      description: 'emails contain one @', at: '2024-05-01T10:00:00.000Z', runId: 'run-2', partition: null, source: 'run',
      metadata: { failing_rows: { type: 'row_count', value: 2 } },
    });
    assert.deepEqual(rows[1], {
      asset: 'shop/customers', check: 'unique_emails', severity: 'ERROR', blocking: false, declared: true, result: 'NEVER_RUN',
      at: null, runId: null, partition: null, source: null, metadata: {},
    });
    assert.deepEqual(rows[2], {
      asset: 'shop/orders', check: 'ids_not_null', severity: 'ERROR', blocking: true, declared: true, result: 'PASS',
      description: 'every order has an id', at: '2024-05-02T10:00:00.000Z', runId: 'run-2', partition: null, source: 'run', metadata: {},
    });
    assert.deepEqual(rows.map((x) => [x.check, x.result, x.declared]), [
      ['email_format', 'FAIL', true], ['unique_emails', 'NEVER_RUN', true], ['ids_not_null', 'PASS', true], ['recent_rows', 'WARN', true], ['retired_check', 'PASS', false],
    ]);
  });

  test('a catalog without published snapshots has no checks to show, and no selection to evaluate', async () => {
    const [all, selected] = await Promise.all([run('empty.db', ['checks']), run('empty.db', ['checks', '--select', 'shop/orders'])]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /no checks: no code location has published its definitions/);
    assert.equal(selected.code, 2);
    assert.match(selected.stderr, /cannot evaluate --select 'shop\/orders': no code location has published/);
  });
});
