import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import pc from 'picocolors';
import { planBackfillFromCatalog } from '../activities/orchestrator-activities';
import { CairnClient, RunStartError, type BackfillProgress, type BackfillSummary } from '../client/cairn-client';
import type { BackfillPartitions, BackfillRunPolicy } from '../definitions/backfill-types';
import { CairnError } from '../definitions/errors';
import { parseSelection } from '../definitions/selection';
import { temporalAnswers } from '../workers/dev-server';
import type { Settings } from '../workers/settings';
import { settingsOnly, withCatalog, type GlobalOptions } from './context';
import { CliExit, Exit } from './errors';

interface BackfillOptions {
  select: string;
  partitions: string;
  maxConcurrency?: string;
  maxPartitionsPerRun?: string;
  id?: string;
  json?: boolean;
  detach?: boolean;
}

/**
 * `--partitions`: `<from>...<to>` (a range), `a,b,c` (keys), `missing` or `failed`. A single key is a
 * one-key list.
 */
export function parsePartitionsOption(text: string): BackfillPartitions {
  const t = text.trim();
  if (t === '') throw new CliExit(Exit.badInput, "--partitions is empty: give '<from>...<to>', 'key1,key2', 'missing' or 'failed'");
  if (t === 'missing' || t === 'failed') return t;
  if (t.includes('...')) {
    const [from, to, ...rest] = t.split('...');
    if (rest.length > 0 || !from || !to) throw new CliExit(Exit.badInput, `--partitions '${text}': a range is '<from>...<to>' with both ends, e.g. 2024-01-01...2024-03-31`);
    return { range: [from, to] };
  }
  const keys = t.split(',').map((k) => k.trim());
  const empty = keys.findIndex((k) => k === '');
  if (empty >= 0) throw new CliExit(Exit.badInput, `--partitions '${text}': key ${empty + 1} of the list is empty`);
  return { keys };
}

function wholeNumber(name: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new CliExit(Exit.badInput, `${name} must be a whole number from 1 to ${max}, got '${value}'`);
  return n;
}

function summaryLine(s: { counts: BackfillProgress['counts']; total: number }): string {
  const c = s.counts;
  return `${c.succeeded} succeeded, ${c.failed} failed, ${c.skipped} skipped, ${c.canceled} canceled, ${c.running} running, ${c.pending} pending (of ${s.total} runs)`;
}

function printBackfillSummary(summary: BackfillSummary, out: NodeJS.WritableStream = process.stdout): void {
  const verdict = summary.status === 'succeeded' ? pc.green('succeeded') : summary.status === 'failed' ? pc.red('failed') : pc.yellow(summary.status);
  out.write(`backfill ${summary.backfillId} ${verdict}: ${summaryLine(summary)}\n`);
  for (const f of summary.failed) out.write(`  ${pc.red('✖')} ${f.label}  ${f.error.split('\n')[0]?.slice(0, 200) ?? ''}\n`);
  for (const s of summary.skipped.slice(0, 20)) out.write(`  ${pc.yellow('↷')} ${s.label}  skipped: ${s.reason}\n`);
  if (summary.counts.skipped > 20) out.write(`  ... ${summary.counts.skipped - 20} more skipped\n`);
  if (summary.counts.failed > 0) out.write(`re-run the failed partitions with: cairn backfill --select '<selection>' --partitions failed\n`);
}

async function connect(settings: Settings): Promise<CairnClient> {
  if (!(await temporalAnswers(settings.temporalAddress))) {
    throw new CliExit(Exit.runFailed, `Temporal does not answer at ${settings.temporalAddress}; start \`npx cairn dev\` in another terminal (or set TEMPORAL_ADDRESS)`);
  }
  return await CairnClient.connect({ address: settings.temporalAddress, namespace: settings.namespace });
}

/** Whether `err` says the workflow is unknown to Temporal. */
function notFound(err: unknown): boolean {
  return err instanceof Error && (err.name === 'WorkflowNotFoundError' || /not found/i.test(err.message));
}

/** `cairn backfill`, `cairn backfill status <id>`, `cairn backfill cancel <id>`. */
export function registerBackfill(program: Command, globals: () => GlobalOptions): void {
  const cmd = program
    .command('backfill')
    .description('materialize many partitions: one child run per partition (or range), as a Temporal workflow')
    .option('-s, --select <selection>', "asset selection, e.g. 'group:events'")
    .option('-p, --partitions <spec>', "'<from>...<to>', 'key1,key2', 'missing' or 'failed'")
    .option('--max-concurrency <n>', 'child runs at once (default 10)')
    .option('--max-partitions-per-run <n>', 'group consecutive partitions into runs of up to n (assets with backfillPolicy decide for themselves)')
    .option('--id <backfill-id>', 'workflow id of the backfill (default: generated)')
    .option('--detach', 'start the backfill and return without waiting')
    .option('--json', 'print the summary as JSON instead of a progress bar')
    .action(async (opts: BackfillOptions) => {
      if (!opts.select) throw new CliExit(Exit.badInput, "backfill needs --select <selection> (and --partitions), e.g. cairn backfill --select 'group:events' --partitions 2024-01-01...2024-01-31");
      if (!opts.partitions) throw new CliExit(Exit.badInput, "backfill needs --partitions: '<from>...<to>', 'key1,key2', 'missing' or 'failed'");
      const settings = settingsOnly(globals());
      const partitions = parsePartitionsOption(opts.partitions);
      const maxConcurrency = wholeNumber('--max-concurrency', opts.maxConcurrency, 500);
      const perRun = wholeNumber('--max-partitions-per-run', opts.maxPartitionsPerRun, 100_000);
      const policy: BackfillRunPolicy = perRun ? { maxPartitionsPerRun: perRun } : 'perPartition';
      try {
        parseSelection(opts.select);
      } catch (err) {
        if (err instanceof CairnError) throw new CliExit(Exit.badInput, err.message);
        throw err;
      }
      const client = await connect(settings);
      try {
        // Plan here first, so bad input exits 2 before anything starts (the workflow plans again, the same way).
        const plan = await withCatalog(settings, async (catalog) => {
          try {
            return await planBackfillFromCatalog(catalog, { selection: opts.select, partitions, policy });
          } catch (err) {
            if (err instanceof CairnError) throw new CliExit(Exit.badInput, err.message);
            throw err;
          }
        });
        const { backfillId } = await client.startBackfill({ selection: opts.select, partitions, policy, ...(maxConcurrency ? { maxConcurrency } : {}) }, opts.id ? { backfillId: opts.id } : {});
        if (!opts.json) process.stdout.write(`backfill ${backfillId} started: ${plan.units.length} runs covering ${plan.assetPartitions} asset partitions\n`);
        if (opts.detach) {
          if (opts.json) process.stdout.write(`${JSON.stringify({ backfillId, runs: plan.units.length, assetPartitions: plan.assetPartitions })}\n`);
          return;
        }
        const summary = await follow(client, backfillId, plan.units.length, !opts.json);
        if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        else printBackfillSummary(summary);
        if (summary.status !== 'succeeded') process.exitCode = Exit.runFailed;
      } catch (err) {
        if (err instanceof RunStartError) throw new CliExit(Exit.badInput, err.message);
        throw err;
      } finally {
        await client.close();
      }
    });

  cmd
    .command('status <backfill-id>')
    .description("a backfill's progress: runs succeeded, failed, skipped, running and pending")
    .option('--json', 'print the progress as JSON')
    .action(async (id: string, own: { json?: boolean }, command: Command) => {
      // `--json` after the subcommand may be parsed by `backfill` itself, which has the same option.
      const opts = { json: own.json ?? (command.parent?.opts() as { json?: boolean } | undefined)?.json };
      const client = await connect(settingsOnly(globals()));
      try {
        let p: BackfillProgress;
        try {
          p = await client.backfillProgress(id);
        } catch (err) {
          if (notFound(err)) throw new CliExit(Exit.badInput, `no backfill '${id}' in Temporal (ids look like cairn-backfill-...; \`temporal workflow list -q "WorkflowType='backfill'"\` lists them)`);
          throw err;
        }
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(p, null, 2)}\n`);
          return;
        }
        process.stdout.write(`backfill ${p.backfillId} (${p.phase}) '${p.selection}': ${summaryLine(p)}\n`);
        for (const f of p.failed) process.stdout.write(`  ${pc.red('✖')} ${f.label}  ${f.error.split('\n')[0]?.slice(0, 200) ?? ''}\n`);
        if (p.running.length) process.stdout.write(`  running: ${p.running.slice(0, 10).join(', ')}${p.running.length > 10 ? ', ...' : ''}\n`);
      } finally {
        await client.close();
      }
    });

  cmd
    .command('cancel <backfill-id>')
    .description('cancel a backfill: its running runs are canceled and nothing more starts')
    .action(async (id: string) => {
      const client = await connect(settingsOnly(globals()));
      try {
        try {
          await client.cancelBackfill(id);
        } catch (err) {
          if (notFound(err)) throw new CliExit(Exit.badInput, `no running backfill '${id}' in Temporal`);
          throw err;
        }
        process.stdout.write(`cancellation of backfill ${id} requested\n`);
      } finally {
        await client.close();
      }
    });
}

/** Polls the progress query, drawing a progress bar on a terminal, until the backfill ends. */
async function follow(client: CairnClient, backfillId: string, total: number, show: boolean): Promise<BackfillSummary> {
  const tty = show && !!process.stdout.isTTY && process.env.CI !== 'true';
  const bar = tty ? new SingleBar({ format: ' {bar} {percentage}% | {value}/{total} runs | {failed} failed, {running} running | eta {eta_formatted}', hideCursor: true }) : undefined;
  bar?.start(total, 0, { failed: 0, running: 0 });
  let finished = false;
  let lastLine = '';
  const poll = (async () => {
    while (!finished) {
      try {
        const p = await client.backfillProgress(backfillId);
        const done = p.counts.succeeded + p.counts.failed + p.counts.skipped + p.counts.canceled;
        if (bar) bar.update(done, { failed: p.counts.failed, running: p.counts.running });
        else if (show) {
          const line = `${done}/${p.total} runs done (${p.counts.failed} failed, ${p.counts.running} running)`;
          if (line !== lastLine && done > 0) process.stdout.write(`${line}\n`);
          lastLine = line;
        }
      } catch {
        // between continue-as-new generations the query may miss; try again
      }
      await new Promise((r) => setTimeout(r, tty ? 250 : 2000));
    }
  })();
  try {
    return await client.backfillResult(backfillId);
  } finally {
    finished = true;
    await poll;
    bar?.stop();
  }
}
