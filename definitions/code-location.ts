import type { AssetDefinition } from './asset';
import type { AssetCheckDefinition } from './checks';
import type { JobDefinition } from './job';
import type { ScheduleDefinition } from './schedule';
import type { SensorDefinition } from './sensor';
import { CairnError, ErrorCodes } from './errors';
import { isMultiAsset, type MultiAssetDefinition } from './multi-asset';
import { isResourceDefinition } from './resource';

/**
 * A code location: a module of definitions deployed as its own worker on its own task queue
 * (`cairn-loc-<name>`). Resources are built by the module and live only in that worker; the published
 * snapshot names their `type`, never their configuration.
 */
export interface CodeLocationDefinition {
  readonly kind: 'code-location';
  readonly name: string;
  /** Every asset, including those of its multi-assets (placeholders replaced by real definitions dropped). */
  readonly assets: readonly AssetDefinition<any>[];
  /** Steps that produce several assets at once (dbt projects). */
  readonly multiAssets: readonly MultiAssetDefinition[];
  readonly resources: Readonly<Record<string, unknown>>;
  /** The checks given to `codeLocation({ checks })`; each is also attached to its asset's `checks`. */
  readonly checks: readonly AssetCheckDefinition[];
  readonly jobs: readonly JobDefinition[];
  /** Reconciled into Temporal Schedules `cairn/<location>/<name>` when the location's worker starts. */
  readonly schedules: readonly ScheduleDefinition[];
  /** Each runs as the long-running workflow `cairn/sensor/<location>/<name>`, started by the location's worker. */
  readonly sensors: readonly SensorDefinition[];
}

export interface CodeLocationOptions {
  name: string;
  /** Assets, and multi-assets such as `dbtAssets({ project })`. */
  assets: readonly (AssetDefinition<any> | MultiAssetDefinition)[];
  resources?: Readonly<Record<string, unknown>>;
  /** Checks declared apart from their assets: `check({ asset, name, run })`. */
  checks?: readonly AssetCheckDefinition[];
  /** Named subsets of the graph: `job({ name, selection })`. */
  jobs?: readonly JobDefinition[];
  /** Cron-driven runs: `schedule({ name, cron, target })`. */
  schedules?: readonly ScheduleDefinition[];
  /** Sensors: `sensor({ name, evaluate })`. */
  sensors?: readonly SensorDefinition[];
}

export const LOCATION_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * @example
 * export default codeLocation({ name: 'analytics', assets: [orders, revenue], resources: { warehouse: duckdb() } });
 */
export function codeLocation(options: CodeLocationOptions): CodeLocationDefinition {
  if (typeof options !== 'object' || options === null) {
    throw new CairnError(ErrorCodes.InvalidDefinition, 'codeLocation() takes an options object: codeLocation({ name, assets, resources })');
  }
  const items = [...(options.assets ?? [])];
  const multiAssets = items.filter(isMultiAsset);
  const checks = Array.isArray(options.checks) ? [...options.checks] : [];
  const assets = dropShadowedPlaceholders(items.flatMap((a) => (isMultiAsset(a) ? a.assets : [a]))).map((a) => withChecks(a, checks));
  return { kind: 'code-location', name: options.name, assets, multiAssets, resources: { ...(options.resources ?? {}) }, checks,
    jobs: Array.isArray(options.jobs) ? [...options.jobs] : [], schedules: Array.isArray(options.schedules) ? [...options.schedules] : [],
    sensors: Array.isArray(options.sensors) ? [...options.sensors] : [] };
}

/** The asset with the standalone checks that name it appended to its own. */
function withChecks(a: AssetDefinition<any>, checks: readonly AssetCheckDefinition[]): AssetDefinition<any> {
  const mine = checks.filter((c) => typeof c === 'object' && c !== null && c.asset === a?.key);
  return mine.length === 0 ? a : { ...a, checks: [...(a.checks ?? []), ...mine] };
}

/**
 * Drops placeholders (external assets declared only because something reads them, such as dbt sources) whose
 * key a real definition also declares, and repeated placeholders of one key.
 */
export function dropShadowedPlaceholders<T extends { readonly key: string; readonly placeholder?: boolean }>(nodes: readonly T[]): T[] {
  const real = new Set(nodes.filter((n) => !isPlaceholder(n)).map((n) => n.key));
  const seen = new Set<string>();
  return nodes.filter((n) => {
    if (!isPlaceholder(n)) return true;
    if (real.has(n.key) || seen.has(n.key)) return false;
    seen.add(n.key);
    return true;
  });
}

function isPlaceholder(n: { readonly placeholder?: boolean } | null | undefined): boolean {
  return typeof n === 'object' && n !== null && n.placeholder === true;
}

export function isCodeLocation(value: unknown): value is CodeLocationDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'code-location';
}

/** The `type` a resource reports in snapshots: a declared resource's `type`, an object's own `type` string, else its class name. */
export function resourceType(resource: unknown): string {
  if (isResourceDefinition(resource)) return resource.type;
  if (typeof resource === 'object' && resource !== null) {
    const t = (resource as { type?: unknown }).type;
    if (typeof t === 'string') return t;
    return (resource as object).constructor?.name ?? 'object';
  }
  return typeof resource;
}
