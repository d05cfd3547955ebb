import { randomUUID } from 'node:crypto';
import { keyProblem } from '../../definitions/asset-key';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import type { AssetGraph } from '../../definitions/graph';
import { normalizeMetadata } from '../../definitions/metadata';
import { fnv1a64 } from '../../definitions/hash';
import type { AssetEvent, CatalogStore } from './catalog-store';

/** An event about an asset that happened outside Cairn: a table landed by another tool, a partner's file. */
export interface ReportInput {
  type: 'materialization' | 'observation';
  assetKey: string;
  partition?: string;
  /** Plain values (typed by their JavaScript type) or typed values such as `{ type: 'url', value: '...' }`. */
  metadata?: Readonly<Record<string, unknown>>;
  /**
   * The data version of what was written or observed. A reported materialization without one gets a new,
   * unique version (new data: downstream becomes stale); an observation without one changes no version.
   */
  dataVersion?: string;
  /** An idempotency key: reporting the same id twice records one event. Default: a new random id. */
  eventId?: string;
  /** ISO time of the event; default now. */
  at?: string;
}

export interface ReportResult {
  eventKey: string;
  inserted: boolean;
  dataVersion?: string;
}

/**
 * Validates and records a reported event. Reported events count exactly like run events for status,
 * staleness and freshness. Throws a {@link CairnError} naming the problem (unknown asset, bad metadata, bad
 * time) before anything is written.
 */
export async function reportAssetEvent(catalog: CatalogStore, graph: AssetGraph, input: ReportInput): Promise<ReportResult> {
  const issue = keyProblem(input.assetKey);
  if (issue) throw new CairnError(ErrorCodes.InvalidKey, issue, input.assetKey);
  if (!graph.has(input.assetKey)) {
    const close = graph.closestKey(input.assetKey);
    throw new CairnError(ErrorCodes.UnknownAsset, `unknown asset '${input.assetKey}'${close ? `; did you mean '${close}'?` : ''}`, input.assetKey);
  }
  const metadata = normalizeMetadata(input.metadata, `report for asset '${input.assetKey}'`);
  const at = input.at ?? new Date().toISOString();
  if (Number.isNaN(Date.parse(at))) throw new CairnError(ErrorCodes.InvalidArgument, `report for asset '${input.assetKey}': time '${at}' is not an ISO-8601 timestamp`, input.assetKey);
  if (input.dataVersion !== undefined && (typeof input.dataVersion !== 'string' || input.dataVersion === '')) {
    throw new CairnError(ErrorCodes.InvalidArgument, `report for asset '${input.assetKey}': data version must be a non-empty string`, input.assetKey);
  }
  if (input.partition !== undefined && input.partition === '') {
    throw new CairnError(ErrorCodes.InvalidArgument, `report for asset '${input.assetKey}': partition must be a non-empty string`, input.assetKey);
  }
  const eventKey = `report:${input.type}:${input.eventId ?? randomUUID()}`;
  const dataVersion = input.dataVersion ?? (input.type === 'materialization' ? `r-${fnv1a64(eventKey)}` : undefined);
  const event: AssetEvent = {
    eventKey,
    type: input.type,
    assetKey: input.assetKey,
    partition: input.partition ?? null,
    runId: null,
    attempt: 1,
    at: new Date(at).toISOString(),
    metadata,
    ...(dataVersion !== undefined ? { dataVersion } : {}),
    source: 'report',
  };
  const { inserted } = await catalog.recordAssetEvent(event);
  return { eventKey, inserted, ...(dataVersion !== undefined ? { dataVersion } : {}) };
}
