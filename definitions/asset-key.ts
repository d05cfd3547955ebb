import { CairnError, ErrorCodes } from './errors';

/** A path-like asset key, `raw/stripe/payments`. Branded so that plain strings are checked once. */
export type AssetKey = string & { readonly __brand: 'AssetKey' };

const SEGMENT = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Returns a problem description, or undefined when `key` is a valid asset key. */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return `an asset key must be a string, got ${typeof key}`;
  if (key.length === 0) return 'an asset key must not be empty';
  if (key.length > 255) return `asset key '${key.slice(0, 40)}...' is longer than 255 characters`;
  const segments = key.split('/');
  for (const [i, segment] of segments.entries()) {
    if (segment.length === 0) {
      return `asset key '${key}' has an empty segment (position ${i + 1}); use 'a/b/c' with no leading, trailing or double '/'`;
    }
    if (!SEGMENT.test(segment)) {
      return `asset key '${key}' has an invalid segment '${segment}': segments start with a letter or '_' and contain only letters, digits, '_', '.' and '-'`;
    }
  }
  return undefined;
}

export function assetKey(key: string): AssetKey {
  const problem = keyProblem(key);
  if (problem) throw new CairnError(ErrorCodes.InvalidKey, problem, key);
  return key as AssetKey;
}
