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
  private readonly sortedKeys: readonly string[];

  private constructor(
    private readonly nodes: ReadonlyMap<string, GraphNode>,
    private readonly parentsOf: ReadonlyMap<string, readonly string[]>,
    private readonly childrenOf: ReadonlyMap<string, readonly string[]>,
  ) {
    this.size = nodes.size;
    this.sortedKeys = [...nodes.keys()].sort(compareKeys);
  }

  /**
   * Builds a graph. Deps naming keys that are not in `nodes` make no edge (validation reports them);
   * when a key appears twice, the last node wins.
   */
  static fromNodes(nodes: Iterable<GraphNode>): AssetGraph {
    const byKey = new Map<string, GraphNode>();
    for (const node of nodes) byKey.set(node.key, node);
    const keys = [...byKey.keys()].sort(compareKeys);
    const parentsOf = new Map<string, string[]>();
    const childrenOf = new Map<string, string[]>();
    for (const key of keys) childrenOf.set(key, []);
    // Walking keys in sorted order appends children in sorted order, so only parents need a sort.
    for (const key of keys) {
      const parents = [...new Set(byKey.get(key)!.deps)].filter((dep) => byKey.has(dep)).sort(compareKeys);
      parentsOf.set(key, parents);
      for (const parent of parents) childrenOf.get(parent)!.push(key);
    }
    return new AssetGraph(byKey, parentsOf, childrenOf);
  }

  /** Every key, sorted. */
  keys(): string[] {
    return [...this.sortedKeys];
  }

  has(key: string): boolean {
    return this.nodes.has(key);
  }

  /** The node for `key`; throws a CairnError naming the closest existing key when there is none. */
  node(key: string): GraphNode {
    const node = this.nodes.get(key);
    if (!node) throw this.unknownKey(key);
    return node;
  }

  /** Direct dependencies of `key` that exist in the graph, sorted. */
  parents(key: string): readonly string[] {
    return this.parentsOf.get(key) ?? this.throwUnknown(key);
  }

  /** Assets that depend directly on `key`, sorted. */
  children(key: string): readonly string[] {
    return this.childrenOf.get(key) ?? this.throwUnknown(key);
  }

  /**
   * Topological order (parents before children). Among the assets that are ready at any point, the smallest
   * key comes first, so the order is stable. With `keys`, only those assets are ordered and only the edges
   * between them count: a path through an asset that is not included does not constrain the order.
   * Throws a CairnError with code `CYCLE` when the (restricted) graph has a cycle.
   */
  toposort(keys?: Iterable<string>): string[] {
    const included = keys === undefined ? undefined : this.checkedSet(keys);
    const members = included ?? this.sortedKeys;
    const inDegree = new Map<string, number>();
    const ready = new MinHeap();
    for (const key of members) {
      let degree = 0;
      for (const parent of this.parentsOf.get(key)!) if (!included || included.has(parent)) degree++;
      inDegree.set(key, degree);
      if (degree === 0) ready.push(key);
    }
    const order: string[] = [];
    while (ready.size > 0) {
      const key = ready.pop();
      order.push(key);
      for (const child of this.childrenOf.get(key)!) {
        const degree = inDegree.get(child);
        if (degree === undefined) continue;
        inDegree.set(child, degree - 1);
        if (degree === 1) ready.push(child);
      }
    }
    if (order.length < inDegree.size) {
      const placed = new Set(order);
      const left = new Set([...inDegree.keys()].filter((key) => !placed.has(key)));
      const cycle = this.cycleWithin(left) ?? [...left];
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
    return this.walk(keys, depth, this.parentsOf);
  }

  /** `keys` and everything that depends on them, transitively; `depth` 1 adds direct children only. */
  downstream(keys: Iterable<string>, depth?: number): Set<string> {
    return this.walk(keys, depth, this.childrenOf);
  }

  /** The assets of `keys` (default: all) that have no parent inside `keys`. */
  roots(keys?: Iterable<string>): Set<string> {
    return this.boundary(keys, this.parentsOf);
  }

  /** The assets of `keys` (default: all) that have no child inside `keys`. */
  sinks(keys?: Iterable<string>): Set<string> {
    return this.boundary(keys, this.childrenOf);
  }

  /**
   * The existing key closest to `key` by edit distance, for "did you mean" hints; undefined unless it is
   * within max(2, length / 3) edits. Ties go to the smallest key.
   */
  closestKey(key: string): string | undefined {
    return closestWithin(key, this.sortedKeys);
  }

  private walk(keys: Iterable<string>, depth: number | undefined, edges: ReadonlyMap<string, readonly string[]>): Set<string> {
    const seen = this.checkedSet(keys);
    let frontier = [...seen];
    for (let level = 0; frontier.length > 0 && (depth === undefined || level < depth); level++) {
      const next: string[] = [];
      for (const key of frontier) {
        for (const neighbour of edges.get(key)!) {
          if (seen.has(neighbour)) continue;
          seen.add(neighbour);
          next.push(neighbour);
        }
      }
      frontier = next;
    }
    return seen;
  }

  private boundary(keys: Iterable<string> | undefined, edges: ReadonlyMap<string, readonly string[]>): Set<string> {
    const members = keys === undefined ? new Set(this.sortedKeys) : this.checkedSet(keys);
    const result = new Set<string>();
    for (const key of members) {
      if (!edges.get(key)!.some((neighbour) => members.has(neighbour))) result.add(key);
    }
    return result;
  }

  /** Iterative DFS along child edges, restricted to `within` when given. */
  private cycleWithin(within: ReadonlySet<string> | undefined): string[] | undefined {
    const onStackAt = new Map<string, number>();
    const done = new Set<string>();
    const inScope = (key: string): boolean => !within || within.has(key);
    for (const start of this.sortedKeys) {
      if (!inScope(start) || done.has(start)) continue;
      const path: string[] = [start];
      const cursor: number[] = [0];
      onStackAt.set(start, 0);
      while (path.length > 0) {
        const top = path.length - 1;
        const key = path[top]!;
        const children = this.childrenOf.get(key)!;
        const index = cursor[top]!;
        if (index >= children.length) {
          path.pop();
          cursor.pop();
          onStackAt.delete(key);
          done.add(key);
          continue;
        }
        cursor[top] = index + 1;
        const child = children[index]!;
        if (!inScope(child) || done.has(child)) continue;
        const at = onStackAt.get(child);
        if (at !== undefined) return canonicalCycle(path.slice(at));
        onStackAt.set(child, path.length);
        path.push(child);
        cursor.push(0);
      }
    }
    return undefined;
  }

  private checkedSet(keys: Iterable<string>): Set<string> {
    const set = new Set<string>();
    for (const key of keys) {
      if (!this.nodes.has(key)) throw this.unknownKey(key);
      set.add(key);
    }
    return set;
  }

  private throwUnknown(key: string): never {
    throw this.unknownKey(key);
  }

  private unknownKey(key: string): CairnError {
    const closest = this.closestKey(key);
    const hint = closest === undefined ? '' : `; did you mean '${closest}'?`;
    return new CairnError(ErrorCodes.InvalidKey, `unknown asset key '${key}'${hint}`, key);
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
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Rotates a cycle to start at its smallest key and closes it: ['b','c','a'] becomes ['a','b','c','a']. */
function canonicalCycle(cycle: string[]): string[] {
  let start = 0;
  for (let i = 1; i < cycle.length; i++) if (cycle[i]! < cycle[start]!) start = i;
  const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
  return [...rotated, rotated[0]!];
}

/** A binary min-heap of keys, so Kahn's algorithm picks the smallest ready key in O(log n). */
class MinHeap {
  private readonly items: string[] = [];

  get size(): number {
    return this.items.length;
  }

  push(item: string): void {
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

  pop(): string {
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
