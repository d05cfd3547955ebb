import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { reportAssetEvent } from '../../activities/catalog/report';
import type { SensorRow } from '../../cli/sensors';
import { graphFromSnapshots } from '../../definitions/plan';
import { locationSnapshot } from '../../definitions/to-snapshot';
import { startSensors } from '../../workers/sensors';
import { sensorTicksQuery, type SensorTick, type SensorView } from '../../workflows/messages';
import { cairn, FIXTURES, type CliResult } from '../cli/cli-helpers';
import { failureCalls, sensorsLocation } from '../fixtures/workspaces/sensors/sensors';
import { sleep, startHarness, type Harness } from './harness';

const ws = ['--workspace', join(FIXTURES, 'sensors', 'cairn.workspace.json')];
const ID = (name: string): string => `cairn/sensor/sensors/${name}`;
const SENSORS = ['ticker', 'asset-sens-raw', 'on-failure', 'doomed'];

/** Polls `read` until `ok` holds (at most `ms`), and returns the last value read. */
async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read().catch(() => undefined as T);
    if (last !== undefined && ok(last)) return last;
    await sleep(200);
  }
  throw new Error(`${what} did not happen in ${ms} ms; last seen: ${JSON.stringify(last)}`);
}

describe('cairn sensors against a real Temporal dev server', () => {
  let h: Harness;
  let client: Client;
  let env: NodeJS.ProcessEnv;
  let existingEvent: number;
  const run = async (...args: string[]): Promise<CliResult> => cairn([...ws, 'sensors', ...args], { env });
  const json = async <T>(...args: string[]): Promise<T> => {
    const r = await run(...args, '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };
  const view = (name: string): Promise<SensorView> => client.workflow.getHandle(ID(name)).query(sensorTicksQuery);

  before(async () => {
    h = await startHarness();
    client = new Client({ connection: h.connection, namespace: 'default' });
    env = { TEMPORAL_ADDRESS: h.server.address, CAIRN_STATE_DIR: h.dir };
    // A materialization from before the sensor exists: the asset sensor must not run for it.
    const location = sensorsLocation();
    await h.catalog.publishSnapshot(locationSnapshot(location), new Date().toISOString());
    await reportAssetEvent(h.catalog, graphFromSnapshots(await h.catalog.getSnapshots()), { type: 'materialization', assetKey: 'sens/raw' });
    existingEvent = (await h.catalog.assetHistory('sens/raw')).events[0]?.id as number;
    await h.startLocations([location]);
    for (const name of SENSORS) await until(`the first evaluation of ${name}`, () => view(name), (v) => v.evaluations >= 1);
  });
  after(async () => {
    for (const name of SENSORS) await client?.workflow.getHandle(ID(name)).terminate('test over').catch(() => undefined);
    await h?.close();
  });

  test('list shows every sensor of the workspace with its interval, target and live state', async () => {
    const rows = await json<SensorRow[]>('list');
    assert.deepEqual(rows.map((r) => [r.id, r.minimumInterval, r.job ?? r.selection ?? null, r.state]), [
      [ID('ticker'), '1s', null, 'running'],
      [ID('asset-sens-raw'), '1s', 'sens/mart', 'running'],
      [ID('on-failure'), '1s', null, 'running'],
      [ID('doomed'), '1s', null, 'running'],
    ]);
    const assetRow = rows.find((r) => r.name === 'asset-sens-raw');
    assert.ok((assetRow?.evaluations ?? 0) >= 1);
    assert.equal(assetRow?.cursor, String(existingEvent), 'the first evaluation starts after the existing event');
    assert.equal(assetRow?.lastTick?.status, 'skipped');
    assert.match((await view('asset-sens-raw')).ticks[0]?.skipReason ?? '', new RegExp(`^first evaluation: starting after the latest materialization of sens/raw \\(event ${existingEvent}\\)`));
    const text = await run('list');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^SENSOR\s+STATE\s+INTERVAL\s+TARGET\s+EVALS\s+LAST TICK\s+CURSOR\n/);
    assert.match(text.stdout, /sensors\/asset-sens-raw\s+running\s+1s\s+sens\/mart\s+\d+\s+skipped \d{4}-\S+\s+\d+\n/);
  });

  test('stop pauses a sensor and keeps its workflow and cursor; start resumes it', async () => {
    const name = 'asset-sens-raw';
    const stopped = await run('stop', name);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /^stopped cairn\/sensor\/sensors\/asset-sens-raw: paused after its current evaluation; the workflow and its cursor are kept/);
    const paused = await until('the pause', () => view(name), (v) => v.paused);
    assert.equal((await json<SensorRow[]>('list')).find((r) => r.name === name)?.state, 'paused');
    assert.match((await run('stop', `sensors/${name}`)).stdout, /is already stopped/);
    // Seconds have passed (two CLI calls) at a 1s interval: at most an evaluation already under way has finished.
    const still = await view(name);
    assert.ok(still.paused && still.evaluations <= paused.evaluations + 1, JSON.stringify({ paused: paused.evaluations, now: still.evaluations }));
    const started = await run('start', name);
    assert.equal(started.code, 0, started.stderr);
    assert.equal(started.stdout, `started ${ID(name)}: resumed with cursor ${existingEvent}; it evaluates now\n`);
    const resumed = await until('evaluations after start', () => view(name), (v) => !v.paused && v.evaluations >= still.evaluations + 2);
    assert.equal(resumed.cursor, String(existingEvent), 'the same workflow, with its cursor');
    assert.match((await run('start', name)).stdout, /is already running/);
  });

  test('cursor prints, sets and clears the cursor, and the next evaluation receives it', async () => {
    const set = await run('cursor', 'ticker', '--set', 'abc');
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /^set the cursor of cairn\/sensor\/sensors\/ticker to 'abc'; it evaluates now/);
    await until('an evaluation with the set cursor', () => view('ticker'), (v) => v.ticks.at(-1)?.skipReason === 'cursor is abc');
    assert.equal((await run('cursor', 'ticker')).stdout, 'abc\n');
    const cleared = await run('cursor', 'ticker', '--clear');
    assert.match(cleared.stdout, /^cleared the cursor of cairn\/sensor\/sensors\/ticker/);
    await until('an evaluation without a cursor', () => view('ticker'), (v) => v.ticks.at(-1)?.skipReason === 'cursor is unset');
    assert.equal((await run('cursor', 'ticker')).stdout, '(no cursor)\n');
  });

  test('ticks lists the recent evaluations newest first', async () => {
    const ticks = await json<SensorTick[]>('ticks', 'ticker', '--limit', '3');
    assert.equal(ticks.length, 3);
    assert.ok(ticks.every((t, i) => i === 0 || Date.parse(t.at) <= Date.parse(ticks[i - 1]?.at ?? '')), 'newest first');
    assert.equal(ticks[0]?.skipReason, 'cursor is unset');
    const text = await run('ticks', 'ticker', '--limit', '2');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^(\d{4}-\S+Z {2}skipped {4}runs: 0 {2}events: 0\n {4}skipped: cursor is unset\n){2}$/);
  });

  test('an asset sensor starts exactly one run per reported materialization', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await cairn([...ws, 'report', 'materialization', 'sens/raw'], { env });
      assert.equal(r.code, 0, r.stderr);
    }
    const events = (await h.catalog.assetHistory('sens/raw', { types: ['materialization'] })).events.map((e) => e.id).filter((id) => id > existingEvent).sort((a, b) => a - b);
    assert.equal(events.length, 2);
    const bySensor = async () => (await h.catalog.listRuns()).filter((r) => r.tags['cairn/sensor'] === 'sensors/asset-sens-raw');
    const runs = await until('two runs of sens/mart', bySensor, (rs) => rs.length >= 2 && rs.every((r) => r.status === 'succeeded'));
    const settled = (await view('asset-sens-raw')).evaluations;
    await until('two more evaluations', () => view('asset-sens-raw'), (v) => v.evaluations >= settled + 2);
    assert.deepEqual((await bySensor()).map((r) => r.workflowId).sort(), events.map((id) => `${ID('asset-sens-raw')}/run/event-${id}`).sort());
    assert.ok(runs.every((r) => r.selection === 'sens/mart'));
    assert.equal((await view('asset-sens-raw')).cursor, String(events[1]));
  });

  test('a run-failure sensor calls onFailure once for a failed run of its job', async () => {
    const jobRun = await cairn([...ws, 'materialize', '--job', 'flaky', '--json'], { env });
    assert.equal(jobRun.code, 1, jobRun.stderr);
    const { runId } = JSON.parse(jobRun.stdout) as { runId: string };
    const byHand = await cairn([...ws, 'materialize', '--select', 'sens/flaky', '--json'], { env });
    assert.equal(byHand.code, 1, 'a failed run of the same selection without the job tags');
    await until('onFailure', async () => failureCalls.length, (n) => n >= 1);
    const settled = (await view('on-failure')).evaluations;
    await until('two more evaluations', () => view('on-failure'), (v) => v.evaluations >= settled + 2);
    assert.equal(failureCalls.length, 1, JSON.stringify(failureCalls));
    assert.equal(failureCalls[0]?.runId, runId);
    assert.match(failureCalls[0]?.error ?? '', /^sens\/flaky: .*the flaky source is down/);
    assert.match((await view('on-failure')).cursor ?? '', new RegExp(`\\|${runId}$`));
  });

  test("a removed sensor's workflow is terminated when its location's worker starts without it", async () => {
    await h.stopLocation('sensors');
    await h.startLocations([sensorsLocation(['doomed'])]);
    const doomed = await client.workflow.getHandle(ID('doomed')).describe();
    assert.equal(doomed.status.name, 'TERMINATED');
    const history = await client.workflow.getHandle(ID('doomed')).fetchHistory();
    const reason = history.events?.find((e) => e.workflowExecutionTerminatedEventAttributes)?.workflowExecutionTerminatedEventAttributes?.reason;
    assert.equal(reason, "sensor 'doomed' is no longer defined in code location 'sensors'; its worker stopped it when it started");
    assert.equal((await json<SensorRow[]>('list')).find((r) => r.name === 'doomed')?.state, 'not running');
    assert.equal((await client.workflow.getHandle(ID('ticker')).describe()).status.name, 'RUNNING', 'the others keep running');
    // Started again by hand (this workspace still defines it), it is stopped by the next start of a worker without it.
    const started = await run('start', 'doomed');
    assert.match(started.stdout, /^started cairn\/sensor\/sensors\/doomed: a new workflow, without a cursor/);
    const result = await until('the restarted sensor to be seen and stopped', () => startSensors(client, sensorsLocation(['doomed'])), (r) => r.stopped.length > 0);
    assert.deepEqual(result, { started: [ID('ticker'), ID('asset-sens-raw'), ID('on-failure')], stopped: [ID('doomed')] });
  });
});
