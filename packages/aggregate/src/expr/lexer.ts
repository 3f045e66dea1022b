import { ExpressionError } from './errors';

export type TokenKind = 'num' | 'str' | 'ident' | 'qident' | 'kw' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  /** For kw: the upper-cased keyword; for op: the operator text; for ident/qident/str: the decoded text. */
  text: string;
  /** The token as written (keywords keep their original case here). */
  raw?: string;
  /** Numeric value for 'num'. */
  value?: number;
  /** 0-based offset of the token's first character. */
  offset: number;
}

/** Reserved words (case-insensitive). Use backquotes to reference a field with one of these names. */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'LIKE', 'TRUE', 'FALSE', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'CAST', 'AS', 'BETWEEN',
]);

const TWO_CHAR_OPS = new Set(['==', '!=', '<>', '<=', '>=', '||']);
const ONE_CHAR_OPS = new Set(['=', '<', '>', '+', '-', '*', '/', '%', '(', ')', '[', ']', ',', '.']);

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c > 127;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Split an expression into tokens. Throws ExpressionError on an unterminated string or an unknown character. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const n = src.length;
  let i = 0;
  while (i < n) {
    const c = src.charCodeAt(i);
    // whitespace
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    // -- line comment
    if (c === 45 && src.charCodeAt(i + 1) === 45) {
      while (i < n && src.charCodeAt(i) !== 10) i++;
      continue;
    }
    const start = i;
    if (isDigit(c) || (c === 46 && isDigit(src.charCodeAt(i + 1)) && !prevIsValue(out))) {
      // number: 123, 1.5, .5, 1e-3, 0x1F
      if (c === 48 && (src[i + 1] === 'x' || src[i + 1] === 'X')) {
        i += 2;
        while (i < n && /[0-9a-fA-F]/.test(src[i])) i++;
        const text = src.slice(start, i);
        if (text.length === 2) throw new ExpressionError('Malformed hexadecimal number', src, start);
        out.push({ kind: 'num', text, value: parseInt(text.slice(2), 16), offset: start });
        continue;
      }
      if (c === 46) i++;
      while (i < n && isDigit(src.charCodeAt(i))) i++;
      if (c !== 46 && src.charCodeAt(i) === 46 && isDigit(src.charCodeAt(i + 1))) {
        i++;
        while (i < n && isDigit(src.charCodeAt(i))) i++;
      }
      if (src[i] === 'e' || src[i] === 'E') {
        let j = i + 1;
        if (src[j] === '+' || src[j] === '-') j++;
        if (isDigit(src.charCodeAt(j))) {
          i = j;
          while (i < n && isDigit(src.charCodeAt(i))) i++;
        }
      }
      if (i < n && isIdentStart(src.charCodeAt(i))) {
        throw new ExpressionError(`Unexpected character '${src[i]}' after number`, src, i);
      }
      const text = src.slice(start, i);
      out.push({ kind: 'num', text, value: Number(text), offset: start });
      continue;
    }
    if (c === 39 /* ' */) {
      // SQL string: '' is an escaped quote; backslashes are literal (as in ksqlDB).
      let s = '';
      i++;
      for (;;) {
        if (i >= n) throw new ExpressionError('Unterminated string literal', src, start);
        const ch = src[i];
        if (ch === "'") {
          if (src[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += ch;
        i++;
      }
      out.push({ kind: 'str', text: s, offset: start });
      continue;
    }
    if (c === 96 /* ` */) {
      let s = '';
      i++;
      for (;;) {
        if (i >= n) throw new ExpressionError('Unterminated backquoted identifier', src, start);
        const ch = src[i];
        if (ch === '`') {
          if (src[i + 1] === '`') {
            s += '`';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += ch;
        i++;
      }
      if (s.length === 0) throw new ExpressionError('Empty backquoted identifier', src, start);
      out.push({ kind: 'qident', text: s, offset: start });
      continue;
    }
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(src.charCodeAt(i))) i++;
      const text = src.slice(start, i);
      const upper = text.toUpperCase();
      if (KEYWORDS.has(upper)) out.push({ kind: 'kw', text: upper, raw: text, offset: start });
      else out.push({ kind: 'ident', text, offset: start });
      continue;
    }
    const two = src.substr(i, 2);
    if (TWO_CHAR_OPS.has(two)) {
      out.push({ kind: 'op', text: two, offset: start });
      i += 2;
      continue;
    }
    const one = src[i];
    if (ONE_CHAR_OPS.has(one)) {
      out.push({ kind: 'op', text: one, offset: start });
      i++;
      continue;
    }
    if (one === '"') {
      throw new ExpressionError('Double quotes are not string delimiters: use \'single quotes\' for strings and `backquotes` for field names', src, start);
    }
    throw new ExpressionError(`Unexpected character '${one}'`, src, start);
  }
  out.push({ kind: 'eof', text: '', offset: n });
  return out;
}

/** True when the previous token ends a value (so '.' is member access, not a number like .5). */
function prevIsValue(out: Token[]): boolean {
  const t = out[out.length - 1];
  if (!t) return false;
  return t.kind === 'ident' || t.kind === 'qident' || t.kind === 'num' || t.kind === 'str' || (t.kind === 'op' && (t.text === ')' || t.text === ']'));
}
