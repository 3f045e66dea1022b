import { compileExpression, compilePredicate, type Rec } from '../expr/compile';
import { pathToString, type Node } from '../expr/ast';
import { ExpressionError } from '../expr/errors';
import { parse } from '../expr/parser';

/** A named route of a split: records for which `where` is true go to output `name`. */
export interface RouteSpec {
  name: string;
  /** Predicate expression; omit (or "true") for a catch-all route. */
  where?: string;
}

export interface RouteOptions {
  /** 'first': a record goes to the first matching route only (default); 'all': to every matching route. */
  mode?: 'first' | 'all';
  /** Route for records that match none (default: none, the record is dropped). */
  otherwise?: string;
}

/** A spec error naming the offending path (e.g. "routes[1].where", "select.day"); `cause` is the ExpressionError. */
export class OpsSpecError extends Error {
  constructor(message: string, readonly path: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OpsSpecError';
  }
}

function wrap<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ExpressionError) throw new OpsSpecError(`${path}: ${e.message}`, path, { cause: e });
    throw e;
  }
}

const NONE: readonly string[] = Object.freeze([]);
/** Numbers a split by number routes through an array (type codes: 0..63 for 802.11 type_subtype). */
const SMALL_CODES = 256;

/**
 * Compile split routes. Returns a function giving the route names a record goes to (a shared
 * frozen array per outcome in 'first' mode, so nothing is allocated per record).
 */
export function compileRoutes(routes: readonly RouteSpec[], options: RouteOptions = {}): (record: Rec) => readonly string[] {
  const names = new Set<string>();
  const tests = routes.map((r, i) => {
    if (!r.name) throw new OpsSpecError(`routes[${i}].name is required`, `routes[${i}].name`);
    if (names.has(r.name)) throw new OpsSpecError(`routes[${i}].name: duplicate route '${r.name}'`, `routes[${i}].name`);
    names.add(r.name);
    return r.where === undefined || r.where.trim() === '' ? () => true : wrap(`routes[${i}].where`, () => compilePredicate(r.where!).test);
  });
  const single = routes.map((r) => Object.freeze([r.name]) as readonly string[]);
  const other = options.otherwise ? (Object.freeze([options.otherwise]) as readonly string[]) : NONE;
  const n = tests.length;
  if ((options.mode ?? 'first') === 'first') {
    const first = (record: Rec): readonly string[] => {
      for (let i = 0; i < n; i++) if (tests[i](record)) return single[i];
      return other;
    };
    const dispatch = numberDispatch(routes);
    if (dispatch === undefined) return first;
    // every route is `field = number`: a number goes straight to the first route of its value (as
    // the loop would find it); any other value takes the loop
    const { read, routeOf } = dispatch;
    // the outcome of each small non-negative integer (type codes) by index, the rest by the map
    const small: Array<readonly string[]> = new Array<readonly string[]>(SMALL_CODES).fill(other);
    for (const [x, i] of routeOf) if (Number.isInteger(x) && x >= 0 && x < SMALL_CODES) small[x] = single[i];
    return (record) => {
      const x = read(record);
      if (typeof x !== 'number') return first(record);
      // (-0 | 0) is 0, as the map would find it
      if (x >= 0 && x < SMALL_CODES && (x | 0) === x) return small[x | 0];
      const i = routeOf.get(x);
      return i === undefined ? other : single[i];
    };
  }
  return (record) => {
    let out: string[] | undefined;
    for (let i = 0; i < n; i++) if (tests[i](record)) (out ??= []).push(routes[i].name);
    return out ?? other;
  };
}

/**
 * When every route's where is `<field> = <number literal>` on one field (a split by type code),
 * the field's reader and the first route index per number; otherwise undefined. For a number x,
 * `field = k` is exactly x === k (NaN matches nothing; -0 and 0 match, as Map keys), so the map
 * gives the route the loop would.
 */
function numberDispatch(routes: readonly RouteSpec[]): { read: (r: Rec) => unknown; routeOf: Map<number, number> } | undefined {
  if (routes.length < 2) return undefined;
  let field: string | undefined;
  const routeOf = new Map<number, number>();
  for (let i = 0; i < routes.length; i++) {
    const w = routes[i].where;
    if (w === undefined) return undefined;
    let ast: Node;
    try {
      ast = parse(w);
    } catch {
      return undefined;
    }
    if (ast.type !== 'binary' || ast.op !== '=' || ast.left.type !== 'field' || ast.right.type !== 'lit' || typeof ast.right.value !== 'number') return undefined;
    const f = pathToString(ast.left.path);
    if (field !== undefined && f !== field) return undefined;
    field = f;
    if (!routeOf.has(ast.right.value)) routeOf.set(ast.right.value, i);
  }
  // the field read exactly as the routes' own expressions read it
  return { read: compileExpression(field!).evaluate, routeOf };
}

export interface ProjectionSpec {
  /** '*' keeps every field (default); an object maps output field → expression. */
  select?: '*' | Record<string, string>;
  /** old name → new name, applied after select. */
  rename?: Record<string, string>;
  /** fields removed at the end. */
  drop?: string[];
}

/**
 * Compile a projection: select (expressions), then rename, then drop. Returns a new object per
 * record; the input is never modified. With select '*', the input's fields are copied (shallow).
 */
export function compileProjection(spec: ProjectionSpec): (record: Rec) => Record<string, unknown> {
  const sel = spec.select ?? '*';
  const renameFrom = Object.keys(spec.rename ?? {});
  const renameTo = renameFrom.map((k) => spec.rename![k]);
  const drop = spec.drop ?? [];
  let base: (r: Rec) => Record<string, unknown>;
  if (sel === '*') {
    base = (r) => ({ ...r });
  } else {
    if (typeof sel !== 'object' || sel === null) throw new OpsSpecError("select must be '*' or a map of field → expression", 'select');
    const outs = Object.keys(sel);
    const fns = outs.map((k) => wrap(`select.${k}`, () => compileExpression(sel[k]).evaluate));
    const m = outs.length;
    base = (r) => {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < m; i++) o[outs[i]] = fns[i](r);
      return o;
    };
  }
  if (renameFrom.length === 0 && drop.length === 0) return base;
  return (r) => {
    const o = base(r);
    for (let i = 0; i < renameFrom.length; i++) {
      const from = renameFrom[i];
      if (from in o) {
        const v = o[from];
        delete o[from];
        o[renameTo[i]] = v;
      }
    }
    for (let i = 0; i < drop.length; i++) delete o[drop[i]];
    return o;
  };
}

/** Compile a filter predicate (SQL WHERE semantics: null and false reject). */
export function compileFilter(where: string): (record: Rec) => boolean {
  return wrap('where', () => compilePredicate(where).test);
}
