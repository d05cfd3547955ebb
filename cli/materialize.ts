import type { Metadata } from '../definitions/metadata';
import { planFromCatalog } from '../activities/orchestrator-activities';
import type { PlannedRun, PlanRunInput } from '../activities/types';
import type { MaterializeAssetsInput } from '../workflows/materialize-assets';
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { CairnClient, RunStartError } from '../client/cairn-client';
import type { CatalogStore } from '../activities/catalog/catalog-store';
import type { RunSummary } from '../activities/types';
import { CairnError } from '../definitions/errors';
import { planRun } from '../definitions/plan';
import { parseSelection } from '../definitions/selection';
import { temporalAnswers } from '../workers/dev-server';
import type { Settings } from '../workers/settings';
import { settingsOnly, withCatalog, type GlobalOptions } from './context';
import { CliExit, Exit } from './errors';
import { printSummary, RunProgress, runLink } from './run-progress';

export interface MaterializeOptions {
  select?: string;
  job?: string;
  json?: boolean;
  config?: string;
  tag?: string[];
  maxConcurrency?: string;
  workflowId?: string;
  staleOnly?: boolean;
  checksOnly?: boolean;
  partition?: string;
}

export type DetailedSummary = RunSummary & { assets: (RunSummary['assets'][number] & { metadata?: Metadata })[] };

function parseConfig(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  const raw = text.startsWith('@') ? readFileSync(text.slice(1), 'utf8') : text;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    throw new CliExit(Exit.badInput, `--config is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CliExit(Exit.badInput, '--config must be a JSON object keyed by asset key: {"marts/scores": {"threshold": 0.5}}');
  return value as Record<string, unknown>;
}

function parseTags(tags: string[] | undefined): Record<string, string> | undefined {
  if (!tags?.length) return undefined;
  return Object.fromEntries(
    tags.map((t) => {
      const i = t.indexOf('=');
      if (i <= 0) throw new CliExit(Exit.badInput, `--tag '${t}' must look like key=value`);
      return [t.slice(0, i), t.slice(i + 1)];
    }),
  );
}

/** Adds each materialized asset's metadata from the catalog (the workflow result keeps payloads small). */
export async function withMetadata(catalog: CatalogStore, summary: RunSummary): Promise<DetailedSummary> {
  const statuses = await catalog.assetStatuses(summary.assets.map((a) => a.key));
  return {
    ...summary,
    assets: summary.assets.map((a) => {
      const m = statuses.get(a.key)?.lastMaterialization;
      return a.status === 'materialized' && m?.runId === summary.runId ? { ...a, metadata: m.metadata } : a;
    }),
  };
}

/** Starts a run, shows live progress (unless `json`), and returns the summary with metadata. */
export async function runAndReport(settings: Settings, input: MaterializeAssetsInput, opts: { json?: boolean; workflowId?: string; quietProgress?: boolean }): Promise<DetailedSummary> {
  const client = await CairnClient.connect({ address: settings.temporalAddress, namespace: settings.namespace });
  try {
    const run = await client.startRun({ trigger: 'cli', ...input }, opts.workflowId ? { workflowId: opts.workflowId } : {});
    const link = runLink(settings.uiUrl, settings.namespace, run.workflowId, run.runId);
    const progress = opts.json || opts.quietProgress ? undefined : new RunProgress();
    if (progress) process.stdout.write(`run ${run.workflowId} started: ${link}\n`);
    let finished = false;
    const poll = (async () => {
      while (progress && !finished) {
        const view = await client.status(run.handle);
        if (view && progress && !finished) progress.update(view);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    let summary: RunSummary;
    try {
      summary = await client.result(run);
    } finally {
      finished = true;
      await poll;
    }
    progress?.finish(summary);
    const detailed = await withCatalog(settings, (catalog) => withMetadata(catalog, summary));
    if (opts.json) process.stdout.write(`${JSON.stringify(detailed, null, 2)}\n`);
    else printSummary(detailed, link);
    return detailed;
  } catch (err) {
    if (err instanceof RunStartError) throw new CliExit(Exit.badInput, err.message);
    throw err;
  } finally {
    await client.close();
  }
}

/**
 * Checks the request against the published definitions before anything starts, so bad input exits 2; returns
 * the plan the run will (most likely) execute.
 */
export async function preflight(settings: Settings, input: PlanRunInput, config?: Record<string, unknown>): Promise<PlannedRun> {
  if (input.selection !== undefined) {
    try {
      parseSelection(input.selection);
    } catch (err) {
      if (err instanceof CairnError) throw new CliExit(Exit.badInput, err.message);
      throw err;
    }
  }
  if (!(await temporalAnswers(settings.temporalAddress))) {
    throw new CliExit(Exit.runFailed, `Temporal does not answer at ${settings.temporalAddress}; start \`npx cairn dev\` in another terminal (or set TEMPORAL_ADDRESS)`);
  }
  return await withCatalog(settings, async (catalog) => {
    try {
      const planned = await planFromCatalog(catalog, input);
      const all = input.staleOnly ? planRun(await catalog.getSnapshots(), planned.selection) : planned.plan;
      const inRun = new Set(all.steps.map((s) => s.key));
      const stray = Object.keys(config ?? {}).filter((k) => !inRun.has(k));
      if (stray.length > 0) throw new CliExit(Exit.badInput, `--config names ${stray.map((k) => `'${k}'`).join(', ')}, which ${stray.length === 1 ? 'is' : 'are'} not in this run's selection '${planned.selection}'`);
      return { ...planned, searchAttributes: false };
    } catch (err) {
      if (err instanceof CairnError) throw new CliExit(Exit.badInput, err.message);
      throw err;
    }
  });
}

/** `cairn materialize --select <selection>` or `--job <name>`. Exit 0 when the run succeeded, 1 when it failed, 2 on bad input. */
export function registerMaterialize(program: Command, globals: () => GlobalOptions): void {
  program
    .command('materialize')
    .description('materialize the selected assets as one run (a Temporal workflow)')
    .option('-s, --select <selection>', "asset selection, e.g. '*', 'group:marts', '+marts/revenue'")
    .option('--job <name>', "run a job (see `cairn jobs list`): its selection, tags and config")
    .option('--json', 'print one JSON object { runId, workflowId, status, assets } instead of progress')
    .option('--config <json>', 'run config per asset key, as JSON or @file.json')
    .option('--tag <key=value...>', 'tags for the run')
    .option('--max-concurrency <n>', 'steps running at once (default 16)')
    .option('--workflow-id <id>', 'workflow id to use instead of a generated one')
    .option('--stale-only', 'run only the selected assets that are missing or stale (see `cairn status`)')
    .option('--checks-only', "evaluate the selected assets' checks against their stored values; materialize nothing")
    .option('-p, --partition <key>', 'run the selected (partitioned) assets for this partition key')
    .action(async (opts: MaterializeOptions) => {
      if ((opts.select === undefined) === (opts.job === undefined)) {
        throw new CliExit(Exit.badInput, `give exactly one of --select <selection> or --job <name>${opts.select !== undefined ? ', not both' : " (e.g. --select '*' or --job nightly)"}`);
      }
      // A job's selection, tags and config are resolved by name from the published definitions.
      const target = opts.job !== undefined ? { job: opts.job } : { selection: opts.select as string };
      const what = opts.job !== undefined ? `job '${opts.job}'` : `'${opts.select}'`;
      const settings = settingsOnly(globals());
      const config = parseConfig(opts.config);
      const tags = parseTags(opts.tag);
      let maxConcurrency: number | undefined;
      if (opts.maxConcurrency !== undefined) {
        maxConcurrency = Number(opts.maxConcurrency);
        if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 500) throw new CliExit(Exit.badInput, `--max-concurrency must be a whole number from 1 to 500, got '${opts.maxConcurrency}'`);
      }
      if (opts.checksOnly && opts.staleOnly) throw new CliExit(Exit.badInput, '--checks-only and --stale-only do not go together: checks-only runs materialize nothing');
      const only = { ...(opts.staleOnly ? { staleOnly: true } : {}), ...(opts.checksOnly ? { checksOnly: true } : {}) };
      const planned = await preflight(settings, { ...target, ...only, ...(opts.partition !== undefined ? { partition: opts.partition } : {}) }, config);
      if (opts.staleOnly && planned.plan.steps.length === 0) {
        if (opts.json) process.stdout.write(`${JSON.stringify({ status: 'nothing-to-do', ...target, assets: [] })}\n`);
        else process.stdout.write(`nothing in ${what} is missing or stale; no run started\n`);
        return;
      }
      const input: MaterializeAssetsInput = {
        ...target, ...only, ...(opts.partition !== undefined ? { partition: opts.partition } : {}), ...(config ? { config } : {}), ...(tags ? { tags } : {}), ...(maxConcurrency ? { maxConcurrency } : {}),
      };
      const summary = await runAndReport(settings, input, { ...(opts.json ? { json: true } : {}), ...(opts.workflowId ? { workflowId: opts.workflowId } : {}) });
      if (summary.status !== 'succeeded') process.exitCode = Exit.runFailed;
    });
}
