/**
 * Helpers shared by the SQLite and PostgreSQL stores for the automation workflow's reads and writes: the
 * (asset, partition) pairs of the pair lookups, the evaluation row mapper and the evaluation history limit.
 */
import { pairKey, type AssetPartition, type StoredAutomationEvaluation } from './catalog-store';
import { opt, str, type Row } from './rows';

/** How many evaluations `automationEvaluations` returns when no limit is given. */
export const DEFAULT_EVALUATION_LIMIT = 20;

/** The page size of `automationEvaluations`: at least 1, like the asset history's. */
export const evaluationLimit = (limit: number | undefined): number => Math.max(1, Math.floor(limit ?? DEFAULT_EVALUATION_LIMIT));

/**
 * The distinct pairs as two parallel columns, with a null partition as `''` (the stored `partition_key`), so each
 * pair is looked up once however often it was given.
 */
export function pairColumns(pairs: readonly AssetPartition[]): { assetKeys: string[]; partitionKeys: string[] } {
  const assetKeys: string[] = [];
  const partitionKeys: string[] = [];
  const seen = new Set<string>();
  for (const { assetKey, partition } of pairs) {
    const key = pairKey(assetKey, partition);
    if (seen.has(key)) continue;
    seen.add(key);
    assetKeys.push(assetKey);
    partitionKeys.push(partition ?? '');
  }
  return { assetKeys, partitionKeys };
}

/** The {@link pairKey} of a row with `asset_key` and `partition_key` columns. */
export const rowPairKey = (r: Row): string => pairKey(str(r.asset_key), str(r.partition_key));

/** A stored evaluation; `requested` is 0/1 in SQLite and a boolean in PostgreSQL. */
export function toAutomationEvaluation(r: Row): StoredAutomationEvaluation {
  const partition = str(r.partition_key);
  return {
    id: Number(r.id),
    evaluationId: str(r.evaluation_id),
    at: str(r.at),
    assetKey: str(r.asset_key),
    partition: partition === '' ? null : partition,
    requested: r.requested === true || Number(r.requested) === 1,
    reason: str(r.reason),
    ...opt('runWorkflowId', r.run_workflow_id),
    watermark: Number(r.watermark),
  };
}
