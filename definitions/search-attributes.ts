/**
 * Temporal search attributes that run workflows carry, so `temporal workflow list -q "CairnTrigger='cli'"` and
 * the Web UI find runs. Kept within the dev server's SQLite visibility limits (Keyword 10, KeywordList 3 per
 * namespace). Values never hold secrets: search attributes are not encrypted.
 */
export const SEARCH_ATTRIBUTES = {
  /** Code locations that run steps of the run. */
  locations: { name: 'CairnLocations', type: 'KeywordList' },
  /** `cli`, `sdk`, `manual`, `reexecution`, `schedule`, ... */
  trigger: { name: 'CairnTrigger', type: 'Keyword' },
  /** The partition key of a partitioned run. */
  partition: { name: 'CairnPartition', type: 'Keyword' },
  /** The first run of a re-execution chain (the run itself when it is not a re-execution). */
  rootRun: { name: 'CairnRootRun', type: 'Keyword' },
} as const;

/** `--search-attribute Name=Type` arguments for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(): string[] {
  return Object.values(SEARCH_ATTRIBUTES).flatMap((a) => ['--search-attribute', `${a.name}=${a.type}`]);
}
