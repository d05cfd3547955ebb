import { z } from 'zod';

/**
 * zod schemas of the partition data that snapshots carry: definitions, mappings and backfill policies. A
 * snapshot read back from the catalog is parsed with these, so a malformed one fails loudly at the boundary.
 */
const TimeDefSchema = z.object({
  kind: z.literal('time'),
  cron: z.string(),
  start: z.string(),
  end: z.string().optional(),
  timezone: z.string(),
  format: z.string(),
  endOffset: z.number().int(),
});
const StaticDefSchema = z.object({ kind: z.literal('static'), keys: z.array(z.string()) });
const DynamicDefSchema = z.object({ kind: z.literal('dynamic'), name: z.string() });
const DimensionSchema = z.discriminatedUnion('kind', [TimeDefSchema, StaticDefSchema, DynamicDefSchema]);
const MultiDefSchema = z.object({
  kind: z.literal('multi'),
  dimensions: z.array(z.object({ name: z.string(), partitions: DimensionSchema })),
});

export const PartitionsDefinitionSchema = z.discriminatedUnion('kind', [TimeDefSchema, StaticDefSchema, DynamicDefSchema, MultiDefSchema]);

export const PartitionMappingSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('identity') }),
  z.object({ kind: z.literal('timeWindow'), startOffset: z.number().int(), endOffset: z.number().int() }),
  z.object({ kind: z.literal('all') }),
  z.object({ kind: z.literal('last') }),
  z.object({ kind: z.literal('static'), map: z.record(z.string(), z.array(z.string())) }),
  z.object({ kind: z.literal('multiToSingle'), dimension: z.string() }),
]);

export const BackfillPolicySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('singleRun') }),
  z.object({ kind: z.literal('multiRun'), maxPartitionsPerRun: z.number().int().min(1) }),
]);
export type BackfillPolicy = z.infer<typeof BackfillPolicySchema>;

/** A backfill runs all of this asset's partitions in one run per range (`partition.range` in its context). */
export function singleRun(): BackfillPolicy {
  return { kind: 'singleRun' };
}

/** A backfill runs this asset's partitions in runs of at most `maxPartitionsPerRun` consecutive keys. */
export function multiRun(maxPartitionsPerRun = 1): BackfillPolicy {
  return { kind: 'multiRun', maxPartitionsPerRun };
}
