import { WorkflowNotFoundError, type Client, type Connection, type WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import pc from 'picocolors';
import { sensorWorkflowId, type SensorDefinition } from '../definitions/sensor';
import { startSensorWorkflow } from '../workers/sensors';
import type { Settings } from '../workers/settings';
import { pauseSensorSignal, resetSensorCursorSignal, resumeSensorSignal, sensorTicksQuery, type SensorTick, type SensorView } from '../workflows/messages';
import { loadValidWorkspace, type GlobalOptions } from './context';
import { CliExit, Exit } from './errors';
import { withTemporal } from './schedules';

const ID_PREFIX = 'cairn/sensor/';
/** A query needs the orchestrator worker; without one it would wait for the RPC's own (long) deadline. */
const QUERY_DEADLINE_MS = 5000;

export type SensorState = 'running' | 'paused' | 'not running';

/** One row of `cairn sensors list --json`: a sensor of the workspace and the live state of its workflow. */
export interface SensorRow {
  id: string;
  location: string;
  name: string;
  minimumInterval: string;
  job?: string;
  selection?: string;
  description?: string;
  state: SensorState;
  /** Temporal's status of the latest execution when it is not running (`TERMINATED`, ...); absent when it never ran. */
  workflowStatus?: string;
  evaluations?: number;
  cursor?: string;
  lastTick?: SensorTick;
  /** Why the live state is incomplete (the orchestrator worker did not answer). */
  note?: string;
}

interface DefinedSensor {
  location: string;
  name: string;
  definition: SensorDefinition;
}

/**
 * The sensor an argument names: `<name>` when exactly one location defines it, `<location>/<name>`, or the
 * workflow id `cairn/sensor/<location>/<name>`. Unknown or ambiguous arguments exit 2 naming the sensors.
 */
export function resolveSensor<T extends { location: string; name: string }>(arg: string, known: readonly T[]): T {
  const label = (s: T): string => `${s.location}/${s.name}`;
  const wanted = arg.startsWith(ID_PREFIX) ? arg.slice(ID_PREFIX.length) : arg;
  const matches = known.filter((s) => (wanted.includes('/') ? label(s) === wanted : s.name === wanted));
  if (matches.length === 1) return matches[0] as T;
  if (matches.length > 1) throw new CliExit(Exit.badInput, `'${arg}' names ${matches.length} sensors: ${matches.map(label).join(', ')}; give <location>/<name>`);
  const list = known.length > 0 ? `the workspace's sensors are ${known.map(label).join(', ')}` : 'the workspace defines no sensors: declare one with sensor({ name, evaluate }) in a codeLocation({ sensors })';
  throw new CliExit(Exit.badInput, `no sensor '${arg}': ${list}`);
}

/** What `cursor` does: print it, set it, or clear it. Both options at once, or an empty value, exit 2. */
export function cursorAction(opts: { set?: string; clear?: boolean }): { set: string } | { clear: true } | { print: true } {
  if (opts.set !== undefined && opts.clear) throw new CliExit(Exit.badInput, 'give --set <value> or --clear, not both');
  if (opts.set !== undefined) {
    if (opts.set === '') throw new CliExit(Exit.badInput, '--set needs a non-empty cursor; use --clear to remove the cursor');
    return { set: opts.set };
  }
  return opts.clear ? { clear: true } : { print: true };
}

/** `--limit`: a positive whole number. */
export function parseLimit(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new CliExit(Exit.badInput, `--limit must be a positive whole number, got '${text}'`);
  return n;
}

interface Live {
  state: SensorState;
  workflowStatus?: string;
  view?: SensorView;
  note?: string;
}

/** The workflow's state and, when it answers, its `sensorTicks` view (also of a closed execution, replayed by the worker). */
async function live(connection: Connection, handle: WorkflowHandle, queryClosed = false): Promise<Live> {
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { state: 'not running' };
    throw err;
  }
  const running = status === 'RUNNING';
  if (!running && !queryClosed) return { state: 'not running', workflowStatus: status };
  try {
    const view = await connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(sensorTicksQuery));
    return { state: running ? (view.paused ? 'paused' : 'running') : 'not running', ...(running ? {} : { workflowStatus: status }), view };
  } catch (err) {
    const why = `the orchestrator worker did not answer (${err instanceof Error ? err.message : String(err)}); is \`cairn dev\` running?`;
    return { state: running ? 'running' : 'not running', ...(running ? {} : { workflowStatus: status }), note: why };
  }
}

function sensorRow(s: DefinedSensor, l: Live): SensorRow {
  const d = s.definition;
  const lastTick = l.view?.ticks.at(-1);
  return {
    id: sensorWorkflowId(s.location, s.name), location: s.location, name: s.name, minimumInterval: d.minimumInterval,
    ...(d.job !== undefined ? { job: d.job } : d.selection !== undefined ? { selection: d.selection } : {}),
    ...(d.description !== undefined ? { description: d.description } : {}),
    state: l.state,
    ...(l.workflowStatus !== undefined ? { workflowStatus: l.workflowStatus } : {}),
    ...(l.view ? { evaluations: l.view.evaluations } : {}),
    ...(l.view?.cursor !== undefined ? { cursor: l.view.cursor } : {}),
    ...(lastTick ? { lastTick } : {}),
    ...(l.note !== undefined ? { note: l.note } : {}),
  };
}

function printSensors(rows: readonly SensorRow[], undeclared: readonly string[], out: NodeJS.WritableStream = process.stdout): void {
  const clip = (text: string, n: number): string => (text.length > n ? `${text.slice(0, n - 1)}…` : text);
  const cells = rows.map((r) => ({
    id: `${r.location}/${r.name}`,
    state: r.state === 'not running' && r.workflowStatus ? `not running (${r.workflowStatus.toLowerCase()})` : r.state,
    interval: r.minimumInterval,
    target: r.job !== undefined ? `job ${r.job}` : (r.selection ?? '-'),
    evals: r.evaluations === undefined ? '-' : String(r.evaluations),
    last: r.lastTick ? `${r.lastTick.status} ${r.lastTick.at}` : '-',
    cursor: r.cursor === undefined ? '-' : clip(r.cursor, 40),
  }));
  const titles = { id: 'SENSOR', state: 'STATE', interval: 'INTERVAL', target: 'TARGET', evals: 'EVALS', last: 'LAST TICK', cursor: 'CURSOR' } as const;
  const keys = Object.keys(titles) as (keyof typeof titles)[];
  const w = Object.fromEntries(keys.map((k) => [k, Math.max(titles[k].length, ...cells.map((c) => c[k].length))])) as Record<keyof typeof titles, number>;
  const line = (c: Record<keyof typeof titles, string>): string => keys.map((k, i) => (i === keys.length - 1 ? c[k] : c[k].padEnd(w[k]))).join('  ');
  out.write(pc.bold(`${line(titles)}\n`));
  rows.forEach((r, i) => {
    const c = cells[i] as (typeof cells)[number];
    const color = r.state === 'running' ? pc.green : r.state === 'paused' ? pc.yellow : pc.dim;
    out.write(`${line({ ...c, state: color(c.state.padEnd(w.state)) })}\n`);
    if (r.note) out.write(pc.dim(`    ${r.note}\n`));
  });
  if (undeclared.length > 0) out.write(pc.dim(`running but no longer defined (their location's worker terminates them when it starts): ${undeclared.join(', ')}\n`));
}

function printTicks(ticks: readonly SensorTick[], out: NodeJS.WritableStream = process.stdout): void {
  for (const t of ticks) {
    const color = t.status === 'failed' ? pc.red : t.status === 'requested' ? pc.green : pc.dim;
    out.write(`${t.at}  ${color(t.status.padEnd(9))}  runs: ${t.runs.length}  events: ${t.events}${t.cursor !== undefined ? `  cursor: ${t.cursor}` : ''}\n`);
    for (const run of t.runs) out.write(`    run ${run}\n`);
    for (const d of t.dropped) out.write(pc.yellow(`    dropped: ${d}\n`));
    if (t.skipReason) out.write(`    skipped: ${t.skipReason}\n`);
    if (t.error) out.write(pc.red(`    error: ${t.error.replace(/\n/g, '\n      ')}\n`));
  }
}

/** The workspace's sensors, from its loaded code locations (a workspace with problems exits 2). */
async function workspaceSensors(globals: GlobalOptions): Promise<{ settings: Settings; sensors: DefinedSensor[] }> {
  const ws = await loadValidWorkspace(globals);
  const sensors = ws.locations.flatMap(({ location }) => (location.sensors ?? []).map((definition) => ({ location: location.name, name: definition.name, definition })));
  return { settings: ws.settings, sensors };
}

/** Running sensor workflows of the workspace's locations that no sensor of the workspace matches. */
async function undeclaredSensors(client: Client, sensors: readonly DefinedSensor[], locations: readonly string[]): Promise<string[]> {
  const declared = new Set(sensors.map((s) => sensorWorkflowId(s.location, s.name)));
  const prefixes = locations.map((l) => sensorWorkflowId(l, ''));
  const ids: string[] = [];
  for await (const w of client.workflow.list({ query: "WorkflowType = 'sensor' AND ExecutionStatus = 'Running'" })) {
    if (!declared.has(w.workflowId) && prefixes.some((p) => w.workflowId.startsWith(p))) ids.push(w.workflowId);
  }
  return ids.sort();
}

/** `cairn sensors list|start|stop|cursor|ticks`: the sensor workflows `cairn/sensor/<location>/<name>`. */
/** What a sensor command works on: the sensor, its workflow handle and live state, with Temporal connected. */
interface SensorTarget {
  s: DefinedSensor;
  id: string;
  client: Client;
  handle: WorkflowHandle;
  live: Live;
}

/** Resolves `name` in the workspace, connects to Temporal and reads the sensor's state, then runs `fn`. */
async function withSensor<T>(globals: () => GlobalOptions, name: string, queryClosed: boolean, fn: (t: SensorTarget) => Promise<T>): Promise<T> {
  const { settings, sensors: defined } = await workspaceSensors(globals());
  const s = resolveSensor(name, defined);
  const id = sensorWorkflowId(s.location, s.name);
  return withTemporal(settings, async (client, connection) => {
    const handle = client.workflow.getHandle(id);
    return fn({ s, id, client, handle, live: await live(connection, handle, queryClosed) });
  });
}

export function registerSensors(program: Command, globals: () => GlobalOptions): void {
  const sensors = program.command('sensors').description('the sensors of the code locations: each a long-running workflow cairn/sensor/<location>/<name>');
  const arg = '<sensor>';
  const argHelp = 'a sensor name, <location>/<name>, or its workflow id cairn/sensor/<location>/<name>';
  sensors
    .command('list')
    .description("list the workspace's sensors with interval, target and live state: running, paused (stopped) or not running; evaluations, last tick, cursor")
    .option('--json', 'print a JSON array of { id, location, name, minimumInterval, job, selection, description, state, workflowStatus, evaluations, cursor, lastTick, note }')
    .action(async (opts: { json?: boolean }) => {
      const { settings, sensors: defined } = await workspaceSensors(globals());
      const { rows, undeclared } = await withTemporal(settings, async (client, connection) => {
        const rows = await Promise.all(defined.map(async (s) => sensorRow(s, await live(connection, client.workflow.getHandle(sensorWorkflowId(s.location, s.name))))));
        return { rows, undeclared: await undeclaredSensors(client, defined, [...new Set(defined.map((s) => s.location))]) };
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) {
        process.stdout.write('no sensors: declare one with sensor({ name, evaluate }), assetSensor(key, target) or runFailureSensor({ name, onFailure }) in a codeLocation({ sensors })\n');
        return;
      }
      printSensors(rows, undeclared);
    });
  sensors
    .command('start')
    .description("resume a stopped (paused) sensor with its cursor, or start its workflow when it is not running (a new workflow starts without a cursor)")
    .argument(arg, argHelp)
    .action(async (name: string) => {
      const message = await withSensor(globals, name, false, async ({ s, id, client, handle, live: l }) => {
        if (l.state === 'not running') {
          await startSensorWorkflow(client, s.location, s.definition);
          return `started ${id}: a new workflow, without a cursor; it evaluates in code location '${s.location}''s worker`;
        }
        if (l.view && !l.view.paused) return `${id} is already running`;
        await handle.signal(resumeSensorSignal);
        return `started ${id}: resumed${l.view ? ` with cursor ${l.view.cursor ?? '(none)'}` : ''}; it evaluates now`;
      });
      process.stdout.write(`${message}\n`);
    });
  sensors
    .command('stop')
    .description("stop a sensor: pauses its workflow, which keeps its cursor; the location's worker does not resume it when it restarts (`cairn sensors start` does)")
    .argument(arg, argHelp)
    .action(async (name: string) => {
      const message = await withSensor(globals, name, false, async ({ s, id, handle, live: l }) => {
        if (l.state === 'not running') return `${id} is not running; nothing to stop`;
        if (l.state === 'paused') return `${id} is already stopped`;
        await handle.signal(pauseSensorSignal);
        return `stopped ${id}: paused after its current evaluation; the workflow and its cursor are kept, and \`cairn sensors start ${s.name}\` resumes it`;
      });
      process.stdout.write(`${message}\n`);
    });
  sensors
    .command('cursor')
    .description('print the cursor of a sensor, or set it (--set) or clear it (--clear): the sensor then evaluates at once')
    .argument(arg, argHelp)
    .option('--set <value>', 'the new cursor (what the next evaluation receives as ctx.cursor)')
    .option('--clear', 'remove the cursor: the next evaluation starts from scratch')
    .action(async (name: string, opts: { set?: string; clear?: boolean }) => {
      const action = cursorAction(opts);
      const message = await withSensor(globals, name, 'print' in action, async ({ s, id, handle, live: l }) => {
        if ('print' in action) {
          if (!l.view) throw new CliExit(Exit.runFailed, `cannot read the cursor of ${id}: ${l.note ?? 'its workflow never ran; start it with `cairn sensors start`'}`);
          return l.view.cursor ?? '(no cursor)';
        }
        if (l.state === 'not running') throw new CliExit(Exit.badInput, `sensor ${id} is not running; start it with \`cairn sensors start ${s.name}\`, then set its cursor`);
        await handle.signal(resetSensorCursorSignal, 'set' in action ? action.set : undefined);
        const when = l.state === 'paused' ? 'it is stopped: the next evaluation after `cairn sensors start` uses it' : 'it evaluates now';
        return 'set' in action ? `set the cursor of ${id} to '${action.set}'; ${when}` : `cleared the cursor of ${id}; ${when}`;
      });
      process.stdout.write(`${message}\n`);
    });
  sensors
    .command('ticks')
    .description('the recent evaluations of a sensor, newest first: time, status, runs started, requests dropped and why, events, skip reason, error')
    .argument(arg, argHelp)
    .option('--limit <n>', 'how many ticks (the workflow keeps the last 50)', '20')
    .option('--json', 'print a JSON array of { at, status, runs, dropped, events, skipReason, error, cursor }, newest first')
    .action(async (name: string, opts: { limit?: string; json?: boolean }) => {
      const limit = parseLimit(opts.limit, 20);
      const { id, view } = await withSensor(globals, name, true, async ({ id, live: l }) => {
        if (!l.view) throw new CliExit(Exit.runFailed, `cannot read the ticks of ${id}: ${l.note ?? 'its workflow never ran; start it with `cairn sensors start`'}`);
        return { id, view: l.view };
      });
      const ticks = [...view.ticks].reverse().slice(0, limit);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(ticks, null, 2)}\n`);
        return;
      }
      if (ticks.length === 0) {
        process.stdout.write(`${id} has not evaluated yet\n`);
        return;
      }
      printTicks(ticks);
    });
}
