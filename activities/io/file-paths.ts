/**
 * Where the file-based IO managers (JSON, Parquet) keep values under their root directory `dir`:
 * - an asset's value: `<dir>/<key segments>.<ext>` (`raw/orders` → `<dir>/raw/orders.parquet`);
 * - one partition of it: `<dir>/<key segments>/partition_key=<encoded key>.<ext>`;
 * - a write in progress: a hidden temp file next to its target (`.<name>.<random>.tmp`), renamed into place;
 * - rejected writes kept for inspection: `<dir>/.cairn-wap/` (see `file-wap`).
 * Asset key segments hold only `[A-Za-z0-9_.-]` and start with a letter or `_`, so an asset's path never meets a
 * partition file (those contain `=`), a temp file or the WAP folder (those start with `.`).
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { keyProblem } from '../../definitions/asset-key';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import { checkLoadKeys } from './values';

/** Starts every partition file's name; the rest is the encoded partition key. */
export const PARTITION_FILE_PREFIX = 'partition_key=';

/** The folder (under the root) holding rejected writes; hidden, so no asset key can reach it. */
export const WAP_DIR = '.cairn-wap';

/** File names are at most 255 bytes on common file systems; this leaves room for the temp file's suffix. */
const MAX_FILE_NAME_BYTES = 200;

/** Characters a partition file name keeps as they are; every other byte of the key's UTF-8 is `%XX`. */
const SAFE = /[A-Za-z0-9_.-]/;

/** The root directory of a file IO manager, absolute; `option` names the factory for the message. */
export function rootDir(dir: unknown, option: string): string {
  if (typeof dir !== 'string' || dir.trim() === '') throw new TypeError(`${option} needs a directory: ${option.replace('()', '({ dir: ".cairn/data" })')}`);
  return resolve(dir);
}

/** The asset key's segments, checked (so a key such as `../x` can never leave the root). */
export function keySegments(assetKey: string): string[] {
  const problem = keyProblem(assetKey);
  if (problem) throw new CairnError(ErrorCodes.InvalidKey, problem, assetKey);
  return assetKey.split('/');
}

/** `<dir>/<key segments><ext>`: where an unpartitioned value lives. */
export function assetFile(dir: string, assetKey: string, ext: string): string {
  return `${join(dir, ...keySegments(assetKey))}${ext}`;
}

/** `<dir>/<key segments>`: the folder of a partitioned asset's partition files. */
export function partitionDir(dir: string, assetKey: string): string {
  return join(dir, ...keySegments(assetKey));
}

/**
 * `partition_key=<key>.<ext>` with every character outside `[A-Za-z0-9_.-]` percent-encoded (UTF-8), so `/`,
 * `|`, `..` or `*` in a key stay inside one file name and the name decodes back to the key. Keys that differ only
 * in letter case share a file on case-insensitive file systems (macOS, Windows), as they share a table in DuckDB.
 */
export function partitionFileName(assetKey: string, key: string, ext: string): string {
  let encoded = '';
  for (const ch of key) {
    encoded += SAFE.test(ch) ? ch : [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
  const name = `${PARTITION_FILE_PREFIX}${encoded}${ext}`;
  if (Buffer.byteLength(name) > MAX_FILE_NAME_BYTES) {
    throw new CairnError(
      ErrorCodes.InvalidPartition,
      `asset '${assetKey}': partition key ${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)} is too long for a file name ` +
        `(${Buffer.byteLength(name)} bytes encoded, at most ${MAX_FILE_NAME_BYTES}); use shorter keys or the DuckDB IO manager`,
      assetKey,
    );
  }
  return name;
}

/** The partition key a partition file holds, or undefined when `name` is not a partition file with `ext`. */
export function partitionKeyOfFile(name: string, ext: string): string | undefined {
  if (!name.startsWith(PARTITION_FILE_PREFIX) || !name.endsWith(ext)) return undefined;
  try {
    return decodeURIComponent(name.slice(PARTITION_FILE_PREFIX.length, name.length - ext.length));
  } catch {
    return undefined;
  }
}

/** A fresh hidden temp file next to `target`, on the same file system, so renaming it into place is atomic. */
export function tempFileFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** The partition files of `folder` (missing folder: none), by key, sorted by key. */
export async function listPartitionFiles(folder: string, ext: string): Promise<Map<string, string>> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (err) {
    if (isNotFound(err)) return new Map();
    throw err;
  }
  const found: [string, string][] = [];
  for (const name of names) {
    const key = partitionKeyOfFile(name, ext);
    if (key !== undefined) found.push([key, join(folder, name)]);
  }
  return new Map(found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Whether a file system error says the file or folder does not exist. */
export function isNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Where a value was found: one file, or partition files by key (`sibling`: some other partition's file, for its schema). */
export type Located = { readonly whole: string } | { readonly parts: ReadonlyMap<string, string>; readonly askedOne: boolean; readonly sibling?: string };

/**
 * Finds the stored files of `assetKey`. With `partitionKeys`: the files of those of them that exist; else the
 * unpartitioned file (an unpartitioned upstream ignores the filter, as in DuckDB); else no file, when the asset
 * has other partitions. Without: the unpartitioned file, else every partition file. Undefined when nothing is
 * stored.
 */
export async function locateFiles(dir: string, assetKey: string, ext: string, partitionKeys?: readonly string[]): Promise<Located | undefined> {
  checkLoadKeys(assetKey, partitionKeys);
  const whole = assetFile(dir, assetKey, ext);
  const folder = partitionDir(dir, assetKey);
  if (partitionKeys) {
    const found = new Map<string, string>();
    for (const key of new Set(partitionKeys)) {
      const file = join(folder, partitionFileName(assetKey, key, ext));
      if (await isFile(file)) found.set(key, file);
    }
    if (found.size > 0) return { parts: found, askedOne: partitionKeys.length === 1 };
    if (await isFile(whole)) return { whole };
    const [sibling] = (await listPartitionFiles(folder, ext)).values();
    return sibling === undefined ? undefined : { parts: found, askedOne: partitionKeys.length === 1, sibling };
  }
  if (await isFile(whole)) return { whole };
  const all = await listPartitionFiles(folder, ext);
  return all.size > 0 ? { parts: all, askedOne: false } : undefined;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
