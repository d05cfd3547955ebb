import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { z } from 'zod';
import { cairnDataConverter, ENCRYPTED_ENCODING } from '../../client/encryption';
import { asset } from '../../definitions/asset';
import { codeLocation } from '../../definitions/code-location';
import { startHarness, type Harness } from './harness';
import { WAKE_AUTOMATION_PATCH } from '../../workflows/materialize-assets';

type Payload = proto.temporal.api.common.v1.IPayload;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

const KEY = randomBytes(32).toString('base64');
const ROW_MARKER = 'row-marker-4b7e19';
const CONFIG_MARKER = 'config-marker-c20d5a';
const FAILURE_MARKER = 'failure-marker-93aa0f';

const location = codeLocation({
  name: 'enc',
  assets: [
    asset({ key: 'enc/source', retry: { maxAttempts: 1 }, materialize: () => [{ id: 1, label: ROW_MARKER }] }),
    asset({
      key: 'enc/report',
      deps: ['enc/source'],
      retry: { maxAttempts: 1 },
      config: z.object({ note: z.string() }),
      materialize: ({ config, addMetadata }) => {
        addMetadata({ note: config.note });
        return [{ id: 1, note: config.note }];
      },
    }),
    asset({ key: 'enc/broken', retry: { maxAttempts: 1 }, materialize: () => { throw new Error(`the export failed: ${FAILURE_MARKER}`); } }),
  ],
});

/** Every payload in an event, with where it is; search attributes are left out (the server must read them). */
function payloadsOf(value: unknown, path: string, out: { path: string; payload: Payload }[]): void {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
  if (/searchAttributes$/i.test(path)) return;
  const v = value as Record<string, unknown>;
  if (v.metadata !== undefined && typeof v.metadata === 'object' && 'data' in v) {
    out.push({ path, payload: v as Payload });
    return;
  }
  for (const [k, child] of Object.entries(v)) payloadsOf(child, `${path}.${k}`, out);
}

async function rawHistory(connection: Connection, workflowId: string): Promise<HistoryEvent[]> {
  const plain = new Client({ connection, namespace: 'default' });
  const history = await plain.workflow.getHandle(workflowId).fetchHistory();
  return history.events ?? [];
}

describe('payload encryption (CAIRN_ENCRYPTION_KEY)', () => {
  let h: Harness | undefined;
  let connection: Connection;
  const saved = process.env.CAIRN_ENCRYPTION_KEY;

  before(async () => {
    process.env.CAIRN_ENCRYPTION_KEY = KEY;
    h = await startHarness();
    await h.startLocations([location]);
    connection = await Connection.connect({ address: h.server.address });
  });

  after(async () => {
    await connection?.close();
    await h?.close();
    if (saved === undefined) delete process.env.CAIRN_ENCRYPTION_KEY;
    else process.env.CAIRN_ENCRYPTION_KEY = saved;
  });

  test('a run succeeds and every payload in its history is ciphertext', async () => {
    const run = await h!.client.startRun({ selection: 'enc/source+', config: { 'enc/report': { note: CONFIG_MARKER } } });
    const summary = await h!.client.result(run);
    assert.equal(summary.status, 'succeeded', JSON.stringify(summary));
    assert.deepEqual(summary.assets.map((a) => [a.key, a.status]).sort(), [['enc/report', 'materialized'], ['enc/source', 'materialized']]);

    const events = await rawHistory(connection, run.workflowId);
    const found: { path: string; payload: Payload }[] = [];
    events.forEach((e, i) => payloadsOf(e, `events[${i}]`, found));
    for (const { path, payload } of found) {
      // A `wf.patched` marker is written by the SDK's core, outside the data converter: its only content is the
      // patch id, which must be exactly Cairn's (so nothing else can hide there).
      if (path.endsWith('markerRecordedEventAttributes.details.patch-data.payloads.0')) {
        assert.match(new TextDecoder().decode(payload.data ?? new Uint8Array()), new RegExp(`"${WAKE_AUTOMATION_PATCH}"`), `${path} is not Cairn's patch marker`);
        continue;
      }
      assert.equal(new TextDecoder().decode(payload.metadata?.encoding ?? new Uint8Array()), ENCRYPTED_ENCODING, `${path} is not encrypted`);
    }
    const where = found.map((f) => f.path.replace(/^events\[\d+\]\./, '')).join('\n');
    for (const expected of ['workflowExecutionStartedEventAttributes.input', 'activityTaskScheduledEventAttributes.input', 'activityTaskCompletedEventAttributes.result', 'workflowExecutionCompletedEventAttributes.result']) {
      assert.match(where, new RegExp(expected.replace(/\./g, '\\.')), `no payload at ${expected}`);
    }
    const payloadBytes = Buffer.concat(found.map((f) => Buffer.from(proto.temporal.api.common.v1.Payload.encode(f.payload).finish())));
    for (const needle of ['enc/source', 'enc/report', CONFIG_MARKER, 'selection', 'materialized']) {
      assert.equal(payloadBytes.includes(needle), false, `'${needle}' is readable in a payload`);
    }
    const historyBytes = Buffer.from(proto.temporal.api.history.v1.History.encode({ events }).finish());
    assert.equal(historyBytes.includes(CONFIG_MARKER), false, 'the run config is readable in the history');
  });

  test("a failed step's error message is encrypted, and Cairn's client still reads it", async () => {
    const run = await h!.client.startRun({ selection: 'enc/broken' });
    const summary = await h!.client.result(run);
    assert.equal(summary.status, 'failed');
    assert.match(summary.assets[0]?.error ?? '', new RegExp(FAILURE_MARKER));
    const events = await rawHistory(connection, run.workflowId);
    const failed = events.find((e) => e.activityTaskFailedEventAttributes)?.activityTaskFailedEventAttributes?.failure;
    assert.equal(failed?.cause?.message ?? failed?.message, 'Encoded failure');
    const historyBytes = Buffer.from(proto.temporal.api.history.v1.History.encode({ events }).finish());
    assert.equal(historyBytes.includes(FAILURE_MARKER), false, "the step's error message is readable in the history");
    // The run's own failure ("1 of 1 steps failed (enc/broken)") is raised in the workflow: encoded by the bundle.
    const runFailure = events.find((e) => e.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes?.failure;
    assert.equal(runFailure?.message, 'Encoded failure');
    assert.equal(historyBytes.includes('steps failed'), false, "the run's failure message is readable in the history");
  });

  test('a client with another key, or none, gets a clear error instead of garbage', async () => {
    const run = await h!.client.startRun({ selection: 'enc/source' });
    assert.equal((await h!.client.result(run)).status, 'succeeded');
    const wrong = new Client({ connection, namespace: 'default', dataConverter: cairnDataConverter({ CAIRN_ENCRYPTION_KEY: randomBytes(32).toString('base64') }) });
    await assert.rejects(wrong.workflow.getHandle(run.workflowId).result(), /CAIRN_ENCRYPTION_KEY does not match the key that encrypted the payload/);
    const none = new Client({ connection, namespace: 'default', dataConverter: cairnDataConverter({}) });
    await assert.rejects(none.workflow.getHandle(run.workflowId).result(), /CAIRN_ENCRYPTION_KEY is not set in this process/);
  });
});
