/**
 * Asset checks written in TypeScript: an assertion about an asset's stored value, evaluated in the same run
 * right after the asset's step writes it. Under write-audit-publish the value a check reads is the staged one:
 * a failed blocking check keeps it from being published.
 */
import type { AssetRef, PartitionContext, StepLogger } from './asset';
import { CairnError, ErrorCodes } from './errors';
import type { CheckSpec } from './multi-asset';
import type { StoredValue } from './stored-value';

/** What a check's `run` receives. */
export interface CheckContext {
  readonly runId: string;
  readonly assetKey: string;
  readonly checkName: string;
  /** The partitions the step wrote; undefined for an unpartitioned asset. */
  readonly partition: PartitionContext | undefined;
  /** Lines are kept with the asset's step logs. */
  readonly log: StepLogger;
  /** The location's resources named in the check's `resources`. */
  readonly resources: Record<string, unknown>;
  /** The asset's value as stored: the staged value (not yet published) when the IO manager stages writes. */
  readonly value: StoredValue;
  readonly signal: AbortSignal;
}

/** A check's verdict: a boolean, or one with a description and metadata (typed with `meta.*` or plain values). */
export type CheckOutput = boolean | { passed: boolean; description?: string; metadata?: Record<string, unknown> };

export type CheckSeverity = 'error' | 'warn';

export interface CheckOptions {
  /** The asset checked. Required for a check passed to `codeLocation({ checks })`; set for you inside `asset({ checks })`. */
  asset?: AssetRef;
  /** Unique per asset; `[A-Za-z0-9_.-]`. */
  name: string;
  /**
   * A failed blocking check of severity `error` keeps a staged value from being published and skips the asset's
   * downstream in the run ("blocked by check <name>"). Default false.
   */
  blocking?: boolean;
  /** `error` (default) or `warn`: a failed `warn` check is reported and never blocks. */
  severity?: CheckSeverity;
  description?: string;
  /** Names of code-location resources the check uses. */
  resources?: readonly string[];
  run(ctx: CheckContext): Promise<CheckOutput> | CheckOutput;
}

/** A check as the location holds it. `asset` is '' until the check is attached to its asset. */
export interface AssetCheckDefinition extends CheckSpec {
  readonly kind: 'asset-check';
  readonly resources: readonly string[];
  run(ctx: CheckContext): Promise<CheckOutput> | CheckOutput;
}

export const CHECK_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Declares an asset check.
 * @example
 * const positive = check({
 *   asset: 'marts/revenue',
 *   name: 'amounts_positive',
 *   blocking: true,
 *   async run({ value }) {
 *     const [r] = await value.sql!.query<{ n: number }>(sql`select count(*) as n from ${value.sql!.relation} where amount <= 0`);
 *     return { passed: r.n === 0, metadata: { negative_rows: r.n } };
 *   },
 * });
 * export default codeLocation({ name: 'finance', assets: [revenue], checks: [positive] });
 */
export function check(options: CheckOptions): AssetCheckDefinition {
  if (typeof options !== 'object' || options === null) {
    throw new CairnError(ErrorCodes.InvalidDefinition, 'check() takes an options object: check({ asset, name, run })');
  }
  const severity = options.severity ?? 'error';
  return {
    kind: 'asset-check',
    name: options.name,
    asset: options.asset === undefined ? '' : typeof options.asset === 'string' ? options.asset : options.asset.key,
    ...(options.description !== undefined ? { description: options.description } : {}),
    // An unknown severity is kept as given, so validation reports it with the check's name.
    severity: (severity === 'warn' ? 'WARN' : severity === 'error' ? 'ERROR' : severity) as CheckSpec['severity'],
    blocking: options.blocking === true,
    resources: [...(options.resources ?? [])],
    run: options.run,
  };
}

export function isAssetCheck(value: unknown): value is AssetCheckDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'asset-check';
}

/** Problems of one check (bad name, severity, run), each naming the check and its asset. */
export function checkProblems(c: AssetCheckDefinition): string[] {
  const where = `check '${String(c.name)}' of asset '${c.asset}'`;
  const problems: string[] = [];
  if (typeof c.name !== 'string' || !CHECK_NAME.test(c.name)) problems.push(`${where}: the name must match ${CHECK_NAME} (letters, digits, _ . -)`);
  if (c.severity !== 'ERROR' && c.severity !== 'WARN') problems.push(`${where}: severity must be 'error' or 'warn', got ${JSON.stringify(c.severity)}`);
  if (typeof c.run !== 'function') problems.push(`${where}: run must be a function (ctx) => boolean | { passed, metadata? }`);
  return problems;
}

/** Normalizes what a check returned; anything but a boolean or `{ passed: boolean }` is a mistake in the check. */
export function normalizeCheckOutput(out: unknown, where: string): { passed: boolean; description?: string; metadata: Record<string, unknown> } {
  if (typeof out === 'boolean') return { passed: out, metadata: {} };
  if (typeof out === 'object' && out !== null && typeof (out as { passed?: unknown }).passed === 'boolean') {
    const o = out as { passed: boolean; description?: unknown; metadata?: unknown };
    return {
      passed: o.passed,
      ...(typeof o.description === 'string' ? { description: o.description } : {}),
      metadata: typeof o.metadata === 'object' && o.metadata !== null ? (o.metadata as Record<string, unknown>) : {},
    };
  }
  throw new TypeError(`${where} returned ${out === null ? 'null' : typeof out}; a check returns a boolean or { passed: boolean, metadata? }`);
}
