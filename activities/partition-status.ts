import { CairnError, ErrorCodes } from '../definitions/errors';
import { closestWithin } from '../definitions/graph';
import { describePartitions, partitionKeys } from '../definitions/partitions/keys';
import { partitionStatusRanges, summarizePartitionStatus, type PartitionStatusCounts, type PartitionStatusRange } from '../definitions/partitions/status';
import type { CatalogStore } from './catalog/catalog-store';
import { dynamicKeysFor } from './dynamic-keys';
import { resolvedSnapshots } from '../definitions/plan';

/** What `cairn status --partitions <key>` and `CairnCatalog.partitionStatus` report. */
export interface PartitionStatusReport {
  asset: string;
  /** The definition in one line ("daily partitions starting 2024-01-01 (UTC)"). */
  partitions: string;
  total: number;
  counts: PartitionStatusCounts;
  ranges: PartitionStatusRange[];
  /** Partition keys with records that are no longer keys of the definition (a removed dynamic key, an old window). */
  unlisted: number;
}

/**
 * The partition status of one asset of the published snapshots: every key of its definition at `now` (dynamic keys
 * from the catalog), folded into ranges of one status. Unknown assets fail with UNKNOWN_ASSET (and a did-you-mean),
 * unpartitioned ones with INVALID_ARGUMENT.
 */
export async function partitionStatusReport(catalog: CatalogStore, assetKey: string, now: Date): Promise<PartitionStatusReport> {
  const snapshots = resolvedSnapshots(await catalog.getSnapshots());
  const asset = snapshots.flatMap((s) => s.assets).find((a) => a.key === assetKey);
  if (!asset) {
    if (snapshots.length === 0) {
      throw new CairnError(ErrorCodes.UnknownAsset, `unknown asset '${assetKey}': no code location has published its definitions to the catalog yet (start the workers with \`cairn dev\`)`, assetKey);
    }
    const close = closestWithin(assetKey, snapshots.flatMap((s) => s.assets.map((a) => a.key)).sort());
    throw new CairnError(ErrorCodes.UnknownAsset, `unknown asset '${assetKey}'${close ? `; did you mean '${close}'?` : ''}`, assetKey);
  }
  const def = asset.partitions;
  if (!def) throw new CairnError(ErrorCodes.InvalidArgument, `asset '${assetKey}' is not partitioned`, assetKey);
  const dynamicKeys = await dynamicKeysFor(catalog, [def]);
  const keys = partitionKeys(def, { now, dynamicKeys });
  const states = await catalog.partitionStates(assetKey);
  const ranges = partitionStatusRanges(keys, states);
  const listed = new Set(keys);
  let unlisted = 0;
  for (const key of states.keys()) if (!listed.has(key)) unlisted++;
  return { asset: assetKey, partitions: describePartitions(def), total: keys.length, counts: summarizePartitionStatus(ranges), ranges, unlisted };
}

