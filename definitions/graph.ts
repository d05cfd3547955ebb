import type { FreshnessPolicy } from './freshness';
import type { PartitionsDefinition } from './partitions/definitions';
import type { PartitionMapping } from './partitions/mappings';
import type { BackfillPolicy } from './partitions/schema';
import { distance } from 'fastest-levenshtein';
import { CairnError, ErrorCodes } from './errors';

/**
 * One asset as the graph sees it: its key, its dependencies by key and the attributes that selections
 * read. Built from live definitions or from code-location snapshots alike.
 */
export interface GraphNode {
  key: string;
  deps: readonly string[];
  group: string;
  kinds: readonly string[];
  owners: readonly string[];
  tags: Readonly<Record<string, string>>;
  codeLocation: string;
  isExternal?: boolean;
  codeVersion?: string;
  freshness?: FreshnessPolicy;
  partitions?: PartitionsDefinition;
  partitionMappings?: Readonly<Record<string, PartitionMapping>>;
  backfillPolicy?: BackfillPolicy;
}

/**
 * An immutable asset graph keyed by asset key. Edges run from a dependency (parent) to the asset that
 * depends on it (child). Every ordering it returns is stable: ties are broken by key, compared by code unit.
 * @example
 * const graph = AssetGraph.fromNodes(nodes);
 * graph.toposort(graph.upstream(['marts/daily_revenue']));
 */
export class AssetGraph {
  readonly size: number;
  // Algorithms run on indices into the sorted keys, so comparing indices compares keys.
  private constructor(
    private readonly sortedKeys: readonly string[],
    private readonly index: ReadonlyMap<string, number>,
    private readonly nodes: readonly GraphNode[],
    private readonly parentIds: readonly (readonly number[])[],
    private readonly childIds: readonly (readonly number[])[],
    private readonly parentKeys: readonly (readonly string[])[],
    private readonly childKeys: readonly (readonly string[])[],
  ) {
    this.size = sortedKeys.length;
  }

  /**
   * Builds a graph. Deps naming keys that are not in `nodes` make no edge (validation reports them);
   * when a key appears twice, the last node wins.
   */
  static fromNodes(nodes: Iterable<GraphNode>): AssetGraph {
    const byKey = new Map<string, GraphNode>();
    for (const node of nodes) byKey.set(node.key, node);
    const keys = [...byKey.keys()].sort(); // by UTF-16 code unit, the order `<` uses
    const index = new Map(keys.map((key, i) => [key, i]));
    const parentIds = keys.map((key) => {
      const ids = byKey.get(key)!.deps.map((dep) => index.get(dep)).filter((id) => id !== undefined);
      return [...new Set(ids)].sort((a, b) => a - b);
    });
    // Visiting children in index order appends them to each parent already sorted.
    const childIds: number[][] = keys.map(() => []);
    parentIds.forEach((parents, child) => parents.forEach((parent) => childIds[parent]!.push(child)));
    const toKeys = (ids: readonly number[]) => ids.map((id) => keys[id]!);
    return new AssetGraph(keys, index, keys.map((key) => byKey.get(key)!), parentIds, childIds, parentIds.map(toKeys), childIds.map(toKeys));
  }

  /** Every key, sorted. */
  keys(): string[] {
    return [...this.sortedKeys];
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  /** The node for `key`; throws a CairnError naming the closest existing key when there is none. */
  node(key: string): GraphNode {
    return this.nodes[this.id(key)]!;
  }

  /** Direct dependencies of `key` that exist in the graph, sorted. */
  parents(key: string): readonly string[] {
    return this.parentKeys[this.id(key)]!;
  }

  /** Assets that depend directly on `key`, sorted. */
  children(key: string): readonly string[] {
    return this.childKeys[this.id(key)]!;
  }

  /**
   * Topological order (parents before children). Among the assets that are ready at any point, the smallest
   * key comes first, so the order is stable. With `keys`, only those assets are ordered and only the edges
   * between them count: a path through an asset that is not included does not constrain the order.
   * Throws a CairnError with code `CYCLE` when the (restricted) graph has a cycle.
   */
  toposort(keys?: Iterable<string>): string[] {
    const included = keys === undefined ? undefined : this.membership(keys);
    const inDegree = new Int32Array(this.size);
    const ready = new MinHeap();
    let members = 0;
    for (let id = 0; id < this.size; id++) {
      if (included && !included[id]) continue;
      members++;
      let degree = 0;
      for (const parent of this.parentIds[id]!) if (!included || included[parent]) degree++;
      inDegree[id] = degree;
      if (degree === 0) ready.push(id);
    }
    const order: string[] = [];
    while (ready.size > 0) {
      const id = ready.pop();
      order.push(this.sortedKeys[id]!);
      for (const child of this.childIds[id]!) {
        if (included && !included[child]) continue;
        const degree = inDegree[child]! - 1;
        inDegree[child] = degree;
        if (degree === 0) ready.push(child);
      }
    }
    if (order.length < members) {
      const left = new Uint8Array(this.size);
      for (let id = 0; id < this.size; id++) if ((!included || included[id]) && inDegree[id]! > 0) left[id] = 1;
      const cycle = this.cycleWithin(left) ?? [];
      throw new CairnError(ErrorCodes.Cycle, `the asset graph has a cycle: ${cycle.join(' -> ')}`, cycle[0]);
    }
    return order;
  }

  /**
   * One cycle as a path in the direction data flows (dependency first), starting and ending at its smallest
   * key: `['a', 'b', 'c', 'a']` when b depends on a, c on b and a on c. Undefined when the graph is acyclic.
   */
  findCycle(): string[] | undefined {
    return this.cycleWithin(undefined);
  }

  /** `keys` and everything they depend on, transitively; `depth` 1 adds direct parents only. */
  upstream(keys: Iterable<string>, depth?: number): Set<string> {
    return this.walk(keys, depth, this.parentIds);
  }

  /** `keys` and everything that depends on them, transitively; `depth` 1 adds direct children only. */
  downstream(keys: Iterable<string>, depth?: number): Set<string> {
    return this.walk(keys, depth, this.childIds);
  }

  /** The assets of `keys` (default: all) that have no parent inside `keys`. */
  roots(keys?: Iterable<string>): Set<string> {
    return this.boundary(keys, this.parentIds);
  }

  /** The assets of `keys` (default: all) that have no child inside `keys`. */
  sinks(keys?: Iterable<string>): Set<string> {
    return this.boundary(keys, this.childIds);
  }

  /**
   * The existing key closest to `key` by edit distance, for "did you mean" hints; undefined unless it is
   * within max(2, length / 3) edits. Ties go to the smallest key.
   */
  closestKey(key: string): string | undefined {
    return closestWithin(key, this.sortedKeys);
  }

  private walk(keys: Iterable<string>, depth: number | undefined, edges: readonly (readonly number[])[]): Set<string> {
    const seen = new Uint8Array(this.size);
    let frontier: number[] = [];
    for (const key of keys) {
      const id = this.id(key);
      if (!seen[id]) frontier.push(id);
      seen[id] = 1;
    }
    const result = frontier.map((id) => this.sortedKeys[id]!);
    for (let level = 0; frontier.length > 0 && (depth === undefined || level < depth); level++) {
      const next: number[] = [];
      for (const id of frontier) {
        for (const neighbour of edges[id]!) {
          if (seen[neighbour]) continue;
          seen[neighbour] = 1;
          next.push(neighbour);
          result.push(this.sortedKeys[neighbour]!);
        }
      }
      frontier = next;
    }
    return new Set(result);
  }

  private boundary(keys: Iterable<string> | undefined, edges: readonly (readonly number[])[]): Set<string> {
    const included = keys === undefined ? new Uint8Array(this.size).fill(1) : this.membership(keys);
    const result = new Set<string>();
    for (let id = 0; id < this.size; id++) {
      if (included[id] && !edges[id]!.some((neighbour) => included[neighbour])) result.add(this.sortedKeys[id]!);
    }
    return result;
  }

  /** Iterative DFS along child edges from each key in order, restricted to `within` when given. */
  private cycleWithin(within: Uint8Array | undefined): string[] | undefined {
    const state = new Uint8Array(this.size); // 0 unvisited, 1 on the current path, 2 done
    const path: number[] = [];
    const cursor: number[] = [];
    for (let start = 0; start < this.size; start++) {
      if ((within && !within[start]) || state[start]) continue;
      path.push(start);
      cursor.push(0);
      state[start] = 1;
      while (path.length > 0) {
        const top = path.length - 1;
        const id = path[top]!;
        const children = this.childIds[id]!;
        const at = cursor[top]!;
        if (at >= children.length) {
          path.pop();
          cursor.pop();
          state[id] = 2;
          continue;
        }
        cursor[top] = at + 1;
        const child = children[at]!;
        if ((within && !within[child]) || state[child] === 2) continue;
        if (state[child] === 1) {
          // Rotate to start at the smallest index, which is the smallest key, and close the path.
          const cycle = path.slice(path.lastIndexOf(child));
          const first = cycle.indexOf(Math.min(...cycle));
          return [...cycle.slice(first), ...cycle.slice(0, first), cycle[first]!].map((i) => this.sortedKeys[i]!);
        }
        state[child] = 1;
        path.push(child);
        cursor.push(0);
      }
    }
    return undefined;
  }

  private membership(keys: Iterable<string>): Uint8Array {
    const included = new Uint8Array(this.size);
    for (const key of keys) included[this.id(key)] = 1;
    return included;
  }

  private id(key: string): number {
    const id = this.index.get(key);
    if (id !== undefined) return id;
    const closest = this.closestKey(key);
    const hint = closest === undefined ? '' : `; did you mean '${closest}'?`;
    throw new CairnError(ErrorCodes.InvalidKey, `unknown asset key '${key}'${hint}`, key);
  }
}

/**
 * The candidate closest to `word` by edit distance when within max(2, length / 3) edits; ties go to the
 * earliest candidate.
 */
export function closestWithin(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - word.length) > limit) continue;
    const d = distance(word, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= limit ? best : undefined;
}

/** A binary min-heap of key indices, so Kahn's algorithm picks the smallest ready key in O(log n). */
class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }
  push(item: number): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= item) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }
  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const smaller = right < items.length && items[right]! < items[left]! ? right : left;
      if (items[smaller]! >= last) break;
      items[i] = items[smaller]!;
      i = smaller;
    }
    items[i] = last;
    return top;
  }
}
