/**
 * `dbtAssets()`: a dbt project as assets of a code location. Every model, seed and snapshot is an asset, every
 * test attached to one is a check, and the selected assets of one run are built by one `dbt build` per project
 * whose events are recorded as they stream.
 */
import type { PartitionContext, RetryOptions } from '../../definitions/asset';
import { DEFAULT_RETRY } from '../../definitions/asset';
import { CairnError, ErrorCodes, NonRetryableError } from '../../definitions/errors';
import type { AutomationCondition } from '../../definitions/automation';
import { translateDbtManifest, type DbtNode, type DbtProjectGraph } from '../../definitions/dbt/manifest';
import { dbtSelectors } from '../../definitions/dbt/selectors';
import type { MultiAssetDefinition, MultiStepContext } from '../../definitions/multi-asset';
import type { PartitionsDefinition } from '../../definitions/partitions/definitions';
import type { BackfillPolicy } from '../../definitions/partitions/schema';
import { singleRun } from '../../definitions/partitions/schema';
import { DuckDBResource } from '../duckdb/duckdb-resource';
import { isLockError } from '../duckdb/instance-registry';
import { runDbtBuild, type DbtBuildResult } from './build';
import type { DbtLogEvent, DbtNodeFinished, DbtRunResult } from './log-events';
import { findDbtExecutable, loadDbtManifest, locateDbtProject, type DbtProjectLocation } from './project';

export type { DbtNode } from '../../definitions/dbt/manifest';

export interface DbtAssetsOptions {
  /** The project directory (holding dbt_project.yml): a path (relative to the working directory) or a file URL. */
  project: string | URL;
  /** Where profiles.yml is; default the project directory when it has one, else ~/.dbt. */
  profilesDir?: string | URL;
  /** The dbt target (`--target`); default the profile's. */
  target?: string;
  /** dbt selection syntax: which models, seeds and snapshots become assets (`tag:finance`, `staging+`). */
  select?: string;
  exclude?: string;
  /** The asset key of a node; return undefined for the default (`meta.cairn.key`, else the model name, `<source>/<table>` for a source). */
  key?: (node: DbtNode) => string | undefined;
  /** The group of a node; return undefined for the default (`meta.cairn.group`, the dbt group, the model's folder). */
  group?: (node: DbtNode) => string | undefined;
  /** Partitions of every dbt asset; the run's window reaches dbt as `--vars` (see `partitionVars`). */
  partitions?: PartitionsDefinition;
  /** How a backfill groups partitions into runs; default `singleRun()`: one dbt invocation for the range. */
  backfillPolicy?: BackfillPolicy;
  /**
   * The `--vars` of a partitioned run. Default: `{ partition_key?, partition_keys, min_date, max_date }` with
   * the window as ISO-8601 timestamps (time partitions; `max_date` exclusive).
   */
  partitionVars?: (partition: PartitionContext) => Record<string, unknown>;
  /** Whether a failed error-severity test skips the model's downstream in the run (default true; per test: `meta: { cairn: { blocking: false } }`). */
  blockingTests?: boolean;
  /**
   * The DuckDB resource the project writes (default `warehouse` for a dbt-duckdb project). dbt gets its file as
   * CAIRN_WAREHOUSE_PATH, and the worker keeps the file closed while dbt runs.
   */
  warehouse?: string;
  /**
   * When automation requests the project's models: one condition for all (`automation.onUpstreamChange()`), or
   * per node (return undefined for the default: the node's `meta: { cairn: { automation: {...} } }`, else manual).
   */
  automation?: AutomationCondition | ((node: DbtNode) => AutomationCondition | undefined);
  /** The step's name, unique in the code location; default `dbt:<project name>`. */
  name?: string;
  /** Retries of the whole invocation when dbt could not start its work (a locked warehouse file); default 3 attempts. A failed model or test is never retried. */
  retry?: RetryOptions;
  /** The dbt executable; default CAIRN_DBT or `.venv/bin/dbt`. */
  dbtExecutable?: string;
  /** When to run `dbt parse`: when the manifest is missing or older than the project's files (`auto`, default), `always`, `never`. */
  parse?: 'auto' | 'always' | 'never';
}

/** The default `--vars` of a partitioned dbt run. */
export function defaultPartitionVars(p: PartitionContext): Record<string, unknown> {
  return {
    ...(p.key !== undefined ? { partition_key: p.key } : {}),
    partition_keys: [...p.keys],
    ...(p.start ? { min_date: p.start.toISOString() } : {}),
    ...(p.end ? { max_date: p.end.toISOString() } : {}),
  };
}

/**
 * Declares a dbt project's models, seeds and snapshots as assets, and its tests as checks.
 * @example
 * export default codeLocation({
 *   name: 'warehouse',
 *   assets: [rawOrders, dbtAssets({ project: new URL('./dbt', import.meta.url) }), revenueReport],
 *   resources: { warehouse: duckdb() },
 * });
 */
export function dbtAssets(options: DbtAssetsOptions): MultiAssetDefinition {
  if (typeof options !== 'object' || options === null || options.project === undefined) {
    throw new CairnError(ErrorCodes.InvalidDefinition, "dbtAssets() takes an options object with the project directory: dbtAssets({ project: './dbt' })");
  }
  const location = locateDbtProject(options);
  const { manifest, path } = loadDbtManifest(location, { parse: options.parse ?? 'auto', ...(options.dbtExecutable ? { dbtExecutable: options.dbtExecutable } : {}) });
  const adapterType = manifest.metadata.adapter_type ?? '';
  const warehouse = options.warehouse ?? (adapterType === 'duckdb' ? 'warehouse' : undefined);
  const name = options.name ?? `dbt:${manifest.metadata.project_name ?? 'project'}`;
  const graph = translateDbtManifest(manifest, {
    name,
    manifestPath: path,
    ...(options.key ? { key: options.key } : {}),
    ...(options.group ? { group: options.group } : {}),
    ...(options.select !== undefined ? { select: options.select } : {}),
    ...(options.exclude !== undefined ? { exclude: options.exclude } : {}),
    ...(options.partitions ? { partitions: options.partitions, backfillPolicy: options.backfillPolicy ?? singleRun() } : {}),
    ...(options.blockingTests !== undefined ? { blockingTests: options.blockingTests } : {}),
    retry: {
      maxAttempts: options.retry?.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
      initialIntervalMs: options.retry?.initialIntervalMs ?? DEFAULT_RETRY.initialIntervalMs,
      backoffCoefficient: options.retry?.backoffCoefficient ?? DEFAULT_RETRY.backoffCoefficient,
      ...(options.retry?.maxIntervalMs !== undefined ? { maxIntervalMs: options.retry.maxIntervalMs } : {}),
    },
    ...(warehouse ? { resources: [warehouse] } : {}),
    ...(options.automation !== undefined ? { automation: typeof options.automation === 'function' ? options.automation : () => options.automation as AutomationCondition } : {}),
  });
  return {
    kind: 'multi-asset',
    name,
    assets: graph.assets,
    checks: graph.checks,
    retry: graph.assets.find((a) => !a.isExternal)?.retry ?? DEFAULT_RETRY,
    resources: warehouse ? [warehouse] : [],
    execute: (ctx) => executeDbt(ctx, { ...location, executable: findDbtExecutable(options.dbtExecutable) }, graph, { ...options, ...(warehouse ? { warehouse } : {}) }),
  };
}

/** Runs one `dbt build` for the step's assets and reports each node as its event arrives. */
async function executeDbt(ctx: MultiStepContext, project: DbtProjectLocation, graph: DbtProjectGraph, options: DbtAssetsOptions): Promise<void> {
  const wanted = ctx.assetKeys.map((k) => {
    const n = graph.nodesByKey.get(k);
    if (!n) throw new NonRetryableError(`asset '${k}' is not a model, seed or snapshot of dbt project '${graph.projectName}' (${project.dir})`);
    return n;
  });
  const wantedIds = new Set(wanted.map((n) => n.uniqueId));
  const wantedKeys = new Set(ctx.assetKeys);
  const selectors = dbtSelectors(wanted.map((n) => n.fqn), graph.buildableFqns);
  const vars = ctx.partition ? (options.partitionVars ?? defaultPartitionVars)(ctx.partition) : undefined;
  const resource = options.warehouse ? ctx.resources[options.warehouse] : undefined;
  const duck = resource instanceof DuckDBResource ? resource : undefined;
  const errors: string[] = [];
  const seen = new Set<string>();
  const recorded = new Map<string, Record<string, unknown>>();
  const checked = new Map<string, string>();
  ctx.log.info(`dbt build --select ${selectors.join(' ')}${vars ? ` --vars ${JSON.stringify(vars)}` : ''} (${wanted.length} assets of ${project.dir})`);

  const onEvent = async (e: DbtLogEvent): Promise<void> => {
    ctx.heartbeat(e.kind === 'node_started' || e.kind === 'node_finished' ? { node: e.uniqueId } : undefined);
    if (e.kind === 'raw') return ctx.log.info(e.line);
    const id = 'uniqueId' in e ? e.uniqueId : undefined;
    // A node's lines go with its asset; a test's with the asset it checks.
    const owner = id === undefined ? undefined : wantedIds.has(id) ? graph.keyByUniqueId.get(id) : graph.checksByTestId.get(id)?.check.asset;
    const log = owner !== undefined && wantedKeys.has(owner) ? ctx.assetLog(owner) : ctx.log;
    if (e.kind === 'log') {
      if (e.message !== '') log[e.level](e.message);
      if (e.level === 'error' && e.message !== '') errors.push(e.message.replace(/\s+/g, ' '));
      return;
    }
    log.info(e.message);
    if (e.kind === 'node_finished') await onNodeFinished(e);
  };

  const onNodeFinished = async (e: DbtNodeFinished | (DbtRunResult & { resourceType?: string }), final = false): Promise<void> => {
    const check = graph.checksByTestId.get(e.uniqueId);
    if (check) {
      if (e.status === 'skipped') return;
      // The final record only matters when it says more than the streamed one (a failure message).
      const message = final && 'message' in e ? e.message : undefined;
      if (final && checked.get(e.uniqueId) === e.status && !message) return;
      checked.set(e.uniqueId, e.status);
      await ctx.checkEvaluated({
        asset: check.check.asset,
        name: check.check.name,
        passed: e.status === 'pass',
        severity: e.status === 'warn' ? 'WARN' : check.check.severity,
        ...(check.check.description ? { description: check.check.description } : {}),
        metadata: {
          dbt_status: e.status,
          ...(e.failures !== undefined ? { failures: e.failures } : {}),
          ...(e.executionTime !== undefined ? { execution_time_s: round(e.executionTime) } : {}),
          'dbt/unique_id': e.uniqueId,
          ...(message ? { message } : {}),
        },
      });
      return;
    }
    const key = graph.keyByUniqueId.get(e.uniqueId);
    if (key === undefined || !wantedIds.has(e.uniqueId)) return;
    seen.add(e.uniqueId);
    if (e.status === 'success') {
      const adapter = 'adapterResponse' in e ? e.adapterResponse : undefined;
      // The final record adds to what was streamed (run_results.json has no relation name for a seed).
      const metadata = {
        ...recorded.get(key),
        'dbt/unique_id': e.uniqueId,
        ...(e.relationName ? { relation_name: e.relationName } : {}),
        ...(e.executionTime !== undefined ? { execution_time_s: round(e.executionTime) } : {}),
        ...(typeof adapter?.rows_affected === 'number' && adapter.rows_affected >= 0 ? { rows_affected: { type: 'row_count', value: adapter.rows_affected } } : {}),
        ...(adapter ? { adapter_response: { type: 'json', value: adapter } } : {}),
      };
      recorded.set(key, metadata);
      await ctx.materialized(key, { metadata });
    } else if (e.status === 'skipped') {
      ctx.skipped(key, 'dbt skipped it: an upstream model or test failed');
    } else {
      const message = 'message' in e && e.message ? e.message : `dbt ${e.status}`;
      ctx.failed(key, `dbt ${e.resourceType ?? 'node'} '${e.uniqueId}' failed: ${message.replace(/\s+/g, ' ').slice(0, 1000)}`);
    }
  };

  const build = (): Promise<DbtBuildResult> =>
    runDbtBuild({ project, selectors, ...(vars ? { vars } : {}), ...(duck ? { env: { CAIRN_WAREHOUSE_PATH: duck.file } } : {}), ...(ctx.checksOnly ? { testsOnly: true } : {}), signal: ctx.signal, onEvent });
  const result = duck ? await duck.whileReleased(build) : await build();

  // run_results.json is the final record: it adds the adapter response and the error messages.
  for (const r of result.results) await onNodeFinished(r, true);
  if (result.canceled || ctx.signal.aborted) throw ctx.signal.reason ?? new Error('dbt build canceled');
  if (result.exitCode >= 2 || (result.exitCode !== 0 && result.results.length === 0)) {
    const detail = errors.slice(-6).join(' | ') || 'no error message';
    const message = `dbt build failed for project '${graph.projectName}' (${project.dir}), exit ${result.exitCode}: ${detail}`;
    // A locked warehouse is worth another attempt; a broken profile or project is not.
    if (isLockError(detail)) throw new Error(message);
    throw new NonRetryableError(message);
  }
  // `dbt test` reports no model: every selected asset was checked, nothing was built.
  for (const n of ctx.checksOnly ? [] : wanted) {
    if (!seen.has(n.uniqueId)) ctx.failed(n.key, `dbt did not report '${n.uniqueId}' (exit ${result.exitCode}); see the step log`);
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
