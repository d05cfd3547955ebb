/**
 * The catalog as a location worker's steps see it: every event and log line passes through the redactor first,
 * so a secret that a step logs, puts in metadata or in an error never reaches the catalog.
 */
import type { CatalogStore } from './catalog/catalog-store';
import type { Redactor } from './redact';

export function redactingCatalog(catalog: CatalogStore, redactor: Redactor): CatalogStore {
  if (!redactor.active) return catalog;
  const overrides: Partial<CatalogStore> = {
    appendLogs: (runId, assetKey, attempt, lines) => catalog.appendLogs(runId, assetKey, attempt, redactor.value(lines)),
    recordAssetEvent: (e) => catalog.recordAssetEvent(redactor.value(e)),
  };
  return new Proxy(catalog, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop in overrides) return overrides[prop as keyof CatalogStore];
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
}
