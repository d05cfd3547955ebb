import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../workers/dev-server';
import { cairn, FIXTURES, startDev } from '../cli/cli-helpers';

const ws = ['--workspace', resolve(FIXTURES, 'small/cairn.workspace.json')];

describe('cairn dev + cairn materialize through the CLI', () => {
  let env: NodeJS.ProcessEnv;
  let stop: () => Promise<void>;
  let goodRunId = '';
  let failedRunId = '';
  before(async () => {
    ({ env, stop } = await startDev(ws, 'cairn-cli-'));
  });
  after(async () => {
    await stop?.();
  });

  test('--json prints the summary contract and exits 0 when the run succeeds', async () => {
    const r = await cairn([...ws, 'materialize', '--select', 'group:good', '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { runId: string; workflowId: string; status: string; assets: { key: string; status: string; metadata?: Record<string, { type: string; value: unknown }> }[] };
    assert.deepEqual(Object.keys(out).sort(), ['assets', 'runId', 'status', 'workflowId']);
    assert.equal(out.status, 'succeeded');
    assert.deepEqual(out.assets.map((a) => [a.key, a.status]), [['ok/a', 'materialized'], ['ok/b', 'materialized']]);
    assert.equal(out.assets[0]?.metadata?.rowCount?.value, 2);
    goodRunId = out.runId;

    const status = await cairn([...ws, 'status', '--json', '--select', 'ok/a'], { env });
    const rows = JSON.parse(status.stdout) as { key: string; lastMaterialization?: { runId: string } }[];
    assert.equal(rows[0]?.lastMaterialization?.runId, out.runId);

    const logs = await cairn([...ws, 'logs', out.runId, '--asset', 'ok/b'], { env });
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /b ran/);
  });

  test('a failed run exits 1 and reports the failed and skipped assets', async () => {
    const r = await cairn([...ws, 'materialize', '--select', 'group:bad', '--json'], { env });
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as { runId: string; status: string; assets: { key: string; status: string; error?: string }[] };
    failedRunId = out.runId;
    assert.equal(out.status, 'failed');
    assert.deepEqual(out.assets.map((a) => [a.key, a.status]), [['bad/fails', 'failed'], ['bad/after', 'skipped']]);
    assert.match(out.assets[0]?.error ?? '', /this asset always fails/);
  });

  test('without --json it shows per-asset progress, a summary and the Temporal UI link', async () => {
    const r = await cairn([...ws, 'materialize', '--select', 'ok/a'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✔ ok\/a\s+materialized/);
    assert.match(r.stdout, /succeeded: 1 materialized, 0 failed, 0 skipped/);
    assert.match(r.stdout, /Temporal UI: http:\/\/localhost:\d+\/namespaces\/default\/workflows\/cairn-run-/);
  });

  test('bad input exits 2 before any run starts', async () => {
    const syntax = await cairn([...ws, 'materialize', '--select', '(ok/a'], { env });
    assert.equal(syntax.code, 2);
    assert.match(syntax.stderr, /column 1/);
    const unknown = await cairn([...ws, 'materialize', '--select', 'ok/zz'], { env });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /ok\/zz/);
    const config = await cairn([...ws, 'materialize', '--select', 'ok/a', '--config', '{not json'], { env });
    assert.equal(config.code, 2);
    assert.match(config.stderr, /--config is not valid JSON/);
    const stray = await cairn([...ws, 'materialize', '--select', 'ok/a', '--config', '{"ok/b":{}}'], { env });
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /--config names 'ok\/b', which is not in this run's selection 'ok\/a'/);
  });

  test('runs, reexecute and --stale-only through the CLI', async () => {
    const failed = await cairn([...ws, 'runs', '--status', 'failed', '--json'], { env });
    assert.equal(failed.code, 0, failed.stderr);
    const failedRuns = JSON.parse(failed.stdout) as { runId: string; trigger: string; url: string }[];
    assert.deepEqual(failedRuns.map((r) => r.runId), [failedRunId]);
    assert.equal(failedRuns[0]?.trigger, 'cli');
    assert.match(failedRuns[0]?.url ?? '', /\/namespaces\/default\/workflows\/cairn-run-/);

    const again = await cairn([...ws, 'reexecute', failedRunId, '--from-failure', '--json'], { env });
    assert.equal(again.code, 1, again.stderr);
    const retried = JSON.parse(again.stdout) as { runId: string; assets: { key: string; status: string }[] };
    assert.deepEqual(retried.assets.map((a) => [a.key, a.status]), [['bad/fails', 'failed'], ['bad/after', 'skipped']]);
    const byAsset = JSON.parse((await cairn([...ws, 'runs', '--asset', 'bad/after', '--json'], { env })).stdout) as { runId: string; parentRunId?: string; trigger: string }[];
    assert.deepEqual(byAsset.map((r) => [r.runId, r.parentRunId, r.trigger]), [[retried.runId, failedRunId, 'reexecution'], [failedRunId, undefined, 'cli']]);

    const nothing = await cairn([...ws, 'reexecute', goodRunId, '--from-failure'], { env });
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /has no failed or skipped steps to re-execute/);
    const unknown = await cairn([...ws, 'reexecute', 'no-such-run', '--all'], { env });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no run 'no-such-run' in the catalog/);
    const both = await cairn([...ws, 'reexecute', goodRunId, '--all', '--from-failure'], { env });
    assert.equal(both.code, 2);

    // ok/a was materialized again by an earlier test, so ok/b consumed an older version: it alone is stale.
    const status = JSON.parse((await cairn([...ws, 'status', '--select', 'group:good', '--json'], { env })).stdout) as { key: string; state: string; causes: { kind: string }[] }[];
    assert.deepEqual(status.map((r) => [r.key, r.state, r.causes.map((c) => c.kind)]), [['ok/a', 'FRESH', []], ['ok/b', 'STALE', ['upstream_data_changed']]]);
    const stale = await cairn([...ws, 'materialize', '--select', 'group:good', '--stale-only', '--json'], { env });
    assert.equal(stale.code, 0, stale.stderr);
    assert.deepEqual((JSON.parse(stale.stdout) as { assets: { key: string }[] }).assets.map((a) => a.key), ['ok/b']);
    const noop = await cairn([...ws, 'materialize', '--select', 'group:good', '--stale-only'], { env });
    assert.equal(noop.code, 0, noop.stderr);
    assert.match(noop.stdout, /nothing in 'group:good' is missing or stale; no run started/);
  });
});

test('cairn materialize exits 1 with advice when no Temporal server answers', async () => {
  const r = await cairn([...ws, 'materialize', '--select', '*'], { env: { TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Temporal does not answer .* start `npx cairn dev`/);
});
