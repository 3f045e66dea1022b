/** Expression syntax tree. `pos` is the 0-based offset of the node's first token in the source. */
export type PathSegment = string | number;

export type CastType = 'STRING' | 'INT' | 'DOUBLE' | 'BOOLEAN';

export type Node =
  | { type: 'lit'; value: unknown; pos: number }
  | { type: 'field'; path: PathSegment[]; pos: number }
  | { type: 'member'; object: Node; index: Node; pos: number }
  | { type: 'unary'; op: '-' | '+' | 'NOT'; arg: Node; pos: number }
  | { type: 'binary'; op: BinaryOp; left: Node; right: Node; pos: number }
  | { type: 'in'; arg: Node; list: Node[]; negated: boolean; pos: number }
  | { type: 'isnull'; arg: Node; negated: boolean; pos: number }
  | { type: 'like'; arg: Node; pattern: Node; negated: boolean; pos: number }
  | { type: 'between'; arg: Node; low: Node; high: Node; negated: boolean; pos: number }
  | { type: 'case'; subject?: Node; whens: { when: Node; then: Node }[]; otherwise?: Node; pos: number }
  | { type: 'call'; name: string; args: Node[]; pos: number }
  | { type: 'cast'; arg: Node; to: CastType; pos: number };

export type BinaryOp = 'AND' | 'OR' | '=' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%' | '||';

/** Render a field path the way it is written: a.b[0].c (segments that are not plain identifiers are backquoted). */
export function pathToString(path: readonly PathSegment[]): string {
  let s = '';
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (typeof seg === 'number') s += `[${seg}]`;
    else {
      const plain = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg) ? seg : '`' + seg.replace(/`/g, '``') + '`';
      s += i === 0 ? plain : '.' + plain;
    }
  }
  return s;
}
