import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dbtAssets } from '../../activities/dbt';
import { duckdb } from '../../activities/duckdb';
import type { StoredAssetEvent } from '../../activities/catalog/catalog-store';
import type { RunSummary } from '../../activities/types';
import { asset } from '../../definitions/asset';
import { codeLocation } from '../../definitions/code-location';
import { dailyPartitions } from '../../definitions/partitions';
import { CAIRN_HOME } from '../../workers/settings';
import { sleep, startHarness, type Harness } from './harness';

/**
 * dbt end to end: the fixture project (test/fixtures/dbt/scenarios, copied to a temp folder) built by real
 * dbt-duckdb through a real worker, between TypeScript assets upstream and downstream of it.
 */
const FIXTURE = resolve(CAIRN_HOME, 'test/fixtures/dbt/scenarios');

/** When each TypeScript asset ran, to check the order against dbt's materializations. */
const ran = new Map<string, number>();

let h: Harness;
let project: string;

function location(warehousePath: string) {
  return codeLocation({
    name: 'dbtit',
    resources: { warehouse: duckdb({ path: warehousePath }) },
    assets: [
      asset({
        key: 'ts/raw_events',
        retry: { maxAttempts: 1 },
        materialize: () => {
          ran.set('ts/raw_events', Date.now());
          return [
            { id: 1, kind: 'a', note: 'first' },
            { id: 2, kind: 'b', note: null },
            { id: 3, kind: 'a', note: 'third' },
          ];
        },
      }),
      dbtAssets({ project, name: 'dbt:scenarios', exclude: 'tag:partitioned' }),
      dbtAssets({ project, name: 'dbt:daily', select: 'tag:partitioned', partitions: dailyPartitions({ start: '2024-01-01', end: '2024-02-01' }) }),
      // The same project with a broken profile target, found only when dbt runs (the manifest is already there).
      dbtAssets({ project, name: 'dbt:broken-profile', target: 'broken', parse: 'never', select: 'stg_events', key: (n) => (n.resourceType === 'source' ? undefined : `bad/${n.name}`) }),
      asset({
        key: 'ts/between',
        retry: { maxAttempts: 1 },
        ins: { events: { asset: 'stg_events', load: 'rows' } },
        materialize: ({ ins }) => {
          ran.set('ts/between', Date.now());
          return (ins.events as { id: number }[]).map((e) => ({ id: e.id }));
        },
      }),
      asset({
        key: 'ts/good_report',
        retry: { maxAttempts: 1 },
        ins: { mart: { asset: 'good_mart', load: 'rows' } },
        materialize: ({ ins }) => {
          ran.set('ts/good_report', Date.now());
          return (ins.mart as { kind: string; events: number }[]).map((r) => ({ kind: r.kind, events: Number(r.events) }));
        },
      }),
      asset({ key: 'ts/after_broken', deps: ['broken'], retry: { maxAttempts: 1 }, materialize: () => [{ ok: true }] }),
      asset({ key: 'ts/after_checked', deps: ['checked'], retry: { maxAttempts: 1 }, materialize: () => [{ ok: true }] }),
    ],
  });
}

async function run(selection: string): Promise<{ runId: string; summary: RunSummary }> {
  const handle = await h.client.startRun({ selection, trigger: 'test' });
  return { runId: handle.runId, summary: await h.client.result(handle) };
}

function outcome(summary: RunSummary, key: string) {
  const a = summary.assets.find((x) => x.key === key);
  assert.ok(a, `asset '${key}' is in the run (${summary.assets.map((x) => x.key).join(', ')})`);
  return a;
}

async function events(runId: string, type: 'materialization' | 'check_evaluation'): Promise<StoredAssetEvent[]> {
  return h.catalog.runEvents(runId, [type]);
}

describe('dbt assets on a real worker with real dbt-duckdb', { timeout: 600_000 }, () => {
  before(async () => {
    project = join(mkdtempSync(join(tmpdir(), 'cairn-dbt-')), 'scenarios');
    cpSync(FIXTURE, project, { recursive: true });
    h = await startHarness();
    process.env.CAIRN_WAREHOUSE_PATH = h.warehousePath;
    await h.startLocations([location(h.warehousePath)]);
    // The upstream tables every scenario reads, so that each test also runs on its own.
    const setup = await run('ts/raw_events or kind_labels');
    assert.equal(setup.summary.status, 'succeeded', JSON.stringify(setup.summary.assets));
  });

  after(async () => {
    await h?.close();
    if (project) rmSync(resolve(project, '..'), { recursive: true, force: true });
  });

  test('a build records every model and test, with the TypeScript upstream and downstream in order, and a warn test does not block', async () => {
    const { runId, summary } = await run('+ts/good_report');
    assert.equal(summary.status, 'succeeded', JSON.stringify(summary.assets));
    for (const key of ['ts/raw_events', 'kind_labels', 'stg_events', 'good_mart', 'ts/good_report']) assert.equal(outcome(summary, key).status, 'materialized', key);

    const mats = new Map((await events(runId, 'materialization')).map((e) => [e.assetKey, e]));
    for (const key of ['kind_labels', 'stg_events', 'good_mart']) {
      const m = mats.get(key);
      assert.ok(m, `a materialization of ${key}`);
      assert.match(String(m.metadata.relation_name?.value), new RegExp(`"main"\\."${key}"`));
      assert.equal(typeof m.metadata.execution_time_s?.value, 'number');
      assert.ok(m.codeVersion && m.dataVersion, `${key} has a code and a data version`);
    }
    assert.equal(mats.get('kind_labels')?.metadata.rows_affected?.value, 2, 'the seed reports the rows it loaded (from run_results.json)');
    // Upstream TypeScript before dbt, dbt before the downstream TypeScript.
    const at = (k: string): number => Date.parse(mats.get(k)?.at ?? '');
    assert.ok((ran.get('ts/raw_events') ?? Infinity) < at('stg_events'));
    assert.ok(at('good_mart') < (ran.get('ts/good_report') ?? 0));

    const checks = (await events(runId, 'check_evaluation')).map((e) => ({ asset: e.assetKey, ...e.check }));
    const byName = new Map(checks.map((c) => [c.name, c]));
    assert.deepEqual(
      [...byName.keys()].sort(),
      ['not_null_good_mart_kind', 'not_null_good_mart_note', 'unique_good_mart_kind'],
      'every test of the built models is recorded as a check',
    );
    assert.equal(byName.get('unique_good_mart_kind')?.passed, true);
    assert.equal(byName.get('unique_good_mart_kind')?.asset, 'good_mart');
    const warn = byName.get('not_null_good_mart_note');
    assert.equal(warn?.passed, false, 'kind b has no note: the warn-severity test fails');
    assert.equal(warn?.severity, 'WARN');
    assert.equal(outcome(summary, 'ts/good_report').failedCheck, undefined);
    assert.equal(outcome(summary, 'good_mart').failedCheck, undefined, 'a warning does not block');

    const rows = await duckdb({ path: h.warehousePath }).query<{ kind: string; events: number }>('select kind, events from ts.good_report order by kind');
    assert.deepEqual(rows, [{ kind: 'a', events: 2 }, { kind: 'b', events: 1 }], 'the TypeScript downstream read the mart dbt built');

    const logs = await h.catalog.getLogs(runId, 'dbt:scenarios');
    const commands = logs.filter((l) => l.message.startsWith('dbt build --select'));
    assert.equal(commands.length, 1, 'one dbt invocation for the project');
    assert.ok((await h.catalog.getLogs(runId, 'good_mart')).some((l) => /good_mart/.test(l.message)), 'node lines are kept with their asset');
  });

  test('a subset selection builds only the chosen models', async () => {
    const { runId, summary } = await run('stg_events');
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual(summary.assets.map((a) => a.key), ['stg_events']);
    assert.deepEqual((await events(runId, 'materialization')).map((e) => e.assetKey), ['stg_events']);
    const command = (await h.catalog.getLogs(runId, 'dbt:scenarios')).find((l) => l.message.startsWith('dbt build'));
    assert.match(command?.message ?? '', /--select fqn:scenarios\.stg_events \(/);
  });

  test('a TypeScript asset between two dbt models splits the project into two dbt steps, in order', async () => {
    const { runId, summary } = await run('+after_between');
    assert.equal(summary.status, 'succeeded', JSON.stringify(summary.assets));
    const mats = new Map((await events(runId, 'materialization')).map((e) => [e.assetKey, Date.parse(e.at)]));
    assert.ok((mats.get('stg_events') ?? Infinity) < (ran.get('ts/between') ?? 0), 'stg_events before the TypeScript asset');
    assert.ok((ran.get('ts/between') ?? Infinity) < (mats.get('after_between') ?? 0), 'the TypeScript asset before after_between');
    const first = (await h.catalog.getLogs(runId, 'dbt:scenarios')).filter((l) => l.message.startsWith('dbt build'));
    const second = (await h.catalog.getLogs(runId, 'dbt:scenarios#2')).filter((l) => l.message.startsWith('dbt build'));
    assert.equal(first.length + second.length, 2, 'two dbt invocations: one per stage');
    assert.match(first[0]?.message ?? '', /fqn:scenarios\.stg_events /);
    assert.match(second[0]?.message ?? '', /fqn:scenarios\.after_between /);
  });

  test('a partitioned dbt asset gets its window as --vars, for one partition and for a backfill range', async () => {
    const one = await h.client.result(await h.client.startRun({ selection: 'daily_window', partition: '2024-01-05', trigger: 'test' }));
    assert.equal(one.status, 'succeeded', JSON.stringify(one.assets));
    const { backfillId } = await h.client.startBackfill({ selection: 'daily_window', partitions: { range: ['2024-01-10', '2024-01-12'] } });
    const b = await h.client.backfillResult(backfillId);
    assert.equal(b.status, 'succeeded', JSON.stringify(b));
    const rows = await duckdb({ path: h.warehousePath }).query('select day, min_date, max_date, keys from main.daily_window order by day');
    assert.deepEqual(rows, [
      { day: '2024-01-05', min_date: '2024-01-05T00:00:00.000Z', max_date: '2024-01-06T00:00:00.000Z', keys: 1 },
      { day: 'range', min_date: '2024-01-10T00:00:00.000Z', max_date: '2024-01-13T00:00:00.000Z', keys: 3 },
    ]);
    const states = await h.catalog.partitionStates('daily_window');
    assert.deepEqual([...states.keys()].sort(), ['2024-01-05', '2024-01-10', '2024-01-11', '2024-01-12'], 'one materialization per partition key');
  });

  test('a failing model fails its asset and skips its dbt and TypeScript downstream', async () => {
    const { runId, summary } = await run('broken+');
    assert.equal(summary.status, 'failed');
    assert.equal(outcome(summary, 'broken').status, 'failed');
    assert.match(outcome(summary, 'broken').error ?? '', /no_such_column/, 'the error is dbt\'s message from run_results.json');
    assert.equal(outcome(summary, 'after_broken').status, 'skipped');
    assert.equal(outcome(summary, 'ts/after_broken').status, 'skipped');
    assert.deepEqual((await events(runId, 'materialization')).map((e) => e.assetKey), [], 'nothing downstream was built');
  });

  test('a failing error-severity test marks its check failed and blocks the TypeScript downstream', async () => {
    const { runId, summary } = await run('checked+');
    assert.equal(summary.status, 'failed');
    assert.equal(outcome(summary, 'checked').status, 'materialized', 'the model itself was built');
    assert.match(outcome(summary, 'checked').failedCheck ?? '', /accepted_values_checked_kind/);
    assert.equal(outcome(summary, 'after_checked').status, 'skipped', 'dbt skips its own downstream');
    assert.equal(outcome(summary, 'ts/after_checked').status, 'skipped', 'Cairn skips the TypeScript downstream');
    assert.match(outcome(summary, 'ts/after_checked').error ?? '', /blocked by check accepted_values_checked_kind/);
    const check = (await events(runId, 'check_evaluation')).find((e) => e.assetKey === 'checked');
    assert.equal(check?.check?.passed, false);
    assert.equal(check?.check?.severity, 'ERROR');
    assert.equal(check?.metadata.failures?.value, 1, 'one unexpected kind');
  });

  test('a checks-only run runs dbt test on the stored model: the check is evaluated again and nothing is built', async () => {
    const before = await h.catalog.countAssetEvents({ type: 'materialization', assetKey: 'checked' });
    const handle = await h.client.startRun({ selection: 'checked', trigger: 'test', checksOnly: true });
    const summary = await h.client.result(handle);
    assert.equal(summary.checksOnly, true);
    assert.equal(summary.status, 'failed', 'the stored model still has the unexpected kind');
    assert.match(outcome(summary, 'checked').failedCheck ?? '', /^accepted_values_checked_kind/);
    const checks = await events(handle.runId, 'check_evaluation');
    assert.deepEqual(checks.map((e) => [e.assetKey, e.check?.passed]), [['checked', false]]);
    assert.equal(await h.catalog.countAssetEvents({ type: 'materialization', assetKey: 'checked' }), before, 'dbt test built nothing');
  });

  test('a broken profile at run time fails the step with dbt\'s message, and records nothing', async () => {
    const { runId, summary } = await run('bad/stg_events');
    assert.equal(summary.status, 'failed');
    const error = outcome(summary, 'bad/stg_events').error ?? '';
    assert.match(error, /dbt build failed for project 'scenarios' \(.*\), exit 2: .*not-a-number/);
    assert.equal((await events(runId, 'materialization')).length, 0);
  });

  test('cancelling the run stops dbt', async () => {
    const handle = await h.client.startRun({ selection: 'slow', trigger: 'test' });
    // Wait until dbt has started the slow model.
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const lines = await h.catalog.getLogs(handle.runId, 'slow');
      if (lines.some((l) => /START/.test(l.message))) break;
      await sleep(200);
    }
    assert.ok(dbtProcesses(project).length > 0, 'dbt is running');
    const canceledAt = Date.now();
    await handle.handle.cancel();
    const summary = await h.client.result(handle);
    console.log(`dbt stopped and the run ended ${((Date.now() - canceledAt) / 1000).toFixed(1)} s after the cancel`);
    assert.equal(summary.status, 'canceled');
    assert.deepEqual(dbtProcesses(project), [], 'no dbt process is left');
    assert.equal((await events(handle.runId, 'materialization')).length, 0);
    assert.equal((await h.catalog.getRun(handle.runId))?.status, 'canceled');
  });
});

describe('dbt bad input: clear errors naming the project, node or file', { timeout: 300_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-dbt-bad-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const copy = (name: string): string => {
    const p = join(dir, name);
    cpSync(FIXTURE, p, { recursive: true });
    return p;
  };

  test('a missing project directory, or one without dbt_project.yml', () => {
    assert.throws(() => dbtAssets({ project: join(dir, 'nope') }), (e: Error) => /dbt project directory '.*nope' does not exist/.test(e.message));
    assert.throws(() => dbtAssets({ project: dir }), (e: Error) => e.message.includes(`'${dir}' is not a dbt project: it has no dbt_project.yml`));
  });

  test('dbt missing from .venv', () => {
    const p = copy('nodbt');
    assert.throws(() => dbtAssets({ project: p, dbtExecutable: join(dir, 'no-such-dbt') }), (e: Error) => /the dbt executable '.*no-such-dbt' does not exist/.test(e.message));
  });

  test('a broken profile fails dbt parse with dbt\'s message and the project', () => {
    const p = copy('badprofile');
    process.env.CAIRN_WAREHOUSE_PATH ??= join(dir, 'w.duckdb');
    assert.throws(
      () => dbtAssets({ project: p, target: 'broken' }),
      (e: Error) => e.message.startsWith(`dbt parse failed for project '${p}'`) && /threads|not-a-number|profile/i.test(e.message),
    );
  });

  test('a manifest that fails to parse names the file', () => {
    const p = copy('badmanifest');
    mkdirSync(join(p, 'target'), { recursive: true });
    writeFileSync(join(p, 'target', 'manifest.json'), '{"metadata": {}, "nodes": ');
    assert.throws(() => dbtAssets({ project: p, parse: 'never' }), (e: Error) => e.message.includes(`dbt manifest ${join(p, 'target', 'manifest.json')} is not valid JSON`));
    writeFileSync(join(p, 'target', 'manifest.json'), JSON.stringify({ metadata: {}, nodes: { 'model.x.y': { unique_id: 'model.x.y' } } }));
    assert.throws(() => dbtAssets({ project: p, parse: 'never' }), (e: Error) => /is not a manifest Cairn can read: field 'nodes\.model\.x\.y\.resource_type'/.test(e.message));
  });

  test('a selection that matches nothing, and two nodes on one key', () => {
    const p = copy('selection');
    assert.throws(() => dbtAssets({ project: p, select: 'tag:nothing_has_this' }), (e: Error) => /dbt project 'scenarios' .* select 'tag:nothing_has_this' matches no model, seed or snapshot/.test(e.message));
    assert.throws(() => dbtAssets({ project: p, select: 'tag:a,,b' }), (e: Error) => /column \d+/.test(e.message));
    assert.throws(
      () => dbtAssets({ project: p, key: (n) => (n.name === 'broken' || n.name === 'checked' ? 'same/key' : undefined) }),
      (e: Error) => e.message.includes("dbt nodes 'model.scenarios.broken' and 'model.scenarios.checked' both map to asset key 'same/key'"),
    );
  });
});

/** Pids of dbt processes working on `dir`. */
function dbtProcesses(dir: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', `dbt build --project-dir ${dir}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}
