/**
 * The catalog end to end on a real dev server: reported events drive status, data versions make downstream
 * stale and `staleOnly` runs exactly what is stale, from-failure re-execution runs exactly the failed and
 * skipped steps with upstream values read from storage, the run index and the search attributes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assetStates } from '../../activities/asset-states';
import { reportAssetEvent } from '../../activities/catalog/report';
import { RunStartError } from '../../client/cairn-client';
import { asset, externalAsset } from '../../definitions/asset';
import { codeLocation } from '../../definitions/code-location';
import { NonRetryableError } from '../../definitions/errors';
import { graphFromSnapshots } from '../../definitions/plan';
import { locationSnapshot } from '../../definitions/to-snapshot';
import { startHarness, type Harness } from './harness';

const runsOf = new Map<string, number>();
const count = (key: string): void => {
  runsOf.set(key, (runsOf.get(key) ?? 0) + 1);
};

const staleness = codeLocation({
  name: 'staleness',
  assets: [
    externalAsset({ key: 'st/source', kinds: ['fivetran'] }),
    asset({ key: 'st/a', deps: ['st/source'], codeVersion: '1', materialize: () => (count('st/a'), [{ v: 1 }]) }),
    asset({ key: 'st/b', deps: ['st/a'], materialize: () => (count('st/b'), [{ v: 2 }]) }),
    asset({ key: 'st/c', codeVersion: '1', freshness: { maxLag: '1h' }, materialize: () => (count('st/c'), [{ v: 3 }]) }),
  ],
});

let flakyShouldFail = true;
let flakySaw: unknown;
const reexec = codeLocation({
  name: 'reexec',
  assets: [
    asset({ key: 'rx/up', retry: { maxAttempts: 1 }, materialize: () => (count('rx/up'), [{ n: 41 }, { n: 1 }]) }),
    asset({
      key: 'rx/flaky',
      ins: { up: { asset: 'rx/up', load: 'rows' } },
      retry: { maxAttempts: 1 },
      materialize({ ins }) {
        count('rx/flaky');
        if (flakyShouldFail) throw new NonRetryableError('the partner API is down');
        flakySaw = ins.up;
        return [{ total: (ins.up as { n: number }[]).reduce((s, r) => s + Number(r.n), 0) }];
      },
    }),
    asset({ key: 'rx/down', deps: ['rx/flaky'], retry: { maxAttempts: 1 }, materialize: () => (count('rx/down'), [{ ok: true }]) }),
    asset({ key: 'rx/side', deps: ['rx/up'], retry: { maxAttempts: 1 }, materialize: () => (count('rx/side'), [{ ok: true }]) }),
  ],
});

describe('catalog features on a real Temporal dev server', { timeout: 240_000 }, () => {
  let h: Harness;
  const graph = graphFromSnapshots([locationSnapshot(staleness), locationSnapshot(reexec)]);
  const states = async (keys: string[]) => new Map((await assetStates(h.catalog, graph, keys)).map((r) => [r.key, r]));

  before(async () => {
    h = await startHarness();
    await h.startLocations([staleness, reexec]);
  });
  after(async () => {
    await h?.close();
  });

  test('a reported external event drives status; newer upstream data makes downstream stale; staleOnly runs exactly that', async () => {
    let s = await states(['st/source', 'st/a', 'st/b', 'st/c']);
    assert.deepEqual([...s.values()].map((r) => r.state), ['MISSING', 'MISSING', 'MISSING', 'MISSING']);
    assert.equal(s.get('st/c')?.freshness?.status, 'FAIL');

    await reportAssetEvent(h.catalog, graph, { type: 'materialization', assetKey: 'st/source', dataVersion: 'v1', metadata: { rows: 10 }, eventId: 'sync-1' });
    const again = await reportAssetEvent(h.catalog, graph, { type: 'materialization', assetKey: 'st/source', dataVersion: 'v1', eventId: 'sync-1' });
    assert.equal(again.inserted, false, 'the same event id is recorded once');
    assert.equal(await h.catalog.countAssetEvents({ assetKey: 'st/source' }), 1);
    s = await states(['st/source']);
    assert.equal(s.get('st/source')?.state, 'FRESH');
    assert.equal(s.get('st/source')?.lastMaterialization?.source, 'report');

    const first = await h.client.result(await h.client.startRun({ selection: 'st/*' }));
    assert.equal(first.status, 'succeeded');
    s = await states(['st/a', 'st/b', 'st/c']);
    assert.deepEqual([...s.values()].map((r) => r.state), ['FRESH', 'FRESH', 'FRESH']);
    assert.equal(s.get('st/c')?.freshness?.status, 'PASS');
    const [aEvent] = (await h.catalog.assetHistory('st/a')).events;
    assert.deepEqual(aEvent?.inputDataVersions, { 'st/source': 'v1' });
    assert.equal(aEvent?.codeVersion, '1');

    // The source lands new data: a is stale because of it, b because a is.
    await reportAssetEvent(h.catalog, graph, { type: 'materialization', assetKey: 'st/source', dataVersion: 'v2' });
    s = await states(['st/a', 'st/b', 'st/c']);
    assert.equal(s.get('st/a')?.state, 'STALE');
    assert.deepEqual(s.get('st/a')?.causes.map((c) => [c.kind, c.dependency]), [['upstream_data_changed', 'st/source']]);
    assert.equal(s.get('st/b')?.state, 'STALE');
    assert.deepEqual(s.get('st/b')?.causes.map((c) => c.kind), ['upstream_stale']);
    assert.equal(s.get('st/c')?.state, 'FRESH');

    const before = { ...Object.fromEntries(runsOf) };
    const staleRun = await h.client.result(await h.client.startRun({ selection: 'st/*', staleOnly: true }));
    assert.deepEqual(staleRun.assets.map((a) => [a.key, a.status]), [['st/a', 'materialized'], ['st/b', 'materialized']]);
    assert.equal(runsOf.get('st/c'), before['st/c'], 'a fresh asset is not run');
    s = await states(['st/a', 'st/b', 'st/c']);
    assert.deepEqual([...s.values()].map((r) => r.state), ['FRESH', 'FRESH', 'FRESH']);

    // Nothing stale: the plan is empty and the run succeeds without steps.
    const noop = await h.client.result(await h.client.startRun({ selection: 'st/*', staleOnly: true }));
    assert.deepEqual(noop.assets, []);
  });

  test('from-failure re-execution runs exactly the failed and skipped steps and reads upstream values from storage', async () => {
    flakyShouldFail = true;
    const original = await h.client.result(await h.client.startRun({ selection: 'rx/*', config: {}, tags: { team: 'data' } }));
    assert.equal(original.status, 'failed');
    assert.deepEqual(Object.fromEntries(original.assets.map((a) => [a.key, a.status])), { 'rx/up': 'materialized', 'rx/flaky': 'failed', 'rx/down': 'skipped', 'rx/side': 'materialized' });
    assert.equal((await states(['rx/flaky'])).get('rx/flaky')?.state, 'FAILED');
    const upRuns = runsOf.get('rx/up');

    flakyShouldFail = false;
    const handle = await h.client.reexecute(original.runId, 'from-failure');
    const retry = await h.client.result(handle);
    assert.equal(retry.status, 'succeeded');
    assert.deepEqual(retry.assets.map((a) => [a.key, a.status]), [['rx/flaky', 'materialized'], ['rx/down', 'materialized']]);
    assert.equal(runsOf.get('rx/up'), upRuns, 'the successful upstream is not run again');
    assert.equal(runsOf.get('rx/side'), 1);
    assert.deepEqual(flakySaw, [{ n: 41 }, { n: 1 }], 'upstream rows come from storage');

    const record = await h.catalog.getRun(retry.runId);
    assert.equal(record?.parentRunId, original.runId);
    assert.equal(record?.rootRunId, original.runId);
    assert.equal(record?.trigger, 'reexecution');
    assert.equal(record?.tags.team, 'data', 'tags carry over');
    assert.deepEqual((await h.catalog.listRuns({ asset: 'rx/flaky' })).map((r) => r.runId), [retry.runId, original.runId]);
    assert.deepEqual((await h.catalog.listRuns({ asset: 'rx/side' })).map((r) => r.runId), [original.runId]);
    assert.deepEqual((await h.catalog.listRuns({ status: 'failed', trigger: 'sdk' })).map((r) => r.runId), [original.runId]);
    assert.equal((await states(['rx/flaky'])).get('rx/flaky')?.state, 'FRESH');

    // Nothing left to re-execute from failure; --all re-runs the whole selection.
    await assert.rejects(h.client.result(await h.client.reexecute(retry.runId, 'from-failure')), (e: unknown) => e instanceof RunStartError && e.type === 'INVALID_REEXECUTION');
    const all = await h.client.result(await h.client.reexecute(original.runId, 'all'));
    assert.deepEqual(all.assets.map((a) => a.key).sort(), ['rx/down', 'rx/flaky', 'rx/side', 'rx/up']);
    await assert.rejects(h.client.result(await h.client.reexecute('no-such-run', 'from-failure')), (e: unknown) => e instanceof RunStartError && e.type === 'UNKNOWN_RUN');

    // Every step of every run wrote exactly one materialization.
    for (const run of [original, retry, all]) {
      const events = await h.catalog.runEvents(run.runId, ['materialization']);
      assert.equal(events.length, new Set(events.map((e) => e.assetKey)).size);
      assert.equal(events.length, run.assets.filter((a) => a.status === 'materialized').length);
    }

    // Search attributes: Temporal's own list finds the re-executions (visibility is eventually consistent).
    let found: string[] = [];
    for (let i = 0; i < 40 && found.length < 2; i++) {
      found = [];
      for await (const wf of h.client.client.workflow.list({ query: `CairnTrigger = 'reexecution' AND CairnRootRun = '${original.runId}'` })) found.push(wf.runId);
      if (found.length < 2) await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(found.sort(), [retry.runId, all.runId].sort());
    const [byLocation] = await collect(h.client.client.workflow.list({ query: `CairnLocations = 'reexec' AND CairnTrigger = 'sdk'` }));
    assert.equal(byLocation, original.runId);
  });
});

async function collect(it: AsyncIterable<{ runId: string }>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of it) out.push(x.runId);
  return out;
}
