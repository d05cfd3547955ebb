import type { Command } from 'commander';
import pc from 'picocolors';
import type { StoredAssetEvent } from '../activities/catalog/catalog-store';
import { displayMetadataValue, type Metadata } from '../definitions/metadata';
import { graphFromSnapshots, resolvedSnapshots } from '../definitions/plan';
import { selectAssets } from '../definitions/selection';
import type { LocationSnapshot } from '../definitions/snapshot';
import { settingsOnly, withCatalog, type GlobalOptions } from './context';
import { CliExit, Exit } from './errors';

/** The latest result of a check; `ERROR` when the check itself threw (its evaluation carries an `error` entry). */
export type CheckOutcome = 'PASS' | 'WARN' | 'FAIL' | 'ERROR' | 'NEVER_RUN';

/** One row of `cairn checks --json`: a check and its latest evaluation (the evaluation fields are null when it never ran). */
export interface CheckRow {
  asset: string;
  check: string;
  severity: 'ERROR' | 'WARN';
  blocking: boolean;
  /** False for a check with results that no published snapshot declares (removed, or its location is gone). */
  declared: boolean;
  result: CheckOutcome;
  description?: string;
  at: string | null;
  runId: string | null;
  partition: string | null;
  source: 'run' | 'report' | null;
  metadata: Metadata;
}

const NO_SNAPSHOTS = 'no code location has published its definitions to this catalog yet: start the workers (`cairn dev`) first';

const OUTCOME_COLOR: Record<CheckOutcome, (s: string) => string> = {
  PASS: pc.green, WARN: pc.yellow, FAIL: pc.red, ERROR: (s) => pc.bold(pc.red(s)), NEVER_RUN: pc.dim,
};

/** `cairn checks`: the latest result of every asset check, declared (from the published snapshots) or only recorded. */
export function registerChecks(program: Command, globals: () => GlobalOptions): void {
  program
    .command('checks')
    .description('show the latest result of each asset check (PASS, WARN, FAIL, ERROR when the check threw, or never run)')
    .option('-s, --select <selection>', "asset selection, e.g. 'group:marts' (default: every asset with checks or check results)")
    .option('--json', 'print a JSON array of { asset, check, severity, blocking, declared, result, description, at, runId, partition, source, metadata }')
    .action(async (opts: { select?: string; json?: boolean }) => {
      const { rows, published } = await withCatalog(settingsOnly(globals()), async (catalog) => {
        const snapshots = resolvedSnapshots(await catalog.getSnapshots());
        if (opts.select === undefined) return { rows: checkRows(snapshots, await catalog.latestCheckEvaluations()), published: snapshots.length > 0 };
        if (snapshots.length === 0) throw new CliExit(Exit.badInput, `cannot evaluate --select '${opts.select}': ${NO_SNAPSHOTS}`);
        const keys = selectAssets(opts.select, graphFromSnapshots(snapshots));
        return { rows: checkRows(snapshots, await catalog.latestCheckEvaluations(keys), new Set(keys)), published: true };
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) {
        const why = !published ? NO_SNAPSHOTS : opts.select !== undefined ? 'the selected assets declare no checks and have no check results' : 'no asset declares checks or has check results';
        process.stdout.write(`no checks: ${why}\n`);
        return;
      }
      printChecksTable(rows);
    });
}

/**
 * Joins the declared checks of the snapshots (only of `keys`, when given) with the latest evaluations: one row per
 * (asset, check), ordered by asset key then check name. An evaluation of a check no snapshot declares still gets a row.
 */
export function checkRows(snapshots: readonly LocationSnapshot[], latest: readonly StoredAssetEvent[], keys?: ReadonlySet<string>): CheckRow[] {
  const rows = new Map<string, CheckRow>();
  const id = (asset: string, check: string): string => `${asset}\u0000${check}`;
  for (const node of snapshots.flatMap((s) => s.assets)) {
    if (keys !== undefined && !keys.has(node.key)) continue;
    for (const c of node.checks ?? []) {
      rows.set(id(node.key, c.name), {
        asset: node.key, check: c.name, severity: c.severity, blocking: c.blocking, declared: true, result: 'NEVER_RUN',
        ...(c.description !== undefined ? { description: c.description } : {}),
        at: null, runId: null, partition: null, source: null, metadata: {},
      });
    }
  }
  for (const e of latest) {
    if (!e.check) continue;
    const declared = rows.get(id(e.assetKey, e.check.name));
    const description = e.check.description ?? declared?.description;
    rows.set(id(e.assetKey, e.check.name), {
      asset: e.assetKey, check: e.check.name, severity: declared?.severity ?? e.check.severity, blocking: declared?.blocking ?? false,
      declared: declared !== undefined, result: outcome(e), ...(description !== undefined ? { description } : {}),
      at: e.at, runId: e.runId, partition: e.partition, source: e.source, metadata: e.metadata,
    });
  }
  const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...rows.values()].sort((a, b) => order(a.asset, b.asset) || order(a.check, b.check));
}

function outcome(e: StoredAssetEvent): CheckOutcome {
  if (e.metadata.error !== undefined) return 'ERROR';
  if (e.check?.passed) return 'PASS';
  return e.check?.severity === 'WARN' ? 'WARN' : 'FAIL';
}

/** What the row says beyond its result: the error of a check that threw, else the description and the first metadata values. */
function details(r: CheckRow): string {
  const where = r.partition !== null ? `[${r.partition}] ` : '';
  const error = r.metadata.error;
  if (r.result === 'ERROR' && error) return `${where}threw: ${displayMetadataValue(error).split('\n')[0] ?? ''}`;
  const values = Object.entries(r.metadata).slice(0, 3).map(([k, v]) => `${k}=${displayMetadataValue(v).slice(0, 40)}`);
  const text = [r.description, values.join(' ')].filter(Boolean).join('; ');
  return `${where}${text.length > 120 ? `${text.slice(0, 119)}…` : text}`;
}

export function printChecksTable(rows: readonly CheckRow[], out: NodeJS.WritableStream = process.stdout): void {
  const width = (title: string, cells: string[]): number => Math.max(title.length, ...cells.map((c) => c.length));
  const severity = (r: CheckRow): string => `${r.severity}${r.blocking ? ' blocking' : ''}${r.declared ? '' : ' (undeclared)'}`;
  const result = (r: CheckRow): string => (r.result === 'NEVER_RUN' ? 'never run' : r.result);
  const run = (r: CheckRow): string => (r.source === 'report' ? 'reported' : (r.runId ?? '-'));
  const w = {
    asset: width('ASSET', rows.map((r) => r.asset)), check: width('CHECK', rows.map((r) => r.check)),
    severity: width('SEVERITY', rows.map(severity)), result: width('RESULT', rows.map(result)),
    at: width('WHEN', rows.map((r) => r.at ?? '-')), run: width('RUN', rows.map(run)),
  };
  out.write(pc.bold(`${'ASSET'.padEnd(w.asset)}  ${'CHECK'.padEnd(w.check)}  ${'SEVERITY'.padEnd(w.severity)}  ${'RESULT'.padEnd(w.result)}  ${'WHEN'.padEnd(w.at)}  ${'RUN'.padEnd(w.run)}  DETAILS\n`));
  for (const r of rows) {
    const line = `${r.asset.padEnd(w.asset)}  ${r.check.padEnd(w.check)}  ${severity(r).padEnd(w.severity)}  ${OUTCOME_COLOR[r.result](result(r).padEnd(w.result))}  `
      + `${(r.at ?? '-').padEnd(w.at)}  ${run(r).padEnd(w.run)}  ${details(r)}`;
    out.write(`${line.trimEnd()}\n`);
  }
  const counts = (['PASS', 'WARN', 'FAIL', 'ERROR', 'NEVER_RUN'] as const)
    .map((o) => [o, rows.filter((r) => r.result === o).length] as const)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${o === 'NEVER_RUN' ? 'never run' : o}`);
  out.write(`\n${rows.length} check${rows.length === 1 ? '' : 's'}: ${counts.join(', ')}\n`);
}
