/**
 * Partition definitions: plain, JSON-serializable data (they go into location snapshots as they are) and the
 * constructors that build them. Constructors never throw: a definition with problems is still data, and
 * {@link partitionsProblems} reports every problem at once (validation calls it with the asset key).
 *
 * Four kinds:
 *
 * - **time windows** `{ kind: 'time', cron, start, end?, timezone, format, endOffset }`. The ticks of `cron`
 *   in `timezone` at or after `start` split time into windows; window i runs from tick i to tick i+1 (end
 *   exclusive). A window's key is its start formatted in the time zone with `format` (luxon tokens). `end`
 *   (optional) bounds the set: only windows that end at or before it exist. `endOffset` adds N windows past
 *   the last one that has ended (negative: drops N).
 * - **static** `{ kind: 'static', keys }`: a fixed, ordered list.
 * - **dynamic** `{ kind: 'dynamic', name }`: the keys live in the catalog; functions take them as a parameter.
 * - **multi** `{ kind: 'multi', dimensions }`: exactly two named dimensions, ordered by name; a key is
 *   `<first>|<second>` (like Dagster).
 *
 * Daylight saving time: the windows follow the wall clock, so a daily window is 23 or 25 hours long on the
 * days the clocks change. An hourly cron skips the hour that a spring-forward removes (23 keys that day). On a
 * fall-back the wall clock repeats an hour, and both occurrences are windows (25 keys that day). Both would
 * format to the same key; the rule is: **when a window's formatted start equals the previous tick's, its key
 * gets the UTC offset appended** (`ZZ`): `2024-11-03-01:00` (EDT) then `2024-11-03-01:00-05:00` (EST). Keys
 * stay distinct, and they sort in time order as strings too.
 */

/** A time-window partitions definition (see the module comment). */
export interface TimeWindowPartitionsDefinition {
  kind: 'time';
  /** 5-field cron expression whose ticks start the windows, read in `timezone`. */
  cron: string;
  /** ISO date or date-time; without an offset it is read in `timezone`. The first window starts at the first tick at or after it. */
  start: string;
  /** ISO date or date-time (read like `start`); only windows that end at or before it exist. */
  end?: string;
  /** IANA time zone name. */
  timezone: string;
  /** luxon format of a key, e.g. 'yyyy-MM-dd'. */
  format: string;
  /** Windows past the last ended one that also exist (negative: fewer). */
  endOffset: number;
}

export interface StaticPartitionsDefinition {
  kind: 'static';
  keys: string[];
}

export interface DynamicPartitionsDefinition {
  kind: 'dynamic';
  /** The name the catalog stores the keys under. */
  name: string;
}

/** A dimension of a multi-partitions definition: any definition except another multi. */
export type DimensionPartitionsDefinition = TimeWindowPartitionsDefinition | StaticPartitionsDefinition | DynamicPartitionsDefinition;

export interface MultiPartitionsDefinition {
  kind: 'multi';
  /** Ordered by name. */
  dimensions: { name: string; partitions: DimensionPartitionsDefinition }[];
}

export type PartitionsDefinition = TimeWindowPartitionsDefinition | StaticPartitionsDefinition | DynamicPartitionsDefinition | MultiPartitionsDefinition;

/** A start or end: an ISO string (read in the definition's time zone unless it has an offset) or a Date. */
export type PartitionBound = string | Date;

export interface TimeWindowPartitionsOptions {
  cron: string;
  start: PartitionBound;
  end?: PartitionBound;
  timezone?: string;
  format: string;
  endOffset?: number;
}

function bound(value: PartitionBound): string {
  return value instanceof Date ? (Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()) : value;
}

/**
 * Time-window partitions on any cron.
 * @example timeWindowPartitions({ cron: '0 6 * * *', start: '2024-01-01', timezone: 'Europe/Berlin', format: 'yyyy-MM-dd' })
 */
export function timeWindowPartitions(options: TimeWindowPartitionsOptions): TimeWindowPartitionsDefinition {
  const def: TimeWindowPartitionsDefinition = {
    kind: 'time',
    cron: typeof options.cron === 'string' ? options.cron.trim() : options.cron,
    start: bound(options.start),
    timezone: options.timezone ?? 'UTC',
    format: options.format,
    endOffset: options.endOffset ?? 0,
  };
  if (options.end !== undefined) def.end = bound(options.end);
  return def;
}

interface ShortcutOptions {
  start: PartitionBound;
  end?: PartitionBound;
  timezone?: string;
  /** Defaults to the shortcut's format. */
  format?: string;
  endOffset?: number;
  minuteOffset?: number;
}

/** Hourly windows starting on the hour (or `minuteOffset` past it); keys `yyyy-MM-dd-HH:mm`. */
export function hourlyPartitions(options: ShortcutOptions): TimeWindowPartitionsDefinition {
  const { minuteOffset = 0, format = 'yyyy-MM-dd-HH:mm', ...rest } = options;
  return timeWindowPartitions({ ...rest, format, cron: `${minuteOffset} * * * *` });
}

/** Daily windows starting at midnight (or `hourOffset`:`minuteOffset`); keys `yyyy-MM-dd`. */
export function dailyPartitions(options: ShortcutOptions & { hourOffset?: number }): TimeWindowPartitionsDefinition {
  const { minuteOffset = 0, hourOffset = 0, format = 'yyyy-MM-dd', ...rest } = options;
  return timeWindowPartitions({ ...rest, format, cron: `${minuteOffset} ${hourOffset} * * *` });
}

/**
 * Weekly windows starting Sunday midnight like Dagster; `dayOffset` moves the first day (0 Sunday … 6 Saturday),
 * `hourOffset`/`minuteOffset` the time of day. Keys `yyyy-MM-dd` (the window's first day).
 */
export function weeklyPartitions(options: ShortcutOptions & { hourOffset?: number; dayOffset?: number }): TimeWindowPartitionsDefinition {
  const { minuteOffset = 0, hourOffset = 0, dayOffset = 0, format = 'yyyy-MM-dd', ...rest } = options;
  return timeWindowPartitions({ ...rest, format, cron: `${minuteOffset} ${hourOffset} * * ${dayOffset}` });
}

/** Monthly windows starting on the 1st (or `dayOffset`, the day of the month, 1–28) at midnight; keys `yyyy-MM-dd`. */
export function monthlyPartitions(options: ShortcutOptions & { hourOffset?: number; dayOffset?: number }): TimeWindowPartitionsDefinition {
  const { minuteOffset = 0, hourOffset = 0, dayOffset = 1, format = 'yyyy-MM-dd', ...rest } = options;
  return timeWindowPartitions({ ...rest, format, cron: `${minuteOffset} ${hourOffset} ${dayOffset} * *` });
}

/** A fixed list of keys, in the given order. */
export function staticPartitions(keys: readonly string[]): StaticPartitionsDefinition {
  return { kind: 'static', keys: [...keys] };
}

/** Keys added at run time and stored in the catalog under `name`. */
export function dynamicPartitions(name: string): DynamicPartitionsDefinition {
  return { kind: 'dynamic', name };
}

/**
 * Two dimensions; a key is `<a>|<b>` with the dimensions ordered by name.
 * @example multiPartitions({ region: staticPartitions(['eu', 'us']), date: dailyPartitions({ start: '2024-01-01' }) }) // keys '2024-01-01|eu', ...
 */
export function multiPartitions(dimensions: Record<string, DimensionPartitionsDefinition>): MultiPartitionsDefinition {
  const names = Object.keys(dimensions).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { kind: 'multi', dimensions: names.map((name) => ({ name, partitions: dimensions[name]! })) };
}
