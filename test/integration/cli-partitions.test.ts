import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { cairn, FIXTURES, startDev } from '../cli/cli-helpers';
import { TEMPORAL_BIN } from './harness';

const ws = ['--workspace', resolve(FIXTURES, 'partitioned/cairn.workspace.json')];
const run = promisify(execFile);

describe('partitions and backfills through the cairn and temporal CLIs', () => {
  let env: NodeJS.ProcessEnv;
  let stop: () => Promise<void>;
  before(async () => {
    ({ env, stop } = await startDev(ws, 'cairn-cli-parts-'));
  });
  after(async () => {
    await stop?.();
  });

  test('materialize --partition runs one partition; bad or missing keys exit 2 before anything starts', async () => {
    const r = await cairn([...ws, 'materialize', '--select', 'events/raw', '--partition', '2024-01-05', '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { status: string }).status, 'succeeded');

    const bad = await cairn([...ws, 'materialize', '--select', 'events/raw', '--partition', '2024-13-01'], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /asset 'events\/raw': '2024-13-01' is not a key of daily partitions starting 2024-01-01 \(UTC\) until 2024-03-01: expected yyyy-MM-dd/);
    const none = await cairn([...ws, 'materialize', '--select', 'events/raw'], { env });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /is partitioned .*--partition <key>/);
    const before = await cairn([...ws, 'materialize', '--select', 'events/raw', '--partition', '2023-12-31'], { env });
    assert.equal(before.code, 2);
    assert.match(before.stderr, /before the first partition '2024-01-01'/);
  });

  test('cairn backfill runs a range as child runs, and status --partitions shows compact ranges', async () => {
    const r = await cairn([...ws, 'backfill', '--select', 'group:events', '--partitions', '2024-01-01...2024-01-10', '--max-concurrency', '4', '--json', '--id', 'bf-cli'], { env, timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { backfillId: string; status: string; total: number; counts: Record<string, number> };
    assert.equal(summary.backfillId, 'bf-cli');
    assert.equal(summary.status, 'succeeded');
    assert.equal(summary.counts.succeeded, 10);

    const status = await cairn([...ws, 'status', '--partitions', 'events/daily', '--json'], { env });
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout) as { total: number; counts: Record<string, number>; ranges: { status: string; from: string; to: string; count: number }[] };
    assert.equal(s.total, 60);
    assert.equal(s.counts.materialized, 10);
    assert.deepEqual(s.ranges[0], { status: 'materialized', from: '2024-01-01', to: '2024-01-10', count: 10 });
    assert.deepEqual(s.ranges[1], { status: 'missing', from: '2024-01-11', to: '2024-02-29', count: 50 });

    const text = await cairn([...ws, 'status', '--partitions', 'events/raw'], { env });
    assert.match(text.stdout, /2024-01-01\.\.\.2024-01-10\s+materialized \(10\)/);

    const bfStatus = await cairn([...ws, 'backfill', 'status', 'bf-cli', '--json'], { env });
    assert.equal(bfStatus.code, 0, bfStatus.stderr);
    assert.equal((JSON.parse(bfStatus.stdout) as { counts: { succeeded: number } }).counts.succeeded, 10);
  });

  test('a backfill without --json reports progress and a summary; bad --partitions and unknown ids exit 2', async () => {
    const r = await cairn([...ws, 'backfill', '--select', 'events/raw', '--partitions', '2024-01-11,2024-01-12'], { env, timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /backfill cairn-backfill-\S+ started: 2 runs covering 2 asset partitions/);
    assert.match(r.stdout, /succeeded: 2 succeeded, 0 failed, 0 skipped/);

    const badRange = await cairn([...ws, 'backfill', '--select', 'events/raw', '--partitions', '2024-01-11...'], { env });
    assert.equal(badRange.code, 2);
    assert.match(badRange.stderr, /a range is '<from>...<to>'/);
    const reversed = await cairn([...ws, 'backfill', '--select', 'events/raw', '--partitions', '2024-01-11...2024-01-02'], { env });
    assert.equal(reversed.code, 2);
    assert.match(reversed.stderr, /reversed/);
    const unknown = await cairn([...ws, 'backfill', 'status', 'no-such-backfill'], { env });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no backfill 'no-such-backfill'/);
  });

  test('backfill --detach, then cancel; the temporal CLI starts a backfill and finds its runs by CairnBackfill', async () => {
    const started = await cairn([...ws, 'backfill', '--select', 'group:events', '--partitions', '2024-02-01...2024-02-29', '--max-concurrency', '1', '--detach', '--id', 'bf-detached'], { env });
    assert.equal(started.code, 0, started.stderr);
    const cancel = await cairn([...ws, 'backfill', 'cancel', 'bf-detached'], { env });
    assert.equal(cancel.code, 0, cancel.stderr);
    const address = env.TEMPORAL_ADDRESS as string;
    const { stdout: desc } = await run(TEMPORAL_BIN, ['workflow', 'result', '--address', address, '--workflow-id', 'bf-detached', '--output', 'json']).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
    assert.match(desc, /CANCELED|Canceled|canceled/);

    await run(TEMPORAL_BIN, ['workflow', 'start', '--address', address, '--type', 'backfill', '--task-queue', 'cairn', '--workflow-id', 'bf-temporal', '--input', '{"selection":"events/raw","partitions":{"range":["2024-01-20","2024-01-22"]}}']);
    const { stdout } = await run(TEMPORAL_BIN, ['workflow', 'result', '--address', address, '--workflow-id', 'bf-temporal', '--output', 'json']);
    const result = JSON.parse(stdout) as { result?: { status: string; total: number } };
    assert.equal(result.result?.status, 'succeeded');
    assert.equal(result.result?.total, 3);
    const deadline = Date.now() + 20_000;
    let ids: string[] = [];
    while (Date.now() < deadline) {
      const { stdout: list } = await run(TEMPORAL_BIN, ['workflow', 'list', '--address', address, '--query', "CairnBackfill='bf-temporal' AND WorkflowType='materializeAssets'", '--output', 'json']);
      ids = (JSON.parse(list || '[]') as { execution: { workflowId: string } }[]).map((w) => w.execution.workflowId).sort();
      if (ids.length === 3) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.deepEqual(ids, ['bf-temporal/2024-01-20', 'bf-temporal/2024-01-21', 'bf-temporal/2024-01-22']);
  });

  test('dynamic partitions: keys added with cairn partitions add can be run; others are refused', async () => {
    const add = await cairn([...ws, 'partitions', 'add', 'customers', 'acme', 'globex'], { env });
    assert.equal(add.code, 0, add.stderr);
    const list = await cairn([...ws, 'partitions', 'list', 'customers', '--json'], { env });
    assert.match(list.stdout, /acme/);
    const ok = await cairn([...ws, 'materialize', '--select', 'customers/orders', '--partition', 'globex', '--json'], { env });
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await cairn([...ws, 'materialize', '--select', 'customers/orders', '--partition', 'globx'], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /did you mean 'globex'/);
  });
});
