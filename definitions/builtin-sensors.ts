/**
 * Built-in sensors over the catalog: `assetSensor` (a run of a target for each new materialization of an asset)
 * and `runFailureSensor` (a callback once per failed run). Both keep their place in the catalog in the sensor's
 * cursor, so a worker restart, a retried tick or continue-as-new neither repeats nor skips anything.
 */
import type { StepLogger } from './asset';
import { keyProblem } from './asset-key';
import { CairnError, ErrorCodes } from './errors';
import { isJob, type JobDefinition } from './job';
import { sensor, type SensorAssetEvent, type SensorCatalog, type SensorContext, type SensorDefinition, type SensorResult, type SensorRunRecord } from './sensor';

/** New materializations turned into run requests per evaluation; the rest wait for the next tick. */
const MAX_EVENTS_PER_TICK = 100;
/** Failed runs handed to `onFailure` per evaluation. */
const MAX_FAILURES_PER_TICK = 50;
/** Failed runs read per evaluation (the newest by start time): a run that failed later than this many others started is missed. */
const FAILED_RUN_WINDOW = 500;
const HISTORY_PAGE = 200;

export interface AssetSensorOptions {
  /** Default: `asset-<key with '/' as '-'>`, e.g. `asset-raw-orders`. */
  name?: string;
  /** The asset whose materializations (by a run or reported) trigger the target. */
  asset: string;
  /** What each new materialization runs: a job, or a selection string. */
  target: JobDefinition | string;
  /** Default `'30s'`. */
  minimumInterval?: string;
  description?: string;
}

/**
 * A sensor that runs `target` once for each new materialization of `asset` recorded in the catalog. Its cursor
 * is the id of the last event it handled; each run's runKey is `event-<id>`, so no event runs twice, even after
 * `cairn sensors cursor --clear`. The first evaluation (no cursor) only notes the latest existing event: like
 * Dagster's asset sensor, it reacts to new materializations, not to history.
 * @example
 * assetSensor('raw/orders', 'marts/revenue+')
 * assetSensor({ name: 'orders-landed', asset: 'raw/orders', target: nightly, minimumInterval: '1m' })
 */
export function assetSensor(options: AssetSensorOptions): SensorDefinition;
export function assetSensor(asset: string, target: JobDefinition | string): SensorDefinition;
export function assetSensor(first: AssetSensorOptions | string, target?: JobDefinition | string): SensorDefinition {
  const o: AssetSensorOptions = typeof first === 'string' ? { asset: first, target: target as JobDefinition | string } : first;
  if (typeof o !== 'object' || o === null) throw new CairnError(ErrorCodes.InvalidDefinition, "assetSensor() takes an asset key and a target, or { asset, target }: assetSensor('raw/orders', 'marts/revenue')");
  const problem = keyProblem(o.asset);
  if (problem) throw new CairnError(ErrorCodes.InvalidDefinition, `assetSensor: ${problem}`, String(o.asset));
  if (!isJob(o.target) && (typeof o.target !== 'string' || o.target.trim() === '')) {
    throw new CairnError(ErrorCodes.InvalidDefinition, `assetSensor for '${o.asset}' needs a target (a job or a selection string) to run for each new materialization`, o.asset);
  }
  const asset = o.asset;
  const name = o.name ?? defaultAssetSensorName(asset);
  return sensor({
    name,
    target: o.target,
    ...(o.minimumInterval !== undefined ? { minimumInterval: o.minimumInterval } : {}),
    description: o.description ?? `runs its target for each new materialization of ${asset}`,
    async evaluate({ cursor, catalog }) {
      const after = parseEventCursor(cursor, name);
      if (after === undefined) {
        const latest = (await catalog.assetHistory(asset, { types: ['materialization'], limit: 1 })).events[0];
        return {
          cursor: String(latest?.id ?? 0),
          skipReason: latest
            ? `first evaluation: starting after the latest materialization of ${asset} (event ${latest.id}); only newer ones request runs`
            : `first evaluation: ${asset} has no materialization yet; each new one requests a run`,
        };
      }
      return assetSensorResult(asset, after, await materializationsAfter(catalog, asset, after));
    },
  });
}

/** `asset-` and the key with every run of other characters than `[a-z0-9_]` as one `-`. */
export function defaultAssetSensorName(asset: string): string {
  const slug = asset.toLowerCase().replace(/[^a-z0-9_]+/g, '-').replace(/^-+|-+$/g, '');
  return `asset-${slug}`.slice(0, 63).replace(/-+$/, '');
}

/** The event id an asset sensor's cursor holds; undefined for no cursor. A cursor that is no id is an error. */
export function parseEventCursor(cursor: string | undefined, sensorName: string): number | undefined {
  if (cursor === undefined) return undefined;
  if (!/^\d+$/.test(cursor)) {
    throw new CairnError(ErrorCodes.InvalidArgument, `sensor '${sensorName}': cursor '${cursor}' is not an event id; set one with \`cairn sensors cursor ${sensorName} --set <event id>\`, or --clear it to start from the latest event`, sensorName);
  }
  return Number(cursor);
}

/** The oldest `max` materializations of `asset` with an id above `after`, oldest first. */
export async function materializationsAfter(catalog: SensorCatalog, asset: string, after: number, max = MAX_EVENTS_PER_TICK): Promise<SensorAssetEvent[]> {
  const newer: SensorAssetEvent[] = [];
  let before: number | undefined;
  // Pages come newest first; read down to the cursor, then keep the oldest, so a backlog is worked off in order.
  for (;;) {
    const page = await catalog.assetHistory(asset, { types: ['materialization'], limit: HISTORY_PAGE, ...(before !== undefined ? { before } : {}) });
    const fresh = page.events.filter((e) => e.id > after);
    newer.push(...fresh);
    if (fresh.length < page.events.length || page.nextCursor === undefined) break;
    before = page.nextCursor;
  }
  return newer.sort((a, b) => a.id - b.id).slice(0, max);
}

/** One run request per event (oldest first), keyed by the event id; the cursor moves to the last one. */
export function assetSensorResult(asset: string, after: number, events: readonly SensorAssetEvent[]): SensorResult {
  const last = events.at(-1);
  if (!last) return { skipReason: `no new materialization of ${asset} after event ${after}` };
  return {
    runRequests: events.map((e) => ({
      runKey: `event-${e.id}`,
      tags: { 'cairn/asset-event': `${asset}@${e.id}`, ...(e.partition !== null ? { 'cairn/asset-partition': e.partition } : {}) },
    })),
    cursor: String(last.id),
  };
}

/**
 * Which runs a run-failure sensor watches. A job (its definition, or its name as published) matches runs whose
 * recorded selection is the job's selection and whose tags include the job's tags: the run index records the
 * selection a job resolved to, not the job's name. `{ selection }` matches runs launched with exactly that
 * selection string.
 */
export type RunMonitor = JobDefinition | string | { selection: string };

/** What `onFailure` receives. */
export interface RunFailureContext {
  run: SensorRunRecord;
  /** The failed steps and their errors (`<key>: <error>`, one a line), from the run's step results. */
  error: string;
  log: StepLogger;
  resources: Record<string, unknown>;
}

export interface RunFailureSensorOptions {
  name: string;
  /** Default: every run. */
  monitor?: RunMonitor | readonly RunMonitor[];
  /** Default `'30s'`. */
  minimumInterval?: string;
  /** Names of code-location resources `onFailure` uses (an alerting client). */
  resources?: readonly string[];
  description?: string;
  /** Called once per failed run; a throw is retried on the next evaluation (at least once, not exactly once). */
  onFailure(ctx: RunFailureContext): Promise<void> | void;
}

/**
 * A sensor that calls `onFailure` once for each run that fails. Its cursor is `<finishedAt>|<runId>` of the
 * last run handled. The first evaluation (no cursor) only notes the latest failed run: failures from before the
 * sensor existed are not reported. It requests no runs.
 * @example
 * runFailureSensor({ name: 'page-on-call', monitor: nightly, resources: ['slack'], onFailure: ({ run, error, resources }) => ... })
 */
export function runFailureSensor(options: RunFailureSensorOptions): SensorDefinition {
  if (typeof options !== 'object' || options === null) throw new CairnError(ErrorCodes.InvalidDefinition, 'runFailureSensor() takes an options object: runFailureSensor({ name, onFailure })');
  const { name, onFailure } = options;
  if (typeof onFailure !== 'function') throw new CairnError(ErrorCodes.InvalidDefinition, `runFailureSensor '${String(name)}': onFailure must be a function ({ run, error }) => ...`, String(name));
  const monitors: readonly RunMonitor[] = options.monitor === undefined ? [] : Array.isArray(options.monitor) ? (options.monitor as readonly RunMonitor[]) : [options.monitor as RunMonitor];
  return sensor({
    name,
    ...(options.minimumInterval !== undefined ? { minimumInterval: options.minimumInterval } : {}),
    ...(options.resources !== undefined ? { resources: options.resources } : {}),
    description: options.description ?? `calls onFailure for each failed run${monitors.length > 0 ? ` of ${monitors.map(monitorLabel).join(', ')}` : ''}`,
    async evaluate(ctx: SensorContext) {
      const watched = await resolveMonitors(ctx.catalog, monitors, name);
      const failed = (await ctx.catalog.listRuns({ status: 'failed', limit: FAILED_RUN_WINDOW })).filter((r) => runMatches(r, watched));
      if (ctx.cursor === undefined) {
        const latest = failedRunsAfter(failed, undefined, Number.MAX_SAFE_INTEGER).at(-1);
        return {
          cursor: latest ? runCursor(latest) : EPOCH_CURSOR,
          skipReason: `first evaluation: ${failed.length} earlier failed run${failed.length === 1 ? ' is' : 's are'} not reported; runs that fail from now on are`,
        };
      }
      const todo = failedRunsAfter(failed, parseRunCursor(ctx.cursor, name), MAX_FAILURES_PER_TICK);
      if (todo.length === 0) return { skipReason: 'no failed run since the cursor' };
      let handled: SensorRunRecord | undefined;
      for (const run of todo) {
        try {
          await onFailure({ run, error: runError(run, await ctx.catalog.getStepResults(run.runId)), log: ctx.log, resources: ctx.resources });
        } catch (err) {
          // Nothing handled yet: fail the tick, so the next one calls onFailure for this run again.
          if (!handled) throw err;
          const message = err instanceof Error ? err.message : String(err);
          ctx.log.error(`onFailure threw for run ${run.runId}: ${message}`);
          return { cursor: runCursor(handled), skipReason: `onFailure threw for run ${run.runId} (${message}); the next evaluation calls it again` };
        }
        ctx.log.info(`onFailure handled run ${run.runId}`);
        handled = run;
      }
      return { cursor: runCursor(handled as SensorRunRecord) };
    },
  });
}

/** The cursor of a run-failure sensor that has seen no failed run: every later failure is new. */
export const EPOCH_CURSOR = '1970-01-01T00:00:00.000Z';

interface RunPosition {
  at: number;
  runId: string;
}

/** `<finishedAt>|<runId>`: runs are ordered by finish time, then id, so two that end together are both handled. */
export function runCursor(run: SensorRunRecord): string {
  return `${run.finishedAt ?? run.startedAt}|${run.runId}`;
}

/** Reads `<time>|<runId>` or a bare ISO time (as a person sets it: "failures after this moment"). */
export function parseRunCursor(cursor: string, sensorName: string): RunPosition {
  const bar = cursor.lastIndexOf('|');
  const time = bar < 0 ? cursor : cursor.slice(0, bar);
  const at = Date.parse(time);
  if (Number.isNaN(at)) {
    throw new CairnError(ErrorCodes.InvalidArgument, `sensor '${sensorName}': cursor '${cursor}' is not '<ISO time>|<run id>'; set one with \`cairn sensors cursor ${sensorName} --set 2024-05-01T00:00:00Z\`, or --clear it to start from now`, sensorName);
  }
  return { at, runId: bar < 0 ? '' : cursor.slice(bar + 1) };
}

function position(run: SensorRunRecord): RunPosition {
  return { at: Date.parse(run.finishedAt ?? run.startedAt), runId: run.runId };
}

function compare(a: RunPosition, b: RunPosition): number {
  return a.at !== b.at ? a.at - b.at : a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0;
}

/** The failed runs after `after` (all with undefined), oldest first, at most `max`. */
export function failedRunsAfter(runs: readonly SensorRunRecord[], after: RunPosition | undefined, max: number): SensorRunRecord[] {
  return runs
    .filter((r) => r.status === 'failed' && (after === undefined || compare(position(r), after) > 0))
    .sort((a, b) => compare(position(a), position(b)))
    .slice(0, max);
}

interface WatchedRuns {
  selection: string;
  tags: Readonly<Record<string, string>>;
}

/** Job names are looked up in the published snapshots at each evaluation, so a renamed job is an error on the tick. */
async function resolveMonitors(catalog: SensorCatalog, monitors: readonly RunMonitor[], sensorName: string): Promise<WatchedRuns[]> {
  const names = monitors.filter((m): m is string => typeof m === 'string');
  const jobs = names.length > 0 ? (await catalog.getSnapshots()).flatMap((s) => s.jobs ?? []) : [];
  return monitors.map((m): WatchedRuns => {
    if (isJob(m)) return { selection: m.selection, tags: m.tags };
    if (typeof m !== 'string') return { selection: m.selection, tags: {} };
    const found = jobs.find((j) => j.name === m);
    if (!found) {
      const known = jobs.map((j) => j.name).sort();
      throw new CairnError(ErrorCodes.InvalidSelection, `runFailureSensor '${sensorName}' monitors job '${m}', which no published code location declares${known.length > 0 ? ` (jobs: ${known.join(', ')})` : ''}; pass { selection } to watch runs of a selection`, sensorName);
    }
    return { selection: found.selection, tags: found.tags };
  });
}

/** Whether a run is one the sensor watches: any run when `watched` is empty. */
export function runMatches(run: SensorRunRecord, watched: readonly WatchedRuns[]): boolean {
  if (watched.length === 0) return true;
  return watched.some((w) => run.selection === w.selection && Object.entries(w.tags).every(([k, v]) => run.tags[k] === v));
}

function monitorLabel(m: RunMonitor): string {
  return isJob(m) ? `job ${m.name}` : typeof m === 'string' ? `job ${m}` : `selection ${m.selection}`;
}

/** The failed steps of a run as `<key>: <error>` lines, or a plain sentence when none failed (a canceled step). */
export function runError(run: SensorRunRecord, steps: readonly { assetKey: string; status: string; error?: string }[]): string {
  const failed = steps.filter((st) => st.status === 'failed').map((st) => `${st.assetKey}: ${st.error ?? 'failed'}`);
  return failed.length > 0 ? failed.join('\n') : `run ${run.runId} failed`;
}
