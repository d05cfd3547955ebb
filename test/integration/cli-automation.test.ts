import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { StoredAutomationEvaluation } from '../../activities/catalog/catalog-store';
import type { AutomationRow } from '../../cli/automation';
import { cairn, FIXTURES, startDev } from '../cli/cli-helpers';
import { sleep } from './harness';

const ws = ['--workspace', resolve(FIXTURES, 'automated/cairn.workspace.json')];

describe('cairn automation and cairn report against cairn dev', () => {
  let env: NodeJS.ProcessEnv;
  let stop: () => Promise<void>;
  before(async () => {
    ({ env, stop } = await startDev(ws, 'cairn-cli-automation-'));
  });
  after(async () => {
    await stop?.();
  });

  const automationRuns = async (): Promise<{ runId: string; selection: string; status: string }[]> => {
    const r = await cairn([...ws, 'runs', '--trigger', 'automation', '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { runId: string; selection: string; status: string }[];
  };
  const waitRuns = async (n: number): Promise<{ runId: string; selection: string; status: string }[]> => {
    for (let i = 0; i < 200; i++) {
      const runs = await automationRuns();
      if (runs.length >= n && runs.every((r) => r.status !== 'running')) return runs;
      await sleep(250);
    }
    throw new Error(`expected ${n} finished automation runs, have ${JSON.stringify(await automationRuns())}`);
  };

  test('list shows the conditions from the code', async () => {
    const r = await cairn([...ws, 'automation', 'list', '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as AutomationRow[]).map((x) => [x.key, x.condition]), [['am/mart', 'onUpstreamChange()'], ['am/report', 'onUpstreamChange()']]);
  });

  test('a reported materialization runs its downstream chain in one run, and why explains each decision', async () => {
    const reported = await cairn([...ws, 'report', 'materialization', 'am/raw'], { env });
    assert.equal(reported.code, 0, reported.stderr);
    assert.equal(reported.stderr, '', 'the wake succeeded');
    const [run] = await waitRuns(1);
    assert.equal(run?.status, 'succeeded');
    assert.equal(run?.selection, '"am/mart" or "am/report"');
    const why = await cairn([...ws, 'automation', 'why', 'am/report', '--json'], { env });
    assert.equal(why.code, 0, why.stderr);
    const rows = JSON.parse(why.stdout) as StoredAutomationEvaluation[];
    const requested = rows.find((r) => r.requested);
    assert.match(requested?.reason ?? '', /^requested: dep 'am\/mart' updated since it last ran/);
    const text = await cairn([...ws, 'automation', 'why', 'am/report'], { env });
    assert.match(text.stdout, /REQUESTED\s+requested: dep 'am\/mart' updated/);
    const status = await cairn([...ws, 'automation', 'status', '--json'], { env });
    const s = JSON.parse(status.stdout) as { enabled: boolean; running: boolean; view?: { evaluations: number } };
    assert.equal(s.enabled, true);
    assert.equal(s.running, true);
    assert.ok((s.view?.evaluations ?? 0) >= 1);
  });

  test('stop turns automation off (a report runs nothing); start turns it on and evaluates at once', async () => {
    const stopped = await cairn([...ws, 'automation', 'stop'], { env });
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /automation off: cairn\/automation ended/);
    await cairn([...ws, 'report', 'materialization', 'am/raw'], { env });
    await sleep(2000);
    assert.equal((await automationRuns()).length, 1, 'nothing ran while automation was off');
    const status = JSON.parse((await cairn([...ws, 'automation', 'status', '--json'], { env })).stdout) as { enabled: boolean; running: boolean };
    assert.deepEqual([status.enabled, status.running], [false, false]);
    const started = await cairn([...ws, 'automation', 'start'], { env });
    assert.equal(started.code, 0, started.stderr);
    // The report made while it was off is news to its first evaluation.
    const runs = await waitRuns(2);
    assert.equal(runs.length, 2);
  });

  test('bad input exits 2 naming the problem', async () => {
    const unknown = await cairn([...ws, 'automation', 'why', 'am/mrat'], { env });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown asset 'am\/mrat'; did you mean 'am\/mart'\?/);
    const manual = await cairn([...ws, 'automation', 'why', 'am/raw'], { env });
    assert.equal(manual.code, 2);
    assert.match(manual.stderr, /asset 'am\/raw' is manual/);
    const limit = await cairn([...ws, 'automation', 'why', 'am/mart', '--limit', '0'], { env });
    assert.equal(limit.code, 2);
    assert.match(limit.stderr, /--limit must be a whole number from 1 to 1000, got '0'/);
  });
});
