import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { jobRows } from '../../cli/jobs';
import { resolveScheduleId } from '../../cli/schedules';
import { CliExit } from '../../cli/errors';
import { locationSnapshot } from '../../definitions/to-snapshot';
import { freePort } from '../../workers/dev-server';
import { importLocation } from '../../workers/workspace-loader';
import { cairn, FIXTURES } from './cli-helpers';

const workspaceDir = join(FIXTURES, 'scheduled');
const ws = ['--workspace', join(workspaceDir, 'cairn.workspace.json')];

describe('cairn jobs and cairn schedules without a Temporal server', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'cairn-jobs-schedules-'));
  after(() => rmSync(stateDir, { recursive: true, force: true }));

  test('jobRows lists each job with its location, selection, tags and the schedules that run it', async () => {
    const snapshot = locationSnapshot(await importLocation(join(workspaceDir, 'scheduled.ts'), 'scheduled.ts'));
    assert.deepEqual(jobRows([snapshot]), [{
      name: 'nightly', codeLocation: 'sched', selection: '+sched/mart', description: 'the marts and what they read', tags: { team: 'data' },
      schedules: [{ id: 'cairn/sched/nightly', cron: '0 2 * * *', timezone: 'Europe/Berlin' }],
    }]);
    assert.deepEqual(jobRows([]), []);
  });

  test('a schedule is named by its full id, by location/name, or by a bare name that matches exactly one', () => {
    const ids = ['cairn/a/nightly', 'cairn/a/hourly', 'cairn/b/nightly'];
    assert.equal(resolveScheduleId('cairn/a/hourly', ids), 'cairn/a/hourly');
    assert.equal(resolveScheduleId('hourly', ids), 'cairn/a/hourly');
    assert.equal(resolveScheduleId('b/nightly', ids), 'cairn/b/nightly');
    assert.throws(() => resolveScheduleId('nightly', ids), (err: CliExit) => err.exitCode === 2 && /'nightly' names 2 schedules: cairn\/a\/nightly, cairn\/b\/nightly; give the full id/.test(err.message));
    assert.throws(() => resolveScheduleId('weekly', ids), (err: CliExit) => err.exitCode === 2 && /no schedule 'weekly': the Cairn schedules are cairn\/a\/nightly, cairn\/a\/hourly, cairn\/b\/nightly/.test(err.message));
    assert.throws(() => resolveScheduleId('night', ids), /no schedule 'night'/, 'a prefix of a name is not a match');
    assert.throws(() => resolveScheduleId('x', []), /there are no Cairn schedules/);
  });

  test('materialize without --select or --job exits 2 before it looks for Temporal', async () => {
    const r = await cairn([...ws, 'materialize'], { env: { CAIRN_STATE_DIR: stateDir } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /give exactly one of --select <selection> or --job <name>/);
  });

  test('jobs list says when nothing was published, and schedules exit 1 when Temporal does not answer', async () => {
    const env = { CAIRN_STATE_DIR: stateDir, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` };
    const jobs = await cairn([...ws, 'jobs', 'list'], { env });
    assert.equal(jobs.code, 0, jobs.stderr);
    assert.match(jobs.stdout, /no jobs: no code location has published its definitions/);
    const list = await cairn([...ws, 'schedules', 'list'], { env });
    assert.equal(list.code, 1);
    assert.match(list.stderr, /Temporal does not answer at 127\.0\.0\.1:\d+; start `npx cairn dev`/);
  });
});
