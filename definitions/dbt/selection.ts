/**
 * A practical subset of dbt's node selection syntax (`--select` / `--exclude`), evaluated against the nodes of
 * a manifest. Pure: no I/O, no dbt. See https://docs.getdbt.com/reference/node-selection/syntax.
 *
 *   expression := term (whitespace term)*          union
 *   term       := atom ("," atom)*                 intersection
 *   atom       := ["@"] [[N] "+"] [method ":"] value ["+" [N]]
 */
import { CairnError, ErrorCodes } from '../errors';

/** What the evaluator needs to know about a dbt node (model, seed, snapshot, source, test, ...). */
export interface DbtSelectableNode {
  uniqueId: string;
  resourceType: string;
  /** The node name; for a source, the table name. */
  name: string;
  packageName: string;
  fqn: readonly string[];
  /** `original_file_path`, relative to the project (`models/staging/stg_orders.sql`). */
  path: string;
  tags: readonly string[];
  /** `config.materialized`. */
  materialized?: string;
  /** For sources: the source's name (`shop`). */
  sourceName?: string;
  /** Unique ids of `depends_on.nodes`. */
  parents: readonly string[];
}

/** A dbt selection expression that does not parse or evaluate; `column` is 1-based. */
export class DbtSelectionError extends CairnError {
  override readonly name = 'DbtSelectionError';
  constructor(
    message: string,
    readonly expression: string,
    readonly column: number,
  ) {
    super(ErrorCodes.InvalidSelection, `dbt selection '${expression}' column ${column}: ${message}`, `column ${column}`);
  }
}

/** Selection methods understood here, in the order error messages list them. */
const METHODS = ['fqn', 'tag', 'path', 'resource_type', 'source', 'config.materialized', 'package'] as const;
type Method = (typeof METHODS)[number];

/** dbt's resource types; `resource_type:` also accepts any type present among the nodes. */
const RESOURCE_TYPES = new Set([
  'model', 'analysis', 'test', 'snapshot', 'operation', 'seed', 'rpc', 'sql_operation', 'doc', 'source', 'macro',
  'exposure', 'metric', 'group', 'saved_query', 'semantic_model', 'unit_test', 'fixture', 'function',
]);

/** How far a graph operator walks: a number of edges, or the whole closure. */
type Depth = number | 'all';

interface Atom {
  /** `file` is internal: the default for a bare file name such as `stg_orders.sql`. */
  readonly method: Method | 'file';
  readonly value: string;
  /** 1-based column of the value, for errors found while evaluating. */
  readonly valueColumn: number;
  /** `@`: the node, its descendants, and every ancestor of those. */
  readonly childrensParents: boolean;
  readonly ancestors?: Depth;
  readonly descendants?: Depth;
}

/**
 * Returns the unique ids selected by `expression` among `nodes`. Throws DbtSelectionError for bad syntax, an
 * unknown method, a malformed `source:` value or an unknown `resource_type:`. Only selects: which resource
 * types become assets is the caller's business.
 * @example
 * selectDbtNodes('+orders tag:nightly,resource_type:model', nodes); // orders, its ancestors, nightly models
 */
export function selectDbtNodes(expression: string, nodes: readonly DbtSelectableNode[]): Set<string> {
  const terms = parseExpression(expression);
  const graph = new DbtGraph(nodes);
  const selected = new Set<string>();
  for (const term of terms) {
    const [first, ...rest] = term.map((atom) => evaluateAtom(atom, graph, expression));
    for (const id of first ?? []) if (rest.every((set) => set.has(id))) selected.add(id);
  }
  return selected;
}

/** Parses the whole expression up front, so a syntax error anywhere fails before anything is evaluated. */
function parseExpression(expression: string): Atom[][] {
  const terms: Atom[][] = [];
  for (const match of expression.matchAll(/\S+/g)) {
    const start = match.index ?? 0;
    const atoms: Atom[] = [];
    let offset = 0;
    for (const piece of match[0].split(',')) {
      const column = start + offset + 1;
      if (piece === '') {
        if (offset === 0) throw new DbtSelectionError("expected a selector before ','", expression, column);
        throw new DbtSelectionError("expected a selector after ','", expression, column - 1);
      }
      atoms.push(parseAtom(piece, column, expression));
      offset += piece.length + 1;
    }
    terms.push(atoms);
  }
  if (terms.length === 0) throw new DbtSelectionError('the selection is empty', expression, 1);
  return terms;
}

/** Parses one atom that starts at 1-based `column` of `expression`. */
function parseAtom(text: string, column: number, expression: string): Atom {
  const fail = (message: string, at: number): DbtSelectionError => new DbtSelectionError(message, expression, column + at);
  let at = 0;
  const childrensParents = text.startsWith('@');
  if (childrensParents) at = 1;

  let ancestors: Depth | undefined;
  const prefix = /^(\d*)\+/.exec(text.slice(at));
  if (prefix) {
    if (childrensParents) throw fail("'@' cannot be combined with a '+' prefix", at);
    ancestors = depthOf(prefix[1] ?? '');
    at += prefix[0].length;
  }

  let end = text.length;
  let descendants: Depth | undefined;
  const suffix = /\+(\d*)$/.exec(text.slice(at));
  if (suffix) {
    descendants = depthOf(suffix[1] ?? '');
    end -= suffix[0].length;
  }

  let body = text.slice(at, end);
  let method: Method | undefined;
  const named = /^([\w.]+):/.exec(body);
  if (named) {
    const name = named[1] ?? '';
    if (!(METHODS as readonly string[]).includes(name)) {
      throw fail(`unknown selection method '${name}' (known: ${METHODS.join(', ')})`, at);
    }
    method = name as Method;
    at += named[0].length;
    body = body.slice(named[0].length);
  }

  if (body === '') throw fail(method ? `'${method}:' is missing its value` : 'expected a selector value', at);
  if (body.startsWith('+') || body.startsWith('@')) throw fail(`unexpected '${body[0]}'`, at);
  if (body.endsWith('+')) throw fail("unexpected '+'", at + body.length - 1);
  if (method === 'source' && body.split('.').length > 3) {
    throw fail(`source '${body}' must be 'source', 'source.table' or 'package.source.table'`, at);
  }
  return { method: method ?? defaultMethod(body), value: body, valueColumn: column + at, childrensParents, ancestors, descendants };
}

function depthOf(digits: string): Depth {
  return digits === '' ? 'all' : Number(digits);
}

/** Like dbt: a path for values with a '/', a file name for `x.sql`-style values, otherwise an fqn. */
function defaultMethod(value: string): Method | 'file' {
  if (value.includes('/') || value.includes('\\')) return 'path';
  return /\.(sql|csv|py)$/.test(value) ? 'file' : 'fqn';
}

/** The nodes by id, with parent and child edges between known nodes. */
class DbtGraph {
  readonly nodes: readonly DbtSelectableNode[];
  readonly parents = new Map<string, string[]>();
  readonly children = new Map<string, string[]>();
  readonly resourceTypes: Set<string>;

  constructor(nodes: readonly DbtSelectableNode[]) {
    this.nodes = nodes;
    this.resourceTypes = new Set(nodes.map((n) => n.resourceType));
    for (const node of nodes) {
      this.parents.set(node.uniqueId, []);
      this.children.set(node.uniqueId, []);
    }
    for (const node of nodes) {
      for (const parent of node.parents) {
        if (!this.children.has(parent)) continue;
        this.parents.get(node.uniqueId)?.push(parent);
        this.children.get(parent)?.push(node.uniqueId);
      }
    }
  }

  /** `start` plus every node reachable along `edges` within `depth` steps. */
  walk(start: Iterable<string>, edges: ReadonlyMap<string, readonly string[]>, depth: Depth): Set<string> {
    const seen = new Set(start);
    let frontier = [...seen];
    for (let step = 0; frontier.length > 0 && (depth === 'all' || step < depth); step++) {
      const next: string[] = [];
      for (const id of frontier) {
        for (const neighbour of edges.get(id) ?? []) {
          if (seen.has(neighbour)) continue;
          seen.add(neighbour);
          next.push(neighbour);
        }
      }
      frontier = next;
    }
    return seen;
  }
}

function evaluateAtom(atom: Atom, graph: DbtGraph, expression: string): Set<string> {
  const matches = matcher(atom, graph, expression);
  const base = graph.nodes.filter(matches).map((n) => n.uniqueId);
  const result = new Set(base);
  if (atom.childrensParents) {
    for (const id of graph.walk(graph.walk(base, graph.children, 'all'), graph.parents, 'all')) result.add(id);
  }
  if (atom.ancestors !== undefined) for (const id of graph.walk(base, graph.parents, atom.ancestors)) result.add(id);
  if (atom.descendants !== undefined) for (const id of graph.walk(base, graph.children, atom.descendants)) result.add(id);
  return result;
}

/** The predicate an atom's method and value stand for. */
function matcher(atom: Atom, graph: DbtGraph, expression: string): (node: DbtSelectableNode) => boolean {
  const { value } = atom;
  switch (atom.method) {
    case 'fqn':
      return fqnMatcher(value);
    case 'tag': {
      const tag = glob(value);
      return (node) => node.tags.some(tag);
    }
    case 'path':
      return pathMatcher(value);
    case 'file': {
      const file = glob(value);
      return (node) => file(node.path.split(/[/\\]/).at(-1) ?? '');
    }
    case 'resource_type':
      if (!RESOURCE_TYPES.has(value) && !graph.resourceTypes.has(value)) {
        throw new DbtSelectionError(`unknown resource type '${value}'`, expression, atom.valueColumn);
      }
      return (node) => node.resourceType === value;
    case 'source': {
      const parts = value.split('.');
      const [pkg, source, table] = (parts.length === 3 ? parts : ['*', parts[0] ?? '', parts[1] ?? '*']).map(glob);
      return (node) =>
        node.resourceType === 'source' &&
        node.sourceName !== undefined &&
        pkg?.(node.packageName) === true &&
        source?.(node.sourceName) === true &&
        table?.(node.name) === true;
    }
    case 'config.materialized':
      return (node) => node.materialized === value;
    case 'package': {
      const pkg = glob(value);
      return (node) => pkg(node.packageName);
    }
  }
}

/**
 * dbt's fqn method: the name itself, or the dot-separated value as a prefix of the fqn with or without its
 * package. Like dbt, it never selects sources (use `source:`).
 */
function fqnMatcher(value: string): (node: DbtSelectableNode) => boolean {
  const name = glob(value);
  const segments = value.split('.').map(glob);
  const isPrefixOf = (fqn: readonly string[]): boolean =>
    segments.length <= fqn.length && segments.every((segment, i) => segment(fqn[i] ?? ''));
  return (node) => node.resourceType !== 'source' && (name(node.name) || isPrefixOf(node.fqn) || isPrefixOf(node.fqn.slice(1)));
}

/**
 * dbt's path method: the pattern names a file or a directory, relative to the project. Wildcards stay within
 * one path segment; `**` spans any number of them.
 */
function pathMatcher(value: string): (node: DbtSelectableNode) => boolean {
  const pattern = pathSegments(value).map((segment) => (segment === '**' ? '**' : glob(segment)));
  const matchesFrom = (path: readonly string[], p: number, s: number): boolean => {
    if (p === pattern.length) return true; // the pattern covered the file itself or one of its directories
    const segment = pattern[p];
    if (segment === '**') return matchesFrom(path, p + 1, s) || (s < path.length && matchesFrom(path, p, s + 1));
    return s < path.length && segment !== undefined && segment(path[s] ?? '') && matchesFrom(path, p + 1, s + 1);
  };
  return (node) => matchesFrom(pathSegments(node.path), 0, 0);
}

/** `./models\\staging/` -> ['models', 'staging']. */
function pathSegments(path: string): string[] {
  return path.split(/[/\\]+/).filter((segment) => segment !== '' && segment !== '.');
}

/** Compiles a case-sensitive shell-style pattern (`*`, `?`, `[abc]`, `[!a-z]`) into a whole-string test. */
function glob(pattern: string): (text: string) => boolean {
  if (!/[*?[]/.test(pattern)) return (text) => text === pattern;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] ?? '';
    const negated = char === '[' && pattern[i + 1] === '!';
    // As in fnmatch, a ']' right after '[' or '[!' belongs to the set; an unclosed '[' is literal.
    const close = char === '[' ? pattern.indexOf(']', i + (negated ? 3 : 2)) : -1;
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (close > 0) {
      const set = pattern.slice(i + (negated ? 2 : 1), close).replace(/[\\\]^[]/g, '\\$&');
      source += negated ? `[^${set}]` : `[${set}]`;
      i = close;
    } else source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  try {
    const regex = new RegExp(`^${source}$`, 's');
    return (text) => regex.test(text);
  } catch {
    return (text) => text === pattern; // a malformed set such as '[z-a]' matches only itself
  }
}
