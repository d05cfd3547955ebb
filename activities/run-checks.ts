/**
 * Evaluates an asset's checks against its stored value. A check that throws, or returns something that is not
 * a verdict, is a failed evaluation carrying the error; it never fails the step.
 */
import type { PartitionContext, StepLogger } from '../definitions/asset';
import { normalizeCheckOutput, type AssetCheckDefinition } from '../definitions/checks';
import { meta, normalizeMetadata, type Metadata } from '../definitions/metadata';
import type { StoredValue } from '../definitions/stored-value';

/** The outcome of one check, as recorded in the catalog. */
export interface CheckEvaluation {
  name: string;
  severity: 'ERROR' | 'WARN';
  blocking: boolean;
  passed: boolean;
  description?: string;
  metadata: Metadata;
  /** Set when the check threw instead of returning a verdict. */
  error?: string;
}

export interface RunChecksContext {
  runId: string;
  assetKey: string;
  partition: PartitionContext | undefined;
  log: StepLogger;
  resources: Record<string, unknown>;
  signal: AbortSignal;
}

/** Whether a failed evaluation keeps the value from being published and blocks the asset's downstream. */
export function blocks(e: CheckEvaluation): boolean {
  return !e.passed && e.blocking && e.severity === 'ERROR';
}

/** Runs the checks one at a time (they query the same storage), in declaration order. */
export async function runChecks(checks: readonly AssetCheckDefinition[], value: StoredValue, ctx: RunChecksContext): Promise<CheckEvaluation[]> {
  const results: CheckEvaluation[] = [];
  for (const c of checks) {
    const where = `check '${c.name}' of asset '${ctx.assetKey}'`;
    const base = { name: c.name, severity: c.severity, blocking: c.blocking };
    const started = Date.now();
    try {
      const resources = Object.fromEntries(c.resources.map((r) => [r, ctx.resources[r]]));
      const out = normalizeCheckOutput(await c.run({ ...ctx, checkName: c.name, resources, value }), where);
      const metadata = normalizeMetadata({ ...out.metadata, duration_ms: Date.now() - started }, where);
      results.push({ ...base, passed: out.passed, ...(out.description !== undefined ? { description: out.description } : {}), metadata });
      if (!out.passed) ctx.log[c.severity === 'ERROR' ? 'error' : 'warn'](`${where} failed${out.description ? `: ${out.description}` : ''}`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      ctx.log.error(`${where} threw: ${err instanceof Error ? (err.stack ?? message) : message}`);
      results.push({ ...base, passed: false, description: `the check threw: ${message}`, error: message, metadata: { error: meta.text(message) } });
    }
  }
  return results;
}

/**
 * A stored value that is located only when a check first reads it: for a step whose IO manager did not stage
 * its output (it stored nothing, or it does not audit), the checks read the published value.
 */
export function lazyStoredValue(assetKey: string, partitionKeys: readonly string[] | undefined, locate: () => Promise<StoredValue>): StoredValue {
  let found: Promise<StoredValue> | undefined;
  const get = (): Promise<StoredValue> => (found ??= locate());
  return {
    assetKey,
    ...(partitionKeys ? { partitionKeys } : {}),
    async *batches(size) {
      yield* (await get()).batches(size);
    },
    load: async (mode) => (await get()).load(mode),
  };
}
