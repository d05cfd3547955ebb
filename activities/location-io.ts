import type { CodeLocationDefinition } from '../definitions/code-location';
import { CairnError, ErrorCodes } from '../definitions/errors';
import { DuckDBIOManager, DuckDBResource } from './duckdb';
import { isIOManager, type IOManager } from './io-manager';

/** A location's IO managers: its default, and the one of each asset (`asset({ io })` names a resource). */
export interface LocationIO {
  io: IOManager;
  ioFor(assetKey: string): IOManager;
  /** A warehouse the location did not bring, which the caller closes. */
  owned?: DuckDBResource;
}

/**
 * The IO managers of a code location, from its (built) resources. The default is its `io` resource; else DuckDB
 * tables in the location's own DuckDB resource; else DuckDB tables in `defaultWarehousePath`, through a resource
 * that the caller owns and closes. An asset with `io: 'name'` uses the resource of that name, which must be an
 * IO manager (validation reports a name that is not).
 */
export function locationIOManager(location: CodeLocationDefinition, defaultWarehousePath: string, resources: Readonly<Record<string, unknown>> = location.resources): LocationIO {
  let io: IOManager;
  let owned: DuckDBResource | undefined;
  const declared = resources.io;
  const existing = Object.values(resources).find((r): r is DuckDBResource => r instanceof DuckDBResource);
  if (isIOManager(declared)) io = declared;
  else if (existing) io = new DuckDBIOManager(existing);
  else {
    owned = new DuckDBResource({ path: defaultWarehousePath });
    io = new DuckDBIOManager(owned);
  }
  const byAsset = new Map<string, IOManager>();
  for (const a of location.assets) {
    if (a.io === undefined) continue;
    const named = resources[a.io];
    if (!isIOManager(named)) {
      throw new CairnError(ErrorCodes.InvalidDefinition, `asset '${a.key}': io '${a.io}' is not an IO manager resource of code location '${location.name}'`, a.key);
    }
    byAsset.set(a.key, named);
  }
  return { io, ioFor: (key) => byAsset.get(key) ?? io, ...(owned ? { owned } : {}) };
}
