import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CronExpressionParser } from 'cron-parser';
import { DateTime } from 'luxon';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import { firstTick, windowsFrom } from '../../definitions/partitions/time-windows';
import {
  allPartitions,
  dailyPartitions,
  defaultPartitionMapping,
  describePartitions,
  dynamicPartitions,
  hourlyPartitions,
  identity,
  keysInRange,
  lastPartition,
  monthlyPartitions,
  multiPartitions,
  multiToSingle,
  partitionKeys,
  partitionsProblems,
  partitionWindow,
  staticMapping,
  staticPartitions,
  timeWindowMapping,
  timeWindowPartitions,
  upstreamPartitions,
  validatePartitionKey,
  weeklyPartitions,
  type PartitionsDefinition,
} from '../../definitions/partitions';

const H = 3_600_000;
const at = (iso: string) => new Date(iso);
const hoursOf = (w: { start: string; end: string }) => (Date.parse(w.end) - Date.parse(w.start)) / H;

/** Asserts validatePartitionKey throws INVALID_PARTITION and returns the message. */
function badKey(def: PartitionsDefinition, key: string, options: Parameters<typeof validatePartitionKey>[2] = {}): string {
  try {
    validatePartitionKey(def, key, options);
  } catch (e) {
    assert.ok(e instanceof CairnError, `expected CairnError, got ${String(e)}`);
    assert.equal(e.code, ErrorCodes.InvalidPartition);
    assert.equal(e.where, key);
    return e.message;
  }
  assert.fail(`'${key}' was accepted`);
}

const daily = dailyPartitions({ start: '2024-01-01' });

function* takeWindows(def: Parameters<typeof windowsFrom>[0], n: number) {
  let i = 0;
  for (const w of windowsFrom(def, firstTick(def))) {
    if (i++ >= n) return;
    yield w;
  }
}

describe('definitions are plain data', () => {
  test('shortcuts build JSON-serializable definitions with their cron and format', () => {
    assert.deepEqual(daily, { kind: 'time', cron: '0 0 * * *', start: '2024-01-01', timezone: 'UTC', format: 'yyyy-MM-dd', endOffset: 0 });
    assert.equal(hourlyPartitions({ start: '2024-01-01' }).cron, '0 * * * *');
    assert.equal(hourlyPartitions({ start: '2024-01-01' }).format, 'yyyy-MM-dd-HH:mm');
    assert.equal(weeklyPartitions({ start: '2024-01-01' }).cron, '0 0 * * 0');
    assert.equal(weeklyPartitions({ start: '2024-01-01', dayOffset: 1, hourOffset: 6, minuteOffset: 30 }).cron, '30 6 * * 1');
    assert.equal(monthlyPartitions({ start: '2024-01-01' }).cron, '0 0 1 * *');
    const multi = multiPartitions({ region: staticPartitions(['eu', 'us']), date: daily });
    assert.deepEqual(multi.dimensions.map((d) => d.name), ['date', 'region']);
    for (const def of [daily, multi, dynamicPartitions('customers'), dailyPartitions({ start: new Date('2024-01-01T00:00:00Z'), end: '2024-02-01' })]) {
      assert.deepEqual(JSON.parse(JSON.stringify(def)), def);
    }
  });

  test('a Date start is stored as an ISO string', () => {
    assert.equal(dailyPartitions({ start: new Date('2024-01-01T00:00:00Z') }).start, '2024-01-01T00:00:00.000Z');
  });
});

describe('partitionsProblems', () => {
  const where = "asset 'raw/x': partitions";
  test('a valid definition has none', () => {
    for (const def of [daily, hourlyPartitions({ start: '2024-01-01', timezone: 'America/New_York' }), staticPartitions(['a']), dynamicPartitions('c'), multiPartitions({ a: daily, b: staticPartitions(['x']) })]) {
      assert.deepEqual(partitionsProblems(def, where), []);
    }
  });
  test('reports bad cron, timezone, start, end, format', () => {
    const one = (def: PartitionsDefinition, re: RegExp) => {
      const p = partitionsProblems(def, where);
      assert.ok(p.some((m) => re.test(m) && m.startsWith(where)), `no problem matching ${re} in ${JSON.stringify(p)}`);
    };
    one(timeWindowPartitions({ cron: '0 0 * *', start: '2024-01-01', format: 'yyyy-MM-dd' }), /cron '0 0 \* \*' has 4 fields/);
    one(timeWindowPartitions({ cron: '0 25 * * *', start: '2024-01-01', format: 'yyyy-MM-dd' }), /cron '0 25 \* \* \*' is not a valid cron expression/);
    one(dailyPartitions({ start: '2024-01-01', timezone: 'Mars/Olympus' }), /timezone 'Mars\/Olympus' is not an IANA time zone/);
    one(dailyPartitions({ start: '2024-13-01' }), /start "2024-13-01" is not an ISO date/);
    one(dailyPartitions({ start: '2024-02-01', end: '2024-01-01' }), /end '2024-01-01' must be after start '2024-02-01'/);
    one(dailyPartitions({ start: '2024-01-01', end: 'soon' }), /end "soon" is not an ISO date/);
    one(hourlyPartitions({ start: '2024-01-01', format: 'yyyy-MM-dd' }), /format 'yyyy-MM-dd' cannot tell the windows apart/);
    one(dailyPartitions({ start: '2024-01-01', format: 'yyyy|MM|dd' }), /contain '\|' or ','/);
  });
  test('reports static, dynamic and multi problems', () => {
    assert.deepEqual(partitionsProblems(staticPartitions([]), where), [`${where}: static partitions need at least one key`]);
    assert.deepEqual(partitionsProblems(staticPartitions(['a', 'b', 'a']), where), [`${where}: static keys are duplicated: 'a'`]);
    assert.deepEqual(partitionsProblems(staticPartitions(['a|b', 'c,d']), where), [
      `${where}: static key 'a|b' contains '|' or ',' (reserved for multi keys and key lists)`,
      `${where}: static key 'c,d' contains '|' or ',' (reserved for multi keys and key lists)`,
    ]);
    assert.deepEqual(partitionsProblems(dynamicPartitions(' '), where), [`${where}: dynamic partitions need a name`]);
    assert.match(partitionsProblems(multiPartitions({ a: daily }), where)[0]!, /need exactly 2 dimensions, got 1 \(a\)/);
    assert.match(partitionsProblems(multiPartitions({ a: daily, b: daily, c: daily }), where)[0]!, /got 3/);
    assert.match(partitionsProblems(multiPartitions({ a: daily, b: dailyPartitions({ start: '2024-01-01', timezone: 'Europe/Berlin' }) }), where).join('\n'), /at most one dimension may be time windows/);
    assert.match(partitionsProblems(multiPartitions({ a: staticPartitions([]), b: daily }), where)[0]!, /dimension 'a': static partitions need at least one key/);
  });
});

describe('partitionKeys: now is a parameter', () => {
  test('daily keys are the windows that have ended by now', () => {
    assert.deepEqual(partitionKeys(daily, { now: at('2024-01-04T12:00:00Z') }), ['2024-01-01', '2024-01-02', '2024-01-03']);
    assert.deepEqual(partitionKeys(daily, { now: at('2024-01-02T00:00:00Z') }), ['2024-01-01'], 'a window ending exactly at now has ended');
    assert.deepEqual(partitionKeys(daily, { now: at('2024-01-01T23:59:59Z') }), []);
  });
  test('endOffset adds windows past now; end caps them', () => {
    const ahead = dailyPartitions({ start: '2024-01-01', endOffset: 1 });
    assert.deepEqual(partitionKeys(ahead, { now: at('2024-01-03T12:00:00Z') }), ['2024-01-01', '2024-01-02', '2024-01-03']);
    const behind = dailyPartitions({ start: '2024-01-01', endOffset: -1 });
    assert.deepEqual(partitionKeys(behind, { now: at('2024-01-03T12:00:00Z') }), ['2024-01-01']);
    const bounded = dailyPartitions({ start: '2024-01-01', end: '2024-01-03' });
    assert.deepEqual(partitionKeys(bounded, { now: at('2025-01-01T00:00:00Z') }), ['2024-01-01', '2024-01-02']);
  });
  test('a start between ticks begins at the next tick', () => {
    assert.deepEqual(partitionKeys(dailyPartitions({ start: '2024-01-01T06:00' }), { now: at('2024-01-04T00:00:00Z') }), ['2024-01-02', '2024-01-03']);
  });
  test('static, dynamic and multi', () => {
    const now = at('2024-01-03T00:00:00Z');
    assert.deepEqual(partitionKeys(staticPartitions(['b', 'a']), { now }), ['b', 'a']);
    assert.deepEqual(partitionKeys(dynamicPartitions('c'), { now, dynamicKeys: ['x', 'y'] }), ['x', 'y']);
    assert.deepEqual(partitionKeys(dynamicPartitions('c'), { now, dynamicKeys: { c: ['z'], other: ['q'] } }), ['z']);
    assert.deepEqual(partitionKeys(dynamicPartitions('c'), { now }), []);
    const multi = multiPartitions({ region: staticPartitions(['eu', 'us']), date: daily });
    assert.deepEqual(partitionKeys(multi, { now }), ['2024-01-01|eu', '2024-01-01|us', '2024-01-02|eu', '2024-01-02|us']);
  });
});

describe('daylight saving time', () => {
  test('daily in America/New_York: 23h on 2024-03-10, 25h on 2024-11-03', () => {
    const ny = dailyPartitions({ start: '2024-01-01', timezone: 'America/New_York' });
    assert.deepEqual(partitionWindow(ny, '2024-03-10'), { start: '2024-03-10T05:00:00.000Z', end: '2024-03-11T04:00:00.000Z' });
    assert.equal(hoursOf(partitionWindow(ny, '2024-03-10')), 23);
    assert.equal(hoursOf(partitionWindow(ny, '2024-03-11')), 24);
    assert.equal(hoursOf(partitionWindow(ny, '2024-11-03')), 25);
    assert.equal(hoursOf(partitionWindow(ny, '2024-01-05')), 24);
  });
  test('daily in Europe/Berlin: 23h on 2024-03-31, 25h on 2024-10-27', () => {
    const berlin = dailyPartitions({ start: '2024-01-01', timezone: 'Europe/Berlin' });
    assert.deepEqual(partitionWindow(berlin, '2024-03-31'), { start: '2024-03-30T23:00:00.000Z', end: '2024-03-31T22:00:00.000Z' });
    assert.equal(hoursOf(partitionWindow(berlin, '2024-03-31')), 23);
    assert.equal(hoursOf(partitionWindow(berlin, '2024-10-27')), 25);
    // keys around the change, listed at a given now in Berlin
    assert.deepEqual(partitionKeys(berlin, { now: at('2024-04-01T22:00:00Z') }).slice(-3), ['2024-03-30', '2024-03-31', '2024-04-01']);
  });
  const nyHourly = hourlyPartitions({ start: '2024-01-01', timezone: 'America/New_York' });
  test('hourly in America/New_York: 23 keys on spring-forward day, without 02:00', () => {
    const keys = keysInRange(nyHourly, '2024-03-10-00:00', '2024-03-10-23:00');
    assert.equal(keys.length, 23);
    assert.ok(!keys.includes('2024-03-10-02:00'));
    assert.deepEqual(keys.slice(0, 3), ['2024-03-10-00:00', '2024-03-10-01:00', '2024-03-10-03:00']);
    assert.deepEqual(partitionWindow(nyHourly, '2024-03-10-01:00'), { start: '2024-03-10T06:00:00.000Z', end: '2024-03-10T07:00:00.000Z' });
    assert.match(badKey(nyHourly, '2024-03-10-02:00'), /2024-03-10 02:00 does not exist in America\/New_York \(the clocks skip it for daylight saving time\)/);
  });
  test('hourly in America/New_York: 25 distinct, ordered keys on fall-back day; the repeated hour carries its offset', () => {
    const keys = keysInRange(nyHourly, '2024-11-03-00:00', '2024-11-03-23:00');
    assert.equal(keys.length, 25);
    assert.equal(new Set(keys).size, 25);
    assert.deepEqual(keys.slice(0, 4), ['2024-11-03-00:00', '2024-11-03-01:00', '2024-11-03-01:00-05:00', '2024-11-03-02:00']);
    assert.deepEqual([...keys].sort(), keys, 'string order is time order');
    assert.deepEqual(partitionWindow(nyHourly, '2024-11-03-01:00'), { start: '2024-11-03T05:00:00.000Z', end: '2024-11-03T06:00:00.000Z' });
    assert.deepEqual(partitionWindow(nyHourly, '2024-11-03-01:00-05:00'), { start: '2024-11-03T06:00:00.000Z', end: '2024-11-03T07:00:00.000Z' });
    // partitionKeys agrees with keysInRange
    const listed = partitionKeys(nyHourly, { now: at('2024-11-04T05:00:00Z') }).filter((k) => k.startsWith('2024-11-03'));
    assert.deepEqual(listed, keys);
    assert.match(badKey(nyHourly, '2024-11-03-00:00-04:00'), /write it as '2024-11-03-00:00'/);
    assert.match(badKey(nyHourly, '2024-11-03-01:00-04:00'), /write it as '2024-11-03-01:00'/);
  });
  test('hourly in Europe/Berlin: 23 and 25 keys', () => {
    const berlin = hourlyPartitions({ start: '2024-01-01', timezone: 'Europe/Berlin' });
    assert.equal(keysInRange(berlin, '2024-03-31-00:00', '2024-03-31-23:00').length, 23);
    const fall = keysInRange(berlin, '2024-10-27-00:00', '2024-10-27-23:00');
    assert.equal(fall.length, 25);
    assert.deepEqual(fall.slice(2, 4), ['2024-10-27-02:00', '2024-10-27-02:00+01:00']);
  });
  test('hourly windows agree with cron-parser tick by tick around DST changes (incl. a 30-minute spring-forward)', () => {
    const cases: [string, string, number][] = [
      ['America/New_York', '2024-03-09', 0],
      ['America/New_York', '2024-11-02', 0],
      ['Europe/Berlin', '2024-10-26', 15],
      ['Australia/Lord_Howe', '2024-10-05', 30],
      ['Asia/Kolkata', '2024-03-09', 45],
    ];
    for (const [zone, day, minute] of cases) {
      const def = hourlyPartitions({ start: day, timezone: zone, minuteOffset: minute });
      const it = CronExpressionParser.parse(`${minute} * * * *`, { currentDate: new Date(DateTime.fromISO(day, { zone }).toMillis() - 1), tz: zone });
      const expected: string[] = [];
      for (let i = 0; i < 72; i++) {
        const t = DateTime.fromMillis(it.next().getTime(), { zone });
        const base = t.toFormat('yyyy-MM-dd-HH:mm');
        expected.push(expected.at(-1)?.startsWith(base) ? base + t.toFormat('ZZ') : base);
      }
      assert.deepEqual(keysInRange(def, expected[0]!, expected.at(-1)!), expected, `${zone} ${day}`);
    }
  });
  test('daily windows (luxon fast path) agree with cron-parser tick by tick across DST, also at hours the change skips or repeats', () => {
    const cases: [string, string, number, number][] = [
      ['America/New_York', '2024-03-01', 0, 0],
      ['America/New_York', '2024-10-25', 2, 30],
      ['America/New_York', '2024-03-05', 2, 30],
      ['Europe/Berlin', '2024-03-25', 2, 15],
      ['Europe/Berlin', '2024-10-20', 2, 30],
      ['Australia/Lord_Howe', '2024-09-30', 2, 0],
    ];
    for (const [zone, day, hour, minute] of cases) {
      const def = dailyPartitions({ start: day, timezone: zone, hourOffset: hour, minuteOffset: minute });
      const it = CronExpressionParser.parse(`${minute} ${hour} * * *`, { currentDate: new Date(DateTime.fromISO(day, { zone }).toMillis() - 1), tz: zone });
      const ticks = Array.from({ length: 20 }, () => it.next().getTime());
      const windows = [...takeWindows(def, 20)];
      assert.deepEqual(windows.map((w) => w.start), ticks, `${zone} ${day} ${hour}:${minute}`);
    }
  });
  test('hourly keys in a non-UTC zone are local wall times', () => {
    const kolkata = hourlyPartitions({ start: '2024-01-01', timezone: 'Asia/Kolkata' });
    assert.deepEqual(partitionKeys(kolkata, { now: at('2023-12-31T21:00:00Z') }), ['2024-01-01-00:00', '2024-01-01-01:00']);
    assert.deepEqual(partitionWindow(kolkata, '2024-01-01-00:00'), { start: '2023-12-31T18:30:00.000Z', end: '2023-12-31T19:30:00.000Z' });
    const ny = hourlyPartitions({ start: '2024-07-01T09:00', timezone: 'America/New_York' });
    assert.deepEqual(partitionKeys(ny, { now: at('2024-07-01T15:00:00Z') }), ['2024-07-01-09:00', '2024-07-01-10:00']);
  });
});

describe('month ends and weeks', () => {
  test('monthly windows follow calendar months (Jan 31 days, leap Feb 29)', () => {
    const monthly = monthlyPartitions({ start: '2024-01-01' });
    assert.deepEqual(partitionWindow(monthly, '2024-01-01'), { start: '2024-01-01T00:00:00.000Z', end: '2024-02-01T00:00:00.000Z' });
    assert.equal(hoursOf(partitionWindow(monthly, '2024-02-01')) / 24, 29);
    assert.equal(hoursOf(partitionWindow(monthly, '2024-04-01')) / 24, 30);
    assert.deepEqual(partitionKeys(monthly, { now: at('2024-03-31T23:00:00Z') }), ['2024-01-01', '2024-02-01']);
    assert.deepEqual(partitionKeys(monthlyPartitions({ start: '2024-01-15' }), { now: at('2024-04-01T00:00:00Z') }), ['2024-02-01', '2024-03-01']);
    assert.match(badKey(monthly, '2024-01-31'), /not the start of a window .* nearest keys are '2024-01-01' and '2024-02-01'/);
  });
  test('daily keys cross Jan 31 into February', () => {
    assert.deepEqual(keysInRange(daily, '2024-01-30', '2024-02-02'), ['2024-01-30', '2024-01-31', '2024-02-01', '2024-02-02']);
    assert.deepEqual(keysInRange(daily, '2024-02-28', '2024-03-01'), ['2024-02-28', '2024-02-29', '2024-03-01']);
  });
  test('weekly starts Sunday; dayOffset and hourOffset move it', () => {
    const sunday = weeklyPartitions({ start: '2024-01-01' });
    assert.deepEqual(partitionKeys(sunday, { now: at('2024-01-21T00:00:00Z') }), ['2024-01-07', '2024-01-14']);
    const monday = weeklyPartitions({ start: '2024-01-01', dayOffset: 1 });
    assert.deepEqual(partitionKeys(monday, { now: at('2024-01-15T00:00:00Z') }), ['2024-01-01', '2024-01-08']);
    const berlin = weeklyPartitions({ start: '2024-03-25', dayOffset: 1, hourOffset: 6, timezone: 'Europe/Berlin' });
    assert.deepEqual(partitionWindow(berlin, '2024-03-25'), { start: '2024-03-25T05:00:00.000Z', end: '2024-04-01T04:00:00.000Z' });
    assert.equal(hoursOf(partitionWindow(berlin, '2024-03-25')), 7 * 24 - 1);
    assert.match(badKey(sunday, '2024-01-08'), /nearest keys are '2024-01-07' and '2024-01-14'/);
  });
});

describe('validatePartitionKey messages', () => {
  test('accepts valid keys', () => {
    validatePartitionKey(daily, '2024-01-05');
    validatePartitionKey(daily, '2024-01-05', { now: at('2024-01-06T00:00:00Z') });
    validatePartitionKey(staticPartitions(['a']), 'a');
  });
  test('bad format names the definition and the format', () => {
    assert.equal(badKey(daily, '2024-13-01'), "'2024-13-01' is not a key of daily partitions starting 2024-01-01 (UTC): expected yyyy-MM-dd (e.g. 2024-01-01)");
    assert.match(badKey(daily, '2024-1-5'), /expected yyyy-MM-dd/);
    assert.match(badKey(daily, ''), /non-empty string/);
  });
  test('before start, after end, not ended yet', () => {
    assert.equal(badKey(daily, '2023-12-31'), "'2023-12-31' is not a key of daily partitions starting 2024-01-01 (UTC): it is before the first partition '2024-01-01'");
    const bounded = dailyPartitions({ start: '2024-01-01', end: '2024-02-01' });
    assert.match(badKey(bounded, '2024-02-01'), /daily partitions starting 2024-01-01 \(UTC\) until 2024-02-01: its window ends after the end 2024-02-01/);
    assert.equal(
      badKey(daily, '2024-01-05', { now: at('2024-01-05T12:00:00Z') }),
      "'2024-01-05' is not a key of daily partitions starting 2024-01-01 (UTC): its window has not ended at 2024-01-05T12:00:00.000Z; the latest partition is '2024-01-04'",
    );
    assert.match(badKey(daily, '2024-01-01', { now: at('2024-01-01T01:00:00Z') }), /no partition has ended yet/);
  });
  test('a key not aligned to the cron names the nearest keys', () => {
    const hourly = hourlyPartitions({ start: '2024-01-01' });
    assert.equal(
      badKey(hourly, '2024-01-05-13:30'),
      "'2024-01-05-13:30' is not a key of hourly partitions starting 2024-01-01-00:00 (UTC): it is not the start of a window (cron '0 * * * *' in UTC); the nearest keys are '2024-01-05-13:00' and '2024-01-05-14:00'",
    );
  });
  test('static: the closest key, or the list', () => {
    const regions = staticPartitions(['us-east', 'eu-west']);
    assert.equal(badKey(regions, 'us-eest'), "'us-eest' is not a key of static partitions [us-east, eu-west]: it is not one of its keys; did you mean 'us-east'?");
    assert.match(badKey(regions, 'antarctica'), /expected one of 'us-east', 'eu-west'/);
  });
  test('dynamic: unknown key, none added, bad characters', () => {
    const customers = dynamicPartitions('customers');
    assert.match(badKey(customers, 'globx', { dynamicKeys: ['acme-corp', 'globex'] }), /dynamic partitions 'customers': it has not been added; did you mean 'globex'\?/);
    assert.match(badKey(customers, 'acme', { dynamicKeys: [] }), /no keys have been added yet/);
    assert.match(badKey(customers, 'a|b'), /cannot contain/);
    validatePartitionKey(customers, 'anything');
  });
  test('multi: the shape and the failing dimension', () => {
    const multi = multiPartitions({ region: staticPartitions(['eu', 'us']), date: daily });
    assert.equal(
      badKey(multi, 'eu'),
      "'eu' is not a key of multi partitions (date: daily partitions starting 2024-01-01 (UTC); region: static partitions [eu, us]): expected <date>|<region> (dimensions ordered by name), e.g. '2024-01-01|eu'",
    );
    assert.match(badKey(multi, 'eu|2024-01-01'), /its date part 'eu' is not a key of daily partitions starting 2024-01-01 \(UTC\): expected yyyy-MM-dd/);
    assert.match(badKey(multi, '2024-01-01|uss'), /its region part 'uss' is not a key of static partitions \[eu, us\]: .*did you mean 'us'\?/);
    validatePartitionKey(multi, '2024-01-01|us');
  });
});

describe('keysInRange and describePartitions', () => {
  test('ranges are inclusive; reversed ranges and multi throw', () => {
    assert.deepEqual(keysInRange(staticPartitions(['a', 'b', 'c', 'd']), 'b', 'c'), ['b', 'c']);
    assert.deepEqual(keysInRange(dynamicPartitions('c'), 'y', 'y', { dynamicKeys: ['x', 'y'] }), ['y']);
    assert.deepEqual(keysInRange(daily, '2024-01-05', '2024-01-05'), ['2024-01-05']);
    assert.throws(() => keysInRange(daily, '2024-01-05', '2024-01-04'), /is reversed/);
    assert.throws(() => keysInRange(daily, '2024-01-05', '2024-01-32'), { code: 'INVALID_PARTITION' });
    assert.throws(() => keysInRange(multiPartitions({ a: daily, b: staticPartitions(['x']) }), '2024-01-01|x', '2024-01-02|x'), /no order/);
  });
  test('descriptions', () => {
    assert.equal(describePartitions(daily), 'daily partitions starting 2024-01-01 (UTC)');
    assert.equal(describePartitions(weeklyPartitions({ start: '2024-01-01', dayOffset: 1, timezone: 'Europe/Berlin' })), "weekly partitions on '0 0 * * 1' starting 2024-01-01 (Europe/Berlin)");
    assert.equal(describePartitions(timeWindowPartitions({ cron: '*/15 * * * *', start: '2024-01-01', format: "yyyy-MM-dd'T'HH:mm" })), "partitions on cron '*/15 * * * *' starting 2024-01-01T00:00 (UTC)");
    assert.equal(describePartitions(dynamicPartitions('customers')), "dynamic partitions 'customers'");
    assert.equal(describePartitions(staticPartitions(['1', '2', '3', '4', '5', '6', '7'])), 'static partitions [1, 2, 3, 4, 5, 6, ... (7 keys)]');
  });
});

describe('mappings', () => {
  const now = at('2024-12-01T00:00:00Z');
  test('identity', () => {
    assert.deepEqual(upstreamPartitions(identity(), daily, daily, '2024-01-05', { now }), ['2024-01-05']);
    assert.deepEqual(upstreamPartitions(identity(), daily, dailyPartitions({ start: '2024-02-01' }), '2024-01-05', { now }), [], 'missing upstream partitions are left out');
    assert.throws(() => upstreamPartitions(identity(), daily, daily, '2024-01-32', { now }), { code: 'INVALID_PARTITION' });
  });
  test('time window offsets: self-dependency on the previous partition', () => {
    const prev = timeWindowMapping({ startOffset: -1, endOffset: -1 });
    assert.deepEqual(upstreamPartitions(prev, daily, daily, '2024-01-05', { now }), ['2024-01-04']);
    assert.deepEqual(upstreamPartitions(prev, daily, daily, '2024-01-01', { now }), [], 'the first partition has no previous one');
    assert.deepEqual(upstreamPartitions(timeWindowMapping({ startOffset: -2 }), daily, daily, '2024-01-05', { now }), ['2024-01-03', '2024-01-04', '2024-01-05']);
    assert.deepEqual(upstreamPartitions(timeWindowMapping({ endOffset: 1 }), daily, daily, '2024-11-30', { now }), ['2024-11-30'], 'upstream partitions that have not ended are left out');
  });
  test('daily over hourly gets 24 hours, 23 and 25 on DST days', () => {
    const utcHourly = hourlyPartitions({ start: '2024-01-01' });
    const hours = upstreamPartitions(timeWindowMapping(), daily, utcHourly, '2024-01-05', { now });
    assert.equal(hours.length, 24);
    assert.deepEqual([hours[0], hours.at(-1)], ['2024-01-05-00:00', '2024-01-05-23:00']);
    const nyDaily = dailyPartitions({ start: '2024-01-01', timezone: 'America/New_York' });
    const nyHourly = hourlyPartitions({ start: '2024-01-01', timezone: 'America/New_York' });
    assert.equal(upstreamPartitions(timeWindowMapping(), nyDaily, nyHourly, '2024-03-10', { now }).length, 23);
    assert.equal(upstreamPartitions(timeWindowMapping(), nyDaily, nyHourly, '2024-11-03', { now }).length, 25);
    assert.equal(upstreamPartitions(timeWindowMapping(), nyDaily, nyHourly, '2024-11-04', { now }).length, 24);
    // across zones: a New York day over UTC hours
    const cross = upstreamPartitions(timeWindowMapping(), nyDaily, utcHourly, '2024-01-05', { now });
    assert.deepEqual([cross.length, cross[0]], [24, '2024-01-05-05:00']);
  });
  test('hourly over daily gets the day that contains the hour; weekly over daily gets 7 days', () => {
    const hourly = hourlyPartitions({ start: '2024-01-01' });
    assert.deepEqual(upstreamPartitions(timeWindowMapping(), hourly, daily, '2024-01-05-13:00', { now }), ['2024-01-05']);
    const weekly = weeklyPartitions({ start: '2024-01-01' });
    assert.deepEqual(upstreamPartitions(timeWindowMapping(), weekly, daily, '2024-01-07', { now }), keysInRange(daily, '2024-01-07', '2024-01-13'));
    assert.throws(() => upstreamPartitions(timeWindowMapping(), staticPartitions(['a']), daily, 'a', { now }), /timeWindow mapping needs time windows on both sides/);
  });
  test('all and last partitions', () => {
    const regions = staticPartitions(['eu', 'us']);
    const short = at('2024-01-04T00:00:00Z');
    assert.deepEqual(upstreamPartitions(allPartitions(), regions, daily, 'eu', { now: short }), ['2024-01-01', '2024-01-02', '2024-01-03']);
    assert.deepEqual(upstreamPartitions(lastPartition(), regions, daily, 'eu', { now: short }), ['2024-01-03']);
    assert.deepEqual(upstreamPartitions(lastPartition(), regions, daily, 'eu', { now: at('2024-01-01T00:00:00Z') }), []);
    assert.deepEqual(upstreamPartitions(lastPartition(), daily, dynamicPartitions('c'), '2024-01-02', { now, dynamicKeys: ['a', 'b'] }), ['b']);
  });
  test('static mapping', () => {
    const down = staticPartitions(['europe', 'america', 'asia']);
    const up = staticPartitions(['de', 'fr', 'us', 'ca']);
    const m = staticMapping({ europe: ['de', 'fr'], america: 'us' });
    assert.deepEqual(m, { kind: 'static', map: { europe: ['de', 'fr'], america: ['us'] } });
    assert.deepEqual(upstreamPartitions(m, down, up, 'europe', { now }), ['de', 'fr']);
    assert.deepEqual(upstreamPartitions(m, down, up, 'america', { now }), ['us']);
    assert.deepEqual(upstreamPartitions(m, down, up, 'asia', { now }), []);
  });
  test('multi to single, both directions', () => {
    const regions = staticPartitions(['eu', 'us']);
    const multi = multiPartitions({ region: regions, date: daily });
    assert.deepEqual(upstreamPartitions(multiToSingle('region'), multi, regions, '2024-01-02|us', { now }), ['us']);
    assert.deepEqual(upstreamPartitions(multiToSingle('date'), multi, daily, '2024-01-02|us', { now }), ['2024-01-02']);
    assert.deepEqual(upstreamPartitions(multiToSingle('region'), regions, multi, 'us', { now: at('2024-01-03T00:00:00Z') }), ['2024-01-01|us', '2024-01-02|us']);
    assert.throws(() => upstreamPartitions(multiToSingle('color'), multi, regions, '2024-01-02|us', { now }), /names dimension 'color', which the downstream does not have/);
    assert.throws(() => upstreamPartitions(multiToSingle('region'), regions, regions, 'us', { now }), /needs multi partitions on exactly one side/);
  });
  test('default mappings', () => {
    const regions = staticPartitions(['eu', 'us']);
    const multi = multiPartitions({ region: regions, date: daily });
    assert.deepEqual(defaultPartitionMapping(daily, hourlyPartitions({ start: '2024-01-01' })), timeWindowMapping());
    assert.deepEqual(defaultPartitionMapping(multi, regions), multiToSingle('region'));
    assert.deepEqual(defaultPartitionMapping(daily, multi), multiToSingle('date'));
    assert.deepEqual(defaultPartitionMapping(regions, regions), identity());
    assert.deepEqual(JSON.parse(JSON.stringify(timeWindowMapping({ startOffset: -1, endOffset: -1 }))), { kind: 'timeWindow', startOffset: -1, endOffset: -1 });
  });
});

describe('purity', () => {
  test('definitions/partitions reads no clock and imports no Node built-ins', () => {
    const dir = join(fileURLToPath(new URL('.', import.meta.url)), '../../definitions/partitions');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length >= 4);
    for (const f of files) {
      const src = readFileSync(join(dir, f), 'utf8');
      assert.doesNotMatch(src, /Date\.now|new Date\(\)|DateTime\.(now|local)\(|Settings\.now|performance\.now/, f);
      assert.doesNotMatch(src, /from 'node:|from '(fs|path|os|crypto|child_process)'/, f);
    }
  });
});
