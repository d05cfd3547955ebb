/**
 * `cairn wap list|drop`: the staged outputs that a failed blocking check kept from being published
 * (write-audit-publish), across every IO manager of every code location of the workspace.
 */
import type { Command } from 'commander';
import pc from 'picocolors';
import type { IOManager, StagedOutput } from '../activities/io-manager';
import { locationIOManager } from '../activities/location-io';
import { initResources } from '../activities/resources';
import { loadValidWorkspace, type GlobalOptions } from './context';
import { CliExit, Exit } from './errors';

interface Store {
  location: string;
  /** The resource name of the IO manager, or `(default)`. */
  name: string;
  io: IOManager;
}

/** Builds each location's IO managers (the default one and those assets name), runs `fn`, then releases them. */
async function withStores<T>(globals: GlobalOptions, fn: (stores: Store[]) => Promise<T>): Promise<T> {
  const ws = await loadValidWorkspace(globals);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const stores: Store[] = [];
    for (const { location } of ws.locations) {
      const built = await initResources(location);
      const { io, owned } = locationIOManager(location, ws.settings.warehousePath, built.resources);
      cleanups.push(async () => {
        await owned?.close();
        await built.dispose();
      });
      stores.push({ location: location.name, name: '(default)', io });
      for (const [name, r] of Object.entries(built.resources)) {
        if (name !== 'io' && location.assets.some((a) => a.io === name)) stores.push({ location: location.name, name, io: r as IOManager });
      }
    }
    // Locations often share one warehouse: list each IO manager once.
    const unique = new Map<IOManager, Store>();
    for (const s of stores) if (typeof s.io.listStaged === 'function' && !unique.has(s.io)) unique.set(s.io, s);
    return await fn([...unique.values()]);
  } finally {
    for (const c of cleanups) await c().catch(() => undefined);
  }
}

async function listAll(stores: Store[]): Promise<(StagedOutput & { store: string })[]> {
  const all: (StagedOutput & { store: string })[] = [];
  for (const s of stores) {
    for (const staged of (await s.io.listStaged?.()) ?? []) all.push({ ...staged, store: `${s.location}:${s.name}${s.io.type ? ` (${s.io.type})` : ''}` });
  }
  return all.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

export function registerWap(program: Command, globals: () => GlobalOptions): void {
  const wap = program.command('wap').description('staged outputs kept by write-audit-publish when a blocking check failed');
  wap
    .command('list')
    .description('list staged outputs that were not published, oldest first')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const rows = await withStores(globals(), listAll);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) {
        process.stdout.write('no staged outputs: every audited write was published or dropped\n');
        return;
      }
      for (const r of rows) {
        const parts = r.partitionKeys ? ` [${r.partitionKeys.join(', ')}]` : '';
        process.stdout.write(`${pc.bold(r.id)}\n  asset ${r.assetKey}${parts}, run ${r.runId}, ${r.at}\n  ${pc.red(r.reason)}${r.rowCount !== undefined ? `, ${r.rowCount} rows` : ''}; in ${r.store}\n`);
      }
      process.stdout.write(`\n${rows.length} staged output${rows.length === 1 ? '' : 's'}; inspect with SQL, then \`cairn wap drop <id>\`\n`);
    });
  wap
    .command('drop')
    .description('drop staged outputs by id (as `cairn wap list` shows them), or all with --all')
    .argument('[ids...]', 'staged output ids')
    .option('--all', 'drop every staged output')
    .action(async (ids: string[], opts: { all?: boolean }) => {
      if (!opts.all && ids.length === 0) throw new CliExit(Exit.badInput, 'name the staged outputs to drop (ids from `cairn wap list`), or pass --all');
      await withStores(globals(), async (stores) => {
        const targets = opts.all ? (await listAll(stores)).map((r) => r.id) : ids;
        const missing: string[] = [];
        for (const id of targets) {
          let dropped = false;
          for (const s of stores) if (!dropped) dropped = (await s.io.dropStaged?.(id)) ?? false;
          if (dropped) process.stdout.write(`dropped ${id}\n`);
          else missing.push(id);
        }
        if (missing.length > 0) throw new CliExit(Exit.badInput, `no staged output ${missing.map((m) => `'${m}'`).join(', ')}; \`cairn wap list\` shows the ids`);
      });
    });
}
