import type { NativeConnection } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES, type SearchAttributeTypeName } from '../definitions/search-attributes';

const INDEXED = proto.temporal.api.enums.v1.IndexedValueType;
type IndexedValueType = proto.temporal.api.enums.v1.IndexedValueType;
const TYPE_OF: Record<SearchAttributeTypeName, IndexedValueType> = {
  KEYWORD: INDEXED.INDEXED_VALUE_TYPE_KEYWORD,
  KEYWORD_LIST: INDEXED.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/**
 * Registers Cairn's search attributes on the namespace when missing (the dev server's `--search-attribute`
 * applies only when it creates the namespace, so a reused database needs this). Returns whether they are all
 * registered: the run workflow sets them only then, since setting an unregistered one fails workflow tasks.
 * A server that refuses (no operator permission on a shared cluster) gets a warning, not a failure.
 */
export async function ensureSearchAttributes(connection: NativeConnection, namespace: string, warn: (m: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<boolean> {
  const wanted = Object.values(SEARCH_ATTRIBUTES);
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const known = { ...(existing.customAttributes ?? {}), ...(existing.systemAttributes ?? {}) };
    const missing = wanted.filter((a) => !(a.name in known));
    if (missing.length === 0) return true;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((a) => [a.name, TYPE_OF[a.type]])),
    });
    return true;
  } catch (err) {
    warn(`cairn: could not register search attributes ${wanted.map((a) => a.name).join(', ')} on namespace '${namespace}' (${(err as Error).message}); runs will not carry them. Register them with \`temporal operator search-attribute create\`.`);
    return false;
  }
}
