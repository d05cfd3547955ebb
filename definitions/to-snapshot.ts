import { z } from 'zod';
import type { AssetDefinition } from './asset';
import { resourceType, type CodeLocationDefinition } from './code-location';
import { isAutomated, type AutomationCondition } from './automation';
import { normalizeFreshness } from './freshness';
import { fnv1a64, stableStringify } from './hash';
import type { CheckSpec } from './multi-asset';
import { describeResourceConfig, isResourceDefinition } from './resource';
import { scheduleId } from './schedule';
import { sensorWorkflowId } from './sensor';
import { locationTaskQueue, type AssetNodeSnapshot, type JobSnapshot, type LocationSnapshot, type ScheduleSnapshot, type SensorSnapshot } from './snapshot';

/** The JSON Schema of a zod schema, or undefined when it has none (validation reports it; the snapshot stays publishable). */
function jsonSchema(schema: unknown): unknown {
  if (schema === undefined) return undefined;
  try {
    return z.toJSONSchema(schema as z.ZodType);
  } catch {
    return undefined;
  }
}

function assetSnapshot(a: AssetDefinition<any>, location: string, multiChecks: readonly CheckSpec[]): AssetNodeSnapshot {
  const configSchema = jsonSchema(a.config);
  const contract = jsonSchema(a.schema);
  const checks = [...multiChecks, ...(Array.isArray(a.checks) ? a.checks : [])];
  const freshness = a.freshness === undefined ? undefined : normalizeFreshness(a.freshness, a.key).policy;
  return {
    key: a.key,
    deps: [...a.deps],
    group: a.group,
    kinds: [...a.kinds],
    owners: [...a.owners],
    tags: { ...a.tags },
    ...(a.description !== undefined ? { description: a.description } : {}),
    metadata: JSON.parse(JSON.stringify(a.metadata ?? {})) as Record<string, unknown>,
    ...(a.codeVersion !== undefined ? { codeVersion: a.codeVersion } : {}),
    ...(freshness !== undefined ? { freshness } : {}),
    ...(a.partitions !== undefined ? { partitions: JSON.parse(JSON.stringify(a.partitions)) as NonNullable<AssetNodeSnapshot['partitions']> } : {}),
    ...(Object.keys(a.partitionMappings ?? {}).length > 0 ? { partitionMappings: JSON.parse(JSON.stringify(a.partitionMappings)) as NonNullable<AssetNodeSnapshot['partitionMappings']> } : {}),
    ...(a.backfillPolicy !== undefined ? { backfillPolicy: { ...a.backfillPolicy } } : {}),
    ...(a.isExternal ? {} : { retry: a.retry }),
    isExternal: a.isExternal,
    ...(a.multiAsset !== undefined ? { multiAsset: a.multiAsset } : {}),
    ...(a.placeholder ? { placeholder: true } : {}),
    ...(checks.length > 0 ? { checks: checks.map((c) => ({ name: c.name, ...(c.description ? { description: c.description } : {}), severity: c.severity, blocking: c.blocking })) } : {}),
    ...(contract !== undefined ? { contract } : {}),
    ...(typeof a.io === 'string' ? { io: a.io } : {}),
    ...(isAutomated(a.automation) ? { automation: JSON.parse(JSON.stringify(a.automation)) as AutomationCondition } : {}),
    ...(configSchema !== undefined ? { configSchema } : {}),
    resources: [...a.resources],
    codeLocation: location,
  };
}

/** The publishable, function-free and secret-free description of a code location. */
export function locationSnapshot(location: CodeLocationDefinition): LocationSnapshot {
  const checks = new Map<string, CheckSpec[]>();
  for (const c of (location.multiAssets ?? []).flatMap((m) => m.checks)) checks.set(c.asset, [...(checks.get(c.asset) ?? []), c]);
  const assets = location.assets.map((a) => assetSnapshot(a, location.name, checks.get(a.key) ?? [])).sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const resources = Object.fromEntries(Object.entries(location.resources).map(([name, r]) => [name, isResourceDefinition(r) ? { type: resourceType(r), config: describeResourceConfig(r) } : { type: resourceType(r) }]));
  const jobs = (location.jobs ?? []).map((j): JobSnapshot => ({
    name: j.name, selection: j.selection, ...(j.description !== undefined ? { description: j.description } : {}), tags: { ...j.tags },
    ...(j.config !== undefined ? { config: JSON.parse(JSON.stringify(j.config)) as Record<string, unknown> } : {}),
    ...(j.partitions !== undefined ? { partitions: JSON.parse(JSON.stringify(j.partitions)) as NonNullable<JobSnapshot['partitions']> } : {}),
  }));
  const schedules = (location.schedules ?? []).map((s): ScheduleSnapshot => ({
    name: s.name, id: scheduleId(location.name, s.name), cron: s.cron, timezone: s.timezone, ...(s.job !== undefined ? { job: s.job } : {}), selection: s.selection,
    ...(s.partition !== undefined ? { partition: s.partition === 'latest' ? 'latest' : 'function' } : {}), tags: { ...s.tags }, overlap: s.overlap,
    ...(s.description !== undefined ? { description: s.description } : {}),
  }));
  const sensors = (location.sensors ?? []).map((s): SensorSnapshot => ({
    name: s.name, id: sensorWorkflowId(location.name, s.name), minimumInterval: s.minimumInterval,
    ...(s.job !== undefined ? { job: s.job } : {}), ...(s.selection !== undefined ? { selection: s.selection } : {}), ...(s.description !== undefined ? { description: s.description } : {}),
  }));
  // Jobs, schedules and sensors only when there are some, so the version of a location without them does not change.
  const body = {
    name: location.name, taskQueue: locationTaskQueue(location.name), assets, resources,
    ...(jobs.length > 0 ? { jobs } : {}), ...(schedules.length > 0 ? { schedules } : {}), ...(sensors.length > 0 ? { sensors } : {}),
  };
  return { ...body, version: fnv1a64(stableStringify(body)) };
}
