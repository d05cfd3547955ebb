import type { Client } from '@temporalio/client';
import { assetStates, type AssetStateRow } from '../activities/asset-states';
import { wakeAutomation } from '../activities/automation-activities';
import type { AssetHistoryPage, AssetHistoryQuery, CatalogStore, RunFilter, RunRecord, StoredAssetEvent } from '../activities/catalog/catalog-store';
import { openCatalog } from '../activities/catalog/open-catalog';
import { reportAssetEvent, type ReportInput, type ReportResult } from '../activities/catalog/report';
import { CairnError, ErrorCodes } from '../definitions/errors';
import type { AssetGraph } from '../definitions/graph';
import { graphFromSnapshots } from '../definitions/plan';
import { partitionStatusReport, type PartitionStatusReport } from '../activities/partition-status';

export type { AssetStateRow, PartitionStatusReport, ReportInput, ReportResult };

/** Rejects empty dynamic keys and keys with the separators '|' and ',' (reserved for multi keys and key lists). */
function checkDynamicKeys(name: string, keys: readonly string[]): void {
  if (typeof name !== 'string' || name === '') throw new CairnError(ErrorCodes.InvalidArgument, 'the dynamic partitions name must be a non-empty string');
  const bad = keys.find((k) => typeof k !== 'string' || k === '' || /[|,]/.test(k));
  if (bad !== undefined) throw new CairnError(ErrorCodes.InvalidPartition, `invalid dynamic partition key ${JSON.stringify(bad)} for '${name}': keys are non-empty and contain no '|' or ','`, name);
}

/**
 * The catalog from a script or service: report external events, read asset states, the run index and asset
 * history. Asset keys are checked against the definitions the code-location workers published.
 * @example
 * const catalog = await CairnCatalog.open({ url: process.env.CAIRN_CATALOG_URL });
 * await catalog.reportMaterialization('raw/crm/accounts', { metadata: { rows: 1200 }, dataVersion: '2024-06-01' });
 * await catalog.close();
 */
export class CairnCatalog {
  private constructor(
    readonly store: CatalogStore,
    private readonly temporal?: Client,
  ) {}

  /**
   * Opens the catalog at `url` (`sqlite:<path>`, a path, or `postgres://...`), else `$CAIRN_CATALOG_URL`, else
   * `<root>/.cairn/catalog.db`. With a Temporal `client`, a reported materialization also wakes the automation
   * workflow, as `cairn report` does, so what depends on the asset reacts at once.
   */
  static async open(opts: { url?: string; root?: string; temporal?: Client } = {}): Promise<CairnCatalog> {
    return new CairnCatalog(await openCatalog({ ...(opts.url !== undefined ? { url: opts.url } : {}), root: opts.root ?? process.cwd() }), opts.temporal);
  }

  private async graph(): Promise<AssetGraph> {
    const snapshots = await this.store.getSnapshots();
    if (snapshots.length === 0) {
      throw new CairnError(ErrorCodes.NoSnapshots, 'no code location has published its definitions to this catalog yet: start the workers (`cairn dev`) first');
    }
    return graphFromSnapshots(snapshots);
  }

  reportMaterialization(assetKey: string, opts: Omit<ReportInput, 'type' | 'assetKey'> = {}): ReturnType<CairnCatalog['report']> {
    return this.report({ ...opts, type: 'materialization', assetKey });
  }

  reportObservation(assetKey: string, opts: Omit<ReportInput, 'type' | 'assetKey'> = {}): Promise<ReportResult> {
    return this.report({ ...opts, type: 'observation', assetKey });
  }

  /**
   * Records the event. With a Temporal client (see `open`), a new materialization wakes automation: `automation`
   * says whether it was woken, was off, or could not be reached (the event is recorded either way, and automation
   * sees it at its next wake).
   */
  async report(input: ReportInput): Promise<ReportResult & { automation?: 'woken' | 'off' | { error: string } }> {
    const result = await reportAssetEvent(this.store, await this.graph(), input);
    if (!this.temporal || input.type !== 'materialization' || !result.inserted) return result;
    try {
      const woke = await wakeAutomation(this.temporal, this.store, { keys: [input.assetKey], source: 'report' });
      return { ...result, automation: woke ? 'woken' : 'off' };
    } catch (err) {
      return { ...result, automation: { error: err instanceof Error ? err.message : String(err) } };
    }
  }

  /** State, stale causes and freshness of the given assets (default all), as `cairn status` shows them. */
  async assetStates(keys?: string[], now?: Date): Promise<AssetStateRow[]> {
    const graph = await this.graph();
    for (const k of keys ?? []) {
      if (!graph.has(k)) throw new CairnError(ErrorCodes.UnknownAsset, `unknown asset '${k}'`, k);
    }
    return assetStates(this.store, graph, keys, now);
  }

  runs(filter?: RunFilter): Promise<RunRecord[]> {
    return this.store.listRuns(filter);
  }

  history(assetKey: string, query?: AssetHistoryQuery): Promise<AssetHistoryPage> {
    return this.store.assetHistory(assetKey, query);
  }

  /** The latest evaluation of each check of the given assets (default all), ordered by asset key then check name; `cairn checks` shows them. */
  latestCheckEvaluations(keys?: string[]): Promise<StoredAssetEvent[]> {
    return this.store.latestCheckEvaluations(keys);
  }

  /** Every partition of a partitioned asset, folded into ranges of one status, as `cairn status --partitions` shows them. */
  partitionStatus(assetKey: string, now: Date = new Date()): Promise<PartitionStatusReport> {
    return partitionStatusReport(this.store, assetKey, now);
  }

  /** Adds keys to dynamic partitions `name` (a sensor's new customers, say); keys already there are left alone. */
  async addDynamicPartitions(name: string, keys: readonly string[]): Promise<string[]> {
    checkDynamicKeys(name, keys);
    return (await this.store.addDynamicPartitions(name, keys, new Date().toISOString())).added;
  }

  async removeDynamicPartitions(name: string, keys: readonly string[]): Promise<string[]> {
    return (await this.store.removeDynamicPartitions(name, keys)).removed;
  }

  dynamicPartitionKeys(name: string): Promise<string[]> {
    return this.store.dynamicPartitionKeys(name);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
