import { isBareWord, quote } from './tokenize';

/** Attributes that filter assets by a property other than their key (`group:marts`, `tag:pii=true`). */
export const SelectionAttributes = ['group', 'kind', 'tag', 'owner', 'code_location'] as const;

export type SelectionAttribute = (typeof SelectionAttributes)[number];

/** How far a traversal goes: a number of levels, or `'all'` for the whole transitive closure. */
export type TraversalDepth = number | 'all';

interface Located {
  /** 1-based column in the selection text where this expression starts, for error carets. */
  readonly column: number;
}

/** `*`: every asset. */
export interface AllSelection extends Located {
  readonly kind: 'all';
}

/** A bare key, a quoted key or `key:<pattern>`; `*` in the pattern matches any run of characters, `/` included. */
export interface KeySelection extends Located {
  readonly kind: 'key';
  readonly pattern: string;
}

/** `group:<v>`, `kind:<v>`, `owner:<v>`, `code_location:<v>`, `tag:<k>` or `tag:<k>=<v>` (exact matches). */
export interface AttrSelection extends Located {
  readonly kind: 'attr';
  readonly attr: SelectionAttribute;
  readonly value: string;
  /** Only for `tag`: the required tag value; absent means "has the tag". */
  readonly tagValue?: string;
}

/** `N+expr+M`: `expr` plus its upstream (`up`) and downstream (`down`); an absent side is not traversed. */
export interface TraverseSelection extends Located {
  readonly kind: 'traverse';
  readonly up?: TraversalDepth;
  readonly down?: TraversalDepth;
  readonly expr: SelectionNode;
}

/** `left and right` (intersection) or `left or right` (union). */
export interface BinarySelection extends Located {
  readonly kind: 'and' | 'or';
  readonly left: SelectionNode;
  readonly right: SelectionNode;
}

/** `not expr`: every asset outside `expr`. */
export interface NotSelection extends Located {
  readonly kind: 'not';
  readonly expr: SelectionNode;
}

/** `roots(expr)` / `sinks(expr)`: the assets of `expr` with no parent (child) inside it; no argument means all. */
export interface FunctionSelection extends Located {
  readonly kind: 'roots' | 'sinks';
  readonly expr?: SelectionNode;
}

/**
 * A parsed asset selection: plain JSON-serialisable data, built once and evaluated later against a graph.
 * @example
 * const node = parseSelection('+marts/daily_revenue and not kind:dbt');
 * JSON.parse(JSON.stringify(node)); // still a valid SelectionNode
 */
export type SelectionNode =
  | AllSelection
  | KeySelection
  | AttrSelection
  | TraverseSelection
  | BinarySelection
  | NotSelection
  | FunctionSelection;

/**
 * Prints a selection in canonical syntax. `parseSelection(selectionToString(n))` equals `n` except for
 * columns: parentheses are added exactly where the tree's shape needs them.
 * @example
 * selectionToString(parseSelection('( +a )and(b)')); // '+a and b'
 */
export function selectionToString(node: SelectionNode): string {
  switch (node.kind) {
    case 'all':
      return '*';
    case 'key':
      return keyToString(node.pattern);
    case 'attr': {
      const head = `${node.attr}:${valueToString(node.value)}`;
      return node.tagValue === undefined ? head : `${head}=${valueToString(node.tagValue)}`;
    }
    case 'traverse': {
      const up = node.up === undefined ? '' : node.up === 'all' ? '+' : `${node.up}+`;
      const down = node.down === undefined ? '' : node.down === 'all' ? '+' : `+${node.down}`;
      return `${up}${atom(node.expr)}${down}`;
    }
    case 'not':
      return `not ${unary(node.expr)}`;
    case 'and':
      return `${operand(node.left, ['or'])} and ${operand(node.right, ['or', 'and'])}`;
    case 'or':
      return `${selectionToString(node.left)} or ${operand(node.right, ['or'])}`;
    case 'roots':
    case 'sinks':
      return `${node.kind}(${node.expr === undefined ? '' : selectionToString(node.expr)})`;
  }
}

const KEYWORDS = new Set(['and', 'or', 'not']);

function keyToString(pattern: string): string {
  // A bare word is ambiguous when it is '*' (all), a keyword, or starts with a digit (a traversal depth).
  const bare = isBareWord(pattern) && pattern !== '*' && !KEYWORDS.has(pattern.toLowerCase()) && !/^\d/.test(pattern);
  return bare ? pattern : `key:${quote(pattern)}`;
}

function valueToString(value: string): string {
  return isBareWord(value) ? value : quote(value);
}

function parenthesised(node: SelectionNode): string {
  return `(${selectionToString(node)})`;
}

/** Operand of a traversal: only atoms go without parentheses. */
function atom(node: SelectionNode): string {
  const isAtom = node.kind === 'all' || node.kind === 'key' || node.kind === 'attr' || node.kind === 'roots' || node.kind === 'sinks';
  return isAtom ? selectionToString(node) : parenthesised(node);
}

/** Operand of `not`: anything that binds at least as tightly as `not`. */
function unary(node: SelectionNode): string {
  return node.kind === 'and' || node.kind === 'or' ? parenthesised(node) : selectionToString(node);
}

function operand(node: SelectionNode, needParens: readonly SelectionNode['kind'][]): string {
  return needParens.includes(node.kind) ? parenthesised(node) : selectionToString(node);
}
