import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { CairnError, CairnErrors, ErrorCodes } from './errors';

/**
 * Freshness policies: how recently an asset must have been updated. Pure: parsing, normalizing and
 * evaluating take the current time as an argument and never read the clock.
 *
 * Two kinds, declared on an asset as `freshness: ...`:
 *
 * - **Time window** `{ maxLag: '6h', warnLag?: '3h' }`. At `now`, with `age = now - lastUpdatedAt`:
 *   PASS when `age <= warnLag` (or `age <= maxLag` without a warnLag), WARN when `warnLag < age <= maxLag`,
 *   FAIL when `age > maxLag` or the asset was never updated. Both bounds are inclusive of the lag itself.
 * - **Cron deadline** `{ cron: '0 9 * * *', maxLag: '2h', timezone?: 'Europe/Berlin' }`. Each cron tick is a
 *   deadline by which the asset must hold an update made no earlier than `maxLag` before the tick. At `now`
 *   the latest tick at or before `now` counts (a tick exactly at `now` counts): PASS when
 *   `lastUpdatedAt >= tick - maxLag`, FAIL otherwise or when never updated. A late update (after the tick)
 *   therefore passes until the next tick. There is no WARN for cron policies: `warnLag` is rejected.
 *   Ticks are computed in `timezone` (IANA name, default 'UTC'), so a daily 09:00 deadline stays at 09:00
 *   local time across DST changes; a wall time that a spring-forward skips (02:30 in New York) has no tick
 *   that day, so the previous tick stays the deadline.
 *
 * Durations are strings of whole-number parts with units w, d, h, m, s (case-insensitive), largest first,
 * each unit at most once: '30s', '15m', '6h', '1d', '2w', '1h30m', '1h 30m'. Numbers are rejected.
 */

const MS = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;
type Unit = keyof typeof MS;
const UNIT_ORDER: readonly Unit[] = ['w', 'd', 'h', 'm', 's'];
const DURATION_HINT = "a duration like '6h', '30m', '1d' or '1h30m'";
/** Fixed seed: cron-parser would otherwise seed its 'H' randomness from Math.random (we also reject 'H'). */
const HASH_SEED = 'cairn-freshness';
/** A fixed instant to test-evaluate a cron expression at while normalizing (no clock in definitions/). */
const PROBE_DATE = new Date(Date.UTC(2001, 0, 1));

// ---------------------------------------------------------------------------------------------- schemas

const LagMs = z.number().int().positive();

export const WindowFreshnessPolicySchema = z
  .object({
    kind: z.literal('window'),
    maxLagMs: LagMs,
    warnLagMs: LagMs.optional(),
  })
  .refine((p) => p.warnLagMs === undefined || p.warnLagMs < p.maxLagMs, { message: 'warnLagMs must be less than maxLagMs', path: ['warnLagMs'] });

export const CronFreshnessPolicySchema = z.object({
  kind: z.literal('cron'),
  cron: z.string().min(1),
  /** IANA time zone the cron expression is read in. */
  timezone: z.string().min(1),
  maxLagMs: LagMs,
});

/** The normalized, JSON-safe form of a freshness policy, as stored in snapshots. */
export const FreshnessPolicySchema = z.discriminatedUnion('kind', [WindowFreshnessPolicySchema, CronFreshnessPolicySchema]);
export type FreshnessPolicy = z.infer<typeof FreshnessPolicySchema>;
export type WindowFreshnessPolicy = z.infer<typeof WindowFreshnessPolicySchema>;
export type CronFreshnessPolicy = z.infer<typeof CronFreshnessPolicySchema>;

/** What a user writes on an asset: `{ maxLag, warnLag? }` or `{ cron, maxLag, timezone? }`. */
export type FreshnessPolicyInput =
  | { maxLag: string; warnLag?: string; cron?: never; timezone?: never }
  | { cron: string; maxLag: string; timezone?: string; warnLag?: never };

// -------------------------------------------------------------------------------------------- durations

/** The duration's milliseconds, or why `text` is not a duration (the text after the field name). */
function durationProblem(text: unknown): { problem: string } | { ms: number } {
  if (typeof text !== 'string') {
    const shown = typeof text === 'number' ? `number ${text}` : text === null ? 'null' : typeof text;
    return { problem: `must be ${DURATION_HINT} (a string), got ${shown}` };
  }
  const src = text.trim();
  if (/^-\s*\d/.test(src)) return { problem: `'${text}' must be greater than zero` };
  const part = /(\d+)\s*([a-z]+)\s*/giy;
  let ms = 0;
  let lastRank = -1;
  let parts = 0;
  let at = 0;
  while (at < src.length) {
    part.lastIndex = at;
    const m = part.exec(src);
    if (!m) return { problem: `'${text}' is not ${DURATION_HINT}` };
    const unit = m[2]!.toLowerCase();
    const rank = UNIT_ORDER.indexOf(unit as Unit);
    if (rank < 0) return { problem: `'${text}' is not ${DURATION_HINT}: unknown unit '${m[2]}' (use w, d, h, m or s)` };
    if (rank <= lastRank) return { problem: `'${text}' is not ${DURATION_HINT}: write each unit once, largest first` };
    lastRank = rank;
    ms += Number(m[1]) * MS[unit as Unit];
    parts++;
    at = part.lastIndex;
  }
  if (parts === 0) return { problem: `'${text}' is not ${DURATION_HINT}` };
  if (!Number.isSafeInteger(ms)) return { problem: `'${text}' is too large` };
  if (ms <= 0) return { problem: `'${text}' must be greater than zero` };
  return { ms };
}

/**
 * Parses a duration string into milliseconds.
 * @example parseDuration('1h30m') // 5_400_000
 * @throws CairnError (INVALID_DEFINITION) naming the bad value, for anything but a positive duration string.
 */
export function parseDuration(text: string): number {
  const r = durationProblem(text);
  if ('problem' in r) throw new CairnError(ErrorCodes.InvalidDefinition, `duration ${r.problem}`);
  return r.ms;
}

/**
 * Formats milliseconds for display, truncated to the `maxUnits` largest non-zero units (d, h, m, s):
 * `formatDuration(7_500_000)` is '2h 5m', 3d 4h 10m is '3d 4h', 45_000 is '45s'. Below one second it
 * shows milliseconds ('250ms'); zero is '0s'; negative values get a leading '-'.
 */
export function formatDuration(ms: number, maxUnits = 2): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms, maxUnits)}`;
  const whole = Math.floor(ms);
  if (whole === 0) return '0s';
  if (whole < 1000) return `${whole}ms`;
  const parts: string[] = [];
  let rest = whole;
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const n = Math.floor(rest / MS[unit]);
    rest -= n * MS[unit];
    if (n > 0 && parts.length < maxUnits) parts.push(`${n}${unit}`);
  }
  return parts.join(' ');
}

// -------------------------------------------------------------------------------------------- normalize

/** Why `tz` is not an IANA time zone name, or undefined. */
export function timezoneProblem(tz: unknown): string | undefined {
  if (typeof tz !== 'string' || tz.trim() === '') return `must be an IANA time zone name such as 'UTC' or 'Europe/Berlin', got ${typeof tz === 'string' ? "''" : String(tz)}`;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    return `'${tz}' is not an IANA time zone name such as 'UTC', 'America/New_York' or 'Europe/Berlin'`;
  }
  return undefined;
}

/** Why `cron` is not a usable 5-field cron expression (or alias) in `timezone`, or undefined. */
export function cronProblem(cron: unknown, timezone: string): string | undefined {
  const hint = "use 5 fields (minute hour day-of-month month day-of-week), e.g. '0 9 * * *', or an alias such as '@daily'";
  if (typeof cron !== 'string') return `must be a cron string; ${hint}`;
  const fields = cron.trim().split(/\s+/).filter((f) => f !== '');
  const alias = fields.length === 1 && fields[0]!.startsWith('@');
  if (!alias && fields.length !== 5 && fields.length !== 6) return `'${cron}' is not a valid cron expression: it has ${fields.length} field${fields.length === 1 ? '' : 's'}; ${hint}`;
  if (/\bH\b/.test(cron)) return `'${cron}' is not supported: hashed 'H' values make the deadline unpredictable; use fixed values`;
  try {
    CronExpressionParser.parse(cron, { currentDate: PROBE_DATE, tz: timezone, hashSeed: HASH_SEED }).prev();
  } catch (e) {
    return `'${cron}' is not a valid cron expression (${(e as Error).message}); ${hint}`;
  }
  return undefined;
}

const WINDOW_FIELDS = ['maxLag', 'warnLag'];
const CRON_FIELDS = ['cron', 'maxLag', 'timezone'];

/**
 * Checks a user's freshness policy and turns it into its stored form. Reports every problem, each message
 * naming the asset and the field. `input === undefined` means no policy (no problems, no policy).
 */
export function normalizeFreshness(input: unknown, assetKey: string): { policy?: FreshnessPolicy; problems: string[] } {
  if (input === undefined) return { problems: [] };
  const at = `asset '${assetKey}': freshness`;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    const got = input === null ? 'null' : Array.isArray(input) ? 'an array' : `${typeof input} ${JSON.stringify(input)}`;
    return { problems: [`${at} must be an object like { maxLag: '6h' } or { cron: '0 9 * * *', maxLag: '2h' }, got ${got}`] };
  }
  const o = input as Record<string, unknown>;
  const problems: string[] = [];
  const isCron = o.cron !== undefined;
  const allowed = isCron ? CRON_FIELDS : WINDOW_FIELDS;
  for (const k of Object.keys(o)) {
    if (o[k] === undefined || allowed.includes(k)) continue;
    if (k === 'warnLag') problems.push(`${at}.warnLag is not allowed with cron: a cron policy has one deadline per tick and no warning level; remove warnLag`);
    else if (k === 'timezone') problems.push(`${at}.timezone only applies to cron policies; add cron or remove timezone`);
    else {
      const close = [...WINDOW_FIELDS, ...CRON_FIELDS].find((f) => f.toLowerCase() === k.toLowerCase());
      const hint = close ? `did you mean '${close}'?` : `expected ${[...new Set([...WINDOW_FIELDS, ...CRON_FIELDS])].join(', ')}`;
      problems.push(`${at} has an unknown field '${k}'; ${hint}`);
    }
  }

  let maxLagMs: number | undefined;
  if (o.maxLag === undefined) problems.push(`${at}.maxLag is required, e.g. maxLag: '6h'`);
  else {
    const r = durationProblem(o.maxLag);
    if ('problem' in r) problems.push(`${at}.maxLag ${r.problem}`);
    else maxLagMs = r.ms;
  }

  if (isCron) {
    let timezone = 'UTC';
    if (o.timezone !== undefined) {
      const tzIssue = timezoneProblem(o.timezone);
      if (tzIssue) problems.push(`${at}.timezone ${tzIssue}`);
      else timezone = o.timezone as string;
    }
    const cronIssue = cronProblem(o.cron, timezone);
    if (cronIssue) problems.push(`${at}.cron ${cronIssue}`);
    if (problems.length > 0 || maxLagMs === undefined) return { problems };
    return { policy: { kind: 'cron', cron: (o.cron as string).trim(), timezone, maxLagMs }, problems };
  }

  let warnLagMs: number | undefined;
  if (o.warnLag !== undefined) {
    const r = durationProblem(o.warnLag);
    if ('problem' in r) problems.push(`${at}.warnLag ${r.problem}`);
    else if (maxLagMs !== undefined && r.ms >= maxLagMs) problems.push(`${at}.warnLag '${String(o.warnLag)}' must be less than maxLag '${String(o.maxLag)}'`);
    else warnLagMs = r.ms;
  }
  if (problems.length > 0 || maxLagMs === undefined) return { problems };
  return { policy: warnLagMs === undefined ? { kind: 'window', maxLagMs } : { kind: 'window', maxLagMs, warnLagMs }, problems };
}

/**
 * Like {@link normalizeFreshness}, but throws: a CairnError (INVALID_DEFINITION, `where` = the asset key) for
 * one problem, CairnErrors for several.
 */
export function freshnessPolicy(input: unknown, assetKey: string): FreshnessPolicy | undefined {
  const { policy, problems } = normalizeFreshness(input, assetKey);
  const errors = problems.map((p) => new CairnError(ErrorCodes.InvalidDefinition, p, assetKey));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new CairnErrors(errors);
  return policy;
}

/** A one-line description of a policy, for `cairn status` and the UI. */
export function describeFreshness(policy: FreshnessPolicy): string {
  const max = formatDuration(policy.maxLagMs, Infinity);
  if (policy.kind === 'cron') return `updated within ${max} before each tick of '${policy.cron}' (${policy.timezone})`;
  return policy.warnLagMs === undefined ? `updated within ${max}` : `updated within ${max} (warn after ${formatDuration(policy.warnLagMs, Infinity)})`;
}

// --------------------------------------------------------------------------------------------- evaluate

export type FreshnessStatus = 'PASS' | 'WARN' | 'FAIL';

export interface FreshnessResult {
  status: FreshnessStatus;
  /** `now - lastUpdatedAt` (0 when the update is in the future); absent when never updated. */
  lagMs?: number;
  /** Cron policies: the tick evaluated against (the latest at or before `now`), as an ISO string in UTC. */
  deadline?: string;
  /** A short sentence for people, e.g. "last updated 7h 3m ago; max lag 6h". */
  reason: string;
}

function toMs(value: string | Date, name: string): number {
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`freshness: ${name} '${String(value)}' is not a valid date`);
  return ms;
}

/**
 * Evaluates a normalized policy at `now` (see the module comment for the rules). Pure: never reads the
 * clock. Throws RangeError for an unparseable date, CairnError for a cron policy that cannot be evaluated
 * (only possible for a policy that did not come from {@link normalizeFreshness}).
 */
export function evaluateFreshness(policy: FreshnessPolicy, lastUpdatedAt: string | Date | null | undefined, now: Date): FreshnessResult {
  const nowMs = toMs(now, 'now');
  const lastMs = lastUpdatedAt === undefined || lastUpdatedAt === null ? undefined : toMs(lastUpdatedAt, 'lastUpdatedAt');
  const lagMs = lastMs === undefined ? undefined : Math.max(0, nowMs - lastMs);
  const max = formatDuration(policy.maxLagMs, Infinity);

  if (policy.kind === 'window') {
    if (lagMs === undefined) return { status: 'FAIL', reason: `never updated; max lag ${max}` };
    const ago = `last updated ${formatDuration(lagMs)} ago`;
    if (lagMs > policy.maxLagMs) return { status: 'FAIL', lagMs, reason: `${ago}; max lag ${max}` };
    if (policy.warnLagMs !== undefined && lagMs > policy.warnLagMs) {
      return { status: 'WARN', lagMs, reason: `${ago}; warn after ${formatDuration(policy.warnLagMs, Infinity)}, max lag ${max}` };
    }
    return { status: 'PASS', lagMs, reason: `${ago}; max lag ${max}` };
  }

  let tickMs: number;
  try {
    // prev() returns the latest tick strictly before currentDate; ticks fall on whole seconds, so starting
    // 1 ms after `now` includes a tick exactly at `now`.
    tickMs = CronExpressionParser.parse(policy.cron, { currentDate: new Date(nowMs + 1), tz: policy.timezone, hashSeed: HASH_SEED }).prev().getTime();
  } catch (e) {
    throw new CairnError(ErrorCodes.InvalidDefinition, `freshness cron '${policy.cron}' in time zone '${policy.timezone}' cannot be evaluated: ${(e as Error).message}`);
  }
  const deadline = new Date(tickMs).toISOString();
  const due = `the deadline ${deadline}; max lag ${max}`;
  if (lastMs === undefined) return { status: 'FAIL', deadline, reason: `never updated; ${due}` };
  const result = { lagMs: lagMs!, deadline };
  if (lastMs < tickMs - policy.maxLagMs) return { status: 'FAIL', ...result, reason: `last updated ${formatDuration(tickMs - lastMs)} before ${due}` };
  const when = lastMs <= tickMs ? `${formatDuration(tickMs - lastMs)} before` : `${formatDuration(lastMs - tickMs)} after`;
  return { status: 'PASS', ...result, reason: `updated ${when} ${due}` };
}
