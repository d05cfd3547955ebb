import type { AssetDefinition } from './asset';
import { CairnError, ErrorCodes } from './errors';

/**
 * A code location: a module of definitions deployed as its own worker on its own task queue
 * (`cairn-loc-<name>`). Resources are built by the module and live only in that worker; the published
 * snapshot names their `type`, never their configuration.
 */
export interface CodeLocationDefinition {
  readonly kind: 'code-location';
  readonly name: string;
  readonly assets: readonly AssetDefinition<any>[];
  readonly resources: Readonly<Record<string, unknown>>;
}

export interface CodeLocationOptions {
  name: string;
  assets: readonly AssetDefinition<any>[];
  resources?: Readonly<Record<string, unknown>>;
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
  return { kind: 'code-location', name: options.name, assets: [...(options.assets ?? [])], resources: { ...(options.resources ?? {}) } };
}

export function isCodeLocation(value: unknown): value is CodeLocationDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'code-location';
}

/** The `type` a resource reports in snapshots: its own `type` string, else its class name. */
export function resourceType(resource: unknown): string {
  if (typeof resource === 'object' && resource !== null) {
    const t = (resource as { type?: unknown }).type;
    if (typeof t === 'string') return t;
    return (resource as object).constructor?.name ?? 'object';
  }
  return typeof resource;
}
