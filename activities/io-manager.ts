/**
 * Where an asset's value is stored and how downstream steps load it. The DuckDB table IO manager is the
 * default; a code location overrides it with a resource named `io`.
 */
/**
 * Stores asset values and loads them for downstream steps. `handleOutput` returns metadata about what it
 * stored: typed values (`meta.rowCount(n)`) or plain ones, which are typed by their JavaScript type.
 */
export interface IOManager {
  handleOutput(info: { assetKey: string; runId: string }, value: unknown): Promise<{ metadata: Record<string, unknown> }>;
  /** `relation` hands the step something to query in the warehouse; `rows` loads the values. */
  loadInput(upstreamKey: string, mode: 'relation' | 'rows'): Promise<unknown>;
}

export function isIOManager(value: unknown): value is IOManager {
  return typeof value === 'object' && value !== null && typeof (value as IOManager).handleOutput === 'function' && typeof (value as IOManager).loadInput === 'function';
}
