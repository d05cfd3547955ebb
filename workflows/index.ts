// The workflowsPath of the orchestrator worker: every workflow type Cairn registers on task queue `cairn`.
export { materializeAssets } from './materialize-assets';
export type { MaterializeAssetsInput } from './materialize-assets';
export { backfill } from './backfill';
export type { BackfillInput, BackfillSummary } from './backfill';
export { sensor } from './sensor';
export type { SensorInput } from './sensor';
export { automation } from './automation';
export type { AutomationInput } from './automation';
