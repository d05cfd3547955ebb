import { CronExpressionParser } from 'cron-parser';
import { DateTime } from 'luxon';
import { CairnError, ErrorCodes } from '../errors';
import type { TimeWindowPartitionsDefinition } from './definitions';

/**
 * The time math behind time-window partitions: cron ticks (cron-parser, in the definition's zone), keys
 * (luxon), and the fall-back rule from the module comment of definitions.ts. Every function takes instants
 * as epoch milliseconds; none reads the clock.
 */

type TimeDef = TimeWindowPartitionsDefinition;

/** Fixed seed: cron-parser would otherwise seed 'H' values from Math.random (partitionsProblems rejects 'H'). */
const HASH_SEED = 'cairn-partitions';
/** Guard against enumerating an unbounded number of windows (e.g. minutely partitions over decades). */
export const MAX_WINDOWS = 1_000_000;

function broken(def: TimeDef, what: string): CairnError {
  return new CairnError(ErrorCodes.InvalidDefinition, `time-window partitions (cron '${def.cron}', start '${def.start}', ${def.timezone}) ${what}; check them with partitionsProblems`);
}

/** Parses a start/end bound in the definition's zone; undefined when it does not parse. */
export function parseBound(value: string, timezone: string): number | undefined {
  if (typeof value !== 'string') return undefined;
  const dt = DateTime.fromISO(value, { zone: timezone });
  return dt.isValid ? dt.toMillis() : undefined;
}

/**
 * A cron iterator in the definition's zone, positioned at `ms`. cron-parser can fail while stepping too (it
 * gives up on the repeated half hour of Australia/Lord_Howe's fall-back), so both directions are wrapped.
 */
function iterator(def: TimeDef, ms: number): { next(): number; prev(): number } {
  const fail = (e: unknown) => broken(def, `cannot be evaluated near ${new Date(ms).toISOString()} (${(e as Error).message})`);
  let it: ReturnType<typeof CronExpressionParser.parse>;
  try {
    it = CronExpressionParser.parse(def.cron, { currentDate: new Date(ms), tz: def.timezone, hashSeed: HASH_SEED });
  } catch (e) {
    throw fail(e);
  }
  const guard = (step: () => { getTime(): number }) => {
    try {
      return step().getTime();
    } catch (e) {
      throw fail(e);
    }
  };
  return { next: () => guard(() => it.next()), prev: () => guard(() => it.prev()) };
}

/** The first tick strictly after `ms`. */
export function nextTick(def: TimeDef, ms: number): number {
  return iterator(def, ms).next();
}

/** The last tick strictly before `ms`. */
export function prevTick(def: TimeDef, ms: number): number {
  return iterator(def, ms).prev();
}

/** The tick `n` ticks after (n > 0) or before (n < 0) the tick `ms`. */
export function stepTicks(def: TimeDef, ms: number, n: number): number {
  if (n === 0) return ms;
  const it = iterator(def, ms);
  let t = ms;
  for (let i = 0; i < Math.abs(n); i++) t = n > 0 ? it.next() : it.prev();
  return t;
}

/** Whether `ms` is a tick. */
export function isTick(def: TimeDef, ms: number): boolean {
  return nextTick(def, ms - 1) === ms;
}

const HOUR = 3_600_000;

/**
 * Steps from tick to tick. cron-parser costs about 0.2 ms a tick in a time zone, so daily crons take a fast
 * path (one wall-clock day later, when the UTC offset does not change in between) and hourly crons ('M * * * *')
 * another: the next tick is one real hour later, checked with luxon (its local minute is M, and the
 * UTC offset moved by whole hours, so no tick lies between). A zone that moves by half an hour falls back to
 * cron-parser for that step. Both agree across DST changes (see the tests).
 */
function stepper(def: TimeDef, fromMs: number): (tick: number) => number {
  const hourly = /^(\d{1,2}) \* \* \* \*$/.exec(def.cron);
  const daily = /^(\d{1,2}) (\d{1,2}) \* \* \*$/.exec(def.cron);
  if (daily) {
    // Daily crons: the same wall-clock time a day later, unless the UTC offset changes (DST): then cron-parser.
    const [minute, hour] = [Number(daily[1]), Number(daily[2])];
    return (tick) => {
      const a = DateTime.fromMillis(tick, { zone: def.timezone });
      const b = a.plus({ days: 1 });
      if (a.offset === b.offset && b.hour === hour && b.minute === minute) return b.toMillis();
      return nextTick(def, tick);
    };
  }
  if (!hourly) {
    const it = iterator(def, fromMs);
    return () => it.next();
  }
  const minute = Number(hourly[1]);
  let cached: DateTime | undefined;
  return (tick) => {
    const a = cached?.toMillis() === tick ? cached : DateTime.fromMillis(tick, { zone: def.timezone });
    const b = DateTime.fromMillis(tick + HOUR, { zone: def.timezone });
    cached = b;
    if (a.minute === minute && b.minute === minute && (a.offset - b.offset) % 60 === 0) return tick + HOUR;
    return nextTick(def, tick);
  };
}

/** The windows from the tick `fromMs` on, in order (at most MAX_WINDOWS; the caller stops the iteration). */
export function* windowsFrom(def: TimeDef, fromMs: number): Generator<{ start: number; end: number; key: string }> {
  const next = stepper(def, fromMs);
  let start = fromMs;
  let key = keyAt(def, start);
  let startBase = formatAt(def, start);
  for (let i = 0; i < MAX_WINDOWS; i++) {
    const end = next(start);
    yield { start, end, key };
    const base = formatAt(def, end);
    key = base === startBase ? base + offsetAt(def, end) : base;
    start = end;
    startBase = base;
  }
  throw new CairnError(ErrorCodes.InvalidPartition, `time-window partitions on '${def.cron}' would have more than ${MAX_WINDOWS} windows`);
}

/** The instant of `def.start` (throws for a definition that partitionsProblems would reject). */
export function startMs(def: TimeDef): number {
  const ms = parseBound(def.start, def.timezone);
  if (ms === undefined) throw broken(def, `has an invalid start '${def.start}'`);
  return ms;
}

/** The instant of `def.end`, or +Infinity. */
export function endBoundMs(def: TimeDef): number {
  if (def.end === undefined) return Infinity;
  const ms = parseBound(def.end, def.timezone);
  if (ms === undefined) throw broken(def, `has an invalid end '${def.end}'`);
  return ms;
}

/** The first window's start: the first tick at or after `start`. */
export function firstTick(def: TimeDef): number {
  return nextTick(def, startMs(def) - 1);
}

/**
 * The latest window end that exists at `now`: the last tick at or before `now`, moved by `endOffset` ticks,
 * capped by `end`. Windows with `end <= latestEnd` exist.
 */
export function latestEnd(def: TimeDef, nowMs: number | undefined): number {
  const cap = endBoundMs(def);
  if (nowMs === undefined) return cap;
  const last = prevTick(def, nowMs + 1);
  return Math.min(cap, stepTicks(def, last, def.endOffset));
}

export function formatAt(def: TimeDef, ms: number): string {
  return DateTime.fromMillis(ms, { zone: def.timezone }).toFormat(def.format);
}

function offsetAt(def: TimeDef, ms: number): string {
  return DateTime.fromMillis(ms, { zone: def.timezone }).toFormat('ZZ');
}

/** The key of the window starting at the tick `ms`, with the fall-back rule applied. */
export function keyAt(def: TimeDef, ms: number): string {
  const base = formatAt(def, ms);
  return formatAt(def, prevTick(def, ms)) === base ? base + offsetAt(def, ms) : base;
}

export type ParsedTimeKey =
  | { ok: true; start: number }
  | { ok: false; reason: 'format' }
  | { ok: false; reason: 'nonexistent'; wall: string }
  | { ok: false; reason: 'unaligned'; before: string; after: string }
  | { ok: false; reason: 'noncanonical'; canonical: string };

/**
 * Reads a key back to its window's start. Checks, in order: the format (plain, or with a UTC offset appended),
 * that the wall time exists in the zone, that it is a tick, and that the key is the canonical one for that tick.
 * Does not check start, end or now.
 */
export function parseTimeKey(def: TimeDef, key: string): ParsedTimeKey {
  const zone = def.timezone;
  const plain = DateTime.fromFormat(key, def.format, { zone });
  let candidate: number | undefined;
  if (plain.isValid) {
    if (plain.toFormat(def.format) !== key) {
      const wall = DateTime.fromFormat(key, def.format, { zone: 'UTC' });
      if (wall.isValid && wall.toFormat(def.format) === key) return { ok: false, reason: 'nonexistent', wall: wall.toFormat('yyyy-MM-dd HH:mm') };
      return { ok: false, reason: 'format' };
    }
    // An ambiguous wall time (fall-back) reads as one of its two instants; a plain key names the earlier one.
    const ms = plain.toMillis();
    candidate = [ms - 3_600_000, ms - 1_800_000, ms].find((c) => formatAt(def, c) === key);
  } else {
    const withOffset = DateTime.fromFormat(key, `${def.format}ZZ`, { zone });
    if (!withOffset.isValid || withOffset.toFormat(def.format) + withOffset.toFormat('ZZ') !== key) return { ok: false, reason: 'format' };
    candidate = withOffset.toMillis();
  }
  if (candidate === undefined) return { ok: false, reason: 'format' };
  // A format without the time of day (daily at 06:00, keys 'yyyy-MM-dd') reads back to midnight: the key names
  // the first tick at or after that instant if that tick formats to the same key.
  const following = nextTick(def, candidate - 1);
  if (following !== candidate && formatAt(def, following) === formatAt(def, candidate)) candidate = following;
  if (!isTick(def, candidate)) {
    const before = prevTick(def, candidate);
    return { ok: false, reason: 'unaligned', before: keyAt(def, before), after: keyAt(def, nextTick(def, candidate)) };
  }
  const canonical = keyAt(def, candidate);
  if (canonical !== key) return { ok: false, reason: 'noncanonical', canonical };
  return { ok: true, start: candidate };
}
