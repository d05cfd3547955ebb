// The workflowsPath of the orchestrator worker: every workflow type Cairn registers on task queue `cairn`.
export { materializeAssets } from './materialize-assets';
export type { MaterializeAssetsInput } from './materialize-assets';
