import { CronExpressionParser } from 'cron-parser';
import { closest, distance } from 'fastest-levenshtein';
import { Info } from 'luxon';
import { CairnError, ErrorCodes } from '../errors';
import type { DynamicPartitionsDefinition, PartitionsDefinition, TimeWindowPartitionsDefinition } from './definitions';
import { endBoundMs, firstTick, formatAt, latestEnd, parseBound, parseTimeKey, windowsFrom } from './time-windows';

/**
 * Keys of partition definitions: listing them at a given `now`, reading a key back to its time window,
 * validating a key with a message that names the definition and what would be valid, ranges, descriptions
 * and definition-time problems. Pure: `now` and the dynamic keys (from the catalog) are parameters.
 */

export interface PartitionKeysOptions {
  /** The instant the keys are listed at: a time window exists once it has ended (see `endOffset`). */
  now: Date;
  /** The current keys of a dynamic definition (or of a multi's dynamic dimension), from the catalog. */
  dynamicKeys?: readonly string[] | Readonly<Record<string, readonly string[]>>;
}

export interface ValidateKeyOptions {
  /** When given, a time-window key must also exist at `now` (its window has ended, allowing for `endOffset`). */
  now?: Date;
  /** When given, a dynamic key must be one of them; without them only its shape is checked. */
  dynamicKeys?: PartitionKeysOptions['dynamicKeys'];
}

/** A time window: start inclusive, end exclusive, both ISO strings in UTC. */
export interface PartitionWindow {
  start: string;
  end: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

function nowMsOf(now: Date | undefined): number | undefined {
  if (now === undefined) return undefined;
  const ms = now instanceof Date ? now.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new CairnError(ErrorCodes.InvalidArgument, `partitions: now '${String(now)}' is not a valid Date`);
  return ms;
}

function dynamicKeysFor(def: DynamicPartitionsDefinition, keys: PartitionKeysOptions['dynamicKeys']): readonly string[] | undefined {
  if (keys === undefined) return undefined;
  return Array.isArray(keys) ? keys : (keys as Readonly<Record<string, readonly string[]>>)[def.name];
}

// ------------------------------------------------------------------------------------------- describing

/** The cadence a cron reads as ('daily', ...), or undefined for any other cron. */
function cadence(cron: string): 'hourly' | 'daily' | 'weekly' | 'monthly' | undefined {
  if (/^\d{1,2} \* \* \* \*$/.test(cron)) return 'hourly';
  if (/^\d{1,2} \d{1,2} \* \* \*$/.test(cron)) return 'daily';
  if (/^\d{1,2} \d{1,2} \* \* \d$/.test(cron)) return 'weekly';
  if (/^\d{1,2} \d{1,2} \d{1,2} \* \*$/.test(cron)) return 'monthly';
  return undefined;
}

const CANONICAL_CRON = { hourly: '0 * * * *', daily: '0 0 * * *', weekly: '0 0 * * 0', monthly: '0 0 1 * *' } as const;

function firstKeyOrStart(def: TimeWindowPartitionsDefinition): string {
  try {
    return formatAt(def, firstTick(def));
  } catch {
    return String(def.start);
  }
}

/**
 * One line for people and error messages: "daily partitions starting 2024-01-01 (UTC)",
 * "weekly partitions on '0 0 * * 1' starting 2024-01-01 (Europe/Berlin) until 2024-06-01",
 * "static partitions [eu, us]", "dynamic partitions 'customers'", "multi partitions (date: ..., region: ...)".
 */
export function describePartitions(def: PartitionsDefinition): string {
  switch (def.kind) {
    case 'time': {
      const c = typeof def.cron === 'string' ? cadence(def.cron) : undefined;
      const what = c === undefined ? `partitions on cron '${def.cron}'` : CANONICAL_CRON[c] === def.cron ? `${c} partitions` : `${c} partitions on '${def.cron}'`;
      const until = def.end === undefined ? '' : ` until ${def.end}`;
      return `${what} starting ${firstKeyOrStart(def)} (${def.timezone})${until}`;
    }
    case 'static': {
      const shown = def.keys.slice(0, 6).join(', ');
      return `static partitions [${shown}${def.keys.length > 6 ? `, ... (${def.keys.length} keys)` : ''}]`;
    }
    case 'dynamic':
      return `dynamic partitions '${def.name}'`;
    case 'multi':
      return `multi partitions (${def.dimensions.map((d) => `${d.name}: ${describePartitions(d.partitions)}`).join('; ')})`;
  }
}

// -------------------------------------------------------------------------------------------- problems

const FORBIDDEN = /[|,]/;

function timezoneProblem(tz: unknown): string | undefined {
  if (typeof tz !== 'string' || tz.trim() === '') return `timezone must be an IANA time zone name such as 'UTC' or 'Europe/Berlin', got ${JSON.stringify(tz)}`;
  if (!Info.isValidIANAZone(tz)) return `timezone '${tz}' is not an IANA time zone name such as 'UTC', 'America/New_York' or 'Europe/Berlin'`;
  return undefined;
}

function timeProblems(def: TimeWindowPartitionsDefinition, at: string): string[] {
  const problems: string[] = [];
  const tzIssue = timezoneProblem(def.timezone);
  if (tzIssue) problems.push(`${at}: ${tzIssue}`);
  const zone = tzIssue ? 'UTC' : def.timezone;

  const hint = "use 5 fields (minute hour day-of-month month day-of-week), e.g. '0 0 * * *'";
  if (typeof def.cron !== 'string' || def.cron.trim() === '') problems.push(`${at}: cron must be a cron string; ${hint}`);
  else {
    const fields = def.cron.trim().split(/\s+/);
    if (fields.length !== 5) problems.push(`${at}: cron '${def.cron}' has ${fields.length} field${fields.length === 1 ? '' : 's'}; ${hint}`);
    else if (/\bH\b/.test(def.cron)) problems.push(`${at}: cron '${def.cron}' uses hashed 'H' values; use fixed values`);
    else {
      try {
        CronExpressionParser.parse(def.cron, { currentDate: new Date(Date.UTC(2001, 0, 1)), tz: zone }).next();
      } catch (e) {
        problems.push(`${at}: cron '${def.cron}' is not a valid cron expression (${(e as Error).message}); ${hint}`);
      }
    }
  }

  const start = parseBound(def.start, zone);
  if (start === undefined) problems.push(`${at}: start ${JSON.stringify(def.start)} is not an ISO date or date-time such as '2024-01-01' or '2024-01-01T06:00'`);
  if (def.end !== undefined) {
    const end = parseBound(def.end, zone);
    if (end === undefined) problems.push(`${at}: end ${JSON.stringify(def.end)} is not an ISO date or date-time such as '2024-12-31'`);
    else if (start !== undefined && end <= start) problems.push(`${at}: end '${def.end}' must be after start '${def.start}'`);
  }
  if (!Number.isSafeInteger(def.endOffset)) problems.push(`${at}: endOffset must be a whole number, got ${JSON.stringify(def.endOffset)}`);
  if (typeof def.format !== 'string' || def.format === '') problems.push(`${at}: format must be a luxon format such as 'yyyy-MM-dd'`);
  if (problems.length > 0) return problems;

  // The format must tell windows apart and read back: check the first two windows.
  const [w1, w2] = windowsFrom(def, firstTick(def));
  for (const w of [w1!, w2!]) {
    if (FORBIDDEN.test(w.key)) {
      problems.push(`${at}: format '${def.format}' makes keys like '${w.key}', which contain '|' or ','`);
      break;
    }
    const back = parseTimeKey(def, w.key);
    if (!back.ok || back.start !== w.start) {
      problems.push(`${at}: format '${def.format}' cannot tell the windows apart or read them back (the window starting ${iso(w.start)} gets key '${w.key}')`);
      break;
    }
  }
  return problems;
}

/**
 * Every problem with a definition, each message starting with `where` (e.g. "asset 'raw/orders': partitions").
 * Empty for a valid definition.
 */
export function partitionsProblems(def: PartitionsDefinition, where: string): string[] {
  if (typeof def !== 'object' || def === null) return [`${where} must be a partitions definition such as dailyPartitions({ start: '2024-01-01' })`];
  switch (def.kind) {
    case 'time':
      return timeProblems(def, where);
    case 'static': {
      if (!Array.isArray(def.keys) || def.keys.length === 0) return [`${where}: static partitions need at least one key`];
      const problems: string[] = [];
      const seen = new Set<string>();
      const dups = new Set<string>();
      for (const k of def.keys) {
        if (typeof k !== 'string' || k === '') problems.push(`${where}: static keys must be non-empty strings, got ${JSON.stringify(k)}`);
        else if (FORBIDDEN.test(k)) problems.push(`${where}: static key '${k}' contains '|' or ',' (reserved for multi keys and key lists)`);
        if (seen.has(k)) dups.add(k);
        seen.add(k);
      }
      if (dups.size > 0) problems.push(`${where}: static keys are duplicated: ${[...dups].map((k) => `'${k}'`).join(', ')}`);
      return problems;
    }
    case 'dynamic':
      if (typeof def.name !== 'string' || def.name.trim() === '') return [`${where}: dynamic partitions need a name`];
      return [];
    case 'multi': {
      const dims = Array.isArray(def.dimensions) ? def.dimensions : [];
      if (dims.length !== 2) return [`${where}: multi partitions need exactly 2 dimensions, got ${dims.length}${dims.length ? ` (${dims.map((d) => d.name).join(', ')})` : ''}`];
      const problems: string[] = [];
      for (const d of dims) {
        if (typeof d.name !== 'string' || d.name === '' || FORBIDDEN.test(d.name)) problems.push(`${where}: dimension name ${JSON.stringify(d.name)} must be non-empty without '|' or ','`);
        if ((d.partitions as PartitionsDefinition | undefined)?.kind === 'multi') problems.push(`${where}: dimension '${d.name}' cannot itself be multi partitions`);
        else problems.push(...partitionsProblems(d.partitions, `${where}: dimension '${d.name}'`));
      }
      const time = dims.filter((d) => d.partitions?.kind === 'time');
      if (time.length > 1) problems.push(`${where}: at most one dimension may be time windows, got ${time.map((d) => `'${d.name}'`).join(' and ')}`);
      return problems;
    }
    default:
      return [`${where}: unknown partitions kind ${JSON.stringify((def as { kind?: unknown }).kind)}`];
  }
}

// ------------------------------------------------------------------------------------------ listing

type Window = { start: number; end: number; key: string };

/** Listed windows per definition: listing is deterministic in (definition, latest end), and planners list often. */
const windowCache = new Map<string, { limit: number; windows: readonly Window[] }>();
const WINDOW_CACHE_SIZE = 32;

function timeWindows(def: TimeWindowPartitionsDefinition, nowMs: number | undefined): readonly Window[] {
  const limit = latestEnd(def, nowMs);
  if (limit === Infinity) throw new CairnError(ErrorCodes.InvalidArgument, `listing ${describePartitions(def)} needs 'now' (it has no end)`);
  const id = JSON.stringify([def.cron, def.start, def.end, def.timezone, def.format, def.endOffset]);
  const cached = windowCache.get(id);
  if (cached?.limit === limit) return cached.windows;
  const out: Window[] = [];
  // Extend a cached listing when time has moved on, instead of starting over.
  const reuse = cached && cached.limit < limit ? cached.windows : [];
  out.push(...reuse);
  const from = reuse.length > 0 ? reuse.at(-1)!.end : firstTick(def);
  for (const w of windowsFrom(def, from)) {
    if (w.end > limit) break;
    out.push(w);
  }
  if (windowCache.size >= WINDOW_CACHE_SIZE && !windowCache.has(id)) windowCache.delete(windowCache.keys().next().value!);
  windowCache.set(id, { limit, windows: out });
  return out;
}

/**
 * Every key that exists at `now`, in order. Time windows: those that have ended by `now` (their end at or
 * before it), plus `endOffset` more, and none that ends after `end`. Multi: the product, first dimension outer.
 */
export function partitionKeys(def: PartitionsDefinition, options: PartitionKeysOptions): string[] {
  const nowMs = nowMsOf(options.now);
  switch (def.kind) {
    case 'time':
      return timeWindows(def, nowMs).map((w) => w.key);
    case 'static':
      return [...def.keys];
    case 'dynamic':
      return [...(dynamicKeysFor(def, options.dynamicKeys) ?? [])];
    case 'multi': {
      const [a, b] = def.dimensions.map((d) => partitionKeys(d.partitions, options));
      return a!.flatMap((x) => b!.map((y) => `${x}|${y}`));
    }
  }
}

/** The last `n` keys that exist at `now` (time windows: the `n` latest ended windows), without listing all keys' strings. */
export function lastPartitionKeys(def: PartitionsDefinition, options: PartitionKeysOptions, n: number): string[] {
  if (def.kind === 'time') return timeWindows(def, nowMsOf(options.now)).slice(-n).map((w) => w.key);
  return partitionKeys(def, options).slice(-n);
}

// ------------------------------------------------------------------------------------------ validating

/** Why `key` is not a key of a single-dimension definition (a phrase), or undefined. */
function keyProblem(def: PartitionsDefinition, key: string, options: ValidateKeyOptions): string | undefined {
  if (typeof key !== 'string' || key === '') return 'a partition key must be a non-empty string';
  switch (def.kind) {
    case 'time':
      return timeKeyProblem(def, key, options);
    case 'static': {
      if (def.keys.includes(key)) return undefined;
      return `it is not one of its keys; ${suggest(key, def.keys)}`;
    }
    case 'dynamic': {
      if (FORBIDDEN.test(key)) return "dynamic keys cannot contain '|' or ','";
      const keys = dynamicKeysFor(def, options.dynamicKeys);
      if (keys === undefined || keys.includes(key)) return undefined;
      return keys.length === 0 ? 'no keys have been added yet' : `it has not been added; ${suggest(key, keys)}`;
    }
    case 'multi': {
      const parts = key.split('|');
      const names = def.dimensions.map((d) => d.name);
      if (parts.length !== def.dimensions.length) {
        return `expected ${names.map((n) => `<${n}>`).join('|')} (dimensions ordered by name), e.g. '${def.dimensions.map((d) => exampleKey(d.partitions)).join('|')}'`;
      }
      for (const [i, d] of def.dimensions.entries()) {
        const p = keyProblem(d.partitions, parts[i]!, options);
        if (p) return `its ${d.name} part '${parts[i]}' is not a key of ${describePartitions(d.partitions)}: ${p}`;
      }
      return undefined;
    }
  }
}

function suggest(key: string, keys: readonly string[]): string {
  if (keys.length === 0) return 'there are no keys';
  const near = closest(key, keys as string[]);
  if (distance(key, near) <= Math.max(2, Math.floor(key.length / 3))) return `did you mean '${near}'?`;
  const shown = keys.slice(0, 10).map((k) => `'${k}'`).join(', ');
  return `expected one of ${shown}${keys.length > 10 ? `, ... (${keys.length} keys)` : ''}`;
}

function exampleKey(def: PartitionsDefinition): string {
  switch (def.kind) {
    case 'time':
      return firstKeyOrStart(def);
    case 'static':
      return def.keys[0] ?? 'a';
    case 'dynamic':
      return 'some-key';
    case 'multi':
      return def.dimensions.map((d) => exampleKey(d.partitions)).join('|');
  }
}

function timeKeyProblem(def: TimeWindowPartitionsDefinition, key: string, options: ValidateKeyOptions): string | undefined {
  const parsed = parseTimeKey(def, key);
  if (!parsed.ok) {
    switch (parsed.reason) {
      case 'format':
        return `expected ${def.format} (e.g. ${firstKeyOrStart(def)})`;
      case 'nonexistent':
        return `${parsed.wall} does not exist in ${def.timezone} (the clocks skip it for daylight saving time)`;
      case 'unaligned':
        return `it is not the start of a window (cron '${def.cron}' in ${def.timezone}); the nearest keys are '${parsed.before}' and '${parsed.after}'`;
      case 'noncanonical':
        return `write it as '${parsed.canonical}'`;
    }
  }
  const first = firstTick(def);
  if (parsed.start < first) return `it is before the first partition '${formatAt(def, first)}'`;
  const [window] = windowsFrom(def, parsed.start);
  if (window!.end > endBoundMs(def)) return `its window ends after the end ${def.end}`;
  const nowMs = nowMsOf(options.now);
  if (nowMs !== undefined && window!.end > latestEnd(def, nowMs)) {
    const last = timeWindows(def, nowMs).at(-1);
    return `its window has not ended at ${iso(nowMs)}${def.endOffset ? ` (endOffset ${def.endOffset})` : ''}; ${last ? `the latest partition is '${last.key}'` : 'no partition has ended yet'}`;
  }
  return undefined;
}

/**
 * Throws CairnError (INVALID_PARTITION, `where` = the key) unless `key` is a key of `def`. The message names
 * the definition and what is valid, e.g. "'2024-13-01' is not a key of daily partitions starting 2024-01-01
 * (UTC): expected yyyy-MM-dd (e.g. 2024-01-01)".
 */
export function validatePartitionKey(def: PartitionsDefinition, key: string, options: ValidateKeyOptions = {}): void {
  const problem = keyProblem(def, key, options);
  if (problem) throw new CairnError(ErrorCodes.InvalidPartition, `'${key}' is not a key of ${describePartitions(def)}: ${problem}`, key);
}

/** The window of a time-window key (start inclusive, end exclusive, ISO in UTC). Throws like validatePartitionKey. */
export function partitionWindow(def: PartitionsDefinition, key: string): PartitionWindow {
  if (def.kind !== 'time') throw new CairnError(ErrorCodes.InvalidPartition, `${describePartitions(def)} have no time windows (key '${key}')`, key);
  validatePartitionKey(def, key);
  const start = (parseTimeKey(def, key) as { start: number }).start;
  const [w] = windowsFrom(def, start);
  return { start: iso(w!.start), end: iso(w!.end) };
}

/**
 * The keys from `from` to `to`, both included, in order. Both must be keys (without a `now` check). Dynamic
 * definitions need `dynamicKeys`; multi definitions have no order and throw.
 */
export function keysInRange(def: PartitionsDefinition, from: string, to: string, options: Pick<ValidateKeyOptions, 'dynamicKeys'> = {}): string[] {
  validatePartitionKey(def, from, options);
  validatePartitionKey(def, to, options);
  const reversed = () => new CairnError(ErrorCodes.InvalidPartition, `range '${from}' to '${to}' of ${describePartitions(def)} is reversed: '${to}' comes before '${from}'`, `${from}...${to}`);
  switch (def.kind) {
    case 'time': {
      const a = (parseTimeKey(def, from) as { start: number }).start;
      const b = (parseTimeKey(def, to) as { start: number }).start;
      if (b < a) throw reversed();
      const out: string[] = [];
      for (const w of windowsFrom(def, a)) {
        if (w.start > b) break;
        out.push(w.key);
      }
      return out;
    }
    case 'static':
    case 'dynamic': {
      const keys = def.kind === 'static' ? def.keys : dynamicKeysFor(def, options.dynamicKeys);
      if (keys === undefined) throw new CairnError(ErrorCodes.InvalidArgument, `a range of ${describePartitions(def)} needs their current keys (dynamicKeys)`);
      const i = keys.indexOf(from);
      const j = keys.indexOf(to);
      if (j < i) throw reversed();
      return keys.slice(i, j + 1);
    }
    case 'multi':
      throw new CairnError(ErrorCodes.InvalidPartition, `${describePartitions(def)} have no order, so no ranges; list the keys instead`, `${from}...${to}`);
  }
}
