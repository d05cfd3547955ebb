import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asset, externalAsset } from '../../definitions/asset';
import { automation, describeCondition, type AutomationCondition } from '../../definitions/automation';
import { automationTargets, evaluateAutomation, pairKey, type AutomationFacts, type Mark } from '../../definitions/automation-eval';
import { codeLocation } from '../../definitions/code-location';
import { dailyPartitions } from '../../definitions/partitions/definitions';
import { locationSnapshot } from '../../definitions/to-snapshot';
import { validateLocation } from '../../definitions/validate';
import type { LocationSnapshot } from '../../definitions/snapshot';

const NOW = new Date('2026-11-22T10:30:00Z');
const noop = (): undefined => undefined;

const raw = externalAsset({ key: 'raw/accounts' });
const chain = (cond: AutomationCondition = automation.onUpstreamChange()) => [
  raw,
  asset({ key: 'staging/accounts', deps: [raw], automation: cond, materialize: noop }),
  asset({ key: 'marts/accounts', deps: ['staging/accounts'], automation: cond, materialize: noop }),
  asset({ key: 'ml/scores', deps: ['marts/accounts'], automation: cond, materialize: noop }),
];

function snapshotsOf(assets: Parameters<typeof codeLocation>[0]['assets']): LocationSnapshot[] {
  return [locationSnapshot(codeLocation({ name: 'loc', assets }))];
}

interface Facts {
  marks?: Record<string, Mark>;
  inProgress?: Record<string, string>;
  requests?: Record<string, { at: string; watermark: number }>;
  activeSince?: string;
  now?: Date;
}

function run(snapshots: LocationSnapshot[], f: Facts = {}) {
  const now = f.now ?? NOW;
  const planned = automationTargets(snapshots, { now });
  const marks = new Map(Object.entries(f.marks ?? {}).map(([k, v]) => [pairKey(k.split('@')[0]!, k.split('@')[1] ?? null), v]));
  const facts: AutomationFacts = {
    now,
    activeSince: new Date(f.activeSince ?? '2026-01-01T00:00:00Z'),
    materializations: marks,
    latestAnyPartition: new Map(Object.entries(f.marks ?? {}).map(([k, v]) => [k.split('@')[0]!, v])),
    inProgress: new Map(Object.entries(f.inProgress ?? {})),
    lastRequests: new Map(Object.entries(f.requests ?? {}).map(([k, v]) => [pairKey(k.split('@')[0]!, k.split('@')[1] ?? null), v])),
  };
  const out = evaluateAutomation(planned, facts);
  const why = (key: string, partition: string | null = null) => out.decisions.find((d) => d.assetKey === key && d.partition === partition);
  return { ...out, why };
}

test('a reported upstream change requests the whole upstream-change chain in one run, in dependency order', () => {
  const out = run(snapshotsOf(chain()), { marks: { 'raw/accounts': { id: 5, at: '2026-11-22T10:00:00Z' } } });
  assert.deepEqual(out.runs, [{ partition: null, keys: ['staging/accounts', 'marts/accounts', 'ml/scores'] }]);
  assert.match(out.why('staging/accounts')!.reason, /^requested: dep 'raw\/accounts' updated since it last ran/);
  assert.match(out.why('marts/accounts')!.reason, /^requested: dep 'staging\/accounts' updated/);
});

test('nothing is requested again once each asset ran after its deps, or was requested after the last change', () => {
  const marks = { 'raw/accounts': { id: 5, at: 'a' }, 'staging/accounts': { id: 6, at: 'a' }, 'marts/accounts': { id: 7, at: 'a' }, 'ml/scores': { id: 8, at: 'a' } };
  const out = run(snapshotsOf(chain()), { marks });
  assert.deepEqual(out.runs, []);
  assert.equal(out.why('ml/scores')!.reason, 'no dep has updated since it last ran');
  // A run that failed: requested with watermark 5, nothing materialized after; no retry loop.
  const failed = run(snapshotsOf(chain()), { marks: { 'raw/accounts': { id: 5, at: 'a' } }, requests: { 'staging/accounts': { at: 'x', watermark: 5 } } });
  assert.deepEqual(failed.runs, []);
});

test('nothing runs while a dep is missing or in progress, and the reason says which', () => {
  const missing = run(snapshotsOf(chain()), { marks: { 'staging/accounts': { id: 3, at: 'a' }, 'raw/accounts': { id: 9, at: 'a' } }, inProgress: { 'staging/accounts': 'run-1' } });
  // staging is in progress itself; marts waits on it.
  assert.equal(missing.why('staging/accounts')!.requested, false);
  assert.match(missing.why('staging/accounts')!.reason, /in progress \(run run-1\)/);
  assert.match(missing.why('marts/accounts')!.reason, /waiting: dep 'staging\/accounts' is in progress \(run run-1\)/);
  assert.deepEqual(missing.runs, []);

  const twoDeps = snapshotsOf([
    raw,
    externalAsset({ key: 'raw/plans' }),
    asset({ key: 'staging/joined', deps: [raw, 'raw/plans'], automation: automation.onUpstreamChange(), materialize: noop }),
  ]);
  const out = run(twoDeps, { marks: { 'raw/accounts': { id: 2, at: 'a' } } });
  assert.match(out.why('staging/joined')!.reason, /^waiting: dep 'raw\/plans' is missing/);
  assert.deepEqual(out.runs, []);
});

test('onCron with deps waits after the tick until every dep has updated since it; without deps it runs at the tick', () => {
  const cron = automation.onCron('0 10 * * *', { withDeps: true });
  const snaps = snapshotsOf([raw, asset({ key: 'daily/report', deps: [raw], automation: cron, materialize: noop })]);
  const before = run(snaps, { marks: { 'raw/accounts': { id: 1, at: '2026-11-22T09:00:00Z' } } });
  assert.match(before.why('daily/report')!.reason, /tick 2026-11-22T10:00:00.000Z passed; waiting for dep 'raw\/accounts' to update since it/);
  assert.equal(before.nextWakeAt, '2026-11-23T10:00:00.000Z');
  const after = run(snaps, { marks: { 'raw/accounts': { id: 2, at: '2026-11-22T10:20:00Z' } } });
  assert.deepEqual(after.runs, [{ partition: null, keys: ['daily/report'] }]);
  const handled = run(snaps, { marks: { 'raw/accounts': { id: 2, at: '2026-11-22T10:20:00Z' } }, requests: { 'daily/report': { at: '2026-11-22T10:21:00Z', watermark: 2 } } });
  assert.match(handled.why('daily/report')!.reason, /handled: requested at/);

  const noDeps = snapshotsOf([raw, asset({ key: 'daily/report', deps: [raw], automation: automation.onCron('0 10 * * *', { withDeps: false }), materialize: noop })]);
  assert.deepEqual(run(noDeps).runs, [{ partition: null, keys: ['daily/report'] }]);
  // A tick from before automation was turned on never fires.
  assert.match(run(noDeps, { activeSince: '2026-11-22T10:10:00Z' }).why('daily/report')!.reason, /no cron tick since automation started/);
});

test('a time-partitioned asset is evaluated for its latest window, and its run carries that partition', () => {
  const days = dailyPartitions({ start: '2026-01-01' });
  const snaps = snapshotsOf([
    externalAsset({ key: 'raw/events', partitions: days }),
    asset({ key: 'daily/events', deps: ['raw/events'], partitions: days, automation: automation.onUpstreamChange(), materialize: noop }),
  ]);
  const { targets, pairs } = automationTargets(snaps, { now: NOW });
  assert.deepEqual(targets.map((t) => t.partition), ['2026-11-21']);
  assert.deepEqual(pairs.map((p) => `${p.assetKey}@${p.partition}`).sort(), ['daily/events@2026-11-21', 'raw/events@2026-11-21']);
  const out = run(snaps, { marks: { 'raw/events@2026-11-21': { id: 4, at: 'a' } } });
  assert.deepEqual(out.runs, [{ partition: '2026-11-21', keys: ['daily/events'] }]);
  // An older window's materialization does not count for the latest one.
  assert.match(run(snaps, { marks: { 'raw/events@2026-11-20': { id: 4, at: 'a' } } }).why('daily/events', '2026-11-21')!.reason, /no dep has updated/);
});

test('an unpartitioned asset downstream of a partitioned one requested now waits for the next evaluation (different runs)', () => {
  const days = dailyPartitions({ start: '2026-01-01' });
  const snaps = snapshotsOf([
    externalAsset({ key: 'raw/events', partitions: days }),
    asset({ key: 'daily/events', deps: ['raw/events'], partitions: days, automation: automation.onUpstreamChange(), materialize: noop }),
    asset({ key: 'summary', deps: ['daily/events'], automation: automation.onUpstreamChange(), materialize: noop }),
  ]);
  const out = run(snaps, { marks: { 'raw/events@2026-11-21': { id: 4, at: 'a' } } });
  assert.deepEqual(out.runs, [{ partition: '2026-11-21', keys: ['daily/events'] }]);
  assert.match(out.why('summary')!.reason, /waiting for dep 'daily\/events', requested in another run now/);
});

test('onMissing requests a never-materialized asset once; and, or and not combine with their reasons', () => {
  const snaps = snapshotsOf([asset({ key: 'seed', automation: automation.onMissing(), materialize: noop })]);
  assert.deepEqual(run(snaps).runs, [{ partition: null, keys: ['seed'] }]);
  assert.match(run(snaps, { requests: { seed: { at: 't', watermark: 0 } } }).why('seed')!.reason, /already requested/);
  const both = snapshotsOf([raw, asset({ key: 'x', deps: [raw], automation: automation.and(automation.onUpstreamChange(), automation.not(automation.onMissing())), materialize: noop })]);
  assert.match(run(both, { marks: { 'raw/accounts': { id: 2, at: 'a' } } }).why('x')!.reason, /^not \(missing \(never materialized\)\)/);
  const either = snapshotsOf([raw, asset({ key: 'x', deps: [raw], automation: automation.or(automation.onMissing(), automation.onUpstreamChange()), materialize: noop })]);
  assert.equal(run(either, { marks: { 'raw/accounts': { id: 2, at: 'a' } } }).why('x')!.reason, 'requested: missing (never materialized)');
  assert.equal(describeCondition(automation.or(automation.onMissing(), automation.onCron('0 6 * * *', { timezone: 'Europe/Berlin' }))), "onMissing() or onCron('0 6 * * *', Europe/Berlin, with deps)");
});

test('bad cron expressions, time zones and malformed conditions are reported with the asset and the field', () => {
  const loc = codeLocation({
    name: 'loc',
    assets: [
      raw,
      asset({ key: 'a', automation: automation.onCron('0 25 * * *'), materialize: noop }),
      asset({ key: 'b', automation: automation.or(automation.onMissing(), automation.onCron('0 6 * * *', { timezone: 'Mars/Olympus' })), materialize: noop }),
      asset({ key: 'c', automation: { type: 'eager' } as unknown as AutomationCondition, materialize: noop }),
    ],
  });
  const messages = validateLocation(loc, 'loc.ts').map((p) => p.message).join('\n');
  assert.match(messages, /asset 'a': automation\.cron '0 25 \* \* \*' is not a valid cron expression/);
  assert.match(messages, /asset 'b': automation\.or\[1\]\.timezone 'Mars\/Olympus' is not an IANA time zone/);
  assert.match(messages, /asset 'c': automation\.type: .*automation\.onCron/);
});
