import type { Command } from 'commander';
import pc from 'picocolors';
import type { PartitionStatusReport } from '../activities/partition-status';
import { dynamicPartitionNames } from '../definitions/backfill-plan';
import { closestWithin } from '../definitions/graph';
import { PARTITION_RANGE_STATUSES, type PartitionRangeStatus, type PartitionStatusRange } from '../definitions/partitions/status';
import { settingsOnly, withCatalog, type GlobalOptions } from './context';
import { CliExit, Exit } from './errors';

/** Lists of keys in messages stop after this many. */
const SHOWN_KEYS = 10;

const shown = (keys: readonly string[]): string =>
  `${keys.slice(0, SHOWN_KEYS).join(', ')}${keys.length > SHOWN_KEYS ? `, ... (${keys.length} keys)` : ''}`;

/** Why each key cannot be a dynamic partition key: empty, or holding the multi-partition separator '|' or ','. */
function keyProblems(keys: readonly string[], shape: boolean): string[] {
  const problems: string[] = [];
  for (const key of keys) {
    if (key === '') problems.push("invalid partition key '': a partition key must be a non-empty string");
    else if (shape && /[|,]/.test(key)) problems.push(`invalid partition key '${key}': dynamic partition keys cannot contain '|' or ','`);
  }
  return problems;
}

function checkArgs(name: string, keys: readonly string[], shape: boolean): void {
  const problems = [...(name === '' ? ['the dynamic partitions name must be non-empty'] : []), ...keyProblems(keys, shape)];
  if (problems.length > 0) throw new CliExit(Exit.badInput, [...new Set(problems)].join('\n'));
}

/** `cairn partitions add|remove|list`: the keys of dynamic partitions, kept in the catalog. */
export function registerPartitions(program: Command, globals: () => GlobalOptions): void {
  const partitions = program.command('partitions').description('manage the keys of dynamic partitions (stored in the catalog)');

  partitions
    .command('add <name> <keys...>')
    .description("add keys to dynamic partitions <name> (kept in the order added; keys already there are left alone)")
    .option('--json', 'print { name, added, existing } as JSON')
    .action(async (name: string, keys: string[], opts: { json?: boolean }) => {
      checkArgs(name, keys, true);
      const result = await withCatalog(settingsOnly(globals()), async (catalog) => {
        const known = dynamicPartitionNames((await catalog.getSnapshots()).flatMap((sn) => sn.assets.map((x) => x.partitions))).sort();
        if (!known.includes(name)) {
          const close = closestWithin(name, known);
          const why = known.length === 0
            ? `no asset in the catalog's snapshots uses dynamic partitions yet, so none uses '${name}'`
            : `no asset in the catalog's snapshots uses dynamic partitions '${name}'${close ? ` (did you mean '${close}'?)` : ''}; known dynamic partitions: ${known.join(', ')}`;
          process.stderr.write(`${pc.yellow('warning:')} ${why}. Adding the keys anyway.\n`);
        }
        return catalog.addDynamicPartitions(name, keys, new Date().toISOString());
      });
      const added = new Set(result.added);
      const existing = [...new Set(keys)].filter((k) => !added.has(k));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ name, added: result.added, existing })}\n`);
        return;
      }
      const parts = [`added ${result.added.length} key(s)${result.added.length ? ` (${shown(result.added)})` : ''}`];
      if (existing.length > 0) parts.push(`${existing.length} already there (${shown(existing)})`);
      process.stdout.write(`dynamic partitions '${name}': ${parts.join('; ')}\n`);
    });

  partitions
    .command('remove <name> <keys...>')
    .description('remove keys from dynamic partitions <name> (keys not there are ignored); their recorded events stay')
    .option('--json', 'print { name, removed, absent } as JSON')
    .action(async (name: string, keys: string[], opts: { json?: boolean }) => {
      checkArgs(name, keys, false);
      const result = await withCatalog(settingsOnly(globals()), (catalog) => catalog.removeDynamicPartitions(name, keys));
      const removed = new Set(result.removed);
      const absent = [...new Set(keys)].filter((k) => !removed.has(k));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ name, removed: result.removed, absent })}\n`);
        return;
      }
      const parts = [`removed ${result.removed.length} key(s)${result.removed.length ? ` (${shown(result.removed)})` : ''}`];
      if (absent.length > 0) parts.push(`${absent.length} not there (${shown(absent)})`);
      process.stdout.write(`dynamic partitions '${name}': ${parts.join('; ')}\n`);
    });

  partitions
    .command('list <name>')
    .description('print the keys of dynamic partitions <name>, one per line, in the order added')
    .option('--json', 'print { name, keys } as JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      checkArgs(name, [], false);
      const keys = await withCatalog(settingsOnly(globals()), (catalog) => catalog.dynamicPartitionKeys(name));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ name, keys })}\n`);
        return;
      }
      if (keys.length === 0) process.stderr.write(`dynamic partitions '${name}' has no keys\n`);
      for (const key of keys) process.stdout.write(`${key}\n`);
    });
}

const STATUS_COLOR: Record<PartitionRangeStatus, (s: string) => string> = {
  materialized: pc.green, failed: pc.red, in_progress: pc.cyan, missing: pc.dim,
};

/** Ranges as `from...to  status (count)` lines (a single key without the count), then the totals. */
export function printPartitionStatus(report: PartitionStatusReport, out: NodeJS.WritableStream = process.stdout): void {
  out.write(`${pc.bold(report.asset)}: ${report.partitions}\n`);
  const label = (r: PartitionStatusRange): string => (r.count === 1 ? r.from : `${r.from}...${r.to}`);
  const width = Math.max(0, ...report.ranges.map((r) => label(r).length));
  for (const r of report.ranges) {
    out.write(`${label(r).padEnd(width)}  ${STATUS_COLOR[r.status](r.status)}${r.count === 1 ? '' : ` (${r.count})`}\n`);
  }
  const counts = PARTITION_RANGE_STATUSES.map((s) => `${report.counts[s]} ${s}`).join(', ');
  out.write(`${report.total} partition${report.total === 1 ? '' : 's'}: ${counts}\n`);
  if (report.unlisted > 0) {
    out.write(pc.dim(`${report.unlisted} partition key(s) with records are not keys of the definition now (not shown)\n`));
  }
}
