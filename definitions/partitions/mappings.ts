import { CairnError, ErrorCodes } from '../errors';
import type { PartitionsDefinition, TimeWindowPartitionsDefinition } from './definitions';
import { describePartitions, partitionKeys, validatePartitionKey, type PartitionKeysOptions } from './keys';
import { firstTick, latestEnd, parseTimeKey, prevTick, stepTicks, windowsFrom } from './time-windows';

/**
 * Partition mappings: which upstream partitions a downstream partition reads. Plain data (they go into
 * snapshots); {@link upstreamPartitions} evaluates one. Upstream keys that do not exist at `now` (before the
 * upstream start, after its end, or not ended yet) are left out, so an asset on its own previous partition
 * (`timeWindowMapping({ startOffset: -1, endOffset: -1 })`) has no upstream for its first partition.
 */
export type PartitionMapping =
  | { kind: 'identity' }
  | { kind: 'timeWindow'; startOffset: number; endOffset: number }
  | { kind: 'all' }
  | { kind: 'last' }
  | { kind: 'static'; map: Record<string, string[]> }
  | { kind: 'multiToSingle'; dimension: string };

/** The same key upstream. */
export function identity(): PartitionMapping {
  return { kind: 'identity' };
}

/**
 * The upstream windows that overlap the downstream window, its start moved by `startOffset` downstream
 * windows and its end by `endOffset` (both default 0). Between two time definitions with different cadences,
 * the default: a daily partition over hourly gets its 24 hours (23 or 25 on DST days), an hourly one over
 * daily gets the day that contains it.
 */
export function timeWindowMapping(options: { startOffset?: number; endOffset?: number } = {}): PartitionMapping {
  return { kind: 'timeWindow', startOffset: options.startOffset ?? 0, endOffset: options.endOffset ?? 0 };
}

/** Every upstream partition that exists at `now`. */
export function allPartitions(): PartitionMapping {
  return { kind: 'all' };
}

/** The latest upstream partition that exists at `now` (none when there is none). */
export function lastPartition(): PartitionMapping {
  return { kind: 'last' };
}

/** Downstream key → upstream key(s); a downstream key not in the map has no upstream partitions. */
export function staticMapping(map: Record<string, string | readonly string[]>): PartitionMapping {
  return { kind: 'static', map: Object.fromEntries(Object.entries(map).map(([k, v]) => [k, typeof v === 'string' ? [v] : [...v]])) };
}

/**
 * Between a multi definition and a single one: downstream multi → the key's `dimension` part; downstream
 * single → every upstream multi key whose `dimension` part is the downstream key.
 */
export function multiToSingle(dimension: string): PartitionMapping {
  return { kind: 'multiToSingle', dimension };
}

const sameDef = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The mapping used when an asset declares none: time windows between time definitions, the dimension
 * between a multi definition and a single one equal to one of its dimensions, identity otherwise.
 */
export function defaultPartitionMapping(downstream: PartitionsDefinition, upstream: PartitionsDefinition): PartitionMapping {
  if (downstream.kind === 'time' && upstream.kind === 'time') return timeWindowMapping();
  if (downstream.kind === 'multi' && upstream.kind !== 'multi') {
    const d = downstream.dimensions.find((x) => sameDef(x.partitions, upstream)) ?? downstream.dimensions.find((x) => x.partitions.kind === upstream.kind);
    if (d) return multiToSingle(d.name);
  }
  if (upstream.kind === 'multi' && downstream.kind !== 'multi') {
    const d = upstream.dimensions.find((x) => sameDef(x.partitions, downstream)) ?? upstream.dimensions.find((x) => x.partitions.kind === downstream.kind);
    if (d) return multiToSingle(d.name);
  }
  return identity();
}

function mappingError(message: string, key: string): CairnError {
  return new CairnError(ErrorCodes.InvalidPartition, message, key);
}

function timeUpstream(
  mapping: { startOffset: number; endOffset: number },
  down: TimeWindowPartitionsDefinition,
  up: TimeWindowPartitionsDefinition,
  key: string,
  nowMs: number,
): string[] {
  const parsed = parseTimeKey(down, key);
  if (!parsed.ok) throw mappingError(`'${key}' is not a key of ${describePartitions(down)}`, key);
  const [own] = windowsFrom(down, parsed.start);
  const from = stepTicks(down, own!.start, mapping.startOffset);
  const to = stepTicks(down, own!.end, mapping.endOffset);
  if (to <= from) return [];
  const first = firstTick(up);
  const last = latestEnd(up, nowMs);
  // Start at the upstream window containing `from` (or the first window), walk while windows start before `to`.
  const begin = Math.max(first, prevTick(up, from + 1));
  const out: string[] = [];
  for (const w of windowsFrom(up, begin)) {
    if (w.start >= to || w.end > last) break;
    if (w.end > from) out.push(w.key);
  }
  return out;
}

/**
 * The upstream keys that downstream partition `downstreamKey` reads, in order. Throws CairnError
 * (INVALID_PARTITION) for a downstream key that is not a key of `downstreamDef`, or a mapping that does not fit
 * the two definitions (with a message naming both).
 */
export function upstreamPartitions(
  mapping: PartitionMapping,
  downstreamDef: PartitionsDefinition,
  upstreamDef: PartitionsDefinition,
  downstreamKey: string,
  options: PartitionKeysOptions,
): string[] {
  return partitionMapper(mapping, downstreamDef, upstreamDef, options)(downstreamKey);
}

/**
 * {@link upstreamPartitions} for many downstream keys: checks that the mapping fits once (throwing like
 * upstreamPartitions) and lists the upstream keys at most once, so a planner can map thousands of keys.
 */
export function partitionMapper(
  mapping: PartitionMapping,
  downstreamDef: PartitionsDefinition,
  upstreamDef: PartitionsDefinition,
  options: PartitionKeysOptions & { /** Skip validating downstream keys (the caller has). */ trustedKeys?: boolean },
): (downstreamKey: string) => string[] {
  const nowMs = options.now.getTime();
  const misfit = (what: string) =>
    mappingError(`a ${mapping.kind} mapping ${what} (downstream ${describePartitions(downstreamDef)}, upstream ${describePartitions(upstreamDef)})`, describePartitions(downstreamDef));
  let all: string[] | undefined;
  let allSet: Set<string> | undefined;
  const upstreamKeys = () => (all ??= partitionKeys(upstreamDef, options));
  const existing = (keys: string[]) => {
    allSet ??= new Set(upstreamKeys());
    return keys.filter((k) => allSet!.has(k));
  };
  const checked = (f: (key: string) => string[]) =>
    options.trustedKeys
      ? f
      : (key: string) => {
          validatePartitionKey(downstreamDef, key, { dynamicKeys: options.dynamicKeys });
          return f(key);
        };
  // Equal time definitions without offsets map a key to itself: skip the window arithmetic.
  if (mapping.kind === 'timeWindow' && mapping.startOffset === 0 && mapping.endOffset === 0 && sameDef(downstreamDef, upstreamDef)) {
    return checked((key) => existing([key]));
  }
  switch (mapping.kind) {
    case 'identity':
      return checked((key) => existing([key]));
    case 'all':
      return checked(() => [...upstreamKeys()]);
    case 'last':
      return checked(() => (upstreamKeys().length ? [upstreamKeys().at(-1)!] : []));
    case 'static':
      return checked((key) => existing([...(mapping.map[key] ?? [])]));
    case 'timeWindow': {
      if (downstreamDef.kind !== 'time' || upstreamDef.kind !== 'time') throw misfit('needs time windows on both sides');
      return checked((key) => timeUpstream(mapping, downstreamDef, upstreamDef, key, nowMs));
    }
    case 'multiToSingle': {
      if (downstreamDef.kind === 'multi' && upstreamDef.kind !== 'multi') {
        const i = downstreamDef.dimensions.findIndex((d) => d.name === mapping.dimension);
        if (i < 0) throw misfit(`names dimension '${mapping.dimension}', which the downstream does not have`);
        return checked((key) => existing([key.split('|')[i]!]));
      }
      if (upstreamDef.kind === 'multi' && downstreamDef.kind !== 'multi') {
        const i = upstreamDef.dimensions.findIndex((d) => d.name === mapping.dimension);
        if (i < 0) throw misfit(`names dimension '${mapping.dimension}', which the upstream does not have`);
        return checked((key) => upstreamKeys().filter((k) => k.split('|')[i] === key));
      }
      throw misfit('needs multi partitions on exactly one side');
    }
    default:
      throw mappingError(`unknown partition mapping kind ${JSON.stringify((mapping as { kind?: unknown }).kind)}`, '');
  }
}

/**
 * Why `mapping` cannot map `downstreamDef` onto `upstreamDef` (a phrase), or undefined when it fits. Used by
 * validation, so that a misfit is reported when the code location loads, not when a run reaches the step.
 */
export function mappingProblem(mapping: PartitionMapping, downstreamDef: PartitionsDefinition, upstreamDef: PartitionsDefinition): string | undefined {
  try {
    partitionMapper(mapping, downstreamDef, upstreamDef, { now: new Date(0) });
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
