/**
 * Declared resources: a client (an HTTP API, a warehouse) described by a zod-validated config and built inside
 * the code-location worker, once per worker. A declaration holds only the config as written, with `env()`
 * references in place of secrets; the worker resolves them from its own environment (activities/resources.ts),
 * so a secret never appears in a definition, a snapshot, a workflow input or the catalog.
 */
import type { z } from 'zod';
import { CairnError, ErrorCodes } from './errors';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A reference to an environment variable of the worker, resolved only when the worker starts. */
export interface EnvVar {
  readonly kind: 'env-var';
  readonly name: string;
  /** Whether the value is redacted from logs, metadata and errors (the default). */
  readonly secret: boolean;
}

/** Options of {@link env}. */
export interface EnvOptions {
  /**
   * Redact the value from step logs, metadata and errors (default `true`). Set `false` for values that are
   * safe to show and too common to redact, such as a region or a port.
   */
  secret?: boolean;
}

/**
 * Refers to an environment variable of the code-location worker. Use it for any config value that differs
 * between deployments, and always for secrets: the snapshot shows `env:NAME`, never the value.
 * @example
 * const stripe = resource({ config: z.object({ apiKey: z.string() }), create: (c) => new Stripe(c.apiKey) });
 * codeLocation({ name: 'shop', assets, resources: { stripe: stripe({ apiKey: env('STRIPE_KEY') }) } });
 * @example
 * // not a secret: its value may appear in logs
 * pg({ host: env('PGHOST', { secret: false }), password: env('PGPASSWORD') });
 */
export function env(name: string, opts: EnvOptions = {}): EnvVar {
  if (typeof name !== 'string' || !ENV_NAME.test(name)) {
    throw new CairnError(ErrorCodes.InvalidDefinition, `env(${JSON.stringify(name) ?? String(name)}) is not a valid environment variable name: use letters, digits and '_', not starting with a digit (for example env('STRIPE_KEY'))`);
  }
  return Object.freeze({ kind: 'env-var' as const, name, secret: opts.secret ?? true });
}

export function isEnvVar(value: unknown): value is EnvVar {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'env-var' && typeof (value as { name?: unknown }).name === 'string';
}

/**
 * Config values as written in a code location: any value, at any depth, may be an `env()` reference. The
 * worker substitutes the variable's string value before zod validates, so use `z.coerce.number()` for a
 * number read from the environment.
 */
export type WithEnv<T> =
  | EnvVar
  | (T extends string | number | boolean | bigint | symbol | null | undefined
      ? T
      : T extends readonly (infer U)[]
        ? readonly WithEnv<U>[]
        : T extends (...args: any[]) => unknown
          ? T
          : T extends object
            ? { [K in keyof T]: WithEnv<T[K]> }
            : T);

/** What `create` learns about where it runs. */
export interface ResourceContext {
  /** The resource's key in the location's `resources`. */
  readonly name: string;
  /** The code location's name. */
  readonly location: string;
}

/** Options of {@link resource}. */
export interface ResourceOptions<T, S extends z.ZodType> {
  /** Shown in the snapshot and the UI (default `'resource'`). */
  type?: string;
  /** Validates the config in the worker, after `env()` references are resolved; zod defaults apply. */
  config?: S;
  /** Builds the instance from the validated config. Called once per worker; every step shares the instance. */
  create(config: z.output<S>, ctx: ResourceContext): T | Promise<T>;
  /** Releases the instance when the worker stops (in reverse declaration order). */
  dispose?(instance: T): void | Promise<void>;
}

/**
 * A resource with its config values: what goes into `codeLocation({ resources })`. Holds no instance and no
 * resolved value; the worker builds the instance with `initResources`.
 */
export interface ResourceDefinition<T = unknown> {
  readonly kind: 'resource';
  readonly type: string;
  readonly configSchema: z.ZodType | undefined;
  /** The config as written, `env()` references unresolved. */
  readonly values: unknown;
  // Named apart from `close`/`dispose`: code that closes plain resource objects by duck typing must not call them.
  // Method syntax keeps `ResourceDefinition<Client>` assignable to `ResourceDefinition` (parameters are bivariant).
  createInstance(config: unknown, ctx: ResourceContext): T | Promise<T>;
  disposeInstance?(instance: T): void | Promise<void>;
}

/** Required when the schema has required fields, optional otherwise. */
type FactoryArgs<I> = Record<never, never> extends I ? [values?: WithEnv<I>] : [values: WithEnv<I>];

/**
 * What {@link resource} returns: call it with config values to get a {@link ResourceDefinition}, or use it
 * as it is (config values `{}`, so the schema's defaults apply).
 */
export interface ResourceFactory<T, S extends z.ZodType = z.ZodType> extends ResourceDefinition<T> {
  (...args: FactoryArgs<z.input<S>>): ResourceDefinition<T>;
}

/**
 * Declares a kind of resource. Config values may be literals (published in the snapshot, so never put a
 * secret there) or `env()` references (published as `env:NAME`, resolved in the worker). An invalid config
 * stops the worker at start with every bad field named.
 * @example
 * const stripe = resource({
 *   type: 'stripe',
 *   config: z.object({ apiKey: z.string().min(1), region: z.enum(['eu', 'us']).default('eu'), timeoutMs: z.coerce.number().default(10_000) }),
 *   create: (c) => new StripeClient(c.apiKey, { region: c.region, timeout: c.timeoutMs }),
 *   dispose: (client) => client.close(),
 * });
 * export default codeLocation({ name: 'shop', assets, resources: { stripe: stripe({ apiKey: env('STRIPE_KEY'), region: 'eu' }) } });
 * @example
 * // no config needed: the factory itself is a resource
 * const clock = resource({ create: () => ({ now: () => new Date() }) });
 * codeLocation({ name: 'shop', assets, resources: { clock } });
 */
export function resource<T, S extends z.ZodType = z.ZodType<Record<string, unknown>, Record<string, unknown>>>(options: ResourceOptions<T, S>): ResourceFactory<T, S> {
  if (typeof options !== 'object' || options === null || typeof options.create !== 'function') {
    throw new CairnError(ErrorCodes.InvalidDefinition, 'resource() takes an options object with a create function: resource({ config: z.object({...}), create: (config, ctx) => client, dispose? })');
  }
  const schema = options.config;
  if (schema !== undefined && typeof (schema as { safeParseAsync?: unknown }).safeParseAsync !== 'function') {
    throw new CairnError(ErrorCodes.InvalidDefinition, 'resource({ config }) must be a zod schema, for example z.object({ apiKey: z.string() })');
  }
  const type = options.type ?? 'resource';
  if (typeof type !== 'string' || type.trim() === '') {
    throw new CairnError(ErrorCodes.InvalidDefinition, `resource({ type }) must be a non-empty string, got ${JSON.stringify(type) ?? String(type)}`);
  }
  const base = {
    kind: 'resource' as const,
    type,
    configSchema: schema as z.ZodType | undefined,
    createInstance: options.create as (config: unknown, ctx: ResourceContext) => T | Promise<T>,
    disposeInstance: options.dispose,
  };
  const factory = (values?: unknown): ResourceDefinition<T> => Object.freeze({ ...base, values: values ?? {} });
  return Object.freeze(Object.assign(factory, base, { values: {} })) as unknown as ResourceFactory<T, S>;
}

/** A declared resource (a {@link resource} factory, or what calling it returned). */
export function isResourceDefinition(value: unknown): value is ResourceDefinition {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && (value as { kind?: unknown }).kind === 'resource'
    && typeof (value as { createInstance?: unknown }).createInstance === 'function';
}

/**
 * The config of a declared resource as published in the snapshot: literal values as written, each `env()`
 * reference as the string `env:NAME`. Never reads the environment, so it cannot leak a value. Values that
 * JSON cannot carry are rendered as text (`[ClassName]`, a function as `[function]`).
 */
export function describeResourceConfig(def: ResourceDefinition): unknown {
  return render(def.values, new WeakSet());
}

function render(v: unknown, seen: WeakSet<object>): unknown {
  if (isEnvVar(v)) return `env:${v.name}`;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return String(v);
  if (v === undefined) return undefined;
  if (typeof v === 'function') return '[function]';
  if (typeof v !== 'object') return `[${typeof v}]`;
  if (seen.has(v)) return '[circular]';
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
  if (Array.isArray(v)) {
    seen.add(v);
    const out = v.map((x) => render(x, seen) ?? null);
    seen.delete(v);
    return out;
  }
  const proto = Object.getPrototypeOf(v) as object | null;
  if (proto !== Object.prototype && proto !== null) return `[${(v as object).constructor?.name || 'object'}]`;
  seen.add(v);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const r = render(x, seen);
    if (r !== undefined) out[k] = r;
  }
  seen.delete(v);
  return out;
}
