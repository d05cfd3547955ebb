import type { Command } from 'commander';
import { NativeConnection } from '@temporalio/worker';
import pc from 'picocolors';
import { openCatalog } from '../activities/catalog/open-catalog';
import { createLocationWorker } from '../workers/location-worker';
import { createOrchestratorWorker } from '../workers/orchestrator-worker';
import { ensureRuntime } from '../workers/runtime';
import { loadWorkflowBundle } from '../workers/workflow-bundle';
import { resolve } from 'node:path';
import { loadValidWorkspace, type GlobalOptions } from './context';
import { CliExit, Exit } from './errors';

/** `cairn worker orchestrator|location <name>`: one worker process, as deployed in production. */
export function registerWorker(program: Command, globals: () => GlobalOptions): void {
  const worker = program.command('worker').description('run one worker process (what `cairn dev` starts for you)');
  worker
    .command('location <name>')
    .description("run the worker of one code location on task queue 'cairn-loc-<name>'")
    .action(async (name: string) => {
      const ws = await loadValidWorkspace(globals());
      const loaded = ws.locations.find((l) => l.location.name === name);
      if (!loaded) throw new CliExit(Exit.badInput, `no code location named '${name}' in ${ws.file}; it has: ${ws.locations.map((l) => l.location.name).join(', ')}`);
      ensureRuntime();
      const s = ws.settings;
      const catalog = await openCatalog({ url: s.catalogUrl, root: s.root });
      const connection = await NativeConnection.connect({ address: s.temporalAddress });
      const echo = process.env.CAIRN_ECHO_LOGS === '0' ? undefined : (line: { level: string; message: string }, key: string) => process.stdout.write(`${pc.dim(key)} ${line.level === 'error' ? pc.red(line.message) : line.message}\n`);
      const lw = await createLocationWorker({ connection, namespace: s.namespace, location: loaded.location, catalog, warehousePath: s.warehousePath, ...(echo ? { echo } : {}) });
      process.send?.({ type: 'ready', version: lw.snapshot.version });
      try {
        await lw.worker.run();
      } finally {
        await lw.dispose();
        await connection.close();
        await catalog.close();
      }
    });
  worker
    .command('orchestrator')
    .description("run the orchestrator worker (run workflows, planning, catalog) on task queue 'cairn'")
    .action(async () => {
      const ws = await loadValidWorkspace(globals());
      ensureRuntime();
      const s = ws.settings;
      const catalog = await openCatalog({ url: s.catalogUrl, root: s.root });
      const connection = await NativeConnection.connect({ address: s.temporalAddress });
      const w = await createOrchestratorWorker({ connection, namespace: s.namespace, catalog, workflowBundle: await loadWorkflowBundle(resolve(s.stateDir, 'cache')) });
      process.send?.({ type: 'ready' });
      try {
        await w.run();
      } finally {
        await connection.close();
        await catalog.close();
      }
    });
}
