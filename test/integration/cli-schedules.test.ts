import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { JobRow } from '../../cli/jobs';
import type { ScheduleRow } from '../../cli/schedules';
import { cairn, FIXTURES, startDev } from '../cli/cli-helpers';
import { sleep } from './harness';

const ws = ['--workspace', resolve(FIXTURES, 'scheduled/cairn.workspace.json')];

describe('cairn jobs, materialize --job and cairn schedules against cairn dev', () => {
  let env: NodeJS.ProcessEnv;
  let stop: () => Promise<void>;
  before(async () => {
    ({ env, stop } = await startDev(ws, 'cairn-cli-schedules-'));
  });
  after(async () => {
    await stop?.();
  });

  const schedules = async (): Promise<ScheduleRow[]> => {
    const r = await cairn([...ws, 'schedules', 'list', '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ScheduleRow[];
  };

  test('jobs list shows the published job with its selection, tags and schedule', async () => {
    const json = await cairn([...ws, 'jobs', 'list', '--json'], { env });
    assert.equal(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as JobRow[];
    assert.deepEqual(rows.map((j) => [j.name, j.codeLocation, j.selection, j.tags, j.schedules.map((s) => s.id)]), [['nightly', 'sched', '+sched/mart', { team: 'data' }, ['cairn/sched/nightly']]]);
    const text = await cairn([...ws, 'jobs', 'list'], { env });
    assert.match(text.stdout, /nightly\s+sched\s+\+sched\/mart\s+team=data\s+cairn\/sched\/nightly \(0 2 \* \* \* Europe\/Berlin\)/);
  });

  test('materialize --job runs the job\'s selection with its tags', async () => {
    const r = await cairn([...ws, 'materialize', '--job', 'nightly', '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { runId: string; status: string; assets: { key: string; status: string }[] };
    assert.equal(out.status, 'succeeded');
    assert.deepEqual(out.assets.map((a) => [a.key, a.status]), [['sched/raw', 'materialized'], ['sched/mart', 'materialized']]);
    const runs = JSON.parse((await cairn([...ws, 'runs', '--json'], { env })).stdout) as { runId: string; selection: string; tags?: Record<string, string> }[];
    const run = runs.find((x) => x.runId === out.runId);
    assert.equal(run?.selection, '+sched/mart');
    assert.equal(run?.tags?.team, 'data');
  });

  test('materialize exits 2 for --job with --select and for an unknown job', async () => {
    const both = await cairn([...ws, 'materialize', '--job', 'nightly', '--select', '*'], { env });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give exactly one of --select <selection> or --job <name>, not both/);
    const unknown = await cairn([...ws, 'materialize', '--job', 'weekly'], { env });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no job named 'weekly' in the published code locations \(jobs: nightly\)/);
  });

  test('schedules list shows both schedules with their spec and target', async () => {
    const rows = await schedules();
    assert.deepEqual(rows.map((s) => [s.id, s.spec, s.job ?? s.selection, s.paused, s.declared]), [
      ['cairn/sched/hourly-other', '@hourly', 'sched/other', false, true],
      ['cairn/sched/nightly', '0 2 * * * (Europe/Berlin)', 'nightly', false, true],
    ]);
    assert.ok(rows.every((s) => s.nextActionTimes.length > 0 && Date.parse(s.nextActionTimes[0] as string) > Date.now()));
    const text = await cairn([...ws, 'schedules', 'list'], { env });
    assert.match(text.stdout, /cairn\/sched\/nightly\s+active\s+0 2 \* \* \* \(Europe\/Berlin\)\s+job nightly\s+\d{4}-/);
  });

  test('pause shows in the list with its note until unpause', async () => {
    const paused = await cairn([...ws, 'schedules', 'pause', 'nightly', '--note', 'source is down'], { env });
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(paused.stdout, 'paused cairn/sched/nightly\n');
    const text = await cairn([...ws, 'schedules', 'list'], { env });
    assert.match(text.stdout, /cairn\/sched\/nightly\s+paused .*\(paused\)\s+never\n\s+note: source is down/);
    const unpaused = await cairn([...ws, 'schedules', 'unpause', 'cairn/sched/nightly'], { env });
    assert.equal(unpaused.code, 0, unpaused.stderr);
    const nightly = (await schedules()).find((s) => s.id === 'cairn/sched/nightly');
    assert.equal(nightly?.paused, false);
    assert.equal(nightly?.note, 'unpaused with cairn schedules unpause');
  });

  test('trigger starts a run and prints its workflow id', async () => {
    const r = await cairn([...ws, 'schedules', 'trigger', 'hourly-other'], { env });
    assert.equal(r.code, 0, r.stderr);
    const workflowId = /run (\S+) started/.exec(r.stdout)?.[1];
    assert.match(workflowId ?? '', /^cairn\/sched\/hourly-other-\d{4}-/, r.stdout);
    let run: { workflowId: string; status: string; trigger: string; selection: string } | undefined;
    for (let i = 0; i < 50 && run?.status !== 'succeeded'; i++) {
      const runs = JSON.parse((await cairn([...ws, 'runs', '--trigger', 'schedule', '--json'], { env })).stdout) as NonNullable<typeof run>[];
      run = runs.find((x) => x.workflowId === workflowId);
      if (run?.status !== 'succeeded') await sleep(200);
    }
    assert.equal(run?.status, 'succeeded');
    assert.equal(run?.selection, 'sched/other');
    const listed = (await schedules()).find((s) => s.id === 'cairn/sched/hourly-other');
    assert.equal(listed?.lastRun?.workflowId, workflowId);
  });

  test('an unknown schedule exits 2 and lists the Cairn schedules', async () => {
    for (const arg of ['weekly', 'cairn/sched/weekly']) {
      const r = await cairn([...ws, 'schedules', 'pause', arg], { env });
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stderr, /no schedule '(cairn\/sched\/)?weekly'.*cairn\/sched\/hourly-other, cairn\/sched\/nightly/);
    }
  });
});
