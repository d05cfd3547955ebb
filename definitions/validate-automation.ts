/** Validation of a location's jobs and schedules; each message names the job or schedule and the location. */
import type { CodeLocationDefinition } from './code-location';
import { CairnError, ErrorCodes } from './errors';
import { isJob, jobProblems } from './job';
import { isSchedule, scheduleProblems } from './schedule';
import { isSensor, sensorProblems } from './sensor';

export function automationProblems(location: CodeLocationDefinition, at: string): CairnError[] {
  const problems: CairnError[] = [];
  const add = (message: string, where?: string): void => {
    problems.push(new CairnError(ErrorCodes.InvalidDefinition, `${message} (in ${at})`, where));
  };
  const jobs = new Set<string>();
  for (const [i, j] of (location.jobs ?? []).entries()) {
    if (!isJob(j)) {
      add(`jobs[${i}] is not a job; build it with job({ name, selection })`);
      continue;
    }
    for (const p of jobProblems(j)) add(p, j.name);
    if (jobs.has(j.name)) add(`two jobs are named '${j.name}'; give one another name`, j.name);
    jobs.add(j.name);
  }
  const schedules = new Set<string>();
  for (const [i, s] of (location.schedules ?? []).entries()) {
    if (!isSchedule(s)) {
      add(`schedules[${i}] is not a schedule; build it with schedule({ name, cron, target })`);
      continue;
    }
    for (const p of scheduleProblems(s)) add(p, s.name);
    if (schedules.has(s.name)) add(`two schedules are named '${s.name}'; give one another name`, s.name);
    schedules.add(s.name);
  }
  const sensors = new Set<string>();
  for (const [i, s] of (location.sensors ?? []).entries()) {
    if (!isSensor(s)) {
      add(`sensors[${i}] is not a sensor; build it with sensor({ name, evaluate })`);
      continue;
    }
    for (const p of sensorProblems(s)) add(p, s.name);
    if (sensors.has(s.name)) add(`two sensors are named '${s.name}'; give one another name`, s.name);
    sensors.add(s.name);
    for (const res of s.resources) if (!(res in location.resources)) add(`sensor '${s.name}' uses resource '${res}', which the location does not provide`, s.name);
  }
  return problems;
}

/** Job names are global (`cairn materialize --job <name>`): the same name in two locations is an error. */
export function duplicateJobProblems(locations: readonly { location: CodeLocationDefinition; source: string }[]): CairnError[] {
  const seen = new Map<string, string>();
  const problems: CairnError[] = [];
  for (const { location, source } of locations) {
    for (const j of (location.jobs ?? []).filter(isJob)) {
      const first = seen.get(j.name);
      if (first !== undefined && first !== source) problems.push(new CairnError(ErrorCodes.InvalidWorkspace, `job '${j.name}' is defined twice: in ${first} and in ${source}`, j.name));
      else seen.set(j.name, source);
    }
  }
  return problems;
}
