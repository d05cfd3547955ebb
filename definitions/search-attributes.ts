/**
 * Temporal search attributes that run workflows carry, so `temporal workflow list -q "CairnTrigger='cli'"` and
 * the Web UI find runs. Kept within the dev server's SQLite visibility limits (Keyword 10, KeywordList 3 per
 * namespace). Values never hold secrets: search attributes are not encrypted.
 *
 * Each entry has the shape of the SDK's `SearchAttributeKey` (`{ name, type }`), so workflow code passes it to
 * `upsertSearchAttributes` as it is, without importing `@temporalio/common`.
 */
export const SEARCH_ATTRIBUTES = {
  /** Code locations that run steps of the run. */
  locations: { name: 'CairnLocations', type: 'KEYWORD_LIST' },
  /** `cli`, `sdk`, `manual`, `reexecution`, `schedule`, ... */
  trigger: { name: 'CairnTrigger', type: 'KEYWORD' },
  /** The partition key of a partitioned run. */
  partition: { name: 'CairnPartition', type: 'KEYWORD' },
  /** The backfill a run belongs to (its id), and on the backfill workflow itself. */
  backfill: { name: 'CairnBackfill', type: 'KEYWORD' },
  /** The first run of a re-execution chain (the run itself when it is not a re-execution). */
  rootRun: { name: 'CairnRootRun', type: 'KEYWORD' },
} as const;

export type SearchAttributeTypeName = (typeof SEARCH_ATTRIBUTES)[keyof typeof SEARCH_ATTRIBUTES]['type'];

/** The temporal CLI's spelling of each type (`--search-attribute Name=Type`). */
const CLI_TYPE: Record<SearchAttributeTypeName, string> = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList' };

/** `--search-attribute Name=Type` arguments for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(): string[] {
  return Object.values(SEARCH_ATTRIBUTES).flatMap((a) => ['--search-attribute', `${a.name}=${CLI_TYPE[a.type]}`]);
}
