import { DefaultLogger, Runtime } from '@temporalio/worker';

let installed = false;

/** Installs the Temporal runtime once per process with a quiet logger (errors only; Cairn reports step failures itself). Set CAIRN_TEMPORAL_LOG_LEVEL=WARN or INFO for more. */
export function ensureRuntime(): void {
  if (installed) return;
  installed = true;
  try {
    Runtime.install({ logger: new DefaultLogger((process.env.CAIRN_TEMPORAL_LOG_LEVEL as 'WARN' | undefined) ?? 'ERROR') });
  } catch {
    // Already installed by the host (tests, an embedding application): keep theirs.
  }
}
