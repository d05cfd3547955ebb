/**
 * Write-audit-publish for the file IO managers. A write first fills hidden temp files next to their targets;
 * the audit reads those; publishing renames each temp file over its target (atomic per file, on one file
 * system), so a reader sees a file's old content or its new content, never a partial file. A write of several
 * partitions publishes them one file after another: a concurrent reader of several partitions may see some
 * already new and some still old, each of them whole.
 *
 * A rejected write is moved to `<dir>/.cairn-wap/<kept name><ext>` (a folder of partition files for a
 * partitioned write) next to `<kept name>.meta.json`, which says which asset, run and reason it came from.
 * Nothing under `.cairn-wap` is ever read by a downstream step.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { meta } from '../../definitions/metadata';
import type { StoredValue } from '../../definitions/stored-value';
import { parseStagedRecord, stagedFromRecord, stagedName, WAP_INFIX, type Audit, type HandledOutput, type OutputInfo, type StagedOutput } from '../io-manager';
import { isNotFound, keySegments, tempFileFor, WAP_DIR } from './file-paths';
import { checkVerdict } from './values';

/** One file of a write: `temp` holds its new content; without `temp` the write removes `target` (no rows for it). */
export interface StagedFile {
  readonly target: string;
  readonly temp?: string;
  readonly partitionKey?: string;
}

const SIDECAR = '.meta.json';

/** What a file IO manager hands to {@link settleWrite}. */
export interface FileWrite {
  readonly dir: string;
  readonly ext: string;
  readonly info: OutputInfo;
  readonly files: readonly StagedFile[];
  /** Rows written (undefined for a value that is not rows). */
  readonly rowCount?: number;
  /** Metadata of the published value. */
  readonly metadata: Record<string, unknown>;
  /** The staged value as the audit sees it. */
  readonly staged: () => StoredValue;
}

/**
 * Audits the staged files (when there is an audit) and publishes them, or keeps them when the audit rejects the
 * write (not when it had no rows); when the audit throws, or anything fails, the temp files are removed and the
 * published files are left as they were.
 */
export async function settleWrite(write: FileWrite, audit?: Audit): Promise<HandledOutput> {
  try {
    if (audit) {
      const verdict = checkVerdict(await audit(write.staged()), write.info.assetKey);
      if (!verdict.publish) {
        if (write.rowCount === 0) {
          await discardFiles(write.files);
          return { metadata: {}, published: false };
        }
        const staged = await keepRejected(write, verdict.reason);
        const count = write.rowCount !== undefined ? { rowCount: meta.rowCount(write.rowCount) } : {};
        return { metadata: { staged_path: meta.text(staged.id), ...count }, published: false, staged };
      }
    }
    for (const file of write.files) {
      if (file.temp) await rename(file.temp, file.target);
      else await rm(file.target, { force: true });
    }
    return { metadata: write.metadata };
  } catch (err) {
    await discardFiles(write.files);
    throw err;
  }
}

/** Removes the temp files of a write that will not be published. */
export async function discardFiles(files: readonly StagedFile[]): Promise<void> {
  await Promise.all(files.map((f) => (f.temp ? rm(f.temp, { force: true }) : undefined)));
}

async function keepRejected(write: FileWrite, reason: string): Promise<StagedOutput> {
  const { info } = write;
  const at = new Date();
  const name = stagedName(keySegments(info.assetKey).join('_'), info.runId, at, randomBytes(2).toString('hex'));
  const wap = join(write.dir, WAP_DIR);
  await mkdir(wap, { recursive: true });
  let data: string;
  if (info.partitionKeys === undefined) {
    data = join(wap, `${name}${write.ext}`);
    const temp = write.files[0]?.temp;
    if (temp) await rename(temp, data);
  } else {
    data = join(wap, name);
    await mkdir(data);
    for (const file of write.files) if (file.temp) await rename(file.temp, join(data, basename(file.target)));
  }
  const staged: StagedOutput = {
    id: data,
    assetKey: info.assetKey,
    runId: info.runId,
    reason,
    at: at.toISOString(),
    ...(info.partitionKeys ? { partitionKeys: [...info.partitionKeys] } : {}),
    ...(write.rowCount !== undefined ? { rowCount: write.rowCount } : {}),
  };
  const { id: _id, ...described } = staged;
  await writeFileAtomic(join(wap, `${name}${SIDECAR}`), `${JSON.stringify({ ...described, data: basename(data) }, null, 2)}\n`);
  return staged;
}

/** The rejected writes kept under `dir`, oldest first; `id` is the path of the kept file or folder. */
export async function listKept(dir: string): Promise<StagedOutput[]> {
  const wap = join(dir, WAP_DIR);
  let names: string[];
  try {
    names = await readdir(wap);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  const kept: StagedOutput[] = [];
  for (const name of names.filter((n) => n.endsWith(SIDECAR) && n.includes(WAP_INFIX))) {
    const described = parseStagedRecord(await readFile(join(wap, name), 'utf8').catch(() => ''));
    const data = typeof described.data === 'string' ? described.data : name.slice(0, -SIDECAR.length);
    kept.push(stagedFromRecord(join(wap, basename(data)), described));
  }
  return kept.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : 1));
}

/**
 * Removes a kept rejected write: `id` as listed (or its bare name), which must name a kept file or folder
 * directly under `<dir>/.cairn-wap`; false when there is none.
 */
export async function dropKept(dir: string, ext: string, id: string): Promise<boolean> {
  const wap = join(dir, WAP_DIR);
  const data = resolve(wap, id);
  const name = basename(data);
  if (dirname(data) !== wap || !name.includes(WAP_INFIX) || name.endsWith(SIDECAR)) return false;
  const sidecar = join(wap, `${name.endsWith(ext) ? name.slice(0, -ext.length) : name}${SIDECAR}`);
  const existed = (await exists(data)) || (await exists(sidecar));
  await rm(data, { recursive: true, force: true });
  await rm(sidecar, { force: true });
  return existed;
}

/** Writes `text` to `path` through a temp file and a rename, so `path` is always whole. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temp = tempFileFor(path);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.datasync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

