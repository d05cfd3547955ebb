import type { Command } from 'commander';
import { automationWanted, wakeAutomation } from '../activities/automation-activities';
import type { CatalogStore } from '../activities/catalog/catalog-store';
import { reportAssetEvent } from '../activities/catalog/report';
import type { Settings } from '../workers/settings';
import { withTemporal } from './schedules';
import { parseMetadataJson } from '../definitions/metadata';
import { loadValidWorkspace, workspaceGraph, withCatalog, type GlobalOptions } from './context';

interface ReportOptions {
  partition?: string;
  metadata?: string;
  dataVersion?: string;
  eventId?: string;
  at?: string;
  json?: boolean;
}

/**
 * `cairn report materialization|observation <key>`: records an event that happened outside Cairn. It counts
 * exactly like a run's event for `cairn status`, staleness and freshness.
 */
export function registerReport(program: Command, globals: () => GlobalOptions): void {
  const report = program.command('report').description('record an asset event that happened outside Cairn (a table another tool landed)');
  for (const type of ['materialization', 'observation'] as const) {
    report
      .command(`${type} <key>`)
      .description(type === 'materialization' ? 'the asset was (re)written outside Cairn: new data, downstream becomes stale' : 'the asset was looked at: record its metadata and, with --data-version, its current version')
      .option('--partition <key>', 'the partition the event is about')
      .option('--metadata <json>', `JSON object of metadata, plain or typed: '{"rows": 10, "docs": {"type": "url", "value": "https://..."}}'`)
      .option('--data-version <version>', 'the data version (a reported materialization without one gets a new unique version)')
      .option('--event-id <id>', 'idempotency key: reporting the same id again records nothing new')
      .option('--at <iso-time>', 'when it happened (default now)')
      .option('--json', 'print the recorded event key as JSON')
      .action(async (key: string, opts: ReportOptions) => {
        // Parse everything before touching the catalog: bad input writes nothing.
        const metadata = opts.metadata === undefined ? undefined : parseMetadataJson(opts.metadata, '--metadata');
        const ws = await loadValidWorkspace(globals());
        const graph = workspaceGraph(ws);
        const { result, woke } = await withCatalog(ws.settings, async (catalog) => {
          const recorded = await reportAssetEvent(catalog, graph, {
            type, assetKey: key,
            ...(metadata ? { metadata } : {}),
            ...(opts.partition !== undefined ? { partition: opts.partition } : {}),
            ...(opts.dataVersion !== undefined ? { dataVersion: opts.dataVersion } : {}),
            ...(opts.eventId !== undefined ? { eventId: opts.eventId } : {}),
            ...(opts.at !== undefined ? { at: opts.at } : {}),
          });
          // A new materialization wakes automation, so what depends on the asset reacts now.
          const warning = type === 'materialization' && recorded.inserted ? await wakeAfterReport(ws.settings, catalog, key) : undefined;
          return { result: recorded, woke: warning };
        });
        if (opts.json) process.stdout.write(`${JSON.stringify({ type, assetKey: key, ...result })}\n`);
        else process.stdout.write(`${result.inserted ? 'recorded' : 'already recorded'} ${type} of ${key}${result.dataVersion ? ` (data version ${result.dataVersion})` : ''}\n`);
        if (woke) process.stderr.write(`${woke}\n`);
      });
  }
}

/**
 * Wakes the automation workflow after a reported materialization. The event is recorded either way: when
 * Temporal does not answer, automation sees it at its next wake, and the warning says so.
 */
async function wakeAfterReport(settings: Settings, catalog: CatalogStore, key: string): Promise<string | undefined> {
  try {
    if (await automationWanted(catalog)) await withTemporal(settings, (client) => wakeAutomation(client, catalog, { keys: [key], source: 'report' }));
    return undefined;
  } catch (err) {
    return `warning: could not wake automation (${err instanceof Error ? err.message : String(err)}); it sees the event at its next wake`;
  }
}
