// The pure authoring API and kernel. Workflow code imports single modules (plan-types), not this index.
export { asset, externalAsset, DEFAULT_GROUP, DEFAULT_RETRY } from './asset';
export type { AssetDefinition, AssetOptions, AssetRef, ExternalAssetOptions, InputSpec, MaterializeContext, MaterializeResult, RetryOptions, StepLogger } from './asset';
export { assetKey, keyProblem, type AssetKey } from './asset-key';
export { codeLocation, type CodeLocationDefinition, type CodeLocationOptions } from './code-location';
export { env, resource, isEnvVar, isResourceDefinition, describeResourceConfig } from './resource';
export type { EnvOptions, EnvVar, ResourceContext, ResourceDefinition, ResourceFactory, ResourceOptions, WithEnv } from './resource';
export type { CheckSpec, MultiAssetDefinition, MultiStepContext } from './multi-asset';
export { CairnError, CairnErrors, ErrorCodes, NonRetryableError, SelectionError, type ErrorCode } from './errors';
export { AssetGraph, type GraphNode } from './graph';
export { graphFromSnapshots, planRun, type PlanStep, type RunPlan } from './plan';
export { parseSelection, evaluateSelection, selectAssets, selectionToString, type SelectionNode } from './selection';
export { sql, ident, rawSql, renderSql, isSqlFragment, type SqlFragment, type SqlIdentifier } from './sql';
export { locationSnapshot } from './to-snapshot';
export type { LocationSnapshot, AssetNodeSnapshot } from './snapshot';
export { validateGraph, validateLocation, validateWorkspace } from './validate';
export { WorkspaceFileSchema, type WorkspaceFile } from './workspace';
export { meta, normalizeMetadata, type Metadata, type MetadataValue, type TableColumn } from './metadata';
export { evaluateFreshness, parseDuration, formatDuration, type FreshnessPolicy, type FreshnessPolicyInput, type FreshnessResult } from './freshness';
export { automation, describeCondition, type AutomationCondition } from './automation';
export { computeStaleness, type AssetState, type StaleCause } from './staleness';
export type { DepSpec, ExecOptions, ExecResult, PartitionContext } from './asset';
export {
  allPartitions, dailyPartitions, describePartitions, dynamicPartitions, hourlyPartitions, identity, keysInRange, lastPartition, monthlyPartitions, multiPartitions,
  multiRun, multiToSingle, partitionKeys, partitionWindow, singleRun, staticMapping, staticPartitions, timeWindowMapping, timeWindowPartitions, upstreamPartitions,
  validatePartitionKey, weeklyPartitions,
  type BackfillPolicy, type PartitionMapping, type PartitionsDefinition,
} from './partitions';
export { partitionStatusRanges, summarizePartitionStatus } from './partitions/status';
export type { BackfillPartitions, BackfillRunPolicy } from './backfill-types';
export { check, type AssetCheckDefinition, type CheckContext, type CheckOptions, type CheckOutput, type CheckSeverity } from './checks';
export { rowCountAtLeast, notNull, unique, acceptedValues, matchesSchema, type BuiltinCheckOptions } from './builtin-checks';
export { ContractViolationError, type ContractViolation } from './contract';
export type { StoredValue, SqlAccess, Row } from './stored-value';
export type { LoadMode } from './asset';
export { job, isJob, type JobDefinition, type JobOptions } from './job';
export { schedule, scheduleId, isSchedule, type ScheduleDefinition, type ScheduleOptions, type ScheduleOverlap } from './schedule';
export type { JobSnapshot, ScheduleSnapshot } from './snapshot';
export { sensor, isSensor, sensorWorkflowId, parseSensorResult, SensorResultSchema, type SensorDefinition, type SensorOptions, type SensorContext, type SensorResult } from './sensor';
export type { SensorCatalog, SensorAssetEvent, SensorRunRecord } from './sensor';
export { assetSensor, runFailureSensor, type AssetSensorOptions, type RunFailureSensorOptions, type RunFailureContext, type RunMonitor } from './builtin-sensors';
