/**
 * A multi-asset: one step that produces several assets (a dbt invocation, a connector sync). Each asset it
 * produces is an ordinary node of the graph; the planner runs the selected ones of one multi-asset together,
 * and the step reports each asset's outcome (and its checks) as it happens.
 */
import type { AssetDefinition, PartitionContext, StepLogger } from './asset';
import type { RetryPolicy } from './snapshot';

/** An asset check declared by a multi-asset (a dbt test): evaluated by the step, recorded per run. */
export interface CheckSpec {
  readonly name: string;
  /** The asset the check is about. */
  readonly asset: string;
  readonly description?: string;
  /** ERROR: a failure is an error; WARN: a failure is a warning. */
  readonly severity: 'ERROR' | 'WARN';
  /** A failed blocking check skips the asset's downstream in the run (only ERROR checks block). */
  readonly blocking: boolean;
}

/** What a multi-asset step reports about one asset it materialized. */
export interface MultiAssetMaterialization {
  metadata?: Record<string, unknown>;
  dataVersion?: string;
}

/** What a multi-asset step reports about one check it evaluated. */
export interface MultiAssetCheckResult {
  asset: string;
  name: string;
  passed: boolean;
  severity: 'ERROR' | 'WARN';
  description?: string;
  metadata?: Record<string, unknown>;
}

/** The context of a multi-asset step: the selected assets, and callbacks that record outcomes at once. */
export interface MultiStepContext {
  readonly runId: string;
  readonly attempt: number;
  /** The assets this step must produce (the selected members, in plan order). */
  readonly assetKeys: readonly string[];
  readonly log: StepLogger;
  /** Log lines about one asset, kept with that asset's step logs. */
  assetLog(assetKey: string): StepLogger;
  readonly resources: Record<string, unknown>;
  readonly signal: AbortSignal;
  heartbeat(details?: unknown): void;
  readonly partition: PartitionContext | undefined;
  /**
   * A checks-only run: evaluate the assets' checks against what is stored (dbt: `dbt test`) and build nothing.
   * Assets not reported failed count as checked.
   */
  readonly checksOnly: boolean;
  /** Records the asset's materialization now (idempotent per run, asset and partition). */
  materialized(assetKey: string, result?: MultiAssetMaterialization): Promise<void>;
  /** The asset failed; its downstream in the run is skipped. */
  failed(assetKey: string, error: string): void;
  /** The asset was not built (the tool skipped it). */
  skipped(assetKey: string, reason: string): void;
  /** Records a check evaluation now (idempotent per run, asset, partition and check). */
  checkEvaluated(result: MultiAssetCheckResult): Promise<void>;
}

export interface MultiAssetDefinition {
  readonly kind: 'multi-asset';
  /** Unique in its code location; names the step (`dbt:jaffle`). */
  readonly name: string;
  /** The assets it produces (each has `multiAsset` set to this name), and placeholders for what it reads. */
  readonly assets: readonly AssetDefinition[];
  readonly checks: readonly CheckSpec[];
  readonly retry: RetryPolicy;
  /** Resources the step uses, by name. */
  readonly resources: readonly string[];
  execute(ctx: MultiStepContext): Promise<void>;
}

export function isMultiAsset(value: unknown): value is MultiAssetDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'multi-asset';
}
