/**
 * Where an asset's value is stored and how downstream steps load it. The DuckDB table IO manager is the
 * default; a code location overrides it with a resource named `io`.
 */
/**
 * Stores asset values and loads them for downstream steps. `handleOutput` returns metadata about what it
 * stored: typed values (`meta.rowCount(n)`) or plain ones, which are typed by their JavaScript type.
 */
export interface IOManager {
  /**
   * Stores a step's value. With `partitionKeys` (a partitioned asset) only those partitions are replaced and
   * every other partition is kept.
   */
  handleOutput(info: { assetKey: string; runId: string; partitionKeys?: readonly string[] }, value: unknown): Promise<{ metadata: Record<string, unknown> }>;
  /**
   * `relation` hands the step something to query in the warehouse; `rows` loads the values. With
   * `partitionKeys` (a partitioned upstream) exactly those partitions are loaded; never an empty list.
   */
  loadInput(upstreamKey: string, mode: 'relation' | 'rows', partitionKeys?: readonly string[]): Promise<unknown>;
}

export function isIOManager(value: unknown): value is IOManager {
  return typeof value === 'object' && value !== null && typeof (value as IOManager).handleOutput === 'function' && typeof (value as IOManager).loadInput === 'function';
}
