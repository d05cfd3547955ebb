import type { CatalogStore } from '../activities/catalog/catalog-store';
import { openCatalog } from '../activities/catalog/open-catalog';
import { resolveSettings, type Settings } from '../workers/settings';
import { findWorkspaceFile, loadWorkspace, readWorkspaceFile, type LoadedWorkspace } from '../workers/workspace-loader';
import { dirname } from 'node:path';
import type { AssetGraph } from '../definitions/graph';
import { graphFromSnapshots } from '../definitions/plan';
import type { LocationSnapshot } from '../definitions/snapshot';
import { locationSnapshot } from '../definitions/to-snapshot';
import { CliExit, Exit, printProblems } from './errors';

export interface GlobalOptions {
  workspace?: string;
}

/** Loads the workspace and its modules; every problem is printed and the command ends with exit code 2. */
export async function loadValidWorkspace(opts: GlobalOptions): Promise<LoadedWorkspace & { settings: Settings }> {
  const ws = await loadWorkspaceModules(opts);
  if (ws.problems.length > 0) {
    printProblems(ws.problems);
    throw new CliExit(Exit.badInput, `workspace ${ws.file} has problems; fix them and run again (\`cairn check\` lists them)`);
  }
  return { ...ws, settings: resolveSettings(ws.root, ws.config) };
}

/**
 * Imports the workspace's modules after pointing the embedded warehouse at the workspace's own
 * (`duckdb()` without a path reads CAIRN_WAREHOUSE_PATH when the module loads).
 */
export async function loadWorkspaceModules(opts: GlobalOptions): Promise<LoadedWorkspace> {
  const settings = settingsOnly(opts);
  process.env.CAIRN_WAREHOUSE_PATH = settings.warehousePath;
  return await loadWorkspace(opts.workspace);
}

/** Settings from the workspace file alone, without importing code-location modules. */
export function settingsOnly(opts: GlobalOptions): Settings {
  const file = findWorkspaceFile(opts.workspace);
  return resolveSettings(dirname(file), readWorkspaceFile(file));
}

export async function withCatalog<T>(settings: Settings, fn: (catalog: CatalogStore) => Promise<T>): Promise<T> {
  const catalog = await openCatalog({ url: settings.catalogUrl, root: settings.root });
  try {
    return await fn(catalog);
  } finally {
    await catalog.close();
  }
}

/** One graph over every code location of a loaded workspace (the live definitions, not the snapshots). */
export function workspaceGraph(ws: LoadedWorkspace): AssetGraph {
  return graphFromSnapshots(workspaceSnapshots(ws));
}

/** The snapshots the workspace's workers would publish, built from the live definitions. */
export function workspaceSnapshots(ws: LoadedWorkspace): LocationSnapshot[] {
  return ws.locations.map(({ location }) => locationSnapshot(location));
}
