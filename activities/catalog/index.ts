/** The catalog: Cairn's event store (snapshots, runs, step results, materializations, logs). */
export type {
  AssetStatus,
  CatalogStore,
  LogLine,
  MaterializationRecord,
  RunRecord,
  RunStatus,
  StepResultRecord,
  StepStatus,
} from './catalog-store';
export { SqliteCatalogStore } from './sqlite-store';
export { CATALOG_URL_ENV, DEFAULT_CATALOG_PATH, openCatalog } from './open-catalog';
