/**
 * Jobs: a named subset of the asset graph that schedules, sensors and people target
 * (`cairn materialize --job nightly`). A job is data: its selection is evaluated when a run is planned, so it
 * follows the graph as assets are added.
 */
import { CairnError, ErrorCodes } from './errors';
import type { PartitionsDefinition } from './partitions/definitions';
import { parseSelection } from './selection';

export interface JobOptions {
  /** Unique in the workspace; `[a-z0-9_-]`, starting with a letter. */
  name: string;
  /** A selection string: `group:marts`, `+marts/revenue`, `*`. */
  selection: string;
  description?: string;
  /** Tags of every run of the job. */
  tags?: Readonly<Record<string, string>>;
  /** Run config per asset key, as `cairn materialize --config` takes it. */
  config?: Readonly<Record<string, unknown>>;
  /** The partitions the job's runs target (its selected assets must share them). */
  partitions?: PartitionsDefinition;
}

export interface JobDefinition {
  readonly kind: 'job';
  readonly name: string;
  readonly selection: string;
  readonly description?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly config?: Readonly<Record<string, unknown>>;
  readonly partitions?: PartitionsDefinition;
}

export const JOB_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * Declares a job.
 * @example
 * export const nightly = job({ name: 'nightly', selection: 'group:staging or group:marts', tags: { team: 'analytics' } });
 */
export function job(options: JobOptions): JobDefinition {
  if (typeof options !== 'object' || options === null) throw new CairnError(ErrorCodes.InvalidDefinition, 'job() takes an options object: job({ name, selection })');
  return {
    kind: 'job',
    name: options.name,
    selection: options.selection,
    ...(options.description !== undefined ? { description: options.description } : {}),
    tags: { ...(options.tags ?? {}) },
    ...(options.config !== undefined ? { config: { ...options.config } } : {}),
    ...(options.partitions !== undefined ? { partitions: options.partitions } : {}),
  };
}

export function isJob(value: unknown): value is JobDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'job';
}

/** Problems of a job on its own (name, selection syntax, tags), each naming the job. */
export function jobProblems(j: JobDefinition): string[] {
  const where = `job '${String(j.name)}'`;
  const problems: string[] = [];
  if (typeof j.name !== 'string' || !JOB_NAME.test(j.name)) problems.push(`${where}: the name must be lowercase letters, digits, '-' and '_', starting with a letter`);
  if (typeof j.selection !== 'string' || j.selection.trim() === '') problems.push(`${where}: selection must be a non-empty selection string such as 'group:marts'`);
  else {
    try {
      parseSelection(j.selection);
    } catch (e) {
      problems.push(`${where}: ${(e as Error).message}`);
    }
  }
  if (Object.values(j.tags).some((v) => typeof v !== 'string')) problems.push(`${where}: tags must be string values`);
  return problems;
}
