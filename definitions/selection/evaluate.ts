import { ErrorCodes, SelectionError } from '../errors';
import type { AssetGraph, GraphNode } from '../graph';
import { selectionToString, type AttrSelection, type KeySelection, type SelectionNode, type TraversalDepth } from './ast';
import { parseSelection } from './parse';

/**
 * Evaluates a parsed selection against a graph. A key or `key:` pattern without wildcards that names no
 * asset is an error at its column (with a "did you mean"); `text` is the original selection string, used
 * for the caret (when omitted, the canonical form from selectionToString is shown, whose columns may differ).
 * Anything else that matches nothing just contributes nothing.
 */
export function evaluateSelection(node: SelectionNode, graph: AssetGraph, text?: string): Set<string> {
  return new Evaluator(graph, text ?? selectionToString(node)).evaluate(node);
}

/**
 * Parses and evaluates `text`, returning the selected keys in topological order. Throws a SelectionError
 * with code `EMPTY_SELECTION` when nothing matches (and the graph's `CYCLE` error if the selection has one).
 * @example
 * selectAssets('+marts/daily_revenue', graph); // ['raw/orders', 'staging/orders', 'marts/daily_revenue']
 */
export function selectAssets(text: string, graph: AssetGraph): string[] {
  const selected = evaluateSelection(parseSelection(text), graph, text);
  if (selected.size === 0) {
    throw new SelectionError(`selection '${text}' matched no assets`, text, 1, ErrorCodes.EmptySelection);
  }
  return graph.toposort(selected);
}

class Evaluator {
  private everything: Set<string> | undefined;

  constructor(
    private readonly graph: AssetGraph,
    private readonly text: string,
  ) {}

  evaluate(node: SelectionNode): Set<string> {
    switch (node.kind) {
      case 'all':
        return new Set(this.all());
      case 'key':
        return this.matchKey(node);
      case 'attr':
        return this.matchAttr(node);
      case 'traverse': {
        const base = this.evaluate(node.expr);
        const result = new Set(base);
        if (node.up !== undefined) for (const key of this.graph.upstream(base, depthOf(node.up))) result.add(key);
        if (node.down !== undefined) for (const key of this.graph.downstream(base, depthOf(node.down))) result.add(key);
        return result;
      }
      case 'and': {
        const left = this.evaluate(node.left);
        const right = this.evaluate(node.right);
        return new Set([...left].filter((key) => right.has(key)));
      }
      case 'or':
        return new Set([...this.evaluate(node.left), ...this.evaluate(node.right)]);
      case 'not': {
        const excluded = this.evaluate(node.expr);
        return new Set(this.all().filter((key) => !excluded.has(key)));
      }
      case 'roots':
        return this.graph.roots(node.expr === undefined ? undefined : this.evaluate(node.expr));
      case 'sinks':
        return this.graph.sinks(node.expr === undefined ? undefined : this.evaluate(node.expr));
    }
  }

  private all(): string[] {
    this.everything ??= new Set(this.graph.keys());
    return [...this.everything];
  }

  private matchKey(node: KeySelection): Set<string> {
    if (!node.pattern.includes('*')) {
      if (this.graph.has(node.pattern)) return new Set([node.pattern]);
      const closest = this.graph.closestKey(node.pattern);
      const hint = closest === undefined ? '' : `; did you mean '${closest}'?`;
      throw new SelectionError(`no asset has key '${node.pattern}'${hint}`, this.text, node.column);
    }
    const regex = wildcardRegex(node.pattern);
    return new Set(this.all().filter((key) => regex.test(key)));
  }

  private matchAttr(node: AttrSelection): Set<string> {
    const matches = attributeMatcher(node);
    return new Set(this.all().filter((key) => matches(this.graph.node(key))));
  }
}

function attributeMatcher(node: AttrSelection): (asset: GraphNode) => boolean {
  const { value } = node;
  switch (node.attr) {
    case 'group':
      return (asset) => asset.group === value;
    case 'kind':
      return (asset) => asset.kinds.includes(value);
    case 'owner':
      return (asset) => asset.owners.includes(value);
    case 'code_location':
      return (asset) => asset.codeLocation === value;
    case 'tag':
      return (asset) =>
        Object.hasOwn(asset.tags, value) && (node.tagValue === undefined || asset.tags[value] === node.tagValue);
  }
}

/** `*` matches any run of characters, `/` included; everything else is literal. */
function wildcardRegex(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

function depthOf(depth: TraversalDepth): number | undefined {
  return depth === 'all' ? undefined : depth;
}
