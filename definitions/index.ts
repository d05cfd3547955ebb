// The pure authoring API and kernel: safe to import anywhere, including workflow code.
export { asset, externalAsset, DEFAULT_GROUP, DEFAULT_RETRY } from './asset';
export type { AssetDefinition, AssetOptions, AssetRef, ExternalAssetOptions, InputSpec, MaterializeContext, MaterializeResult, RetryOptions, StepLogger } from './asset';
export { assetKey, keyProblem, type AssetKey } from './asset-key';
export { codeLocation, type CodeLocationDefinition, type CodeLocationOptions } from './code-location';
export { CairnError, CairnErrors, ErrorCodes, NonRetryableError, SelectionError, type ErrorCode } from './errors';
export { AssetGraph, type GraphNode } from './graph';
export { graphFromSnapshots, planRun, type PlanStep, type RunPlan } from './plan';
export { parseSelection, evaluateSelection, selectAssets, selectionToString, type SelectionNode } from './selection';
export { sql, ident, rawSql, renderSql, isSqlFragment, type SqlFragment, type SqlIdentifier } from './sql';
export { locationSnapshot } from './to-snapshot';
export type { LocationSnapshot, AssetNodeSnapshot } from './snapshot';
export { validateGraph, validateLocation, validateWorkspace } from './validate';
export { WorkspaceFileSchema, type WorkspaceFile } from './workspace';
