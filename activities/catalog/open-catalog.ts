import { isAbsolute, join, resolve } from 'node:path';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import type { CatalogStore } from './catalog-store';
import { SqliteCatalogStore } from './sqlite-store';

/** Environment variable naming the catalog when no URL is passed explicitly. */
export const CATALOG_URL_ENV = 'CAIRN_CATALOG_URL';

/** Where the embedded catalog lives, relative to the workspace root. */
export const DEFAULT_CATALOG_PATH = join('.cairn', 'catalog.db');

/**
 * Opens (and migrates) the catalog named by `opts.url`, else by `$CAIRN_CATALOG_URL`, else the embedded SQLite
 * file `<root>/.cairn/catalog.db`. Accepted forms: `sqlite:<path>` (also `sqlite://<path>`) or a plain path, both
 * resolved against `root` when relative, or `postgres://user:password@host:port/db` (PostgreSQL through `pg`).
 * @example
 * const catalog = await openCatalog({ root: process.cwd() });
 */
export async function openCatalog(opts: { url?: string; root: string }): Promise<CatalogStore> {
  const url = (opts.url ?? process.env[CATALOG_URL_ENV] ?? '').trim();
  if (url === '') return SqliteCatalogStore.open(resolve(opts.root, DEFAULT_CATALOG_PATH));
  if (/^postgres(ql)?:\/\//i.test(url)) {
    const { PostgresCatalogStore } = await import('./postgres-store');
    return PostgresCatalogStore.open(url);
  }
  let path = url;
  if (/^sqlite:/i.test(path)) path = path.slice('sqlite:'.length).replace(/^\/\/(?=.)/, '');
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    throw new CairnError(
      ErrorCodes.InvalidWorkspace,
      `catalog URL '${redact(url)}' has an unsupported scheme; use sqlite:<path> or a plain file path`,
      'catalog url',
    );
  }
  if (path === '') {
    throw new CairnError(ErrorCodes.InvalidWorkspace, `catalog URL '${url}' names no file`, 'catalog url');
  }
  return openSqlite(path === ':memory:' || isAbsolute(path) ? path : resolve(opts.root, path));
}

async function openSqlite(path: string): Promise<CatalogStore> {
  try {
    return await SqliteCatalogStore.open(path);
  } catch (err) {
    if (err instanceof CairnError) throw err;
    throw new CairnError(ErrorCodes.CatalogUnavailable, `cannot open the SQLite catalog '${path}': ${(err as Error).message}`, 'catalog url');
  }
}

/** Hides a password in `scheme://user:password@host` so error messages never leak it. */
export function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}
