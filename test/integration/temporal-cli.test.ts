import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { asset } from '../../definitions/asset';
import { codeLocation } from '../../definitions/code-location';
import type { RunSummary } from '../../activities/types';
import { startHarness, TEMPORAL_BIN, type Harness } from './harness';

const run = promisify(execFile);

const location = codeLocation({
  name: 'cli',
  assets: [
    asset({ key: 'cli/a', materialize: () => [{ n: 1 }, { n: 2 }] }),
    asset({ key: 'cli/b', ins: { a: { asset: 'cli/a', load: 'rows' } }, materialize: ({ ins }) => (ins.a as { n: number }[]).map((r) => ({ n: r.n * 10 })) }),
  ],
});

let h: Harness;
before(async () => {
  h = await startHarness();
  await h.startLocations([location]);
});
after(async () => {
  await h?.close();
});

test('a run starts from the temporal CLI exactly as the README shows', async () => {
  const workflowId = `cli-trigger-${Date.now()}`;
  await run(TEMPORAL_BIN, ['workflow', 'start', '--address', h.server.address, '--type', 'materializeAssets', '--task-queue', 'cairn', '--workflow-id', workflowId, '--input', '{"selection":"cli/*"}']);
  const { stdout } = await run(TEMPORAL_BIN, ['workflow', 'result', '--address', h.server.address, '--workflow-id', workflowId, '--output', 'json']);
  const result = JSON.parse(stdout) as { status?: string; result?: RunSummary };
  const summary = (result.result ?? result) as RunSummary;
  assert.equal(summary.status, 'succeeded');
  assert.deepEqual(summary.assets.map((a) => [a.key, a.status]), [['cli/a', 'materialized'], ['cli/b', 'materialized']]);
  const [m] = (await h.catalog.assetHistory('cli/b')).events;
  assert.equal(m?.runId, summary.runId);
  assert.equal(m?.metadata.rowCount?.value, 2);
});

test('bad input from the temporal CLI fails the workflow with a clear message instead of retrying', async () => {
  const workflowId = `cli-bad-${Date.now()}`;
  await run(TEMPORAL_BIN, ['workflow', 'start', '--address', h.server.address, '--type', 'materializeAssets', '--task-queue', 'cairn', '--workflow-id', workflowId, '--input', '{"select":"typo"}']);
  const handle = h.client.client.workflow.getHandle(workflowId);
  await assert.rejects(handle.result(), (err: Error & { cause?: Error }) => /input.selection must be a non-empty selection string/.test(String(err.cause?.message)));
  assert.equal((await handle.describe()).status.name, 'FAILED');
});

test('re-execution from the temporal CLI, and `temporal workflow list -q` finds runs by their search attributes', async () => {
  const first = await h.client.result(await h.client.startRun({ selection: 'cli/*' }));
  const workflowId = `cli-reexec-${Date.now()}`;
  await run(TEMPORAL_BIN, ['workflow', 'start', '--address', h.server.address, '--type', 'materializeAssets', '--task-queue', 'cairn', '--workflow-id', workflowId, '--input', JSON.stringify({ reexecute: { runId: first.runId, mode: 'all' } })]);
  const { stdout } = await run(TEMPORAL_BIN, ['workflow', 'result', '--address', h.server.address, '--workflow-id', workflowId, '--output', 'json']);
  const summary = ((JSON.parse(stdout) as { result?: RunSummary }).result ?? JSON.parse(stdout)) as RunSummary;
  assert.deepEqual(summary.assets.map((a) => a.key), ['cli/a', 'cli/b']);
  const record = await h.catalog.getRun(summary.runId);
  assert.equal(record?.parentRunId, first.runId);
  assert.equal(record?.trigger, 'reexecution');

  // Visibility is eventually consistent: poll the real CLI briefly.
  let ids: string[] = [];
  for (let i = 0; i < 40 && ids.length === 0; i++) {
    const list = await run(TEMPORAL_BIN, ['workflow', 'list', '--address', h.server.address, '--query', `CairnTrigger='reexecution' AND CairnRootRun='${first.runId}' AND CairnLocations='cli'`, '--output', 'json']);
    ids = (JSON.parse(list.stdout || '[]') as { execution?: { workflowId?: string } }[]).map((w) => w.execution?.workflowId ?? '');
    if (ids.length === 0) await new Promise((r) => setTimeout(r, 250));
  }
  assert.deepEqual(ids, [workflowId]);

  const bad = `cli-bad-reexec-${Date.now()}`;
  await run(TEMPORAL_BIN, ['workflow', 'start', '--address', h.server.address, '--type', 'materializeAssets', '--task-queue', 'cairn', '--workflow-id', bad, '--input', '{"reexecute":{"runId":"x","mode":"sometimes"}}']);
  await assert.rejects(h.client.client.workflow.getHandle(bad).result(), (err: Error & { cause?: Error }) => /input.reexecute must look like/.test(String(err.cause?.message)));
});
