import { Client, Connection, ScheduleNotFoundError, type ScheduleDescription, type ScheduleExecutionResult, type ScheduleHandle } from '@temporalio/client';
import type { Command } from 'commander';
import pc from 'picocolors';
import type { LocationSnapshot, ScheduleSnapshot } from '../definitions/snapshot';
import { cairnDataConverter } from '../client/encryption';
import { temporalAnswers } from '../workers/dev-server';
import type { Settings } from '../workers/settings';
import { settingsOnly, withCatalog, type GlobalOptions } from './context';
import { CliExit, Exit } from './errors';
import { runLink } from './run-progress';

const PREFIX = 'cairn/';

/** A run a schedule started: the last of `describe().info.recentActions`. */
export interface ScheduleRun {
  workflowId: string;
  runId: string;
  scheduledAt: string;
  takenAt: string;
  url: string;
}

/** One row of `cairn schedules list --json`. The cron fields come from the published snapshot (`declared`). */
export interface ScheduleRow {
  id: string;
  location: string;
  name: string;
  paused: boolean;
  note?: string;
  /** Whether a published code location declares it; one that none does is deleted when its location's worker starts. */
  declared: boolean;
  /** The cron and time zone as declared, else a summary of the Temporal spec. */
  spec: string;
  cron?: string;
  timezone?: string;
  job?: string;
  selection?: string;
  partition?: 'latest' | 'function';
  overlap?: string;
  nextActionTimes: string[];
  lastRun: ScheduleRun | null;
}

/**
 * The schedule id an argument names: a full id `cairn/<location>/<name>`, `<location>/<name>`, or a bare name
 * that exactly one of `ids` ends with. Unknown or ambiguous arguments exit 2 naming the candidates.
 */
export function resolveScheduleId(arg: string, ids: readonly string[]): string {
  if (ids.includes(arg)) return arg;
  const matches = ids.filter((id) => id.endsWith(`/${arg}`));
  if (matches.length === 1) return matches[0] as string;
  if (matches.length > 1) throw new CliExit(Exit.badInput, `'${arg}' names ${matches.length} schedules: ${matches.join(', ')}; give the full id`);
  const known = ids.length > 0 ? `the Cairn schedules are ${ids.join(', ')}` : 'there are no Cairn schedules: declare one with schedule({ name, cron, target }) in a code location and start its worker';
  throw new CliExit(Exit.badInput, `no schedule '${arg}': ${known}`);
}

/** Connects to Temporal, runs `fn` and closes; exit 1 when Temporal does not answer. Shared by the commands that talk to Temporal. */
export async function withTemporal<T>(settings: Settings, fn: (client: Client, connection: Connection) => Promise<T>): Promise<T> {
  const dataConverter = cairnDataConverter(); // a malformed CAIRN_ENCRYPTION_KEY fails here, before connecting
  if (!(await temporalAnswers(settings.temporalAddress))) {
    throw new CliExit(Exit.runFailed, `Temporal does not answer at ${settings.temporalAddress}; start \`npx cairn dev\` in another terminal (or set TEMPORAL_ADDRESS)`);
  }
  const connection = await Connection.connect({ address: settings.temporalAddress, connectTimeout: 3000 });
  try {
    return await fn(new Client({ connection, namespace: settings.namespace, dataConverter }), connection);
  } finally {
    await connection.close();
  }
}

async function declaredSchedules(settings: Settings): Promise<Map<string, ScheduleSnapshot & { location: string }>> {
  const snapshots: LocationSnapshot[] = await withCatalog(settings, (catalog) => catalog.getSnapshots());
  return new Map(snapshots.flatMap((s) => (s.schedules ?? []).map((sch) => [sch.id, { ...sch, location: s.name }] as const)));
}

/**
 * The ids of the Cairn schedules: Temporal's list (eventually consistent, so a schedule created a moment ago may
 * be missing) joined with the ids the published snapshots declare.
 */
async function cairnScheduleIds(client: Client, declared: ReadonlyMap<string, unknown>): Promise<string[]> {
  const ids = new Set(declared.keys());
  for await (const s of client.schedule.list()) if (s.scheduleId.startsWith(PREFIX)) ids.add(s.scheduleId);
  return [...ids].sort();
}

async function describe(handle: ScheduleHandle): Promise<ScheduleDescription | undefined> {
  try {
    return await handle.describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

function specSummary(d: ScheduleDescription): string {
  const parts = [
    ...(d.spec.calendars?.length ? [`${d.spec.calendars.length} calendar spec${d.spec.calendars.length === 1 ? '' : 's'}`] : []),
    ...(d.spec.intervals ?? []).map((i) => `every ${i.every} ms`),
  ];
  return `${parts.join(', ') || 'no spec'}${d.spec.timezone ? ` (${d.spec.timezone})` : ''}`;
}

function scheduleRun(settings: Settings, a: ScheduleExecutionResult | undefined): ScheduleRun | null {
  if (!a) return null;
  const { workflowId, firstExecutionRunId: runId } = a.action.workflow;
  return { workflowId, runId, scheduledAt: a.scheduledAt.toISOString(), takenAt: a.takenAt.toISOString(), url: runLink(settings.uiUrl, settings.namespace, workflowId, runId) };
}

function row(settings: Settings, id: string, d: ScheduleDescription, s: (ScheduleSnapshot & { location: string }) | undefined): ScheduleRow {
  const [, location = '', ...rest] = id.split('/');
  return {
    id,
    location,
    name: rest.join('/'),
    paused: d.state.paused,
    ...(d.state.note ? { note: d.state.note } : {}),
    declared: s !== undefined,
    spec: s ? `${s.cron}${s.timezone === 'UTC' ? '' : ` (${s.timezone})`}` : specSummary(d),
    ...(s ? { cron: s.cron, timezone: s.timezone, selection: s.selection, overlap: s.overlap } : {}),
    ...(s?.job !== undefined ? { job: s.job } : {}),
    ...(s?.partition !== undefined ? { partition: s.partition } : {}),
    nextActionTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
    lastRun: scheduleRun(settings, d.info.recentActions.at(-1)),
  };
}

function printSchedules(rows: readonly ScheduleRow[], missing: readonly string[], out: NodeJS.WritableStream = process.stdout): void {
  const width = (title: string, cells: string[]): number => Math.max(title.length, ...cells.map((c) => c.length));
  const target = (r: ScheduleRow): string => (r.job !== undefined ? `job ${r.job}` : (r.selection ?? '-')) + (r.partition ? ` [partition ${r.partition}]` : '');
  const state = (r: ScheduleRow): string => (r.paused ? 'paused' : 'active');
  // Temporal keeps computing the next times of a paused schedule; none of them will run while it stays paused.
  const next = (r: ScheduleRow): string => (r.paused ? '(paused)' : (r.nextActionTimes[0] ?? '-'));
  const w = { id: width('SCHEDULE', rows.map((r) => r.id)), state: 6, spec: width('SPEC', rows.map((r) => r.spec)), target: width('TARGET', rows.map(target)), next: width('NEXT', rows.map(next)) };
  out.write(pc.bold(`${'SCHEDULE'.padEnd(w.id)}  ${'STATE'.padEnd(w.state)}  ${'SPEC'.padEnd(w.spec)}  ${'TARGET'.padEnd(w.target)}  ${'NEXT'.padEnd(w.next)}  LAST RUN\n`));
  for (const r of rows) {
    const last = r.lastRun ? `${r.lastRun.workflowId} at ${r.lastRun.takenAt}` : 'never';
    const color = r.paused ? pc.yellow : pc.green;
    out.write(`${r.id.padEnd(w.id)}  ${color(state(r).padEnd(w.state))}  ${r.spec.padEnd(w.spec)}  ${target(r).padEnd(w.target)}  ${next(r).padEnd(w.next)}  ${last}\n`);
    if (r.paused && r.note) out.write(pc.dim(`    note: ${r.note}\n`));
    if (!r.declared) out.write(pc.dim('    no published code location declares it; its location\'s worker deletes it when it starts\n'));
  }
  if (missing.length > 0) out.write(pc.dim(`declared but not in Temporal yet (their location's worker creates them when it starts): ${missing.join(', ')}\n`));
}

/** The schedule an argument names, with its handle; a declared schedule Temporal does not have yet exits 2. */
async function target(settings: Settings, client: Client, arg: string): Promise<{ id: string; handle: ScheduleHandle; description: ScheduleDescription }> {
  const declared = await declaredSchedules(settings);
  const ids = await cairnScheduleIds(client, declared);
  const id = arg.startsWith(PREFIX) && !ids.includes(arg) ? arg : resolveScheduleId(arg, ids);
  const handle = client.schedule.getHandle(id);
  const description = await describe(handle);
  if (!description) {
    if (declared.has(id)) throw new CliExit(Exit.badInput, `schedule ${id} is declared but not in Temporal yet: start its code location's worker (\`cairn dev\`) to create it`);
    throw new CliExit(Exit.badInput, `no schedule '${id}' in Temporal; the Cairn schedules are ${ids.join(', ') || 'none'}`);
  }
  return { id, handle, description };
}

/** Triggers the schedule and waits briefly for the run it started to show in its recent actions. */
async function triggerAndFind(handle: ScheduleHandle, before: ScheduleDescription, waitMs = 5000): Promise<ScheduleExecutionResult | undefined> {
  const seen = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
  await handle.trigger();
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const started = (await handle.describe()).info.recentActions.find((a) => !seen.has(a.action.workflow.workflowId));
    if (started) return started;
    await new Promise((r) => setTimeout(r, 150));
  }
  return undefined;
}

/** `cairn schedules list|pause|unpause|trigger`: the Temporal Schedules `cairn/<location>/<name>` of the code locations. */
export function registerSchedules(program: Command, globals: () => GlobalOptions): void {
  const schedules = program.command('schedules').description('the Temporal Schedules (cairn/<location>/<name>) the code locations declare');
  schedules
    .command('list')
    .description('list the Cairn schedules: spec, target, paused or not, next tick and last run')
    .option('--json', 'print a JSON array of { id, location, name, paused, note, declared, spec, cron, timezone, job, selection, partition, overlap, nextActionTimes, lastRun }')
    .action(async (opts: { json?: boolean }) => {
      const settings = settingsOnly(globals());
      const { rows, missing } = await withTemporal(settings, async (client) => {
        const declared = await declaredSchedules(settings);
        const ids = await cairnScheduleIds(client, declared);
        const described = await Promise.all(ids.map(async (id) => [id, await describe(client.schedule.getHandle(id))] as const));
        return {
          rows: described.flatMap(([id, d]) => (d ? [row(settings, id, d, declared.get(id))] : [])),
          missing: described.filter(([, d]) => !d).map(([id]) => id),
        };
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (rows.length === 0 && missing.length === 0) {
        process.stdout.write('no schedules: declare one with schedule({ name, cron, target }) in a codeLocation({ schedules }) and start its worker\n');
        return;
      }
      printSchedules(rows, missing);
    });
  schedules
    .command('pause')
    .description('pause a schedule (it stays paused when its location restarts)')
    .argument('<schedule>', 'a schedule name, or its id cairn/<location>/<name>')
    .option('--note <text>', 'why it is paused (shown in `cairn schedules list` and the Temporal UI)')
    .action(async (arg: string, opts: { note?: string }) => {
      const settings = settingsOnly(globals());
      const id = await withTemporal(settings, async (client) => {
        const { id, handle } = await target(settings, client, arg);
        await handle.pause(opts.note ?? 'paused with cairn schedules pause');
        return id;
      });
      process.stdout.write(`paused ${id}\n`);
    });
  schedules
    .command('unpause')
    .description('resume a paused schedule')
    .argument('<schedule>', 'a schedule name, or its id cairn/<location>/<name>')
    .action(async (arg: string) => {
      const settings = settingsOnly(globals());
      const id = await withTemporal(settings, async (client) => {
        const { id, handle } = await target(settings, client, arg);
        await handle.unpause('unpaused with cairn schedules unpause');
        return id;
      });
      process.stdout.write(`unpaused ${id}\n`);
    });
  schedules
    .command('trigger')
    .description("start a run of a schedule now (also when it is paused), whatever its overlap policy")
    .argument('<schedule>', 'a schedule name, or its id cairn/<location>/<name>')
    .action(async (arg: string) => {
      const settings = settingsOnly(globals());
      const { id, started } = await withTemporal(settings, async (client) => {
        const { id, handle, description } = await target(settings, client, arg);
        return { id, started: scheduleRun(settings, await triggerAndFind(handle, description)) };
      });
      if (started) process.stdout.write(`triggered ${id}: run ${started.workflowId} started\n  ${started.url}\n`);
      else process.stdout.write(`triggered ${id}; the run it starts shows in \`cairn runs --trigger schedule\`\n`);
    });
}
