import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import proto from '@temporalio/proto';
import { z } from 'zod';
import type { LogLine } from '../../activities/catalog/catalog-store';
import { asset } from '../../definitions/asset';
import { rowCountAtLeast, unique } from '../../definitions/builtin-checks';
import { check } from '../../definitions/checks';
import { codeLocation } from '../../definitions/code-location';
import { env, resource } from '../../definitions/resource';
import { createLocationWorker } from '../../workers/location-worker';
import { startHarness, type Harness } from './harness';

const SECRET = 'sk_live_8f3Kq2Zx9TmW4pLr';
const TOKEN_VAR = 'CAIRN_IT_PARTNER_TOKEN';

let ordersVersion = 1;
const orders = asset({
  key: 'q/orders',
  retry: { maxAttempts: 1 },
  checks: [unique('id', { blocking: true }), rowCountAtLeast(10, { name: 'plenty' })],
  materialize: () => (ordersVersion === 1 ? [{ id: 1 }, { id: 2 }] : [{ id: 1 }, { id: 1 }]),
});
const report = asset({ key: 'q/report', deps: ['q/orders'], retry: { maxAttempts: 1 }, materialize: () => [{ ok: true }] });
const audit = check({ asset: 'q/orders', name: 'has_ids', run: async ({ value }) => ({ passed: true, metadata: { rows: (await value.load('rows') as unknown[]).length } }) });

/** A partner API client: its token comes from the worker's environment and must never leave the worker. */
const partner = resource({
  type: 'partner-api',
  config: z.object({ url: z.string(), token: z.string().min(8) }),
  create: (c) => ({ url: c.url, token: c.token }),
});
let attempts = 0;
const pulled = asset({
  key: 'p/partner_pull',
  resources: ['partner'],
  retry: { maxAttempts: 2, initialIntervalMs: 100 },
  checks: [check({ name: 'token_echo', run: ({ log }) => (log.info(`check sees ${SECRET}`), { passed: true, description: `used ${SECRET}` }) })],
  materialize: ({ partner: p, log, addMetadata }) => {
    const client = p as { url: string; token: string };
    attempts++;
    log.info(`calling ${client.url} with Authorization: Bearer ${client.token}`);
    addMetadata({ request: `${client.url}?key=${client.token}` });
    if (attempts === 1) throw new Error(`401 from ${client.url}: token ${client.token} was rejected`);
    return [{ token_prefix: client.token.slice(0, 3), token: client.token }];
  },
});

describe('checks, write-audit-publish, resources and secrets in real runs', () => {
  let h: Harness;
  const echoed: string[] = [];
  before(async () => {
    process.env[TOKEN_VAR] = SECRET;
    h = await startHarness();
    await h.startLocations(
      [
        codeLocation({ name: 'quality', assets: [orders, report], checks: [audit] }),
        codeLocation({ name: 'partner', assets: [pulled], resources: { partner: partner({ url: 'http://partner.invalid/v1', token: env(TOKEN_VAR) }) } }),
      ],
      { echo: (line: LogLine) => echoed.push(line.message) },
    );
  });
  after(async () => {
    await h?.close();
    delete process.env[TOKEN_VAR];
  });

  test('a failed blocking check skips the downstream with its reason; a failed non-blocking check is recorded and does not block', async () => {
    const first = await h.client.result(await h.client.startRun({ selection: 'q/*' }));
    assert.equal(first.status, 'succeeded', JSON.stringify(first));
    ordersVersion = 2;
    const run = await h.client.startRun({ selection: 'q/*' });
    const summary = await h.client.result(run);
    assert.equal(summary.status, 'failed');
    const by = Object.fromEntries(summary.assets.map((a) => [a.key, a]));
    assert.equal(by['q/orders']?.status, 'failed');
    assert.equal(by['q/orders']?.failedCheck, 'unique_id');
    assert.match(by['q/orders']?.error ?? '', /blocking check unique_id failed; the output was not published and is kept as q\.orders__cairn_wap_/);
    assert.equal(by['q/report']?.status, 'skipped');
    assert.equal(by['q/report']?.error, "skipped: blocked by check unique_id of 'q/orders'");

    const events = await h.catalog.runEvents(run.runId, ['check_evaluation', 'materialization']);
    assert.deepEqual(events.filter((e) => e.type === 'materialization').map((e) => e.assetKey), [], 'a rejected write records no materialization');
    const checks = Object.fromEntries(events.map((e) => [e.check?.name, e]));
    assert.equal(checks.unique_id?.check?.passed, false);
    assert.equal(checks.unique_id?.metadata.duplicate_groups?.value, 1);
    assert.equal(checks.plenty?.check?.passed, false, 'the non-blocking check failed too');
    assert.equal(checks.has_ids?.check?.passed, true, 'a standalone check ran against the staged rows');
    assert.equal(checks.has_ids?.metadata.rows?.value, 2);
    const latest = await h.catalog.latestCheckEvaluations(['q/orders']);
    assert.deepEqual(latest.map((e) => [e.check?.name, e.runId]), [['has_ids', run.runId], ['plenty', run.runId], ['unique_id', run.runId]]);
  });

  test('a checks-only run evaluates checks against the published table and writes nothing', async () => {
    const before = await h.catalog.countAssetEvents({ type: 'materialization', assetKey: 'q/orders' });
    const run = await h.client.startRun({ selection: 'q/*', checksOnly: true });
    const summary = await h.client.result(run);
    assert.equal(summary.checksOnly, true);
    assert.deepEqual(summary.assets.map((a) => [a.key, a.status]), [['q/orders', 'materialized']], 'only assets with checks are planned');
    assert.equal(summary.status, 'succeeded', 'the published table (version 1) has unique ids');
    assert.equal(await h.catalog.countAssetEvents({ type: 'materialization', assetKey: 'q/orders' }), before);
    const events = await h.catalog.runEvents(run.runId, ['check_evaluation']);
    assert.deepEqual(events.map((e) => [e.check?.name, e.check?.passed]).sort(), [['has_ids', true], ['plenty', false], ['unique_id', true]]);
    assert.deepEqual(await h.catalog.getStepResults(run.runId), [], 'a checks-only run records no step results');
  });

  test('no secret value reaches the Temporal history, the catalog or the logs', async () => {
    const run = await h.client.startRun({ selection: 'p/partner_pull' });
    const summary = await h.client.result(run);
    assert.equal(summary.status, 'succeeded', JSON.stringify(summary));
    assert.equal(attempts, 2, 'the first attempt failed with the token in its error');

    const history = await run.handle.fetchHistory();
    const historyBytes = Buffer.from(proto.temporal.api.history.v1.History.encode(history).finish());
    assert.ok(historyBytes.includes('p/partner_pull'), 'the history is readable as plain bytes');
    assert.ok(!historyBytes.includes(SECRET), 'the history holds no secret');
    assert.ok(historyBytes.includes('token *** was rejected'), 'the retried failure kept its message, redacted');

    const logs = await h.catalog.getLogs(run.runId);
    assert.ok(logs.some((l) => l.message.includes('Authorization: Bearer ***')), 'log lines are kept, redacted');
    assert.ok(logs.some((l) => l.message.includes('check sees ***')));
    const echoedForRun = echoed.filter((m) => m.includes('Authorization'));
    assert.ok(echoedForRun.length > 0 && echoedForRun.every((m) => !m.includes(SECRET)), 'worker output is redacted');

    const snapshots = JSON.stringify(await h.catalog.getSnapshots());
    assert.ok(snapshots.includes(`env:${TOKEN_VAR}`), 'the snapshot names the variable');
    // Every byte the catalog wrote: the database and its write-ahead log.
    for (const f of readdirSync(h.dir).filter((n) => n.startsWith('catalog.db'))) {
      assert.ok(!readFileSync(join(h.dir, f)).includes(SECRET), `${f} holds no secret`);
    }
    const events = await h.catalog.runEvents(run.runId);
    assert.equal(events.find((e) => e.type === 'materialization')?.metadata.request?.value, 'http://partner.invalid/v1?key=***');
    assert.equal(events.find((e) => e.type === 'check_evaluation')?.check?.description, 'used ***');
  });

  test('a worker with a resource config missing its variable fails at start, naming the variable and the field', async () => {
    const missing = codeLocation({ name: 'nokey', assets: [asset({ key: 'n/a', resources: ['partner'], materialize: () => undefined })], resources: { partner: partner({ url: 'http://x', token: env('CAIRN_IT_NOT_SET') }) } });
    await assert.rejects(
      createLocationWorker({ connection: h.connection, namespace: 'default', location: missing, catalog: h.catalog, warehousePath: h.warehousePath }),
      /resource 'partner' of code location 'nokey': config field 'token': environment variable CAIRN_IT_NOT_SET is not set/,
    );
    const invalid = codeLocation({ name: 'badcfg', assets: [asset({ key: 'b/a', resources: ['partner'], materialize: () => undefined })], resources: { partner: partner({ url: 5 as unknown as string, token: 'short' }) } });
    await assert.rejects(
      createLocationWorker({ connection: h.connection, namespace: 'default', location: invalid, catalog: h.catalog, warehousePath: h.warehousePath }),
      (err: Error) => /config field 'url'/.test(err.message) && /config field 'token'/.test(err.message),
    );
    assert.ok(!(await h.catalog.getSnapshots()).some((s) => s.name === 'nokey' || s.name === 'badcfg'), 'nothing was published');
  });
});
