import type { BinaryOp, CastType, Node, PathSegment } from './ast';
import { ExpressionError } from './errors';
import { FUNCTION_ARITY } from './functions';
import { tokenize, type Token } from './lexer';

/**
 * Pratt parser. Binding powers (higher binds tighter):
 *   OR 10 · AND 20 · NOT (prefix) 25 · comparisons, IS [NOT] NULL, [NOT] IN, [NOT] LIKE, [NOT] BETWEEN 30
 *   || 40 · + - 50 · * / % 60 · unary - + 70 · postfix . [ ] 80
 */
const BP_OR = 10;
const BP_AND = 20;
const BP_NOT = 25;
const BP_CMP = 30;
const BP_CONCAT = 40;
const BP_ADD = 50;
const BP_MUL = 60;
const BP_UNARY = 70;
const BP_POSTFIX = 80;

const CMP_OPS: Record<string, BinaryOp> = { '=': '=', '==': '=', '!=': '!=', '<>': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
const CAST_TYPES: Record<string, CastType> = {
  STRING: 'STRING', VARCHAR: 'STRING', TEXT: 'STRING',
  INT: 'INT', INTEGER: 'INT', BIGINT: 'INT', LONG: 'INT',
  DOUBLE: 'DOUBLE', FLOAT: 'DOUBLE', DECIMAL: 'DOUBLE', NUMBER: 'DOUBLE',
  BOOLEAN: 'BOOLEAN', BOOL: 'BOOLEAN',
};

export function parse(src: string): Node {
  return new Parser(src).parseAll();
}

class Parser {
  private readonly tokens: Token[];
  private i = 0;

  constructor(private readonly src: string) {
    this.tokens = tokenize(src);
  }

  parseAll(): Node {
    if (this.peek().kind === 'eof') throw this.error('Empty expression', this.peek());
    const node = this.expr(0);
    const t = this.peek();
    if (t.kind !== 'eof') throw this.error(`Unexpected ${describe(t)}`, t);
    return node;
  }

  private peek(k = 0): Token {
    return this.tokens[Math.min(this.i + k, this.tokens.length - 1)];
  }
  private next(): Token {
    const t = this.tokens[this.i];
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }
  private isOp(t: Token, text: string): boolean {
    return t.kind === 'op' && t.text === text;
  }
  private isKw(t: Token, text: string): boolean {
    return t.kind === 'kw' && t.text === text;
  }
  private expectOp(text: string, what?: string): Token {
    const t = this.next();
    if (!this.isOp(t, text)) throw this.error(`Expected '${text}'${what ? ' ' + what : ''} but found ${describe(t)}`, t);
    return t;
  }
  private expectKw(text: string, what?: string): Token {
    const t = this.next();
    if (!this.isKw(t, text)) throw this.error(`Expected ${text}${what ? ' ' + what : ''} but found ${describe(t)}`, t);
    return t;
  }
  private error(msg: string, t: Token): ExpressionError {
    return new ExpressionError(msg, this.src, t.offset);
  }

  private expr(rbp: number): Node {
    let left = this.nud(this.next());
    for (;;) {
      const t = this.peek();
      const lbp = this.lbp(t);
      if (lbp <= rbp) break;
      left = this.led(left, this.next());
    }
    return left;
  }

  private lbp(t: Token): number {
    if (t.kind === 'op') {
      switch (t.text) {
        case '.':
        case '[':
          return BP_POSTFIX;
        case '*':
        case '/':
        case '%':
          return BP_MUL;
        case '+':
        case '-':
          return BP_ADD;
        case '||':
          return BP_CONCAT;
        default:
          return t.text in CMP_OPS ? BP_CMP : 0;
      }
    }
    if (t.kind === 'kw') {
      switch (t.text) {
        case 'OR':
          return BP_OR;
        case 'AND':
          return BP_AND;
        case 'IS':
        case 'IN':
        case 'LIKE':
        case 'BETWEEN':
          return BP_CMP;
        case 'NOT': {
          const n = this.peek(1);
          return n.kind === 'kw' && (n.text === 'IN' || n.text === 'LIKE' || n.text === 'BETWEEN') ? BP_CMP : 0;
        }
      }
    }
    return 0;
  }

  private nud(t: Token): Node {
    switch (t.kind) {
      case 'num':
        return { type: 'lit', value: t.value, pos: t.offset };
      case 'str':
        return { type: 'lit', value: t.text, pos: t.offset };
      case 'qident':
        return this.fieldOrCall(t, false);
      case 'ident':
        return this.fieldOrCall(t, true);
      case 'kw':
        switch (t.text) {
          case 'TRUE':
            return { type: 'lit', value: true, pos: t.offset };
          case 'FALSE':
            return { type: 'lit', value: false, pos: t.offset };
          case 'NULL':
            return { type: 'lit', value: null, pos: t.offset };
          case 'NOT':
            return { type: 'unary', op: 'NOT', arg: this.expr(BP_NOT), pos: t.offset };
          case 'CASE':
            return this.caseExpr(t);
          case 'CAST':
            return this.castExpr(t);
        }
        throw this.error(`Unexpected keyword ${t.text} (backquote it, \`${t.raw ?? t.text}\`, to use it as a field name)`, t);
      case 'op':
        if (t.text === '(') {
          const e = this.expr(0);
          this.expectOp(')', 'to close the parenthesis');
          return e;
        }
        if (t.text === '-' || t.text === '+') {
          const arg = this.expr(BP_UNARY);
          if (t.text === '-' && arg.type === 'lit' && typeof arg.value === 'number') return { type: 'lit', value: -arg.value, pos: t.offset };
          return { type: 'unary', op: t.text, arg, pos: t.offset };
        }
        throw this.error(`Unexpected '${t.text}'`, t);
      case 'eof':
        throw this.error('Unexpected end of expression', t);
    }
  }

  private fieldOrCall(t: Token, mayCall: boolean): Node {
    if (mayCall && this.isOp(this.peek(), '(')) {
      const name = t.text.toUpperCase();
      const arity = FUNCTION_ARITY[name];
      if (!arity) throw this.error(`Unknown function ${t.text}`, t);
      this.next();
      const args: Node[] = [];
      if (!this.isOp(this.peek(), ')')) {
        for (;;) {
          args.push(this.expr(0));
          const sep = this.next();
          if (this.isOp(sep, ')')) break;
          if (!this.isOp(sep, ',')) throw this.error(`Expected ',' or ')' in the arguments of ${name} but found ${describe(sep)}`, sep);
        }
      } else this.next();
      const [min, max] = arity;
      if (args.length < min || args.length > max) {
        const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
        throw this.error(`${name} takes ${want} argument${want === '1' ? '' : 's'}, got ${args.length}`, t);
      }
      return { type: 'call', name, args, pos: t.offset };
    }
    return { type: 'field', path: [t.text], pos: t.offset };
  }

  private led(left: Node, t: Token): Node {
    if (t.kind === 'op') {
      switch (t.text) {
        case '.': {
          const name = this.next();
          let seg: string;
          if (name.kind === 'ident' || name.kind === 'qident') seg = name.text;
          else if (name.kind === 'kw') seg = name.raw ?? name.text;
          else if (name.kind === 'num' && /^\d+$/.test(name.text)) return this.addSegment(left, Number(name.text), t);
          else throw this.error(`Expected a field name after '.' but found ${describe(name)}`, name);
          return this.addSegment(left, seg, t);
        }
        case '[': {
          const index = this.expr(0);
          this.expectOp(']', 'to close the index');
          if (index.type === 'lit' && (typeof index.value === 'string' || (typeof index.value === 'number' && Number.isInteger(index.value) && index.value >= 0))) {
            return this.addSegment(left, index.value, t);
          }
          return { type: 'member', object: left, index, pos: left.pos };
        }
        case '*':
        case '/':
        case '%':
          return { type: 'binary', op: t.text, left, right: this.expr(BP_MUL), pos: left.pos };
        case '+':
        case '-':
          return { type: 'binary', op: t.text, left, right: this.expr(BP_ADD), pos: left.pos };
        case '||':
          return { type: 'binary', op: '||', left, right: this.expr(BP_CONCAT), pos: left.pos };
        default: {
          const op = CMP_OPS[t.text];
          if (op) return { type: 'binary', op, left, right: this.expr(BP_CMP), pos: left.pos };
        }
      }
    }
    if (t.kind === 'kw') {
      switch (t.text) {
        case 'OR':
          return { type: 'binary', op: 'OR', left, right: this.expr(BP_OR), pos: left.pos };
        case 'AND':
          return { type: 'binary', op: 'AND', left, right: this.expr(BP_AND), pos: left.pos };
        case 'IS': {
          let negated = false;
          if (this.isKw(this.peek(), 'NOT')) {
            this.next();
            negated = true;
          }
          this.expectKw('NULL', 'after IS');
          return { type: 'isnull', arg: left, negated, pos: left.pos };
        }
        case 'NOT': {
          const k = this.next();
          return this.predicateOp(left, k, true);
        }
        default:
          return this.predicateOp(left, t, false);
      }
    }
    throw this.error(`Unexpected ${describe(t)}`, t);
  }

  private predicateOp(left: Node, t: Token, negated: boolean): Node {
    if (this.isKw(t, 'IN')) {
      this.expectOp('(', 'after IN');
      const list: Node[] = [];
      if (this.isOp(this.peek(), ')')) throw this.error('IN needs at least one value', this.peek());
      for (;;) {
        list.push(this.expr(0));
        const sep = this.next();
        if (this.isOp(sep, ')')) break;
        if (!this.isOp(sep, ',')) throw this.error(`Expected ',' or ')' in the IN list but found ${describe(sep)}`, sep);
      }
      return { type: 'in', arg: left, list, negated, pos: left.pos };
    }
    if (this.isKw(t, 'LIKE')) {
      return { type: 'like', arg: left, pattern: this.expr(BP_CMP), negated, pos: left.pos };
    }
    if (this.isKw(t, 'BETWEEN')) {
      const low = this.expr(BP_CMP);
      this.expectKw('AND', 'in BETWEEN … AND …');
      const high = this.expr(BP_CMP);
      return { type: 'between', arg: left, low, high, negated, pos: left.pos };
    }
    throw this.error(`Expected IN, LIKE or BETWEEN after NOT but found ${describe(t)}`, t);
  }

  private addSegment(left: Node, seg: PathSegment, t: Token): Node {
    if (left.type === 'field') return { type: 'field', path: [...left.path, seg], pos: left.pos };
    return { type: 'member', object: left, index: { type: 'lit', value: seg, pos: t.offset }, pos: left.pos };
  }

  private caseExpr(t: Token): Node {
    let subject: Node | undefined;
    if (!this.isKw(this.peek(), 'WHEN')) subject = this.expr(0);
    const whens: { when: Node; then: Node }[] = [];
    while (this.isKw(this.peek(), 'WHEN')) {
      this.next();
      const when = this.expr(0);
      this.expectKw('THEN', 'after WHEN condition');
      const then = this.expr(0);
      whens.push({ when, then });
    }
    if (whens.length === 0) throw this.error('CASE needs at least one WHEN … THEN …', this.peek());
    let otherwise: Node | undefined;
    if (this.isKw(this.peek(), 'ELSE')) {
      this.next();
      otherwise = this.expr(0);
    }
    this.expectKw('END', 'to close CASE');
    return { type: 'case', subject, whens, otherwise, pos: t.offset };
  }

  private castExpr(t: Token): Node {
    this.expectOp('(', 'after CAST');
    const arg = this.expr(0);
    this.expectKw('AS', 'in CAST(… AS type)');
    const ty = this.next();
    const name = ty.kind === 'ident' || ty.kind === 'kw' ? ty.text.toUpperCase() : '';
    const to = CAST_TYPES[name];
    if (!to) throw this.error(`Unknown CAST type ${describe(ty)}: use STRING, INT, DOUBLE or BOOLEAN`, ty);
    this.expectOp(')', 'to close CAST');
    return { type: 'cast', arg, to, pos: t.offset };
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of expression';
    case 'str':
      return `string '${t.text}'`;
    case 'num':
      return `number ${t.text}`;
    case 'kw':
      return `keyword ${t.text}`;
    case 'ident':
    case 'qident':
      return `identifier ${t.text}`;
    default:
      return `'${t.text}'`;
  }
}
