/**
 * The activities behind a sensor: `evaluateSensor` runs the user's `evaluate` in its location's worker (with a
 * heartbeat, so a long evaluation is not cut off by a fixed cap), and `applySensorResult` records what it
 * returned in the catalog and checks its run requests by planning each one, on the orchestrator.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { StepLogger } from '../definitions/asset';
import type { CodeLocationDefinition } from '../definitions/code-location';
import { CairnError } from '../definitions/errors';
import { graphFromSnapshots } from '../definitions/plan';
import { parseSensorResult, type SensorCatalog, type SensorResult } from '../definitions/sensor';
import type { CatalogStore, LogLine } from './catalog/catalog-store';
import { reportAssetEvent } from './catalog/report';
import { planFromCatalog } from './orchestrator-activities';
import type { AcceptedRunRequest, ApplySensorResultInput } from './types';

const HEARTBEAT_EVERY_MS = 5000;

/**
 * The catalog as a sensor sees it: only the read methods of {@link SensorCatalog}, so user code holding it
 * cannot reach the store's writes.
 */
export function readOnlySensorCatalog(catalog: CatalogStore): SensorCatalog {
  return {
    assetHistory: (assetKey, query) => catalog.assetHistory(assetKey, query),
    listRuns: (filter) => catalog.listRuns(filter),
    getStepResults: (runId) => catalog.getStepResults(runId),
    getSnapshots: () => catalog.getSnapshots(),
  };
}

/** `evaluateSensor` for a location's worker. */
export function sensorEvaluation(location: CodeLocationDefinition, resources: Record<string, unknown>, catalog: CatalogStore, echo?: (line: LogLine, key: string) => void) {
  const sensors = new Map((location.sensors ?? []).map((s) => [s.name, s]));
  const sensorCatalog = readOnlySensorCatalog(catalog);
  return async function evaluateSensor(input: { sensor: string; cursor?: string; lastEvaluatedAt?: string }): Promise<SensorResult> {
    const s = sensors.get(input.sensor);
    if (!s) throw ApplicationFailure.nonRetryable(`sensor '${input.sensor}' is not defined in code location '${location.name}'; restart its worker so the sensors match the code`, 'UNKNOWN_SENSOR');
    const ctx = Context.current();
    let seq = 0;
    const push = (level: LogLine['level']) => (message: string): void => echo?.({ seq: seq++, level, message: String(message), at: new Date().toISOString() }, `sensor:${s.name}`);
    const log: StepLogger = { debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
    const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
    try {
      const out = await s.evaluate({
        cursor: input.cursor,
        lastEvaluatedAt: input.lastEvaluatedAt,
        log,
        resources: Object.fromEntries(s.resources.map((r) => [r, resources[r]])),
        catalog: sensorCatalog,
        signal: ctx.cancellationSignal,
        heartbeat: (d) => ctx.heartbeat(d),
      });
      return parseSensorResult(out, s.name);
    } catch (err) {
      if (err instanceof CairnError) throw ApplicationFailure.nonRetryable(err.message, err.code);
      throw err;
    } finally {
      clearInterval(timer);
    }
  };
}

/** `applySensorResult` for the orchestrator. */
export async function applySensorResult(catalog: CatalogStore, input: ApplySensorResultInput): Promise<{ accepted: AcceptedRunRequest[]; rejected: string[]; events: number }> {
  const { result } = input;
  const sensorTag = `${input.location}/${input.sensor}`;
  for (const d of result.dynamicPartitions ?? []) {
    if (d.add?.length) await catalog.addDynamicPartitions(d.name, d.add, new Date().toISOString());
    if (d.remove?.length) await catalog.removeDynamicPartitions(d.name, d.remove);
  }
  let events = 0;
  const rejected: string[] = [];
  if ((result.assetEvents ?? []).length > 0) {
    const graph = graphFromSnapshots(await catalog.getSnapshots());
    for (const [i, e] of (result.assetEvents ?? []).entries()) {
      try {
        await reportAssetEvent(catalog, graph, {
          type: e.kind, assetKey: e.key, ...(e.partition !== undefined ? { partition: e.partition } : {}),
          ...(e.metadata ? { metadata: e.metadata } : {}), ...(e.dataVersion !== undefined ? { dataVersion: e.dataVersion } : {}),
          // Keyed by the evaluation, so a retried activity records each event once.
          eventId: `sensor:${sensorTag}:${input.tickId}:${i}`,
        });
        events++;
      } catch (err) {
        rejected.push(`assetEvents[${i}] (${e.key}): ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  const accepted: AcceptedRunRequest[] = [];
  for (const [i, r] of (result.runRequests ?? []).entries()) {
    const target = r.selection !== undefined ? { selection: r.selection } : input.target.job !== undefined ? { job: input.target.job } : input.target.selection !== undefined ? { selection: input.target.selection } : undefined;
    if (!target) {
      rejected.push(`runRequests[${i}]: no selection, and sensor '${input.sensor}' has no target`);
      continue;
    }
    try {
      await planFromCatalog(catalog, { ...target, ...(r.partition !== undefined ? { partition: r.partition } : {}) });
      accepted.push({ ...target, ...(r.partition !== undefined ? { partition: r.partition } : {}), tags: { ...(r.tags ?? {}), 'cairn/sensor': sensorTag }, ...(r.runKey !== undefined ? { runKey: r.runKey } : {}) });
    } catch (err) {
      rejected.push(`runRequests[${i}]: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { accepted, rejected, events };
}
