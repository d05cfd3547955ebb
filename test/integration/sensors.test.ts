import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { asset, externalAsset } from '../../definitions/asset';
import { codeLocation } from '../../definitions/code-location';
import { staticPartitions } from '../../definitions/partitions/definitions';
import { sensor } from '../../definitions/sensor';
import { sensorTicksQuery, type SensorView } from '../../workflows/messages';
import type { SensorInput } from '../../workflows/sensor';
import { sleep, startHarness, type Harness } from './harness';

let failNext = false;
const raw = externalAsset({ key: 'sn/raw' });
const mart = asset({ key: 'sn/mart', deps: ['sn/raw'], retry: { maxAttempts: 1 }, materialize: () => [{ ok: true }] });
const regional = asset({ key: 'sn/regional', partitions: staticPartitions(['emea', 'amer']), materialize: () => [{ ok: true }] });

const location = codeLocation({
  name: 'sens',
  assets: [raw, mart, regional],
  sensors: [
    sensor({
      name: 'synced',
      minimumInterval: '1s',
      target: 'sn/mart',
      evaluate: ({ cursor }) => {
        if (failNext) {
          failNext = false;
          throw new Error('the source API is down');
        }
        const n = Number(cursor ?? '0') + 1;
        // The same runKey every time: one run, however often it is asked for.
        return { assetEvents: [{ key: 'sn/raw', kind: 'materialization', dataVersion: `sync-${n}` }], runRequests: [{ runKey: 'sync-1' }], cursor: String(n) };
      },
    }),
    sensor({ name: 'malformed', minimumInterval: '1s', evaluate: () => ({ runRequests: [{ partition: '' }], curser: 'x' }) as never }),
    sensor({ name: 'nowhere', minimumInterval: '1s', evaluate: () => ({ runRequests: [{ selection: 'no/such/asset' }] }) }),
    sensor({ name: 'badkey', minimumInterval: '1s', evaluate: () => ({ runRequests: [{ selection: 'sn/regional', partition: 'apac' }] }) }),
  ],
});

async function view(client: Client, id: string): Promise<SensorView> {
  return client.workflow.getHandle(id).query(sensorTicksQuery);
}

async function until(client: Client, id: string, ok: (v: SensorView) => boolean): Promise<SensorView> {
  for (let i = 0; i < 150; i++) {
    const v = await view(client, id).catch(() => undefined);
    if (v && ok(v)) return v;
    await sleep(200);
  }
  throw new Error(`sensor ${id} did not reach the expected state: ${JSON.stringify(await view(client, id).catch(() => undefined))}`);
}

describe('sensors as long-running workflows', () => {
  let h: Harness;
  let client: Client;
  before(async () => {
    h = await startHarness();
    await h.startLocations([location]);
    client = new Client({ connection: h.connection, namespace: 'default' });
  });
  after(async () => {
    for (const id of ['cairn/sensor/sens/synced', 'cairn/sensor/sens/malformed', 'cairn/sensor/sens/nowhere', 'cairn/sensor/sens/badkey', 'cairn/sensor/sens/short']) {
      await client.workflow.getHandle(id).terminate('test over').catch(() => undefined);
    }
    await h?.close();
  });

  test('the worker starts its sensors; repeated requests with one runKey run once; asset events are recorded', async () => {
    const v = await until(client, 'cairn/sensor/sens/synced', (x) => x.evaluations >= 3);
    assert.deepEqual(v.ticks.flatMap((t) => t.runs), ['cairn/sensor/sens/synced/run/sync-1'], 'one run for the runKey');
    assert.ok(v.ticks.slice(1).every((t) => t.dropped.some((d) => d.includes("runKey 'sync-1' already ran"))));
    const run = client.workflow.getHandle('cairn/sensor/sens/synced/run/sync-1');
    await run.result();
    const reported = await h.catalog.assetHistory('sn/raw', { types: ['materialization'] });
    assert.ok(reported.events.length >= 3, 'each evaluation reported the external table');
    assert.equal(reported.events[0]?.source, 'report');
  });

  test('an evaluation error is recorded on its tick and the next tick recovers, keeping the cursor', async () => {
    const before = await view(client, 'cairn/sensor/sens/synced');
    failNext = true;
    const v = await until(client, 'cairn/sensor/sens/synced', (x) => x.ticks.some((t) => t.status === 'failed') && x.evaluations >= before.evaluations + 2);
    const failed = v.ticks.findIndex((t) => t.status === 'failed');
    assert.match(v.ticks[failed]?.error ?? '', /the source API is down/);
    assert.equal(Number(v.ticks[failed + 1]?.cursor), Number(v.ticks[failed]?.cursor) + 1, 'the cursor goes on from where it was');
  });

  test('a malformed result, a run request matching nothing and a partition key that does not exist are errors on the tick; the sensors keep running', async () => {
    const bad = await until(client, 'cairn/sensor/sens/malformed', (x) => x.evaluations >= 2);
    assert.match(bad.ticks[0]?.error ?? '', /sensor 'malformed' returned a malformed result: .*runRequests\[0\]\.partition: Too small.*Unrecognized key: "curser"/);
    const nowhere = await until(client, 'cairn/sensor/sens/nowhere', (x) => x.evaluations >= 1);
    assert.match(nowhere.ticks[0]?.dropped[0] ?? '', /runRequests\[0\]: .*no\/such\/asset/);
    assert.deepEqual(nowhere.ticks[0]?.runs, []);
    const badkey = await until(client, 'cairn/sensor/sens/badkey', (x) => x.evaluations >= 2);
    assert.match(badkey.ticks[0]?.dropped[0] ?? '', /runRequests\[0\]: asset 'sn\/regional': 'apac' is not a key of static partitions/);
    assert.deepEqual(badkey.ticks.flatMap((t) => t.runs), [], 'nothing ran, and the sensor kept evaluating');
  });

  test('the cursor survives a restart of the location worker: evaluations wait, then go on from it', async () => {
    await h.stopLocation('sens');
    const stopped = await view(client, 'cairn/sensor/sens/synced');
    // With no worker, the evaluation activity waits on the queue; nothing is evaluated and nothing is lost.
    await sleep(2500);
    const during = await view(client, 'cairn/sensor/sens/synced');
    assert.ok(during.evaluations <= stopped.evaluations + 1, `at most the tick in flight completed (${stopped.evaluations} -> ${during.evaluations})`);
    await h.startLocations([location]);
    const v = await until(client, 'cairn/sensor/sens/synced', (x) => x.evaluations >= during.evaluations + 2);
    const cursors = v.ticks.filter((t) => t.cursor !== undefined).map((t) => Number(t.cursor));
    assert.deepEqual(cursors.slice(-3), [cursors.at(-3)!, cursors.at(-3)! + 1, cursors.at(-3)! + 2], 'one more per evaluation, across the restart');
    assert.ok(cursors.at(-1)! > Number(stopped.cursor), 'it went on from the cursor it had');
  });

  test('the cursor survives continue-as-new', async () => {
    const input: SensorInput = { location: 'sens', sensor: 'synced', intervalMs: 200, target: { selection: 'sn/mart' }, evaluationsPerExecution: 2 };
    const handle = await client.workflow.start('sensor', { workflowId: 'cairn/sensor/sens/short', taskQueue: 'cairn', args: [input] });
    const v = await until(client, 'cairn/sensor/sens/short', (x) => x.evaluations >= 5);
    const cursors = v.ticks.map((t) => Number(t.cursor));
    assert.deepEqual(cursors, cursors.map((_, i) => cursors[0]! + i), 'one more per evaluation, across executions');
    const described = await client.workflow.getHandle('cairn/sensor/sens/short').describe();
    assert.notEqual(described.runId, handle.firstExecutionRunId, 'it continued as new');
  });
});
