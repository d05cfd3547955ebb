import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ENCRYPTED_FAILURE_CONVERTER_PATH } from '../client/encryption';
import { CAIRN_HOME } from './settings';

export const WORKFLOWS_PATH = resolve(CAIRN_HOME, 'workflows/index.ts');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Hash of everything that goes into the bundle: the workflow and kernel sources and the SDK version. */
function bundleKey(): string {
  const h = createHash('sha256');
  const sdk = (createRequire(import.meta.url)('@temporalio/worker/package.json') as { version: string }).version;
  h.update(sdk);
  for (const f of ['workflows', 'definitions', 'activities/types.ts'].flatMap((d) => {
    const p = resolve(CAIRN_HOME, d);
    return p.endsWith('.ts') ? [p] : sourceFiles(p);
  }).sort()) {
    h.update(f);
    h.update(readFileSync(f));
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * Bundles the workflows once and caches the bundle on disk, keyed by the sources and the SDK version, so a
 * second `cairn dev` or `npm run demo` starts without re-bundling. With `encodeFailures` (the default when
 * CAIRN_ENCRYPTION_KEY is set) the bundle's failure converter moves the messages and stacks of failures raised
 * by the workflow itself into a payload, which the worker's codec encrypts; it is cached as its own bundle.
 */
export async function loadWorkflowBundle(cacheDir?: string, opts: { encodeFailures?: boolean } = {}): Promise<{ code: string }> {
  const encodeFailures = opts.encodeFailures ?? Boolean(process.env.CAIRN_ENCRYPTION_KEY);
  const options = { workflowsPath: WORKFLOWS_PATH, logger: quietLogger, ...(encodeFailures ? { failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH } : {}) };
  if (!cacheDir) return await bundleWorkflowCode(options);
  const file = join(cacheDir, `workflow-bundle-${bundleKey()}${encodeFailures ? '-encoded-failures' : ''}.js`);
  if (existsSync(file)) return { code: readFileSync(file, 'utf8') };
  const bundle = await bundleWorkflowCode(options);
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bundle.code);
  renameSync(tmp, file);
  return bundle;
}

const noop = (): void => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m), log: noop };
