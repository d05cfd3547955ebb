/**
 * dbt's structured output: one JSON object a line with `--log-format json` (`{info: {name, level, msg, ts},
 * data}`), and the final `run_results.json`. Lines that are not JSON are kept as raw log lines.
 */

export type DbtLevel = 'debug' | 'info' | 'warn' | 'error';

/** A node reached its end: built, failed, skipped, or (for a test) passed, warned or failed. */
export interface DbtNodeFinished {
  kind: 'node_finished';
  uniqueId: string;
  resourceType: string;
  /** success | error | skipped for models, seeds, snapshots; pass | warn | fail | error | skipped for tests. */
  status: string;
  executionTime?: number;
  relationName?: string;
  failures?: number;
  message: string;
  at: string;
}

export type DbtLogEvent =
  | { kind: 'node_started'; uniqueId: string; message: string; at: string }
  | DbtNodeFinished
  | { kind: 'log'; level: DbtLevel; message: string; uniqueId?: string; at: string }
  | { kind: 'raw'; line: string };

const FINISHED = new Set(['LogModelResult', 'LogSeedResult', 'LogSnapshotResult', 'LogTestResult', 'SkippingDetails']);

function level(raw: unknown): DbtLevel {
  return raw === 'debug' || raw === 'warn' || raw === 'error' ? raw : 'info';
}

interface Obj {
  [k: string]: unknown;
}

function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Parses one line of `dbt --log-format json` output. */
export function parseDbtLogLine(line: string): DbtLogEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { kind: 'raw', line };
  }
  const info = obj(obj(parsed).info);
  const data = obj(obj(parsed).data);
  const name = str(info.name);
  if (name === undefined) return { kind: 'raw', line };
  const nodeInfo = obj(data.node_info);
  const uniqueId = str(nodeInfo.unique_id);
  const message = (str(info.msg) ?? '').trim();
  const at = str(info.ts) ?? new Date().toISOString();
  if (name === 'LogStartLine' && uniqueId) return { kind: 'node_started', uniqueId, message, at };
  if (FINISHED.has(name) && uniqueId) {
    const status = str(nodeInfo.node_status) ?? str(data.status) ?? 'unknown';
    const rel = obj(nodeInfo.node_relation);
    // Seeds carry an empty relation_name: build it from its parts.
    const relation = str(rel.relation_name) ?? (str(rel.alias) && str(rel.schema) ? [rel.database, rel.schema, rel.alias].filter((p) => str(p)).map((p) => `"${String(p)}"`).join('.') : undefined);
    return {
      kind: 'node_finished',
      uniqueId,
      resourceType: str(nodeInfo.resource_type) ?? uniqueId.split('.')[0] ?? 'unknown',
      status,
      ...(typeof data.execution_time === 'number' ? { executionTime: data.execution_time } : {}),
      ...(relation ? { relationName: relation } : {}),
      ...(typeof data.num_failures === 'number' ? { failures: data.num_failures } : {}),
      message,
      at,
    };
  }
  return { kind: 'log', level: level(info.level), message, ...(uniqueId ? { uniqueId } : {}), at };
}

/** The error-level messages of dbt's output (JSON or plain), for a failure message. */
export function dbtErrorLines(output: string): string[] {
  const lines: string[] = [];
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    const e = parseDbtLogLine(line);
    if (e.kind === 'log' && e.level === 'error' && e.message !== '') lines.push(e.message.replace(/\s+/g, ' '));
    else if (e.kind === 'raw' && /error/i.test(line)) lines.push(line.trim());
  }
  return lines.slice(-8);
}

/** One entry of `run_results.json`. */
export interface DbtRunResult {
  uniqueId: string;
  status: string;
  message?: string;
  executionTime?: number;
  failures?: number;
  relationName?: string;
  adapterResponse?: Record<string, unknown>;
}

/** Reads the results of `run_results.json` (already parsed); entries without a unique id are dropped. */
export function parseRunResults(raw: unknown): DbtRunResult[] {
  const results = obj(raw).results;
  if (!Array.isArray(results)) return [];
  return results.flatMap((r): DbtRunResult[] => {
    const o = obj(r);
    const uniqueId = str(o.unique_id);
    if (!uniqueId) return [];
    const adapter = obj(o.adapter_response);
    return [{
      uniqueId,
      status: str(o.status) ?? 'unknown',
      ...(str(o.message) ? { message: str(o.message) } : {}),
      ...(typeof o.execution_time === 'number' ? { executionTime: o.execution_time } : {}),
      ...(typeof o.failures === 'number' ? { failures: o.failures } : {}),
      ...(str(o.relation_name) ? { relationName: str(o.relation_name) } : {}),
      ...(Object.keys(adapter).length > 0 ? { adapterResponse: adapter } : {}),
    }];
  });
}
