import type { Command } from 'commander';
import pc from 'picocolors';
import type { LocationSnapshot } from '../definitions/snapshot';
import { settingsOnly, withCatalog, type GlobalOptions } from './context';

/** One row of `cairn jobs list --json`: a job of a published snapshot and the schedules that run it. */
export interface JobRow {
  name: string;
  codeLocation: string;
  selection: string;
  description?: string;
  tags: Record<string, string>;
  config?: Record<string, unknown>;
  /** The schedules (of any location) whose target is this job. */
  schedules: { id: string; cron: string; timezone: string }[];
}

/** The jobs of the snapshots, ordered by name, each with the schedules that target it. */
export function jobRows(snapshots: readonly LocationSnapshot[]): JobRow[] {
  const schedules = snapshots.flatMap((s) => s.schedules ?? []);
  const rows = snapshots.flatMap((s) =>
    (s.jobs ?? []).map((j): JobRow => ({
      name: j.name,
      codeLocation: s.name,
      selection: j.selection,
      ...(j.description !== undefined ? { description: j.description } : {}),
      tags: { ...j.tags },
      ...(j.config !== undefined ? { config: { ...j.config } } : {}),
      schedules: schedules.filter((sch) => sch.job === j.name).map((sch) => ({ id: sch.id, cron: sch.cron, timezone: sch.timezone })),
    })),
  );
  return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function printJobs(rows: readonly JobRow[], out: NodeJS.WritableStream = process.stdout): void {
  const width = (title: string, cells: string[]): number => Math.max(title.length, ...cells.map((c) => c.length));
  const tags = (r: JobRow): string => Object.entries(r.tags).map(([k, v]) => `${k}=${v}`).join(',') || '-';
  const scheduled = (r: JobRow): string => r.schedules.map((s) => `${s.id} (${s.cron}${s.timezone === 'UTC' ? '' : ` ${s.timezone}`})`).join(', ') || '-';
  const w = { name: width('JOB', rows.map((r) => r.name)), loc: width('LOCATION', rows.map((r) => r.codeLocation)), sel: width('SELECTION', rows.map((r) => r.selection)), tags: width('TAGS', rows.map(tags)) };
  out.write(pc.bold(`${'JOB'.padEnd(w.name)}  ${'LOCATION'.padEnd(w.loc)}  ${'SELECTION'.padEnd(w.sel)}  ${'TAGS'.padEnd(w.tags)}  SCHEDULES\n`));
  for (const r of rows) out.write(`${r.name.padEnd(w.name)}  ${r.codeLocation.padEnd(w.loc)}  ${r.selection.padEnd(w.sel)}  ${tags(r).padEnd(w.tags)}  ${scheduled(r)}\n`);
}

/** `cairn jobs list`: the jobs the code locations published to the catalog. */
export function registerJobs(program: Command, globals: () => GlobalOptions): void {
  const jobs = program.command('jobs').description('jobs: named selections that schedules and `cairn materialize --job` run');
  jobs
    .command('list')
    .description('list the published jobs with their selection, tags and the schedules that run them')
    .option('--json', 'print a JSON array of { name, codeLocation, selection, description, tags, config, schedules }')
    .action(async (opts: { json?: boolean }) => {
      const { rows, published } = await withCatalog(settingsOnly(globals()), async (catalog) => {
        const snapshots = await catalog.getSnapshots();
        return { rows: jobRows(snapshots), published: snapshots.length > 0 };
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) {
        const why = published ? 'no code location declares one; add job({ name, selection }) to a codeLocation({ jobs })' : 'no code location has published its definitions to this catalog yet: start the workers (`cairn dev`) first';
        process.stdout.write(`no jobs: ${why}\n`);
        return;
      }
      printJobs(rows);
    });
}
