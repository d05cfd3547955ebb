import { CairnError, ErrorCodes } from './errors';
import type { AssetGraph } from './graph';

/**
 * The lineage of one asset: the asset itself (the focus), what it is built from within some number of hops
 * upstream, what is built from it within some number of hops downstream, and the edges among those assets.
 * Pure: no I/O, no colours; `formatLineage` renders it as text, Mermaid, Graphviz DOT or JSON.
 */

export const LINEAGE_FORMATS = ['text', 'mermaid', 'dot', 'json'] as const;
export type LineageFormat = (typeof LINEAGE_FORMATS)[number];

export interface LineageNode {
  key: string;
  codeLocation: string;
  group: string;
  external: boolean;
  /** Hops from the focus along the shortest path: negative upstream, positive downstream, 0 for the focus. */
  depth: number;
}

export interface LineageEdge {
  /** The dependency. */
  from: string;
  /** The asset that depends on `from`. */
  to: string;
}

export interface LineageOptions {
  /** Levels upstream to include; undefined means all, 0 none. */
  upstream?: number;
  /** Levels downstream to include; undefined means all, 0 none. */
  downstream?: number;
}

export interface Lineage {
  focus: string;
  /** Sorted by depth (most upstream first), then by key. */
  nodes: LineageNode[];
  /** Every graph edge whose two ends are in `nodes`, in node order of `from`, then of `to`. */
  edges: LineageEdge[];
  /** The limits the lineage was taken with (undefined: all levels). */
  limits: { upstream: number | undefined; downstream: number | undefined };
}

/**
 * The subgraph around `key`: `key`, its upstream assets within `upstream` hops, its downstream assets within
 * `downstream` hops (both default to all levels), and the edges among them.
 * Throws a CairnError with code `UNKNOWN_ASSET` (naming the closest key) when `key` is not in the graph, and
 * `INVALID_ARGUMENT` when a depth is not a non-negative integer.
 * @example
 * formatLineage(lineageOf(graph, 'marts/revenue', { upstream: 1 }), 'mermaid');
 */
export function lineageOf(graph: AssetGraph, key: string, options: LineageOptions = {}): Lineage {
  const upstream = checkDepth(options.upstream, 'upstream');
  const downstream = checkDepth(options.downstream, 'downstream');
  if (!graph.has(key)) {
    const closest = graph.closestKey(key);
    throw new CairnError(ErrorCodes.UnknownAsset, `unknown asset key '${key}'${closest === undefined ? '' : `; did you mean '${closest}'?`}`, key);
  }
  const up = distances(key, upstream, (k) => graph.parents(k));
  const down = distances(key, downstream, (k) => graph.children(k));
  // Only a graph with a cycle through the focus reaches an asset both ways; the nearer side wins, ties upstream.
  const depth = new Map<string, number>([[key, 0]]);
  for (const [k, d] of up) if (d > 0) depth.set(k, -d);
  for (const [k, d] of down) if (d > 0 && !(depth.has(k) && -depth.get(k)! <= d)) depth.set(k, d);

  const nodes = [...depth].map(([k, d]): LineageNode => {
    const n = graph.node(k);
    return { key: k, codeLocation: n.codeLocation, group: n.group, external: n.isExternal === true, depth: d };
  });
  nodes.sort((a, b) => a.depth - b.depth || compare(a.key, b.key));
  const position = new Map(nodes.map((n, i) => [n.key, i]));
  const edges: LineageEdge[] = [];
  for (const { key: to } of nodes) {
    for (const from of graph.parents(to)) if (position.has(from)) edges.push({ from, to });
  }
  edges.sort((a, b) => position.get(a.from)! - position.get(b.from)! || position.get(a.to)! - position.get(b.to)!);
  return { focus: key, nodes, edges, limits: { upstream, downstream } };
}

/**
 * Parses a `--upstream` / `--downstream` value: a non-negative integer, or `all` (returned as undefined).
 * `flag` names the option in the error message.
 */
export function parseLineageDepth(value: string, flag: string): number | undefined {
  const text = value.trim();
  if (text.toLowerCase() === 'all') return undefined;
  if (!/^\d+$/.test(text)) throw new CairnError(ErrorCodes.InvalidArgument, `${flag} must be a non-negative whole number or 'all', got '${value}'`, flag);
  const depth = Number(text);
  if (!Number.isSafeInteger(depth)) throw new CairnError(ErrorCodes.InvalidArgument, `${flag} is too large: '${value}'`, flag);
  return depth;
}

/** Checks a format name; throws a CairnError listing the accepted formats. */
export function parseLineageFormat(value: string): LineageFormat {
  if ((LINEAGE_FORMATS as readonly string[]).includes(value)) return value as LineageFormat;
  throw new CairnError(ErrorCodes.InvalidArgument, `unknown lineage format '${value}'; use one of: ${LINEAGE_FORMATS.join(', ')}`, value);
}

/** How `text` output is decorated (the CLI passes terminal colours); every function defaults to identity. */
export interface LineageStyle {
  focus?: (text: string) => string;
  heading?: (text: string) => string;
  dim?: (text: string) => string;
  external?: (text: string) => string;
}

/**
 * Renders a lineage. `text` is for people; `mermaid` (a `flowchart LR`) and `dot` (a `digraph`) are for
 * diagrams; `json` is `{ focus, nodes, edges }`. No trailing newline.
 */
export function formatLineage(lineage: Lineage, format: string, style: LineageStyle = {}): string {
  switch (parseLineageFormat(format)) {
    case 'text':
      return formatText(lineage, style);
    case 'mermaid':
      return formatMermaid(lineage);
    case 'dot':
      return formatDot(lineage);
    case 'json':
      return JSON.stringify({ focus: lineage.focus, nodes: lineage.nodes, edges: lineage.edges }, null, 2);
  }
}

function checkDepth(depth: number | undefined, name: string): number | undefined {
  if (depth === undefined || (Number.isInteger(depth) && depth >= 0)) return depth;
  throw new CairnError(ErrorCodes.InvalidArgument, `the ${name} depth must be a non-negative whole number, got ${depth}`, name);
}

/** Breadth-first distances from `start` (included, at 0) along `next`, up to `limit` hops. */
function distances(start: string, limit: number | undefined, next: (key: string) => readonly string[]): Map<string, number> {
  const seen = new Map<string, number>([[start, 0]]);
  let frontier = [start];
  for (let level = 1; frontier.length > 0 && (limit === undefined || level <= limit); level++) {
    const following: string[] = [];
    for (const key of frontier) {
      for (const neighbour of next(key)) {
        if (seen.has(neighbour)) continue;
        seen.set(neighbour, level);
        following.push(neighbour);
      }
    }
    frontier = following;
  }
  return seen;
}

/** Orders strings by UTF-16 code unit, like AssetGraph does. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface TextRow {
  indent: number;
  node: LineageNode;
  /** Set when the asset's full entry is elsewhere in its section. */
  seeAlso?: 'above' | 'below';
}

/**
 * One tree per direction, walked from the focus. An asset is listed in full once, at its shortest distance
 * within the section; every other path to it shows a "see above/below" reference, so each edge of the
 * section appears once.
 */
function sectionRows(lineage: Lineage, sign: 1 | -1): TextRow[] {
  const byKey = new Map(lineage.nodes.map((n) => [n.key, n]));
  const next = new Map<string, string[]>();
  for (const { from, to } of lineage.edges) {
    const [a, b] = sign === -1 ? [to, from] : [from, to];
    if (Math.sign(byKey.get(b)!.depth) !== sign) continue;
    const list = next.get(a) ?? [];
    list.push(b);
    next.set(a, list);
  }
  const distance = distances(lineage.focus, undefined, (key) => next.get(key) ?? []);
  const rows: TextRow[] = [];
  const expanded = new Set<string>();
  // Depth-first, children in edge order; an explicit stack so that long chains cannot overflow the call stack.
  const stack: { neighbours: string[]; at: number }[] = [{ neighbours: next.get(lineage.focus) ?? [], at: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.at >= top.neighbours.length) {
      stack.pop();
      continue;
    }
    const key = top.neighbours[top.at++]!;
    const indent = stack.length;
    const node = byKey.get(key)!;
    if (expanded.has(key)) {
      rows.push({ indent, node, seeAlso: 'above' });
    } else if (distance.get(key) !== indent) {
      rows.push({ indent, node, seeAlso: 'below' });
    } else {
      expanded.add(key);
      rows.push({ indent, node });
      stack.push({ neighbours: next.get(key) ?? [], at: 0 });
    }
  }
  return rows;
}

function formatText(lineage: Lineage, style: LineageStyle): string {
  const id = (text: string): string => text;
  const focusStyle = style.focus ?? id;
  const heading = style.heading ?? id;
  const dim = style.dim ?? id;
  const externalStyle = style.external ?? dim;
  const focus = lineage.nodes.find((n) => n.depth === 0)!;
  const sections = (
    [
      ['upstream', -1, lineage.limits.upstream],
      ['downstream', 1, lineage.limits.downstream],
    ] as const
  )
    .filter(([, , limit]) => limit !== 0)
    .map(([name, sign, limit]) => ({ title: limit === undefined ? name : `${name} (${limit} level${limit === 1 ? '' : 's'})`, rows: sectionRows(lineage, sign) }));
  const width = Math.max(focus.key.length, ...sections.flatMap((s) => s.rows.filter((r) => !r.seeAlso).map((r) => 2 * r.indent + r.node.key.length)));
  const external = (n: LineageNode): string => (n.external ? `  ${externalStyle('external')}` : '');

  const lines = [`${focusStyle(focus.key)}${' '.repeat(width - focus.key.length)}  ${dim(focus.codeLocation)}  ${dim(`group ${focus.group}`)}${external(focus)}`];
  for (const section of sections) {
    lines.push(heading(`${section.title}:`) + (section.rows.length === 0 ? ' none' : ''));
    for (const { indent, node, seeAlso } of section.rows) {
      const label = `${' '.repeat(2 * indent)}${node.key}`;
      if (seeAlso) lines.push(`${label}  ${dim(`(see ${seeAlso})`)}`);
      else lines.push(`${label}${' '.repeat(width - label.length)}  ${dim(node.codeLocation)}${external(node)}`);
    }
  }
  return lines.join('\n');
}

/** Mermaid node ids are n0, n1, ... in node order; labels are quoted with entity-escaped quotes. */
function formatMermaid(lineage: Lineage): string {
  const ids = new Map(lineage.nodes.map((n, i) => [n.key, `n${i}`]));
  const lines = ['flowchart LR'];
  for (const n of lineage.nodes) lines.push(`  ${ids.get(n.key)}["${mermaidText(n.key)}"]`);
  for (const e of lineage.edges) lines.push(`  ${ids.get(e.from)} --> ${ids.get(e.to)}`);
  lines.push('  classDef focus fill:#fde68a,stroke:#b45309,stroke-width:3px');
  const externals = lineage.nodes.filter((n) => n.external).map((n) => ids.get(n.key)!);
  if (externals.length > 0) lines.push('  classDef external stroke-dasharray:5 5');
  lines.push(`  class ${ids.get(lineage.focus)} focus`);
  if (externals.length > 0) lines.push(`  class ${externals.join(',')} external`);
  return lines.join('\n');
}

/** Text inside a quoted Mermaid label: `"` and the characters Mermaid treats specially become entity codes. */
function mermaidText(text: string): string {
  return text.replace(/[#"<>]/g, (c) => `#${c.charCodeAt(0)};`);
}

function formatDot(lineage: Lineage): string {
  const lines = ['digraph lineage {', '  rankdir=LR;', '  node [shape=box];'];
  for (const n of lineage.nodes) {
    const styles = [...(n.depth === 0 ? ['filled', 'bold'] : []), ...(n.external ? ['dashed'] : [])];
    const attributes = [...(styles.length > 0 ? [`style=${dotId(styles.join(','))}`] : []), ...(n.depth === 0 ? [`fillcolor=${dotId('#fde68a')}`] : [])];
    lines.push(`  ${dotId(n.key)}${attributes.length > 0 ? ` [${attributes.join(', ')}]` : ''};`);
  }
  for (const e of lineage.edges) lines.push(`  ${dotId(e.from)} -> ${dotId(e.to)};`);
  lines.push('}');
  return lines.join('\n');
}

/** A double-quoted DOT id: backslashes and quotes escaped, line breaks as `\n`. */
function dotId(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}
