/**
 * Builds a code location's declared resources inside its worker: resolves `env()` references from the worker's
 * environment, validates each config with its zod schema, and creates one instance per resource, shared by
 * every step the worker runs. Plain resource objects (`duckdb()`) pass through unchanged.
 */
import type { z } from 'zod';
import type { CodeLocationDefinition } from '../definitions/code-location';
import { CairnError, CairnErrors, ErrorCodes } from '../definitions/errors';
import { isEnvVar, isResourceDefinition, type ResourceDefinition } from '../definitions/resource';
import { createRedactor, type Redactor } from './redact';

/** Options of {@link initResources}. */
export interface InitResourcesOptions {
  /** Where `env()` references are read (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A location's resources, built. */
export interface InitializedResources {
  /** Every resource by name, in declaration order: declared ones as their instance, plain objects as given. */
  readonly resources: Record<string, unknown>;
  /** The resolved values of `env()` references marked secret (the default): what to redact from output. */
  readonly secrets: string[];
  /**
   * Disposes the declared resources in reverse declaration order, each even if an earlier one fails; plain
   * objects are left to their owner. Calling it again does nothing.
   */
  dispose(): Promise<void>;
}

interface Problem {
  resource: string;
  field: string;
  message: string;
}

interface Resolved {
  values: unknown;
  /** Dotted path of each `env()` reference → its variable. */
  vars: Map<string, string>;
  missing: { path: string; name: string }[];
}

/**
 * Builds the declared resources of `location`. Every config problem of every resource is reported at once,
 * before any `create` runs, as a `CairnErrors` with code `INVALID_RESOURCE_CONFIG` and one line per problem.
 * `create` calls run one at a time in declaration order; if one throws, those already created are disposed
 * and the error names the resource. No message ever contains a resolved secret.
 * @example
 * const { resources, secrets, dispose } = await initResources(location);
 * const redact = createRedactor(secrets);
 */
export async function initResources(location: Pick<CodeLocationDefinition, 'name' | 'resources'>, opts: InitResourcesOptions = {}): Promise<InitializedResources> {
  const environment = opts.env ?? process.env;
  const secrets = new Set<string>();
  const problems: Problem[] = [];
  const configs = new Map<string, unknown>();
  for (const [name, r] of Object.entries(location.resources)) {
    if (!isResourceDefinition(r)) continue;
    const resolved = resolveEnv(r.values, environment, secrets);
    for (const m of resolved.missing) {
      problems.push({ resource: name, field: m.path, message: `environment variable ${m.name} is not set; set it in the worker's environment` });
    }
    const validated = await validate(r, resolved);
    if (validated.ok) configs.set(name, validated.config);
    else problems.push(...validated.problems.map((p) => ({ ...p, resource: name })));
  }
  const redactor = createRedactor([...secrets]);
  if (problems.length > 0) {
    throw new CairnErrors(problems.map((p) => new CairnError(
      ErrorCodes.InvalidResourceConfig,
      redactor.text(`${where(p.resource, location.name)}: ${p.field === '' ? 'config' : `config field '${p.field}'`}: ${p.message}`),
      p.field === '' ? p.resource : `${p.resource}.${p.field}`,
    )));
  }

  const resources: Record<string, unknown> = {};
  const created: { name: string; def: ResourceDefinition; instance: unknown }[] = [];
  for (const [name, r] of Object.entries(location.resources)) {
    if (!isResourceDefinition(r)) {
      resources[name] = r;
      continue;
    }
    let instance: unknown;
    try {
      instance = await r.createInstance(configs.get(name), Object.freeze({ name, location: location.name }));
    } catch (e) {
      const cleanup = await disposeAll(created, location.name, redactor);
      const also = cleanup.map((m) => `; while cleaning up, ${m}`).join('');
      throw withCause(new CairnError(ErrorCodes.InvalidResourceConfig, `${where(name, location.name)}: create() failed: ${redactor.text(messageOf(e))}${also}`, name), e, redactor);
    }
    resources[name] = instance;
    created.push({ name, def: r, instance });
  }

  let disposing: Promise<void> | undefined;
  const dispose = (): Promise<void> => {
    disposing ??= disposeAll(created, location.name, redactor).then((failures) => {
      if (failures.length > 0) throw new Error(`disposing resources of code location '${location.name}' failed:\n${failures.map((f) => `- ${f}`).join('\n')}`);
    });
    return disposing;
  };
  return { resources, secrets: [...secrets], dispose };
}

function where(resource: string, location: string): string {
  return `resource '${resource}' of code location '${location}'`;
}

/** Replaces each `env()` reference with the variable's value (undefined when unset), copying only plain objects and arrays. */
function resolveEnv(values: unknown, environment: Readonly<Record<string, string | undefined>>, secrets: Set<string>): Resolved {
  const vars = new Map<string, string>();
  const missing: Resolved['missing'] = [];
  const walk = (v: unknown, path: string): unknown => {
    if (isEnvVar(v)) {
      vars.set(path, v.name);
      // An empty value counts as set: whether it is acceptable is the schema's call (z.string().min(1)).
      const value = environment[v.name];
      if (value === undefined) missing.push({ path, name: v.name });
      else if (v.secret && value !== '') secrets.add(value);
      return value;
    }
    const join = (k: string | number) => (path === '' ? String(k) : `${path}.${k}`);
    if (Array.isArray(v)) return v.map((x, i) => walk(x, join(i)));
    if (typeof v === 'object' && v !== null && [Object.prototype, null].includes(Object.getPrototypeOf(v))) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, join(k))]));
    }
    return v;
  };
  return { values: walk(values, ''), vars, missing };
}

type Validated = { ok: true; config: unknown } | { ok: false; problems: Omit<Problem, 'resource'>[] };

/**
 * Runs the schema on the resolved values. Issues at or below a missing variable are dropped (that problem is
 * already reported); every other issue is kept, so one start reports all of them.
 */
async function validate(def: ResourceDefinition, resolved: Resolved): Promise<Validated> {
  const schema = def.configSchema;
  const missing = resolved.missing.map((m) => m.path);
  if (!schema) return missing.length > 0 ? { ok: false, problems: [] } : { ok: true, config: resolved.values };
  let result: z.ZodSafeParseResult<unknown>;
  try {
    result = await schema.safeParseAsync(resolved.values);
  } catch (e) {
    return { ok: false, problems: [{ field: '', message: `the config schema threw: ${messageOf(e)}` }] };
  }
  if (result.success) return missing.length > 0 ? { ok: false, problems: [] } : { ok: true, config: result.data };
  const problems = result.error.issues
    .map((issue) => ({ field: issue.path.map(String).join('.'), message: issue.message }))
    .filter((p) => !missing.some((m) => p.field === m || p.field.startsWith(`${m}.`)))
    .map((p) => {
      const from = resolved.vars.get(p.field);
      return from === undefined ? p : { ...p, message: `${p.message} (from environment variable ${from})` };
    });
  return { ok: false, problems };
}

/** Disposes in reverse order; returns a redacted line per failure. */
async function disposeAll(created: readonly { name: string; def: ResourceDefinition; instance: unknown }[], location: string, redactor: Redactor): Promise<string[]> {
  const failures: string[] = [];
  for (const { name, def, instance } of [...created].reverse()) {
    if (!def.disposeInstance) continue;
    try {
      await def.disposeInstance(instance);
    } catch (e) {
      failures.push(`${where(name, location)}: dispose() failed: ${redactor.text(messageOf(e))}`);
    }
  }
  return failures;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Keeps the original error's stack for debugging, redacted: attaching the error itself would print its
 * unredacted message wherever the failure is logged.
 */
function withCause(error: CairnError, original: unknown, redactor: Redactor): CairnError {
  if (original instanceof Error) {
    const cause = new Error(redactor.text(original.message));
    cause.name = original.name;
    if (original.stack !== undefined) cause.stack = redactor.text(original.stack);
    Object.defineProperty(error, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
  }
  return error;
}
