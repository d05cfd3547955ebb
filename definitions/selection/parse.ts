import { SelectionError } from '../errors';
import { closestWithin } from '../graph';
import { SelectionAttributes, type SelectionAttribute, type SelectionNode, type TraversalDepth } from './ast';
import { tokenize, type Token } from './tokenize';

/** Who is waiting for an operand, so a missing one is reported where it was expected. */
interface Owner {
  readonly label: string;
  readonly column: number;
  /** `'paren'` for an opening parenthesis, otherwise how the operand relates to the operator. */
  readonly role: 'paren' | 'right' | 'only';
}

const ATTRIBUTE_NAMES: readonly string[] = ['key', ...SelectionAttributes];
const FUNCTIONS = ['roots', 'sinks'] as const;

/**
 * Parses a selection string (Dagster's asset selection syntax) into a SelectionNode. Precedence is
 * `not` > `and` > `or`; `+`/`N+` prefixes and `+`/`+N` suffixes bind to the atom or parenthesised
 * expression they touch. Throws a SelectionError whose 1-based `column` points at the problem.
 * @example
 * parseSelection('2+key:"raw/*" and not group:staging');
 */
export function parseSelection(text: string): SelectionNode {
  if (text.trim() === '') throw new SelectionError('empty selection', text, 1);
  return new Parser(text, tokenize(text)).parseAll();
}

class Parser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
  ) {}

  parseAll(): SelectionNode {
    const node = this.parseOr(undefined);
    const token = this.peek();
    if (token.kind === 'rparen') this.fail(`unmatched ')'`, token.column);
    if (token.kind !== 'eof') {
      this.fail(`unexpected ${describe(token)} after a complete selection (combine selections with 'and' or 'or')`, token.column);
    }
    return node;
  }

  private parseOr(owner: Owner | undefined): SelectionNode {
    let left = this.parseAnd(owner);
    while (this.isKeyword(this.peek(), 'or')) {
      const op = this.next();
      const right = this.parseAnd({ label: 'or', column: op.column, role: 'right' });
      left = { kind: 'or', left, right, column: left.column };
    }
    return left;
  }

  private parseAnd(owner: Owner | undefined): SelectionNode {
    let left = this.parseNot(owner);
    while (this.isKeyword(this.peek(), 'and')) {
      const op = this.next();
      const right = this.parseNot({ label: 'and', column: op.column, role: 'right' });
      left = { kind: 'and', left, right, column: left.column };
    }
    return left;
  }

  private parseNot(owner: Owner | undefined): SelectionNode {
    if (!this.isKeyword(this.peek(), 'not')) return this.parseTraversal(owner);
    const op = this.next();
    const expr = this.parseNot({ label: op.text, column: op.column, role: 'only' });
    return { kind: 'not', expr, column: op.column };
  }

  private parseTraversal(owner: Owner | undefined): SelectionNode {
    const start = this.peek();
    let up: TraversalDepth | undefined;
    if (start.kind === 'plus') {
      this.next();
      up = 'all';
    } else if (start.kind === 'word' && /^\d/.test(start.text) && this.peek(1).kind === 'plus') {
      up = this.depth(start);
      this.next();
      this.next();
    }
    const label = up === undefined ? undefined : up === 'all' ? '+' : `${up}+`;
    const expr = this.parsePrimary(label === undefined ? owner : { label, column: start.column, role: 'only' });
    let down: TraversalDepth | undefined;
    if (this.peek().kind === 'plus') {
      this.next();
      const after = this.peek();
      if (after.kind === 'word' && /^\d/.test(after.text)) {
        down = this.depth(after);
        this.next();
      } else {
        down = 'all';
      }
    }
    if (up === undefined && down === undefined) return expr;
    return {
      kind: 'traverse',
      ...(up === undefined ? {} : { up }),
      ...(down === undefined ? {} : { down }),
      expr,
      column: start.column,
    };
  }

  private parsePrimary(owner: Owner | undefined): SelectionNode {
    const token = this.peek();
    if (token.kind === 'lparen') {
      this.next();
      const inner = this.parseOr({ label: '(', column: token.column, role: 'paren' });
      this.expectClose(token);
      return inner;
    }
    if (token.kind === 'string') {
      this.next();
      return { kind: 'key', pattern: this.pattern(token, token), column: token.column };
    }
    if (token.kind !== 'word' || this.isKeyword(token, 'and', 'or', 'not')) return this.missingOperand(owner, token);
    this.next();
    const following = this.peek();
    if (following.kind === 'colon') return this.parseAttribute(token);
    if (following.kind === 'lparen') return this.parseFunction(token);
    if (token.text === '*') return { kind: 'all', column: token.column };
    return { kind: 'key', pattern: token.text, column: token.column };
  }

  private parseAttribute(name: Token): SelectionNode {
    if (!ATTRIBUTE_NAMES.includes(name.text)) {
      const closest = closestWithin(name.text, ATTRIBUTE_NAMES);
      const hint = closest ? `did you mean '${closest}'?` : `known attributes: ${ATTRIBUTE_NAMES.join(', ')}`;
      this.fail(`unknown attribute '${name.text}'; ${hint}`, name.column);
    }
    this.next(); // the colon
    const value = this.value(name, `${name.text}:`);
    if (name.text === 'key') return { kind: 'key', pattern: this.pattern(value, name), column: name.column };
    const attr = name.text as SelectionAttribute;
    const equals = this.peek();
    if (equals.kind !== 'equals') return { kind: 'attr', attr, value: value.text, column: name.column };
    if (attr !== 'tag') this.fail(`'=' only follows a tag name, as in tag:team=finance`, equals.column);
    this.next();
    const tagValue = this.value(name, `tag:${value.text}=`);
    return { kind: 'attr', attr, value: value.text, tagValue: tagValue.text, column: name.column };
  }

  private parseFunction(name: Token): SelectionNode {
    const fn = FUNCTIONS.find((candidate) => candidate === name.text.toLowerCase());
    if (!fn) {
      const closest = closestWithin(name.text.toLowerCase(), FUNCTIONS);
      const hint = closest ? `did you mean '${closest}'?` : `known functions: ${FUNCTIONS.join(', ')}`;
      this.fail(`unknown function '${name.text}'; ${hint}`, name.column);
    }
    const open = this.next();
    if (this.peek().kind === 'rparen') {
      this.next();
      return { kind: fn, column: name.column };
    }
    const expr = this.parseOr({ label: '(', column: open.column, role: 'paren' });
    this.expectClose(open);
    return { kind: fn, expr, column: name.column };
  }

  private value(attribute: Token, label: string): Token {
    const token = this.peek();
    if (token.kind !== 'word' && token.kind !== 'string') {
      const found = token.kind === 'eof' ? '' : `, found ${describe(token)}`;
      this.fail(`'${label}' is missing its value${found}`, attribute.column);
    }
    this.next();
    return token;
  }

  private pattern(value: Token, at: Token): string {
    if (value.text === '') this.fail('an asset key pattern must not be empty', at.column);
    return value.text;
  }

  private depth(token: Token): number {
    const depth = Number(token.text);
    if (!/^\d+$/.test(token.text) || !Number.isSafeInteger(depth)) {
      this.fail(`traversal depth must be a whole number, found '${token.text}'`, token.column);
    }
    return depth;
  }

  private expectClose(open: Token): void {
    const token = this.peek();
    if (token.kind === 'rparen') {
      this.next();
      return;
    }
    if (token.kind === 'eof') this.fail(`unmatched '('`, open.column);
    this.fail(`unexpected ${describe(token)}; expected 'and', 'or' or the ')' closing the '(' at column ${open.column}`, token.column);
  }

  private missingOperand(owner: Owner | undefined, found: Token): never {
    if (owner?.role === 'paren') {
      if (found.kind === 'rparen') this.fail('empty parentheses', owner.column);
      if (found.kind === 'eof') this.fail(`unmatched '('`, owner.column);
    }
    if (this.isKeyword(found, 'and', 'or') && (owner === undefined || owner.role === 'paren')) {
      this.fail(`'${found.text}' is missing its left operand`, found.column);
    }
    if (owner && owner.role !== 'paren') {
      const side = owner.role === 'right' ? 'right operand' : 'operand';
      const what = found.kind === 'eof' ? '' : `, found ${describe(found)}`;
      this.fail(`'${owner.label}' is missing its ${side}${what}`, owner.column);
    }
    if (found.kind === 'rparen') this.fail(`unmatched ')'`, found.column);
    this.fail(`expected an asset key, an attribute, '*', '(' or roots()/sinks(), found ${describe(found)}`, found.column);
  }

  private isKeyword(token: Token, ...words: string[]): boolean {
    return token.kind === 'word' && words.includes(token.text.toLowerCase());
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const token = this.peek();
    if (this.pos < this.tokens.length - 1) this.pos++;
    return token;
  }

  private fail(message: string, column: number): never {
    throw new SelectionError(message, this.text, column);
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'the end of the selection';
    case 'string':
      return `"${token.text}"`;
    default:
      return `'${token.text}'`;
  }
}
