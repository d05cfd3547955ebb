/** StoredValue shapes shared by IO managers and the check runner. */
import type { Row, StoredValue } from '../definitions/stored-value';

/** The stored value of an output with no rows: no batches, no SQL access, loads as an empty list. */
export function emptyStoredValue(assetKey: string, partitionKeys?: readonly string[]): StoredValue {
  return {
    assetKey,
    ...(partitionKeys ? { partitionKeys } : {}),
    // eslint-disable-next-line require-yield
    async *batches(): AsyncGenerator<Row[]> {
      return;
    },
    load: () => Promise.resolve([]),
  };
}
