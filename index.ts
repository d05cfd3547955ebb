/**
 * Cairn's public API: what code locations and users' tests import as `cairn`.
 * @example
 * import { asset, codeLocation, duckdb } from 'cairn';
 */
export * from './definitions/index';
export { dbtAssets, defaultPartitionVars, type DbtAssetsOptions, type DbtNode } from './activities/dbt';
export { duckdb, DuckDBResource, DuckDBIOManager, type TableInput } from './activities/duckdb';
export { materializeInProcess, type InProcessOptions, type InProcessResult } from './activities/in-process';
export type { IOManager, LoadMode } from './activities/io-manager';
export type { RunSummary, StepReport } from './activities/types';
export { CairnClient, type RunHandle, type MaterializeAssetsInput, type BackfillInput, type BackfillProgress, type BackfillSummary } from './client/cairn-client';
export { CairnCatalog, type AssetStateRow, type ReportInput, type ReportResult } from './client/catalog-client';
export { memoryIO, MemoryIOManager, jsonIO, JsonIOManager, parquetIO, ParquetIOManager, type JsonIOOptions, type ParquetIOOptions, type ParquetInput } from './activities/io';
export type { Audit, AuditVerdict, HandledOutput, OutputInfo, StagedOutput } from './activities/io-manager';
export type { CheckEvaluation } from './activities/run-checks';
