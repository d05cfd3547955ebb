import { SelectionError } from '../errors';

/** What a token is: an unquoted `word` (key, keyword, attribute name, value or depth), a quoted `string`, punctuation or the end. */
export type TokenKind = 'word' | 'string' | 'lparen' | 'rparen' | 'plus' | 'colon' | 'equals' | 'eof';

/** One lexical token of a selection string; `text` of a `string` has its quotes removed and escapes resolved. */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** 1-based column of the token's first character (of the opening quote for a string). */
  readonly column: number;
}

const WORD_CHAR = /[A-Za-z0-9_./\-*@]/;
const BARE_WORD = /^[A-Za-z0-9_./\-*@]+$/;
const PUNCTUATION = { '(': 'lparen', ')': 'rparen', '+': 'plus', ':': 'colon', '=': 'equals' } as const;

/** True when `text` can be written unquoted (letters, digits, `_ . / - * @`). */
export function isBareWord(text: string): boolean {
  return BARE_WORD.test(text);
}

/** Double-quotes `text`, escaping `\` and `"`. */
export function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Splits a selection string into tokens, ending with an `eof` token whose column is one past the end.
 * Throws a SelectionError at an unexpected character or at the opening quote of an unterminated string.
 */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c in PUNCTUATION) {
      tokens.push({ kind: PUNCTUATION[c as keyof typeof PUNCTUATION], text: c, column: i + 1 });
      i++;
    } else if (c === '"') {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new SelectionError('unterminated quoted string (no closing ")', text, start + 1);
        const d = text[i]!;
        if (d === '"') break;
        // A backslash takes the next character literally: \" and \\ are the useful ones.
        if (d === '\\' && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else {
          value += d;
          i++;
        }
      }
      i++;
      tokens.push({ kind: 'string', text: value, column: start + 1 });
    } else if (WORD_CHAR.test(c)) {
      const start = i;
      while (i < text.length && WORD_CHAR.test(text[i]!)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), column: start + 1 });
    } else {
      throw new SelectionError(
        `unexpected character '${c}' (keys and values use letters, digits, '_', '.', '/', '-', '*' and '@'; quote anything else)`,
        text,
        i + 1,
      );
    }
  }
  tokens.push({ kind: 'eof', text: '', column: text.length + 1 });
  return tokens;
}
