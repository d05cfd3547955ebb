/**
 * Partitions: definitions (plain data), their keys and windows, and mappings between them. Pure: `now` and
 * the dynamic keys from the catalog are always parameters.
 */
export * from './definitions';
export {
  describePartitions,
  keysInRange,
  partitionKeys,
  partitionsProblems,
  partitionWindow,
  validatePartitionKey,
  type PartitionKeysOptions,
  type PartitionWindow,
  type ValidateKeyOptions,
} from './keys';
export * from './mappings';
export { BackfillPolicySchema, PartitionMappingSchema, PartitionsDefinitionSchema, multiRun, singleRun, type BackfillPolicy } from './schema';
export { partitionContext, partitionLabel } from './context';
export { resolveStepPartitions, type StepPartitionAsset, type StepPartitionRequest, type StepPartitions } from './inputs';
