import type { CodeLocationDefinition } from '../definitions/code-location';
import { DuckDBIOManager, DuckDBResource } from './duckdb';
import { isIOManager, type IOManager } from './io-manager';

/**
 * The IO manager of a code location: its `io` resource; else DuckDB tables in the location's own DuckDB
 * resource; else DuckDB tables in `defaultWarehousePath`, through a resource that the caller owns and closes.
 */
export function locationIOManager(location: CodeLocationDefinition, defaultWarehousePath: string): { io: IOManager; owned?: DuckDBResource } {
  const io = location.resources.io;
  if (isIOManager(io)) return { io };
  const existing = Object.values(location.resources).find((r): r is DuckDBResource => r instanceof DuckDBResource);
  if (existing) return { io: new DuckDBIOManager(existing) };
  const owned = new DuckDBResource({ path: defaultWarehousePath });
  return { io: new DuckDBIOManager(owned), owned };
}
