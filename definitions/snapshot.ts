import { z } from 'zod';
import { AutomationConditionSchema } from './automation';
import { FreshnessPolicySchema } from './freshness';
import { BackfillPolicySchema, PartitionMappingSchema, PartitionsDefinitionSchema } from './partitions/schema';

/**
 * What a code-location worker publishes to the catalog when it starts: every structural fact the planner,
 * the CLI and the UI need, and nothing that runs or that is secret (no functions, no resource config values).
 */
export const RetryPolicySchema = z.object({
  maxAttempts: z.number().int().min(1).max(100),
  initialIntervalMs: z.number().int().min(1),
  backoffCoefficient: z.number().min(1),
  maxIntervalMs: z.number().int().min(1).optional(),
});
export type RetryPolicy = z.infer<typeof RetryPolicySchema>;

export const AssetNodeSnapshotSchema = z.object({
  key: z.string(),
  deps: z.array(z.string()),
  group: z.string(),
  kinds: z.array(z.string()),
  owners: z.array(z.string()),
  tags: z.record(z.string(), z.string()),
  description: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()),
  codeVersion: z.string().optional(),
  freshness: FreshnessPolicySchema.optional(),
  partitions: PartitionsDefinitionSchema.optional(),
  /** Declared partition mappings by upstream key; the asset's own key for a dependency on its earlier partitions. */
  partitionMappings: z.record(z.string(), PartitionMappingSchema).optional(),
  backfillPolicy: BackfillPolicySchema.optional(),
  retry: RetryPolicySchema.optional(),
  isExternal: z.boolean(),
  /** The multi-asset step (a dbt project) that produces this asset, run once for all its selected assets. */
  multiAsset: z.string().optional(),
  /** An external asset declared only because something reads it (a dbt source); a real definition replaces it. */
  placeholder: z.boolean().optional(),
  /** Checks evaluated by the step that produces the asset (dbt tests). */
  checks: z.array(z.object({ name: z.string(), description: z.string().optional(), severity: z.enum(['ERROR', 'WARN']), blocking: z.boolean() })).optional(),
  /** JSON Schema of the asset's data contract (`asset({ schema })`), when it declares one. */
  contract: z.unknown().optional(),
  /** The resource that is the asset's IO manager, when not the location's default. */
  io: z.string().optional(),
  /** When the automation workflow requests it (absent: manual). */
  automation: AutomationConditionSchema.optional(),
  /** JSON Schema of the asset's run config, when it declares one. */
  configSchema: z.unknown().optional(),
  resources: z.array(z.string()),
  codeLocation: z.string(),
});
export type AssetNodeSnapshot = z.infer<typeof AssetNodeSnapshotSchema>;

export const JobSnapshotSchema = z.object({
  name: z.string(),
  selection: z.string(),
  description: z.string().optional(),
  tags: z.record(z.string(), z.string()),
  /** Run config per asset key for the job's runs. */
  config: z.record(z.string(), z.unknown()).optional(),
  partitions: PartitionsDefinitionSchema.optional(),
});
export type JobSnapshot = z.infer<typeof JobSnapshotSchema>;

export const ScheduleSnapshotSchema = z.object({
  name: z.string(),
  /** The Temporal Schedule id: `cairn/<location>/<name>`. */
  id: z.string(),
  cron: z.string(),
  timezone: z.string(),
  job: z.string().optional(),
  selection: z.string(),
  /** `function`: the location's worker maps the tick to a key. */
  partition: z.enum(['latest', 'function']).optional(),
  tags: z.record(z.string(), z.string()),
  overlap: z.string(),
  description: z.string().optional(),
});
export type ScheduleSnapshot = z.infer<typeof ScheduleSnapshotSchema>;

export const SensorSnapshotSchema = z.object({
  name: z.string(),
  /** The sensor's workflow id: `cairn/sensor/<location>/<name>`. */
  id: z.string(),
  minimumInterval: z.string(),
  job: z.string().optional(),
  selection: z.string().optional(),
  description: z.string().optional(),
});
export type SensorSnapshot = z.infer<typeof SensorSnapshotSchema>;

export const LocationSnapshotSchema = z.object({
  name: z.string(),
  taskQueue: z.string(),
  /** Hash of the snapshot's content: a worker that restarts with the same code publishes the same version. */
  version: z.string(),
  assets: z.array(AssetNodeSnapshotSchema),
  /** Per resource: its type, and for a declared resource its config with `env:NAME` in place of each variable. */
  resources: z.record(z.string(), z.object({ type: z.string(), config: z.unknown().optional() })),
  jobs: z.array(JobSnapshotSchema).optional(),
  schedules: z.array(ScheduleSnapshotSchema).optional(),
  sensors: z.array(SensorSnapshotSchema).optional(),
});
export type LocationSnapshot = z.infer<typeof LocationSnapshotSchema>;

// Task queue names live with the plan's types, which workflow code may import (this file pulls in zod).
export { locationTaskQueue, ORCHESTRATOR_TASK_QUEUE } from './plan-types';
