import { DefaultLogger, Runtime } from '@temporalio/worker';

let installed = false;

/** Installs the Temporal runtime once per process with a quiet logger (warnings and errors only). */
export function ensureRuntime(): void {
  if (installed) return;
  installed = true;
  try {
    Runtime.install({ logger: new DefaultLogger((process.env.CAIRN_TEMPORAL_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN') });
  } catch {
    // Already installed by the host (tests, an embedding application): keep theirs.
  }
}
