/** The catalog: Cairn's event store (snapshots, runs and the run index, step results, asset events, logs). */
export type {
  AssetEvent,
  AssetEventType,
  AssetHistoryPage,
  AssetHistoryQuery,
  AssetStatus,
  CatalogStore,
  CheckResult,
  LogLine,
  PruneResult,
  RunEvent,
  RunFilter,
  RunRecord,
  RunStart,
  RunStatus,
  StepResultRecord,
  StepStatus,
  StoredAssetEvent,
} from './catalog-store';
export { runEventKey } from './catalog-store';
export { SqliteCatalogStore } from './sqlite-store';
export { CATALOG_URL_ENV, DEFAULT_CATALOG_PATH, openCatalog, redact } from './open-catalog';
