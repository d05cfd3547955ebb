/**
 * Schedules: cron-driven runs of a job or a selection. Each one becomes a Temporal Schedule (id
 * `cairn/<location>/<name>`) when its code location's worker starts, so it is visible, pausable and
 * triggerable in the Temporal UI and CLI as well as through `cairn schedules`.
 */
import { CairnError, ErrorCodes } from './errors';
import { cronProblem, timezoneProblem } from './freshness';
import { isJob, type JobDefinition } from './job';
import { parseSelection } from './selection';

/** What happens when a tick comes while the previous run of the schedule is still going (Temporal's overlap policy). */
export type ScheduleOverlap = 'skip' | 'bufferOne' | 'bufferAll' | 'cancelOther' | 'terminateOther' | 'allowAll';

export const SCHEDULE_OVERLAPS: readonly ScheduleOverlap[] = ['skip', 'bufferOne', 'bufferAll', 'cancelOther', 'terminateOther', 'allowAll'];

export interface ScheduleOptions {
  /** Unique in its code location; `[a-z0-9_-]`, starting with a letter. */
  name: string;
  /** 5-field cron expression (or `@daily`, `@hourly`, ...), read in `timezone`. */
  cron: string;
  /** IANA time zone; default UTC. */
  timezone?: string;
  /** A job, or a selection string. */
  target: JobDefinition | string;
  /**
   * For partitioned targets: `'latest'` runs the partition whose window ended at the tick (the day that just
   * ended, for a daily schedule at midnight); a function maps the tick to a key (it runs in the location's worker).
   */
  partition?: 'latest' | ((tick: Date) => string);
  tags?: Readonly<Record<string, string>>;
  /** Default `skip`: a tick is skipped while the previous run still runs. */
  overlap?: ScheduleOverlap;
  description?: string;
}

export interface ScheduleDefinition {
  readonly kind: 'schedule';
  readonly name: string;
  readonly cron: string;
  readonly timezone: string;
  /** The job's name when the target is a job. */
  readonly job?: string;
  /** The selection the runs materialize (the job's, for a job target). */
  readonly selection: string;
  readonly partition?: 'latest' | ((tick: Date) => string);
  /** The job's tags, then the schedule's. */
  readonly tags: Readonly<Record<string, string>>;
  readonly config?: Readonly<Record<string, unknown>>;
  readonly overlap: ScheduleOverlap;
  readonly description?: string;
}

export const SCHEDULE_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * Declares a schedule.
 * @example
 * export const nightly = schedule({ name: 'nightly', cron: '0 2 * * *', timezone: 'Europe/Berlin', target: nightlyJob });
 * export const daily = schedule({ name: 'daily-events', cron: '@daily', target: 'group:events', partition: 'latest' });
 */
export function schedule(options: ScheduleOptions): ScheduleDefinition {
  if (typeof options !== 'object' || options === null) throw new CairnError(ErrorCodes.InvalidDefinition, 'schedule() takes an options object: schedule({ name, cron, target })');
  const target = options.target;
  const j = isJob(target) ? target : undefined;
  return {
    kind: 'schedule',
    name: options.name,
    cron: options.cron,
    timezone: options.timezone ?? 'UTC',
    ...(j ? { job: j.name } : {}),
    selection: j ? j.selection : (target as string),
    ...(options.partition !== undefined ? { partition: options.partition } : {}),
    tags: { ...(j?.tags ?? {}), ...(options.tags ?? {}) },
    ...(j?.config !== undefined ? { config: j.config } : {}),
    overlap: options.overlap ?? 'skip',
    ...(options.description !== undefined ? { description: options.description } : {}),
  };
}

export function isSchedule(value: unknown): value is ScheduleDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'schedule';
}

/** The Temporal Schedule id of a schedule: `cairn/<location>/<name>`. */
export function scheduleId(location: string, name: string): string {
  return `cairn/${location}/${name}`;
}

/** Problems of a schedule on its own (name, cron, time zone, target, partition, overlap), each naming it. */
export function scheduleProblems(s: ScheduleDefinition): string[] {
  const where = `schedule '${String(s.name)}'`;
  const problems: string[] = [];
  if (typeof s.name !== 'string' || !SCHEDULE_NAME.test(s.name)) problems.push(`${where}: the name must be lowercase letters, digits, '-' and '_', starting with a letter`);
  const tz = timezoneProblem(s.timezone);
  if (tz) problems.push(`${where}: timezone ${tz}`);
  const cron = cronProblem(s.cron, tz ? 'UTC' : s.timezone);
  if (cron) problems.push(`${where}: cron ${cron}`);
  if (typeof s.selection !== 'string' || s.selection.trim() === '') problems.push(`${where}: target must be a job or a non-empty selection string`);
  else {
    try {
      parseSelection(s.selection);
    } catch (e) {
      problems.push(`${where}: target ${(e as Error).message}`);
    }
  }
  if (s.partition !== undefined && s.partition !== 'latest' && typeof s.partition !== 'function') problems.push(`${where}: partition must be 'latest' or a function (tick: Date) => key`);
  if (!SCHEDULE_OVERLAPS.includes(s.overlap)) problems.push(`${where}: overlap must be one of ${SCHEDULE_OVERLAPS.join(', ')}, got ${JSON.stringify(s.overlap)}`);
  return problems;
}
