import type { PartitionContext } from '../asset';
import { CairnError, ErrorCodes } from '../errors';
import { partitionContext } from './context';
import type { PartitionsDefinition } from './definitions';
import { describePartitions, validatePartitionKey, type PartitionKeysOptions } from './keys';
import { defaultPartitionMapping, partitionMapper, type PartitionMapping } from './mappings';

/** What a step of a partitioned run needs to know about its asset. */
export interface StepPartitionAsset {
  key: string;
  partitions?: PartitionsDefinition;
  partitionMappings: Readonly<Record<string, PartitionMapping>>;
  ins: Readonly<Record<string, { key: string }>>;
}

/** The run's partitions as a step receives them: the keys, and whether they are a range run. */
export interface StepPartitionRequest {
  keys: readonly string[];
  range: boolean;
}

export interface StepPartitions {
  context?: PartitionContext;
  /**
   * Per input name: the upstream partition keys to load; `undefined` loads the whole upstream (it is not
   * partitioned, or this asset is not), `null` means no upstream partition maps to this run (e.g. the first
   * partition of an asset that reads its previous one): the input is `null`.
   */
  inputs: Record<string, readonly string[] | null | undefined>;
}

/**
 * Resolves a step's partitions: checks that a partitioned asset gets valid keys (and an unpartitioned one
 * none), builds its context, and maps each input to the upstream partitions it reads (declared mapping, or
 * the default between the two definitions). `upstreamDefs` holds the partitions of every input's asset
 * (undefined: unpartitioned). Throws CairnError (INVALID_PARTITION) naming the asset.
 */
export function resolveStepPartitions(
  a: StepPartitionAsset,
  request: StepPartitionRequest | undefined,
  upstreamDefs: ReadonlyMap<string, PartitionsDefinition | undefined>,
  options: PartitionKeysOptions,
): StepPartitions {
  const inputs: StepPartitions['inputs'] = {};
  const keys = request?.keys ?? [];
  if (!a.partitions) {
    if (keys.length > 0) throw new CairnError(ErrorCodes.InvalidPartition, `asset '${a.key}' is not partitioned, so it cannot run for partition '${keys[0]}'`, a.key);
    for (const name of Object.keys(a.ins)) inputs[name] = undefined;
    return { inputs };
  }
  const def = a.partitions;
  if (keys.length === 0) {
    throw new CairnError(ErrorCodes.InvalidPartition, `asset '${a.key}' has ${describePartitions(def)}: run it for a partition (\`cairn materialize --partition <key>\`) or backfill it (\`cairn backfill\`)`, a.key);
  }
  for (const k of keys) {
    try {
      validatePartitionKey(def, k, { dynamicKeys: options.dynamicKeys });
    } catch (err) {
      throw new CairnError(ErrorCodes.InvalidPartition, `asset '${a.key}': ${(err as Error).message}`, a.key);
    }
  }
  for (const [name, spec] of Object.entries(a.ins)) {
    const upDef = spec.key === a.key ? def : upstreamDefs.get(spec.key);
    if (!upDef) {
      inputs[name] = undefined;
      continue;
    }
    const mapping = a.partitionMappings[spec.key] ?? defaultPartitionMapping(def, upDef);
    const map = partitionMapper(mapping, def, upDef, options);
    const seen = new Set<string>();
    const out: string[] = [];
    for (const k of keys) {
      for (const u of map(k)) {
        // A range run reading its own earlier partitions reads only those before the range.
        if (spec.key === a.key && keys.includes(u)) continue;
        if (!seen.has(u)) {
          seen.add(u);
          out.push(u);
        }
      }
    }
    inputs[name] = out.length > 0 ? out : null;
  }
  return { context: partitionContext(def, keys, request?.range ?? false), inputs };
}
