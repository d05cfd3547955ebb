import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CairnError, CairnErrors, ErrorCodes } from '../../definitions/errors';
import {
  describeFreshness,
  evaluateFreshness,
  formatDuration,
  freshnessPolicy,
  FreshnessPolicySchema,
  normalizeFreshness,
  parseDuration,
  type FreshnessPolicy,
  type FreshnessPolicyInput,
} from '../../definitions/freshness';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

const at = (iso: string) => new Date(iso);
/** An ISO string `ms` before `base`. */
const before = (base: string, ms: number) => new Date(Date.parse(base) - ms).toISOString();

function policyOf(input: FreshnessPolicyInput | unknown, key = 'marts/x'): FreshnessPolicy {
  const { policy, problems } = normalizeFreshness(input, key);
  assert.deepEqual(problems, []);
  assert.ok(policy);
  return policy;
}

function problemsOf(input: unknown, key = 'marts/x'): string[] {
  const { policy, problems } = normalizeFreshness(input, key);
  assert.equal(policy, undefined, 'a policy with problems must not be returned');
  assert.ok(problems.length > 0, 'expected at least one problem');
  return problems;
}

describe('parseDuration', () => {
  test('parses single and compound units, case-insensitive, with optional spaces', () => {
    assert.equal(parseDuration('30s'), 30 * S);
    assert.equal(parseDuration('15m'), 15 * M);
    assert.equal(parseDuration('6h'), 6 * H);
    assert.equal(parseDuration('1d'), D);
    assert.equal(parseDuration('2w'), 14 * D);
    assert.equal(parseDuration('1h30m'), 90 * M);
    assert.equal(parseDuration('1h 30m'), 90 * M);
    assert.equal(parseDuration('6H'), 6 * H);
    assert.equal(parseDuration(' 1D2h3M4s '), D + 2 * H + 3 * M + 4 * S);
    assert.equal(parseDuration('0h30m'), 30 * M);
  });

  test('round-trips what formatDuration prints', () => {
    for (const ms of [45 * S, 2 * H + 5 * M, 3 * D + 4 * H, D + 2 * H + 3 * M + 4 * S]) {
      assert.equal(parseDuration(formatDuration(ms, Infinity)), ms);
    }
  });

  test('rejects bad values with a message naming the value', () => {
    const cases: [unknown, RegExp][] = [
      ['6 hours', /'6 hours' is not a duration like '6h'.*unknown unit 'hours'/],
      ['', /'' is not a duration/],
      ['6', /'6' is not a duration/],
      ['h', /'h' is not a duration/],
      ['1.5h', /'1\.5h' is not a duration/],
      ['100ms', /unknown unit 'ms'/],
      ['30m1h', /'30m1h' .*largest first/],
      ['1h1h', /'1h1h' .*each unit once/],
      ['0s', /'0s' must be greater than zero/],
      ['0h0m', /'0h0m' must be greater than zero/],
      ['-5m', /'-5m' must be greater than zero/],
      [21_600_000, /got number 21600000/],
      [null, /got null/],
    ];
    for (const [input, message] of cases) {
      assert.throws(
        () => parseDuration(input as string),
        (e: unknown) => e instanceof CairnError && e.code === ErrorCodes.InvalidDefinition && message.test(e.message),
        `input ${JSON.stringify(input)}`,
      );
    }
  });
});

describe('formatDuration', () => {
  test('shows the two largest non-zero units, truncated', () => {
    assert.equal(formatDuration(2 * H + 5 * M + 59 * S), '2h 5m');
    assert.equal(formatDuration(3 * D + 4 * H + 10 * M), '3d 4h');
    assert.equal(formatDuration(45 * S + 999), '45s');
    assert.equal(formatDuration(D + 5 * M), '1d 5m');
    assert.equal(formatDuration(14 * D), '14d');
    assert.equal(formatDuration(6 * H), '6h');
  });

  test('small, zero, negative and exact forms', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(250), '250ms');
    assert.equal(formatDuration(-90 * M), '-1h 30m');
    assert.equal(formatDuration(D + 2 * H + 3 * M + 4 * S, Infinity), '1d 2h 3m 4s');
    assert.equal(formatDuration(D + 2 * H + 3 * M + 4 * S, 1), '1d');
  });
});

describe('normalizeFreshness', () => {
  test('no policy is no policy and no problem', () => {
    assert.deepEqual(normalizeFreshness(undefined, 'a/b'), { problems: [] });
    assert.equal(freshnessPolicy(undefined, 'a/b'), undefined);
  });

  test('normalizes a window policy', () => {
    assert.deepEqual(policyOf({ maxLag: '6h' }), { kind: 'window', maxLagMs: 6 * H });
    assert.deepEqual(policyOf({ maxLag: '6h', warnLag: '3h' }), { kind: 'window', maxLagMs: 6 * H, warnLagMs: 3 * H });
  });

  test('normalizes a cron policy, with UTC as the default time zone', () => {
    assert.deepEqual(policyOf({ cron: '0 9 * * *', maxLag: '2h' }), { kind: 'cron', cron: '0 9 * * *', timezone: 'UTC', maxLagMs: 2 * H });
    assert.deepEqual(policyOf({ cron: ' 0 9 * * 1-5 ', maxLag: '90m', timezone: 'Europe/Berlin' }), { kind: 'cron', cron: '0 9 * * 1-5', timezone: 'Europe/Berlin', maxLagMs: 90 * M });
    assert.equal(policyOf({ cron: '@daily', maxLag: '1d' }).kind, 'cron');
  });

  test('the normalized forms are valid snapshot data and survive JSON', () => {
    for (const p of [policyOf({ maxLag: '6h', warnLag: '3h' }), policyOf({ cron: '0 9 * * *', maxLag: '2h', timezone: 'America/New_York' })]) {
      assert.deepEqual(FreshnessPolicySchema.parse(JSON.parse(JSON.stringify(p))), p);
    }
  });

  test('the schema rejects malformed stored policies', () => {
    assert.equal(FreshnessPolicySchema.safeParse({ kind: 'window', maxLagMs: 0 }).success, false);
    assert.equal(FreshnessPolicySchema.safeParse({ kind: 'window', maxLagMs: 1.5 }).success, false);
    assert.equal(FreshnessPolicySchema.safeParse({ kind: 'window', maxLagMs: H, warnLagMs: H }).success, false);
    assert.equal(FreshnessPolicySchema.safeParse({ kind: 'cron', cron: '0 9 * * *', maxLagMs: H }).success, false, 'timezone is required once normalized');
    assert.equal(FreshnessPolicySchema.safeParse({ kind: 'deadline', maxLagMs: H }).success, false);
  });

  test('bad durations name the asset, the field and the value', () => {
    assert.deepEqual(problemsOf({ maxLag: '6 hours' }), [
      "asset 'marts/x': freshness.maxLag '6 hours' is not a duration like '6h', '30m', '1d' or '1h30m': unknown unit 'hours' (use w, d, h, m or s)",
    ]);
    assert.match(problemsOf({ maxLag: 21_600_000 })[0]!, /^asset 'marts\/x': freshness\.maxLag must be a duration .*got number 21600000$/);
    assert.match(problemsOf({ maxLag: '0m' })[0]!, /^asset 'marts\/x': freshness\.maxLag '0m' must be greater than zero$/);
    assert.match(problemsOf({ maxLag: '6h', warnLag: 'soon' })[0]!, /^asset 'marts\/x': freshness\.warnLag 'soon' is not a duration/);
  });

  test('warnLag must be less than maxLag', () => {
    assert.deepEqual(problemsOf({ maxLag: '6h', warnLag: '6h' }), ["asset 'marts/x': freshness.warnLag '6h' must be less than maxLag '6h'"]);
    assert.match(problemsOf({ maxLag: '6h', warnLag: '1d' })[0]!, /warnLag '1d' must be less than maxLag '6h'/);
  });

  test('a missing maxLag, unknown fields and a non-object are reported', () => {
    assert.deepEqual(problemsOf({ maxlag: '6h' }, 'raw/y'), [
      "asset 'raw/y': freshness has an unknown field 'maxlag'; did you mean 'maxLag'?",
      "asset 'raw/y': freshness.maxLag is required, e.g. maxLag: '6h'",
    ]);
    assert.match(problemsOf({ maxLag: '6h', every: '1d' })[0]!, /unknown field 'every'; expected maxLag, warnLag, cron, timezone/);
    assert.match(problemsOf('6h')[0]!, /^asset 'marts\/x': freshness must be an object .*got string "6h"/);
    assert.match(problemsOf(null)[0]!, /got null/);
  });

  test('warnLag with cron is rejected, and so is timezone without cron', () => {
    assert.deepEqual(problemsOf({ cron: '0 9 * * *', maxLag: '2h', warnLag: '1h' }), [
      "asset 'marts/x': freshness.warnLag is not allowed with cron: a cron policy has one deadline per tick and no warning level; remove warnLag",
    ]);
    assert.match(problemsOf({ maxLag: '2h', timezone: 'UTC' })[0]!, /^asset 'marts\/x': freshness\.timezone only applies to cron policies/);
  });

  test('invalid cron expressions are rejected with the field and value', () => {
    const cases: [string, RegExp][] = [
      ['0 25 * * *', /freshness\.cron '0 25 \* \* \*' is not a valid cron expression \(.*0-23\)/],
      ['every day', /freshness\.cron 'every day' is not a valid cron expression: it has 2 fields/],
      ['', /freshness\.cron '' is not a valid cron expression: it has 0 fields/],
      ['* * *', /it has 3 fields/],
      ['0 9 * * * * *', /it has 7 fields/],
      ['0 0 30 2 *', /freshness\.cron '0 0 30 2 \*' is not a valid cron expression/],
      ['@sometimes', /freshness\.cron '@sometimes' is not a valid cron expression/],
      ['H 9 * * *', /hashed 'H' values/],
    ];
    for (const [cron, message] of cases) {
      const ps = problemsOf({ cron, maxLag: '2h' }, 'marts/daily');
      assert.equal(ps.length, 1, cron);
      assert.match(ps[0]!, /^asset 'marts\/daily': /);
      assert.match(ps[0]!, message);
    }
    assert.match(problemsOf({ cron: 9, maxLag: '2h' })[0]!, /freshness\.cron must be a cron string/);
  });

  test('invalid time zones are rejected', () => {
    assert.match(problemsOf({ cron: '0 9 * * *', maxLag: '2h', timezone: 'Mars/Olympus' })[0]!, /^asset 'marts\/x': freshness\.timezone 'Mars\/Olympus' is not an IANA time zone name/);
    assert.match(problemsOf({ cron: '0 9 * * *', maxLag: '2h', timezone: '' })[0]!, /freshness\.timezone must be an IANA time zone name/);
    assert.match(problemsOf({ cron: '0 9 * * *', maxLag: '2h', timezone: '+02:00' })[0]!, /freshness\.timezone '\+02:00' is not an IANA/);
  });

  test('every problem is reported at once', () => {
    const ps = problemsOf({ cron: 'nope', maxLag: '2 hours', timezone: 'Nowhere/Land' });
    assert.equal(ps.length, 3);
    assert.ok(ps.some((p) => p.includes('freshness.maxLag')));
    assert.ok(ps.some((p) => p.includes('freshness.timezone')));
    assert.ok(ps.some((p) => p.includes('freshness.cron')));
  });

  test('the throwing variant raises CairnError with the asset as where, or CairnErrors for several', () => {
    assert.deepEqual(freshnessPolicy({ maxLag: '1d' }, 'a/b'), { kind: 'window', maxLagMs: D });
    assert.throws(
      () => freshnessPolicy({ maxLag: 'x' }, 'a/b'),
      (e: unknown) => e instanceof CairnError && !(e instanceof CairnErrors) && e.code === ErrorCodes.InvalidDefinition && e.where === 'a/b' && /asset 'a\/b': freshness\.maxLag 'x'/.test(e.message),
    );
    assert.throws(
      () => freshnessPolicy({ maxLag: 'x', warnLag: 'y' }, 'a/b'),
      (e: unknown) => e instanceof CairnErrors && e.errors.length === 2 && e.errors.every((x) => x.where === 'a/b'),
    );
  });

  test('describes policies for display', () => {
    assert.equal(describeFreshness(policyOf({ maxLag: '1h30m', warnLag: '1h' })), 'updated within 1h 30m (warn after 1h)');
    assert.equal(describeFreshness(policyOf({ maxLag: '6h' })), 'updated within 6h');
    assert.equal(describeFreshness(policyOf({ cron: '0 9 * * *', maxLag: '2h', timezone: 'Europe/Berlin' })), "updated within 2h before each tick of '0 9 * * *' (Europe/Berlin)");
  });
});

describe('evaluateFreshness: time window', () => {
  const now = at('2024-06-01T12:00:00.000Z');
  const withWarn = policyOf({ maxLag: '6h', warnLag: '3h' });
  const plain = policyOf({ maxLag: '6h' });

  test('PASS up to and including warnLag', () => {
    const r = evaluateFreshness(withWarn, before(now.toISOString(), 2 * H + 5 * M), now);
    assert.deepEqual(r, { status: 'PASS', lagMs: 2 * H + 5 * M, reason: 'last updated 2h 5m ago; max lag 6h' });
    assert.equal(evaluateFreshness(withWarn, before(now.toISOString(), 3 * H), now).status, 'PASS');
  });

  test('WARN just past warnLag and up to and including maxLag', () => {
    const justPast = evaluateFreshness(withWarn, before(now.toISOString(), 3 * H + 1), now);
    assert.equal(justPast.status, 'WARN');
    assert.equal(justPast.lagMs, 3 * H + 1);
    assert.equal(justPast.reason, 'last updated 3h ago; warn after 3h, max lag 6h');
    assert.equal(evaluateFreshness(withWarn, before(now.toISOString(), 6 * H), now).status, 'WARN');
  });

  test('FAIL just past maxLag, with and without warnLag', () => {
    const r = evaluateFreshness(withWarn, new Date(now.getTime() - 6 * H - 1), now);
    assert.equal(r.status, 'FAIL');
    assert.equal(r.lagMs, 6 * H + 1);
    assert.equal(evaluateFreshness(plain, before(now.toISOString(), 6 * H), now).status, 'PASS');
    const late = evaluateFreshness(plain, before(now.toISOString(), 7 * H + 3 * M), now);
    assert.deepEqual(late, { status: 'FAIL', lagMs: 7 * H + 3 * M, reason: 'last updated 7h 3m ago; max lag 6h' });
  });

  test('without warnLag there is no WARN', () => {
    assert.equal(evaluateFreshness(plain, before(now.toISOString(), 5 * H + 59 * M), now).status, 'PASS');
  });

  test('never updated is FAIL with no lag', () => {
    assert.deepEqual(evaluateFreshness(plain, undefined, now), { status: 'FAIL', reason: 'never updated; max lag 6h' });
    assert.equal(evaluateFreshness(withWarn, null, now).status, 'FAIL');
  });

  test('an update after now (clock skew) counts as zero lag', () => {
    assert.deepEqual(evaluateFreshness(plain, '2024-06-01T12:00:05Z', now), { status: 'PASS', lagMs: 0, reason: 'last updated 0s ago; max lag 6h' });
  });

  test('accepts Date and ISO strings with offsets; rejects garbage dates', () => {
    assert.equal(evaluateFreshness(plain, '2024-06-01T07:00:00+02:00', now).lagMs, 7 * H);
    assert.throws(() => evaluateFreshness(plain, 'yesterday', now), /lastUpdatedAt 'yesterday' is not a valid date/);
    assert.throws(() => evaluateFreshness(plain, undefined, new Date(NaN)), /now .* is not a valid date/);
  });
});

describe('evaluateFreshness: cron deadline', () => {
  const daily = policyOf({ cron: '0 9 * * *', maxLag: '2h' });

  test('uses the latest tick before now: update just inside the window before it is PASS', () => {
    const now = at('2024-06-01T10:30:00Z');
    const r = evaluateFreshness(daily, '2024-06-01T07:00:00.000Z', now);
    assert.deepEqual(r, { status: 'PASS', lagMs: 3 * H + 30 * M, deadline: '2024-06-01T09:00:00.000Z', reason: 'updated 2h before the deadline 2024-06-01T09:00:00.000Z; max lag 2h' });
  });

  test('update just outside the window before the tick is FAIL', () => {
    const now = at('2024-06-01T10:30:00Z');
    const r = evaluateFreshness(daily, '2024-06-01T06:59:59.999Z', now);
    assert.equal(r.status, 'FAIL');
    assert.equal(r.deadline, '2024-06-01T09:00:00.000Z');
    assert.equal(r.lagMs, 3 * H + 30 * M + 1);
    assert.equal(r.reason, 'last updated 2h before the deadline 2024-06-01T09:00:00.000Z; max lag 2h');
  });

  test('before today\'s tick, yesterday\'s tick is the deadline', () => {
    const now = at('2024-06-01T08:59:59.999Z');
    const r = evaluateFreshness(daily, '2024-05-31T07:30:00Z', now);
    assert.equal(r.deadline, '2024-05-31T09:00:00.000Z');
    assert.equal(r.status, 'PASS');
    // Once today's tick has passed, the same update is a day too old.
    assert.equal(evaluateFreshness(daily, '2024-05-31T07:30:00Z', at('2024-06-01T09:00:00.001Z')).status, 'FAIL');
  });

  test('a tick exactly at now is the deadline', () => {
    const r = evaluateFreshness(daily, '2024-06-01T06:00:00Z', at('2024-06-01T09:00:00.000Z'));
    assert.equal(r.deadline, '2024-06-01T09:00:00.000Z');
    assert.equal(r.status, 'FAIL');
  });

  test('a late update after the tick passes until the next tick', () => {
    const r = evaluateFreshness(daily, '2024-06-01T09:20:00Z', at('2024-06-01T10:00:00Z'));
    assert.equal(r.status, 'PASS');
    assert.equal(r.reason, 'updated 20m after the deadline 2024-06-01T09:00:00.000Z; max lag 2h');
  });

  test('never updated is FAIL and still names the deadline', () => {
    assert.deepEqual(evaluateFreshness(daily, undefined, at('2024-06-01T10:00:00Z')), {
      status: 'FAIL',
      deadline: '2024-06-01T09:00:00.000Z',
      reason: 'never updated; the deadline 2024-06-01T09:00:00.000Z; max lag 2h',
    });
  });

  test('seconds-resolution crons include a tick exactly at now', () => {
    const every10s = policyOf({ cron: '*/10 * * * * *', maxLag: '5s' });
    assert.equal(evaluateFreshness(every10s, '2024-06-01T09:00:05Z', at('2024-06-01T09:00:10.000Z')).deadline, '2024-06-01T09:00:10.000Z');
    assert.equal(evaluateFreshness(every10s, '2024-06-01T09:00:05Z', at('2024-06-01T09:00:10.000Z')).status, 'PASS');
    assert.equal(evaluateFreshness(every10s, '2024-06-01T09:00:04.999Z', at('2024-06-01T09:00:19.999Z')).status, 'FAIL');
  });

  test('weekday crons skip the weekend', () => {
    const weekdays = policyOf({ cron: '0 9 * * 1-5', maxLag: '1h' });
    // Sunday 2024-06-02: the last tick is Friday 2024-05-31 09:00.
    const r = evaluateFreshness(weekdays, '2024-05-31T08:15:00Z', at('2024-06-02T12:00:00Z'));
    assert.equal(r.deadline, '2024-05-31T09:00:00.000Z');
    assert.equal(r.status, 'PASS');
  });
});

describe('evaluateFreshness: cron in a time zone', () => {
  const ny = policyOf({ cron: '0 9 * * *', maxLag: '2h', timezone: 'America/New_York' });

  test('ticks are local: 09:00 EDT is 13:00 UTC in summer', () => {
    const r = evaluateFreshness(ny, '2024-06-01T11:00:00Z', at('2024-06-01T13:00:00Z'));
    assert.equal(r.deadline, '2024-06-01T13:00:00.000Z');
    assert.equal(r.status, 'PASS');
    assert.equal(evaluateFreshness(ny, '2024-06-01T10:59:59Z', at('2024-06-01T13:00:00Z')).status, 'FAIL');
  });

  test('spring-forward day (2024-03-10): the tick moves from 14:00 UTC to 13:00 UTC', () => {
    // The day before, 09:00 EST is 14:00 UTC.
    assert.equal(evaluateFreshness(ny, undefined, at('2024-03-09T14:30:00Z')).deadline, '2024-03-09T14:00:00.000Z');
    // On the DST day, 09:00 EDT is 13:00 UTC; a fixed -05:00 offset would still say 14:00 (after now).
    const now = at('2024-03-10T13:30:00Z');
    const inside = evaluateFreshness(ny, '2024-03-10T11:00:00Z', now);
    assert.equal(inside.deadline, '2024-03-10T13:00:00.000Z');
    assert.equal(inside.status, 'PASS');
    const outside = evaluateFreshness(ny, '2024-03-10T10:59:59.999Z', now);
    assert.equal(outside.status, 'FAIL');
    assert.equal(outside.deadline, '2024-03-10T13:00:00.000Z');
  });

  test('the maxLag window before a tick spans the DST jump in real (UTC) time', () => {
    // Tick at 03:00 EDT (07:00 UTC) on 2024-03-10; 2h before is 05:00 UTC, which is 00:00 EST local.
    const early = policyOf({ cron: '0 3 * * *', maxLag: '2h', timezone: 'America/New_York' });
    const now = at('2024-03-10T08:00:00Z');
    assert.equal(evaluateFreshness(early, '2024-03-10T05:00:00Z', now).status, 'PASS');
    assert.equal(evaluateFreshness(early, '2024-03-10T04:59:59Z', now).status, 'FAIL');
    assert.equal(evaluateFreshness(early, undefined, now).deadline, '2024-03-10T07:00:00.000Z');
  });

  test('a wall time skipped by spring-forward has no tick that day', () => {
    const skipped = policyOf({ cron: '30 2 * * *', maxLag: '1h', timezone: 'America/New_York' });
    // 02:30 does not exist on 2024-03-10 in New York, so the deadline stays 2024-03-09 02:30 EST.
    assert.equal(evaluateFreshness(skipped, undefined, at('2024-03-10T12:00:00Z')).deadline, '2024-03-09T07:30:00.000Z');
    // The next day it is back, at 02:30 EDT.
    assert.equal(evaluateFreshness(skipped, undefined, at('2024-03-11T12:00:00Z')).deadline, '2024-03-11T06:30:00.000Z');
  });

  test('fall-back day (2024-11-03): 09:00 EST is 14:00 UTC again', () => {
    assert.equal(evaluateFreshness(ny, undefined, at('2024-11-02T20:00:00Z')).deadline, '2024-11-02T13:00:00.000Z');
    assert.equal(evaluateFreshness(ny, undefined, at('2024-11-03T20:00:00Z')).deadline, '2024-11-03T14:00:00.000Z');
    // 13:30 UTC on the fall-back day is 08:30 EST: before today's tick.
    assert.equal(evaluateFreshness(ny, undefined, at('2024-11-03T13:30:00Z')).deadline, '2024-11-02T13:00:00.000Z');
  });

  test('the same cron in UTC and in Berlin gives different deadlines', () => {
    const now = at('2024-06-01T08:00:00Z');
    assert.equal(evaluateFreshness(policyOf({ cron: '0 9 * * *', maxLag: '1h' }), undefined, now).deadline, '2024-05-31T09:00:00.000Z');
    assert.equal(evaluateFreshness(policyOf({ cron: '0 9 * * *', maxLag: '1h', timezone: 'Europe/Berlin' }), undefined, now).deadline, '2024-06-01T07:00:00.000Z');
  });

  test('a stored policy that cannot be evaluated throws a CairnError', () => {
    const bad = { kind: 'cron', cron: '0 9 * * *', timezone: 'Nowhere/Land', maxLagMs: H } as const;
    assert.throws(() => evaluateFreshness(bad, undefined, at('2024-06-01T08:00:00Z')), (e: unknown) => e instanceof CairnError && /cannot be evaluated/.test(e.message));
  });
});
