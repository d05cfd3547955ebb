import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { AUTOMATION_WORKFLOW_ID } from '../../activities/automation-activities';
import type { RunRecord } from '../../activities/catalog/catalog-store';
import { reportAssetEvent } from '../../activities/catalog/report';
import { CairnCatalog } from '../../client/catalog-client';
import { asset, externalAsset } from '../../definitions/asset';
import { automation } from '../../definitions/automation';
import { codeLocation, type CodeLocationDefinition } from '../../definitions/code-location';
import { graphFromSnapshots } from '../../definitions/plan';
import { automationStatusQuery, stopAutomationSignal } from '../../workflows/messages';
import { startFakeFivetran, type FakeFivetran } from '../fixtures/fake-fivetran';
import { sleep, startHarness, type Harness } from './harness';

const CHAIN = ['staging/crm_accounts', 'marts/crm_accounts_by_region', 'ml/crm_account_health', 'notify/crm_dashboard'];
let slowGate: (() => void) | undefined;

// A cron with seconds: a tick every 5 s, so the test sees several.
const auto = codeLocation({
  name: 'auto',
  assets: [
    externalAsset({ key: 'au/raw' }),
    asset({ key: 'au/daily', deps: ['au/raw'], automation: automation.onCron('*/5 * * * * *', { withDeps: true }), materialize: () => [{ n: 1 }] }),
    externalAsset({ key: 'au/src' }),
    asset({
      key: 'au/slow', deps: ['au/src'], automation: automation.onUpstreamChange(),
      materialize: () => new Promise<{ n: number }[]>((resolve) => {
        slowGate = () => resolve([{ n: 1 }]);
      }),
    }),
    asset({ key: 'au/after_slow', deps: ['au/slow'], automation: automation.onUpstreamChange(), materialize: () => [{ n: 2 }] }),
    externalAsset({ key: 'au/sdk_src' }),
    asset({ key: 'au/sdk_down', deps: ['au/sdk_src'], automation: automation.onUpstreamChange(), materialize: () => [{ n: 3 }] }),
  ],
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(150);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('declarative automation (the cairn/automation workflow)', () => {
  let h: Harness;
  let fake: FakeFivetran;
  let client: Client;
  const automationRuns = async (): Promise<RunRecord[]> => (await h.catalog.listRuns({ trigger: 'automation' })).reverse();
  const finished = (r: RunRecord): boolean => r.status !== 'running';

  before(async () => {
    h = await startHarness();
    fake = await startFakeFivetran({ landingDir: join(h.dir, 'landing'), connection: 'crm_accounts' });
    Object.assign(process.env, { FIVETRAN_API_URL: fake.url, FIVETRAN_API_KEY: fake.key, FIVETRAN_API_SECRET: fake.secret, CRM_LANDING_DIR: join(h.dir, 'landing'), CRM_SYNC_POLL: '1s' });
    const crm = (await import('../../examples/crm/location')).default as CodeLocationDefinition;
    const ingestion = (await import('../../examples/ingestion/location')).default as CodeLocationDefinition;
    await h.startLocations([ingestion, crm, auto]);
    client = new Client({ connection: h.connection, namespace: 'default' });
  });
  after(async () => {
    await client.workflow.getHandle(AUTOMATION_WORKFLOW_ID).terminate('test over').catch(() => undefined);
    await client.workflow.getHandle('cairn/sensor/crm/fivetran_crm_accounts').terminate('test over').catch(() => undefined);
    await fake?.close();
    await h?.close();
  });

  test('the worker start turns automation on; one Fivetran sync reported by the sensor runs the whole chain by itself, in one run', async () => {
    const view = await waitFor('the automation workflow', () => client.workflow.getHandle(AUTOMATION_WORKFLOW_ID).query(automationStatusQuery).catch(() => undefined));
    assert.ok(view.evaluations >= 0);
    fake.sync([
      { account_id: 1, name: 'a', region: 'emea', plan: 'team', seats: 10 },
      { account_id: 2, name: 'b', region: 'emea', plan: 'free', seats: 2 },
      { account_id: 3, name: 'c', region: 'apac', plan: 'team', seats: 30 },
    ]);
    const [run] = await waitFor('an automation run of the chain that finished', async () => {
      const runs = (await automationRuns()).filter((r) => r.selection.includes('staging/crm_accounts'));
      return runs.length > 0 && runs.every(finished) ? runs : undefined;
    });
    assert.equal(run?.status, 'succeeded', JSON.stringify(run));
    assert.deepEqual(await h.catalog.getRunAssets(run!.runId).then((k) => k.sort()), [...CHAIN].sort());
    const health = (await h.catalog.assetStatuses(['ml/crm_account_health'])).get('ml/crm_account_health');
    assert.equal(health?.lastMaterialization?.metadata.regions?.value, 2);
    // The explanation is recorded: requested because the reported raw table changed.
    const [why] = await h.catalog.automationEvaluations('staging/crm_accounts', { limit: 50 }).then((rows) => rows.filter((r) => r.requested));
    assert.match(why?.reason ?? '', /^requested: dep 'raw\/crm\/accounts' updated since it last ran/);
    assert.equal(why?.runWorkflowId, run?.workflowId);
    // Later evaluations (woken by the run's end) request nothing more.
    await sleep(1500);
    assert.equal((await automationRuns()).filter((r) => r.selection.includes('staging/crm_accounts')).length, 1);
    const [latest] = await h.catalog.automationEvaluations('marts/crm_accounts_by_region', { limit: 1 });
    assert.equal(latest?.requested, false);
    assert.equal(latest?.reason, 'no dep has updated since it last ran');
  });

  test('a failed sync runs nothing; the next good sync runs the chain once more', async () => {
    const before = (await automationRuns()).filter((r) => r.selection.includes('staging/crm_accounts')).length;
    fake.failNext();
    fake.sync([]);
    await sleep(2500);
    assert.equal((await automationRuns()).filter((r) => r.selection.includes('staging/crm_accounts')).length, before);
    fake.sync([{ account_id: 9, name: 'z', region: 'amer', plan: 'team', seats: 5 }]);
    const runs = await waitFor('a second chain run', async () => {
      const rs = (await automationRuns()).filter((r) => r.selection.includes('staging/crm_accounts'));
      return rs.length === before + 1 && rs.every(finished) ? rs : undefined;
    });
    assert.equal(runs.at(-1)?.status, 'succeeded');
  });

  test('nothing is requested while it is in progress; when that run ends its downstream runs, and why says so', async () => {
    const graph = graphFromSnapshots(await h.catalog.getSnapshots());
    const manual = await h.client.startRun({ selection: 'au/slow', trigger: 'sdk' });
    await waitFor('the slow step to start', async () => (slowGate ? true : undefined));
    await reportAssetEvent(h.catalog, graph, { type: 'materialization', assetKey: 'au/src' });
    await client.workflow.signalWithStart('automation', { workflowId: AUTOMATION_WORKFLOW_ID, taskQueue: 'cairn', args: [{}], signal: 'automationWake', signalArgs: [{ keys: ['au/src'], source: 'test' }] });
    const slowWhy = await waitFor('an evaluation of au/slow that sees it in progress', async () => {
      const [r] = await h.catalog.automationEvaluations('au/slow', { limit: 1 });
      return r && /in progress/.test(r.reason) ? r : undefined;
    });
    assert.equal(slowWhy.requested, false);
    assert.match(slowWhy.reason, /^dep 'au\/src' updated since it last ran; but it is in progress \(run /);
    const [downstream] = await h.catalog.automationEvaluations('au/after_slow', { limit: 1 });
    assert.equal(downstream?.requested, false);
    assert.equal((await automationRuns()).filter((r) => r.selection.includes('au/')).length, 0);
    slowGate?.();
    await h.client.result(manual);
    // The manual run's end wakes automation: au/slow ran after au/src changed, so only au/after_slow runs.
    const [run] = await waitFor('the downstream automation run', async () => {
      const rs = (await automationRuns()).filter((r) => r.selection.includes('au/after_slow') && finished(r));
      return rs.length > 0 ? rs : undefined;
    });
    assert.deepEqual(await h.catalog.getRunAssets(run!.runId), ['au/after_slow']);
  });

  test('onCron with deps waits after a tick until its dep updates, then runs once for that tick', async () => {
    const why = await waitFor('a waiting onCron evaluation', async () => {
      const [r] = await h.catalog.automationEvaluations('au/daily', { limit: 1 });
      return r && /waiting for dep 'au\/raw'/.test(r.reason) ? r : undefined;
    });
    assert.equal(why.requested, false);
    assert.equal((await automationRuns()).filter((r) => r.selection.includes('au/daily')).length, 0);
    const graph = graphFromSnapshots(await h.catalog.getSnapshots());
    // Report just after a tick, so the evaluation it wakes sees a dep updated since that tick.
    await sleep(5000 - (Date.now() % 5000) + 300);
    await reportAssetEvent(h.catalog, graph, { type: 'materialization', assetKey: 'au/raw' });
    await client.workflow.signalWithStart('automation', { workflowId: AUTOMATION_WORKFLOW_ID, taskQueue: 'cairn', args: [{}], signal: 'automationWake', signalArgs: [{ keys: ['au/raw'], source: 'test' }] });
    const runs = await waitFor('an onCron run', async () => {
      const rs = (await automationRuns()).filter((r) => r.selection.includes('au/daily'));
      return rs.length > 0 ? rs : undefined;
    }, 20_000);
    assert.equal(runs.length, 1);
    await sleep(6000);
    assert.equal((await automationRuns()).filter((r) => r.selection.includes('au/daily')).length, 1, 'later ticks wait for a newer dep update');
  });

  test('a materialization reported through the SDK catalog with a Temporal client wakes automation', async () => {
    const sdk = await CairnCatalog.open({ url: join(h.dir, 'catalog.db'), temporal: client });
    try {
      const result = await sdk.reportMaterialization('au/sdk_src', { eventId: 'sdk-1' });
      assert.equal(result.automation, 'woken');
      const [run] = await waitFor('the automation run of au/sdk_down', async () => {
        const rs = (await automationRuns()).filter((r) => r.selection.includes('au/sdk_down') && finished(r));
        return rs.length > 0 ? rs : undefined;
      }, 20_000);
      assert.equal(run?.status, 'succeeded');
      // The same event id again records nothing, so nothing is woken.
      assert.equal((await sdk.reportMaterialization('au/sdk_src', { eventId: 'sdk-1' })).automation, undefined);
    } finally {
      await sdk.close();
    }
  });

  test('it continues as new, carrying its evaluation count, its start time and its recent ticks', async () => {
    await client.workflow.getHandle(AUTOMATION_WORKFLOW_ID).terminate('restart with a short execution').catch(() => undefined);
    const handle = await client.workflow.start('automation', { workflowId: AUTOMATION_WORKFLOW_ID, taskQueue: 'cairn', args: [{ evaluationsPerExecution: 2 }] });
    const first = await waitFor('the first evaluation', async () => {
      const v = await handle.query(automationStatusQuery).catch(() => undefined);
      return v && v.evaluations >= 1 ? v : undefined;
    });
    for (let i = 0; i < 6; i++) {
      await client.workflow.getHandle(AUTOMATION_WORKFLOW_ID).signal('automationWake', { keys: [`k${i}`], source: 'test' });
      await sleep(300);
    }
    const later = await waitFor('five evaluations', async () => {
      const v = await client.workflow.getHandle(AUTOMATION_WORKFLOW_ID).query(automationStatusQuery).catch(() => undefined);
      return v && v.evaluations >= 5 ? v : undefined;
    });
    assert.equal(later.activeSince, first.activeSince);
    assert.ok(later.ticks.length >= 5, 'ticks carried along');
    assert.deepEqual(later.ticks.map((t) => t.evaluationId), later.ticks.map((_, i) => `${later.ticks[0]!.evaluationId.split('-')[0]}-${Number(later.ticks[0]!.evaluationId.split('-')[1]) + i}`));
    const d = await client.workflow.getHandle(AUTOMATION_WORKFLOW_ID).describe();
    assert.notEqual(d.runId, handle.firstExecutionRunId, 'it continued as new');
  });

  test('stopping automation ends its workflow, and a finished run no longer starts it', async () => {
    await h.catalog.setSetting('automation.enabled', 'false');
    await client.workflow.getHandle(AUTOMATION_WORKFLOW_ID).signal(stopAutomationSignal);
    await client.workflow.getHandle(AUTOMATION_WORKFLOW_ID).result();
    const done = await h.client.startRun({ selection: 'au/after_slow', trigger: 'sdk' });
    await h.client.result(done);
    const d = await client.workflow.getHandle(AUTOMATION_WORKFLOW_ID).describe();
    assert.equal(d.status.name, 'COMPLETED');
  });
});
