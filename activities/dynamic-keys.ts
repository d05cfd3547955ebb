import { dynamicPartitionNames } from '../definitions/backfill-plan';
import type { PartitionsDefinition } from '../definitions/partitions/definitions';
import type { CatalogStore } from './catalog/catalog-store';

/** The catalog's current keys of every dynamic partitions definition that `defs` use, by name. */
export async function dynamicKeysFor(catalog: CatalogStore, defs: Iterable<PartitionsDefinition | undefined>): Promise<Record<string, string[]>> {
  const names = dynamicPartitionNames(defs);
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await catalog.dynamicPartitionKeys(n)] as const)));
}
