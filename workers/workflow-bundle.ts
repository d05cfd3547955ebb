import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
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
 * second `cairn dev` or `npm run demo` starts without re-bundling.
 */
export async function loadWorkflowBundle(cacheDir?: string): Promise<{ code: string }> {
  if (!cacheDir) return await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  const file = join(cacheDir, `workflow-bundle-${bundleKey()}.js`);
  if (existsSync(file)) return { code: readFileSync(file, 'utf8') };
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bundle.code);
  renameSync(tmp, file);
  return bundle;
}

const noop = (): void => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m), log: noop };
