import { pathToString, type Node, type PathSegment } from './ast';
import { ExpressionError } from './errors';
import { FUNCTIONS, NOT_LITERAL } from './functions';
import { parse } from './parser';
import { compare, equals, toBool, toNumber, toText } from './values';

/** A record as the expression sees it: any object; nested objects and arrays are reached with . and [ ]. */
export type Rec = Readonly<Record<string, unknown>>;
type Fn = (r: Rec) => unknown;

export interface CompiledExpr {
  /** The expression text as given. */
  readonly source: string;
  /** Field paths the expression reads, as written (e.g. "wlan.sa", "vendor_ies[0].oui"), deduplicated, in order of appearance. */
  readonly fields: string[];
  /** Top-level record fields the expression reads (e.g. "wlan", "vendor_ies"). */
  readonly roots: string[];
  /** True when the expression reads no fields and calls no volatile function (its value is a constant). */
  readonly constant: boolean;
  /** Evaluate against one record. Never throws for data reasons: bad data gives null. */
  evaluate(record: Rec): unknown;
}

export interface CompiledPredicate extends CompiledExpr {
  /** True only when the expression evaluates to true (null and false reject: SQL WHERE semantics). */
  test(record: Rec): boolean;
}

export interface CompileOptions {
  /** Clock for NOW()/UNIX_TIMESTAMP(); defaults to Date.now. Inject one for deterministic tests. */
  now?: () => number;
}

interface C {
  f: Fn;
  /** constant? then value in v */
  k: boolean;
  v?: unknown;
}

/** Parse and compile an expression to a closure. Throws ExpressionError (with position) on syntax errors, unknown functions, wrong argument counts and invalid literal arguments. */
export function compileExpression(src: string, options: CompileOptions = {}): CompiledExpr {
  if (typeof src !== 'string') throw new ExpressionError('Expression must be a string', String(src), 0);
  const ast = parse(src);
  const ctx = new Ctx(src, options);
  const c = ctx.compile(ast);
  const f = c.f;
  return { source: src, fields: [...ctx.fields], roots: [...ctx.roots], constant: c.k, evaluate: f };
}

/** Compile an expression used as a filter: `test` is true only when the value is exactly true (or truthy per toBool). */
export function compilePredicate(src: string, options: CompileOptions = {}): CompiledPredicate {
  const e = compileExpression(src, options);
  const f = e.evaluate;
  return { ...e, test: (r: Rec) => toBool(f(r)) === true };
}

function konst(v: unknown): C {
  return { f: () => v, k: true, v };
}

/** Names that would reach the prototype chain: only an own property of that name is returned. */
const UNSAFE = new Set(['__proto__', 'constructor', 'prototype']);

function get(v: unknown, seg: PathSegment): unknown {
  if (v === null || v === undefined) return null;
  if (typeof seg === 'string' && UNSAFE.has(seg)) {
    return typeof v === 'object' && Object.prototype.hasOwnProperty.call(v, seg) ? ((v as Record<string, unknown>)[seg] ?? null) : null;
  }
  if (typeof seg === 'number') {
    if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      const x = (v as unknown as ArrayLike<unknown>)[seg];
      return x === undefined ? null : x;
    }
    if (typeof v === 'object') {
      const x = (v as Record<string, unknown>)[seg];
      return x === undefined ? null : x;
    }
    return null;
  }
  if (typeof v !== 'object') return null;
  const x = (v as Record<string, unknown>)[seg];
  return x === undefined ? null : x;
}

/**
 * `(r) => r[name] ?? null` (undefined → null only), compiled as its own function: closures made by
 * one function literal share one inline cache, which goes megamorphic once a few fields of a few
 * record shapes pass through it; a load of its own stays monomorphic (one record shape per
 * stream, mostly) and is several times cheaper. The name is a JSON string literal in the source.
 */
function fieldReader(name: string): Fn {
  return new Function('r', `const v = r[${JSON.stringify(name)}];\nreturn v === undefined ? null : v;`) as Fn;
}

class Ctx {
  readonly fields = new Set<string>();
  readonly roots = new Set<string>();
  constructor(private readonly src: string, private readonly options: CompileOptions) {}

  private err(msg: string, node: Node): ExpressionError {
    return new ExpressionError(msg, this.src, node.pos);
  }

  /** Fold to a constant when every input is constant (errors while folding give null at runtime, like data errors). */
  private fold(f: Fn, inputs: C[]): C {
    for (const i of inputs) if (!i.k) return { f, k: false };
    const v = f({});
    return konst(v);
  }

  compile(n: Node): C {
    switch (n.type) {
      case 'lit':
        return konst(n.value);
      case 'field':
        return this.field(n.path);
      case 'member': {
        const o = this.compile(n.object).f;
        const ix = this.compile(n.index).f;
        return {
          k: false,
          f: (r) => {
            const i = ix(r);
            if (typeof i !== 'number' && typeof i !== 'string') return null;
            return get(o(r), i);
          },
        };
      }
      case 'unary': {
        const a = this.compile(n.arg);
        const af = a.f;
        let f: Fn;
        if (n.op === 'NOT') {
          f = (r) => {
            const b = toBool(af(r));
            return b === null ? null : !b;
          };
        } else if (n.op === '-') {
          f = (r) => {
            const x = af(r);
            if (typeof x === 'number') return -x;
            const y = toNumber(x);
            return y === null ? null : -y;
          };
        } else {
          f = (r) => toNumber(af(r));
        }
        return this.fold(f, [a]);
      }
      case 'binary':
        return this.binary(n);
      case 'isnull': {
        const a = this.compile(n.arg);
        const af = a.f;
        const f: Fn = n.negated
          ? (r) => {
              const v = af(r);
              return v !== null && v !== undefined;
            }
          : (r) => {
              const v = af(r);
              return v === null || v === undefined;
            };
        return this.fold(f, [a]);
      }
      case 'in':
        return this.inList(n.arg, n.list, n.negated);
      case 'like':
        return this.like(n.arg, n.pattern, n.negated, n);
      case 'between': {
        const a = this.compile(n.arg), lo = this.compile(n.low), hi = this.compile(n.high);
        const af = a.f, lf = lo.f, hf = hi.f;
        const neg = n.negated;
        const f: Fn = (r) => {
          const v = af(r), l = lf(r), h = hf(r);
          if (v === null || v === undefined || l === null || l === undefined || h === null || h === undefined) return null;
          const c1 = compare(v, l), c2 = compare(v, h);
          if (Number.isNaN(c1) || Number.isNaN(c2)) return null;
          const inside = c1 >= 0 && c2 <= 0;
          return neg ? !inside : inside;
        };
        return this.fold(f, [a, lo, hi]);
      }
      case 'case':
        return this.caseExpr(n);
      case 'call':
        return this.call(n);
      case 'cast': {
        const a = this.compile(n.arg);
        const af = a.f;
        let f: Fn;
        switch (n.to) {
          case 'STRING':
            f = (r) => toText(af(r));
            break;
          case 'INT':
            f = (r) => {
              const x = toNumber(af(r));
              return x === null || !Number.isFinite(x) ? null : Math.trunc(x);
            };
            break;
          case 'DOUBLE':
            f = (r) => toNumber(af(r));
            break;
          case 'BOOLEAN':
            f = (r) => {
              const v = af(r);
              if (typeof v === 'string') {
                const l = v.trim().toLowerCase();
                return l === 'true' || l === 't' || l === 'yes' || l === '1' ? true : l === 'false' || l === 'f' || l === 'no' || l === '0' ? false : null;
              }
              return toBool(v);
            };
            break;
        }
        return this.fold(f, [a]);
      }
    }
  }

  private field(path: PathSegment[]): C {
    this.fields.add(pathToString(path));
    this.roots.add(String(path[0]));
    const p0 = path[0] as string;
    if (path.some((s) => typeof s === 'string' && UNSAFE.has(s))) {
      // slow, safe path: every step through get() (own properties only for unsafe names)
      return {
        k: false,
        f: (r) => {
          let v: unknown = r;
          for (let i = 0; i < path.length && v !== null; i++) v = get(v, path[i]);
          return v === undefined ? null : v;
        },
      };
    }
    if (path.length === 1) return { k: false, f: fieldReader(p0) };
    // Fallback for flattened names: a.b also finds a top-level field literally named "a.b"
    // (tshark-style) when the nested path does not exist.
    const flat = path.every((s) => typeof s === 'string') ? (path as string[]).join('.') : undefined;
    if (path.length === 2) {
      const p1 = path[1];
      return {
        k: false,
        f: (r) => {
          const o = r[p0];
          if (o !== null && o !== undefined && typeof o === 'object') {
            const v = (o as Record<string, unknown>)[p1];
            if (v !== undefined) return v;
            return null;
          }
          if (flat !== undefined && o === undefined) {
            const v = r[flat];
            return v === undefined ? null : v;
          }
          return null;
        },
      };
    }
    const n = path.length;
    return {
      k: false,
      f: (r) => {
        let v: unknown = r[p0];
        if (v === undefined && flat !== undefined) {
          const x = r[flat];
          return x === undefined ? null : x;
        }
        for (let i = 1; i < n && v !== null; i++) v = get(v, path[i]);
        return v === undefined ? null : v;
      },
    };
  }

  private binary(n: Extract<Node, { type: 'binary' }>): C {
    const a = this.compile(n.left), b = this.compile(n.right);
    const af = a.f, bf = b.f;
    let f: Fn;
    switch (n.op) {
      case 'AND':
        f = (r) => {
          const x = toBool(af(r));
          if (x === false) return false;
          const y = toBool(bf(r));
          if (y === false) return false;
          return x === null || y === null ? null : true;
        };
        break;
      case 'OR':
        f = (r) => {
          const x = toBool(af(r));
          if (x === true) return true;
          const y = toBool(bf(r));
          if (y === true) return true;
          return x === null || y === null ? null : false;
        };
        break;
      case '=':
        if (b.k && (typeof b.v === 'number' || typeof b.v === 'string')) {
          const k = b.v;
          const kt = typeof k;
          f = (r) => {
            const x = af(r);
            if (x === k) return true;
            if (x === null || x === undefined) return null;
            if (typeof x === kt) return false;
            return equals(x, k);
          };
        } else {
          f = (r) => {
            const x = af(r), y = bf(r);
            if (x === null || x === undefined || y === null || y === undefined) return null;
            return x === y || equals(x, y);
          };
        }
        break;
      case '!=':
        f = (r) => {
          const x = af(r), y = bf(r);
          if (x === null || x === undefined || y === null || y === undefined) return null;
          return !(x === y || equals(x, y));
        };
        break;
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const op = n.op;
        f = (r) => {
          const x = af(r), y = bf(r);
          if (x === null || x === undefined || y === null || y === undefined) return null;
          let c: number;
          if (typeof x === 'number' && typeof y === 'number') c = x - y;
          else {
            c = compare(x, y);
            if (Number.isNaN(c)) return null;
          }
          return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
        };
        break;
      }
      case '+':
      case '-':
      case '*':
      case '/':
      case '%': {
        const op = n.op;
        f = (r) => {
          const xv = af(r), yv = bf(r);
          const x = typeof xv === 'number' ? xv : toNumber(xv);
          const y = typeof yv === 'number' ? yv : toNumber(yv);
          if (x === null || y === null) return null;
          let z: number;
          switch (op) {
            case '+': z = x + y; break;
            case '-': z = x - y; break;
            case '*': z = x * y; break;
            case '/': if (y === 0) return null; z = x / y; break;
            default: if (y === 0) return null; z = x % y; break;
          }
          return Number.isFinite(z) ? z : null;
        };
        break;
      }
      case '||':
        f = (r) => {
          const x = toText(af(r));
          if (x === null) return null;
          const y = toText(bf(r));
          return y === null ? null : x + y;
        };
        break;
    }
    return this.fold(f, [a, b]);
  }

  private inList(arg: Node, list: Node[], negated: boolean): C {
    const a = this.compile(arg);
    const af = a.f;
    const items = list.map((x) => this.compile(x));
    const allConst = items.every((i) => i.k);
    let f: Fn;
    if (allConst) {
      const values = items.map((i) => i.v);
      const hasNull = values.some((v) => v === null || v === undefined);
      const nonNull = values.filter((v) => v !== null && v !== undefined);
      const exact = new Set<unknown>(nonNull.filter((v) => typeof v === 'string' || typeof v === 'number'));
      const others = nonNull;
      f = (r) => {
        const v = af(r);
        if (v === null || v === undefined) return null;
        let found = exact.has(v);
        if (!found && typeof v !== 'string' && typeof v !== 'number') for (const o of others) if (equals(v, o)) { found = true; break; }
        if (!found && (typeof v === 'string' || typeof v === 'number')) for (const o of others) if (typeof o !== typeof v && equals(v, o)) { found = true; break; }
        if (found) return !negated;
        return hasNull ? null : negated;
      };
    } else {
      const fs = items.map((i) => i.f);
      f = (r) => {
        const v = af(r);
        if (v === null || v === undefined) return null;
        let sawNull = false;
        for (let i = 0; i < fs.length; i++) {
          const o = fs[i](r);
          if (o === null || o === undefined) sawNull = true;
          else if (o === v || equals(v, o)) return !negated;
        }
        return sawNull ? null : negated;
      };
    }
    return this.fold(f, [a, ...items]);
  }

  private like(arg: Node, pattern: Node, negated: boolean, node: Node): C {
    const a = this.compile(arg), p = this.compile(pattern);
    const af = a.f;
    let f: Fn;
    if (p.k) {
      if (p.v === null || p.v === undefined) return konst(null);
      const re = likeToRegExp(String(p.v));
      f = (r) => {
        const s = toText(af(r));
        if (s === null) return null;
        return re.test(s) !== negated;
      };
    } else {
      const pf = p.f;
      const cache = new Map<string, RegExp>();
      f = (r) => {
        const s = toText(af(r)), ps = toText(pf(r));
        if (s === null || ps === null) return null;
        let re = cache.get(ps);
        if (!re) {
          if (cache.size > 256) cache.clear();
          re = likeToRegExp(ps);
          cache.set(ps, re);
        }
        return re.test(s) !== negated;
      };
    }
    void node;
    return this.fold(f, [a, p]);
  }

  private caseExpr(n: Extract<Node, { type: 'case' }>): C {
    const subject = n.subject ? this.compile(n.subject) : undefined;
    const whens = n.whens.map((w) => ({ when: this.compile(w.when), then: this.compile(w.then) }));
    const otherwise = n.otherwise ? this.compile(n.otherwise) : konst(null);
    const conds = whens.map((w) => w.when.f);
    const thens = whens.map((w) => w.then.f);
    const ef = otherwise.f;
    const m = conds.length;
    let f: Fn;
    if (subject) {
      const sf = subject.f;
      f = (r) => {
        const s = sf(r);
        if (s !== null && s !== undefined) {
          for (let i = 0; i < m; i++) {
            const w = conds[i](r);
            if (w !== null && w !== undefined && (w === s || equals(s, w))) return thens[i](r);
          }
        }
        return ef(r);
      };
    } else {
      f = (r) => {
        for (let i = 0; i < m; i++) if (toBool(conds[i](r)) === true) return thens[i](r);
        return ef(r);
      };
    }
    const all: C[] = [otherwise];
    if (subject) all.push(subject);
    for (const w of whens) all.push(w.when, w.then);
    return this.fold(f, all);
  }

  private call(n: Extract<Node, { type: 'call' }>): C {
    const def = FUNCTIONS[n.name];
    if (!def) throw this.err(`Unknown function ${n.name}`, n);
    const args = n.args.map((x) => this.compile(x));
    if (def.check) {
      try {
        def.check(args.map((x) => (x.k ? x.v : NOT_LITERAL)));
      } catch (e) {
        throw this.err(`${n.name}: ${(e as Error).message}`, n);
      }
    }
    if ((n.name === 'NOW' || n.name === 'UNIX_TIMESTAMP') && this.options.now) {
      const now = this.options.now;
      return { k: false, f: () => now() };
    }
    let f: Fn;
    if (def.vararg) {
      const vf = def.vararg;
      const fs = args.map((x) => x.f);
      const m = fs.length;
      if (n.name === 'COALESCE') {
        // short-circuit: later arguments are evaluated only when needed
        f = (r) => {
          for (let i = 0; i < m; i++) {
            const v = fs[i](r);
            if (v !== null && v !== undefined) return v;
          }
          return null;
        };
      } else {
        f = (r) => {
          const vals = new Array<unknown>(m);
          for (let i = 0; i < m; i++) vals[i] = fs[i](r);
          return vf(vals);
        };
      }
    } else {
      const ff = def.fixed!;
      const [a0, a1, a2] = args.map((x) => x.f);
      const sf = def.specialize && args.length > 0 && !args[0].k && args.slice(1).every((x) => x.k)
        ? def.specialize(args.map((x) => (x.k ? x.v : NOT_LITERAL)))
        : undefined;
      if (sf !== undefined) return { f: (r) => sf(a0(r)), k: false };
      switch (args.length) {
        case 0: f = () => ff(undefined, undefined, undefined); break;
        case 1: f = (r) => ff(a0(r), undefined, undefined); break;
        case 2: f = (r) => ff(a0(r), a1(r), undefined); break;
        default: f = (r) => ff(a0(r), a1(r), a2(r)); break;
      }
    }
    if (def.volatile) return { f, k: false };
    return this.fold(f, args);
  }
}

/** SQL LIKE: % any run, _ one character, \ escapes the next character. Case-sensitive, whole string. */
export function likeToRegExp(p: string): RegExp {
  let re = '^';
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\' && i + 1 < p.length) {
      re += p[++i].replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    } else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(re + '$');
}
