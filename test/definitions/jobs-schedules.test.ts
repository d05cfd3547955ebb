import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asset } from '../../definitions/asset';
import { codeLocation } from '../../definitions/code-location';
import { job } from '../../definitions/job';
import { schedule, scheduleId } from '../../definitions/schedule';
import { locationSnapshot } from '../../definitions/to-snapshot';
import { validateLocation, validateWorkspace } from '../../definitions/validate';
import { temporalSchedule } from '../../workers/schedules';

const a = asset({ key: 'x/a', materialize: () => undefined });

test('a schedule on a job takes its selection, tags and config; the snapshot lists jobs and schedules', () => {
  const nightly = job({ name: 'nightly', selection: 'x/*', tags: { team: 'data' }, config: { 'x/a': { n: 1 } } });
  const s = schedule({ name: 'nightly', cron: '0 2 * * *', timezone: 'Europe/Berlin', target: nightly, tags: { tier: 'gold' } });
  assert.equal(s.selection, 'x/*');
  assert.deepEqual(s.tags, { team: 'data', tier: 'gold' });
  const snap = locationSnapshot(codeLocation({ name: 'loc', assets: [a], jobs: [nightly], schedules: [s] }));
  assert.deepEqual(snap.jobs?.map((j) => [j.name, j.selection, j.config]), [['nightly', 'x/*', { 'x/a': { n: 1 } }]]);
  assert.deepEqual(snap.schedules?.map((x) => [x.id, x.cron, x.timezone, x.job, x.overlap]), [['cairn/loc/nightly', '0 2 * * *', 'Europe/Berlin', 'nightly', 'skip']]);
  assert.equal(scheduleId('loc', 'nightly'), 'cairn/loc/nightly');
});

test('a location without jobs or schedules publishes the same snapshot version as before', () => {
  const snap = locationSnapshot(codeLocation({ name: 'loc', assets: [a] }));
  assert.equal('jobs' in snap, false);
  assert.equal('schedules' in snap, false);
});

test('bad cron expressions, time zones, targets, overlaps and duplicate names are reported with the schedule or job', () => {
  const loc = codeLocation({
    name: 'loc',
    assets: [a],
    jobs: [job({ name: 'Bad Name', selection: 'x/*' }), job({ name: 'j', selection: 'x/* and (' }), job({ name: 'j', selection: 'x/a' })],
    schedules: [
      schedule({ name: 's1', cron: '61 * * * *', target: 'x/a' }),
      schedule({ name: 's2', cron: '0 2 * * *', timezone: 'Mars/Olympus', target: 'x/a' }),
      schedule({ name: 's3', cron: '0 2 * *', target: 'x/a' }),
      schedule({ name: 's4', cron: '@daily', target: '', overlap: 'sometimes' as 'skip' }),
      schedule({ name: 's4', cron: '@daily', target: 'x/a' }),
    ],
  });
  const messages = validateLocation(loc, 'loc.ts').map((p) => p.message);
  const expect = [
    "job 'Bad Name': the name must be lowercase letters",
    "job 'j': ",
    "two jobs are named 'j'",
    "schedule 's1': cron '61 * * * *' is not a valid cron expression",
    "schedule 's2': timezone 'Mars/Olympus' is not an IANA time zone name",
    "schedule 's3': cron '0 2 * *' is not a valid cron expression: it has 4 fields",
    "schedule 's4': target must be a job or a non-empty selection string",
    "schedule 's4': overlap must be one of skip, bufferOne, bufferAll, cancelOther, terminateOther, allowAll",
    "two schedules are named 's4'",
  ];
  for (const e of expect) assert.ok(messages.some((m) => m.includes(e)), `expected a problem containing: ${e}\nfound:\n${messages.join('\n')}`);
});

test('a job name used in two locations is a workspace problem', () => {
  const l1 = codeLocation({ name: 'one', assets: [a], jobs: [job({ name: 'daily', selection: 'x/a' })] });
  const l2 = codeLocation({ name: 'two', assets: [asset({ key: 'y/b', materialize: () => undefined })], jobs: [job({ name: 'daily', selection: 'y/b' })] });
  const messages = validateWorkspace([{ location: l1, source: 'one.ts' }, { location: l2, source: 'two.ts' }]).map((p) => p.message);
  assert.ok(messages.some((m) => m.includes("job 'daily' is defined twice: in one.ts and in two.ts")), messages.join('\n'));
});

test('the Temporal Schedule of a definition starts materializeAssets with the schedule reference, and its hash follows the definition', () => {
  const s = schedule({ name: 'daily', cron: '@daily', target: 'x/*', partition: 'latest', overlap: 'bufferAll' });
  const { options, hash } = temporalSchedule('loc', s);
  assert.equal(options.scheduleId, 'cairn/loc/daily');
  assert.deepEqual(options.spec, { cronExpressions: ['@daily'], timezone: 'UTC' });
  assert.equal(options.policies?.overlap, 'BUFFER_ALL');
  assert.equal(options.action.type, 'startWorkflow');
  const args = (options.action as { args: unknown[] }).args;
  assert.deepEqual(args, [{ selection: 'x/*', trigger: 'schedule', tags: { 'cairn/schedule': 'cairn/loc/daily' }, schedule: { location: 'loc', name: 'daily', partition: 'latest' } }]);
  assert.equal(temporalSchedule('loc', s).hash, hash, 'stable');
  assert.notEqual(temporalSchedule('loc', schedule({ name: 'daily', cron: '@hourly', target: 'x/*', partition: 'latest', overlap: 'bufferAll' })).hash, hash);
});
