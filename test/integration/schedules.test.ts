import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { asset } from '../../definitions/asset';
import { codeLocation } from '../../definitions/code-location';
import { job } from '../../definitions/job';
import { dailyPartitions, staticPartitions } from '../../definitions/partitions';
import { schedule } from '../../definitions/schedule';
import type { RunSummary } from '../../activities/types';
import { reconcileSchedules } from '../../workers/schedules';
import { sleep, startHarness, type Harness } from './harness';

const daily = asset({ key: 's/daily', partitions: dailyPartitions({ start: '2024-01-01' }), retry: { maxAttempts: 1 }, materialize: ({ partition }) => [{ day: partition?.key }] });
const regions = asset({ key: 's/regions', partitions: staticPartitions(['emea', 'amer', 'apac']), retry: { maxAttempts: 1 }, materialize: ({ partition }) => [{ region: partition?.key }] });
const plain = asset({ key: 's/plain', retry: { maxAttempts: 1 }, materialize: () => [{ ok: true }] });
const nightly = job({ name: 'nightly', selection: 's/plain', tags: { team: 'data' } });

const scheduled = codeLocation({
  name: 'sched',
  assets: [daily, regions, plain],
  jobs: [nightly],
  schedules: [
    schedule({ name: 'daily-latest', cron: '0 0 * * *', target: 's/daily', partition: 'latest' }),
    schedule({ name: 'region-pick', cron: '0 6 * * *', timezone: 'Europe/Berlin', target: 's/regions', partition: (tick) => (tick.getUTCDay() >= 0 ? 'apac' : 'emea') }),
    schedule({ name: 'nightly', cron: '0 2 * * *', target: nightly, overlap: 'bufferOne' }),
  ],
});

/** Triggers a schedule now and returns the summary of the run it started. */
async function triggerAndWait(client: Client, h: Harness, id: string): Promise<{ workflowId: string; summary: RunSummary }> {
  const handle = client.schedule.getHandle(id);
  const before = (await handle.describe()).info.recentActions.length;
  await handle.trigger();
  for (let i = 0; i < 100; i++) {
    const actions = (await handle.describe()).info.recentActions;
    const started = actions.length > before ? actions.at(-1) : undefined;
    if (started) {
      const workflowId = started.action.workflow.workflowId;
      return { workflowId, summary: await h.client.result({ workflowId, runId: started.action.workflow.firstExecutionRunId, handle: client.workflow.getHandle(workflowId) }) };
    }
    await sleep(100);
  }
  throw new Error(`schedule ${id} did not start a run`);
}

describe('jobs and schedules on a real Temporal dev server', () => {
  let h: Harness;
  let client: Client;
  before(async () => {
    h = await startHarness();
    await h.startLocations([scheduled]);
    client = new Client({ connection: h.connection, namespace: 'default' });
  });
  after(async () => h?.close());

  test('a job runs by name with its selection and tags', async () => {
    const run = await h.client.startRun({ job: 'nightly' });
    const summary = await h.client.result(run);
    assert.deepEqual(summary.assets.map((a) => [a.key, a.status]), [['s/plain', 'materialized']]);
    assert.equal((await h.catalog.getRun(run.runId))?.tags?.team, 'data');
    await assert.rejects(h.client.result(await h.client.startRun({ job: 'nope' })), /no job named 'nope' in the published code locations \(jobs: nightly\)/);
  });

  test('a partitioned schedule with partition latest runs the window that ended at the tick', async () => {
    const { workflowId, summary } = await triggerAndWait(client, h, 'cairn/sched/daily-latest');
    assert.match(workflowId, /^cairn\/sched\/daily-latest-\d{4}-\d{2}-\d{2}T/);
    assert.equal(summary.status, 'succeeded', JSON.stringify(summary));
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const events = await h.catalog.runEvents(summary.runId, ['materialization']);
    assert.deepEqual(events.map((e) => [e.assetKey, e.partition]), [['s/daily', yesterday]]);
    assert.equal((await h.catalog.getRun(summary.runId))?.trigger, 'schedule');
  });

  test("a schedule's partition function picks the key in the location's worker", async () => {
    const { summary } = await triggerAndWait(client, h, 'cairn/sched/region-pick');
    const events = await h.catalog.runEvents(summary.runId, ['materialization']);
    assert.deepEqual(events.map((e) => [e.assetKey, e.partition]), [['s/regions', 'apac']]);
  });

  test('a job schedule runs the job and carries its tags and the schedule id', async () => {
    const { summary } = await triggerAndWait(client, h, 'cairn/sched/nightly');
    const run = await h.catalog.getRun(summary.runId);
    assert.equal(run?.tags?.team, 'data');
    assert.equal(run?.tags?.['cairn/schedule'], 'cairn/sched/nightly');
    const described = await client.schedule.getHandle('cairn/sched/nightly').describe();
    assert.equal(described.policies.overlap, 'BUFFER_ONE');
  });

  test('reconciliation creates, updates (keeping a pause) and deletes schedules as the definitions change', async () => {
    const version = (cron: string, withSecond: boolean) =>
      codeLocation({
        name: 'recon',
        assets: [plain],
        schedules: [schedule({ name: 'a', cron, target: 's/plain' }), ...(withSecond ? [schedule({ name: 'b', cron: '@daily', target: 's/plain' })] : [])],
      });
    // What a location worker does at start (the schedules above were created that way).
    const start = (loc: ReturnType<typeof codeLocation>) => reconcileSchedules(client, loc);
    assert.deepEqual(await start(version('0 1 * * *', true)), { created: ['cairn/recon/a', 'cairn/recon/b'], updated: [], deleted: [], unchanged: [] });
    assert.deepEqual((await start(version('0 1 * * *', true))).unchanged, ['cairn/recon/a', 'cairn/recon/b'], 'a restart with the same code changes nothing');
    await client.schedule.getHandle('cairn/recon/a').pause('paused by an operator');
    const changed = await start(version('30 4 * * *', true));
    assert.deepEqual(changed.updated, ['cairn/recon/a']);
    const a = await client.schedule.getHandle('cairn/recon/a').describe();
    assert.equal(a.state.paused, true, 'the pause survives the update');
    assert.deepEqual(a.spec.calendars?.[0]?.hour, [{ start: 4, end: 4, step: 1 }]);
    // Listing is eventually consistent: wait until the list shows 'b' before removing it from the code.
    for (let i = 0; i < 50; i++) {
      const ids: string[] = [];
      for await (const s of client.schedule.list()) ids.push(s.scheduleId);
      if (ids.includes('cairn/recon/b')) break;
      await sleep(200);
    }
    const removed = await start(version('30 4 * * *', false));
    assert.deepEqual(removed.deleted, ['cairn/recon/b']);
    await assert.rejects(client.schedule.getHandle('cairn/recon/b').describe(), (err: Error) => err.name === 'ScheduleNotFoundError');
  });
});
