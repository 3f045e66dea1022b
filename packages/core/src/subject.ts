/**
 * Subject templates and keyed partitioning.
 *
 *   "wifi.frames.{type_subtype}.{sa}"      one subject per subtype and MAC
 *   "wifi.frames.{type_subtype}.p{sa%16}"  one of 16 partitions per subtype, chosen by hash(sa)
 *
 * `{field}` inserts a record field (dotted paths allowed); `{field%N}` inserts hash(field) mod N.
 * Every record of one key renders the same subject, so batching per subject keeps per-key order.
 */
export interface SubjectTemplate {
  readonly source: string;
  readonly fields: readonly string[];
  render(record: Record<string, unknown>): string;
}

/** A template token: {field} or {field%N} (field may be a dotted path). Used with matchAll only. */
export const TOKEN = /\{([A-Za-z_][\w.]*)(?:%(\d+))?\}/g;

export function compileSubjectTemplate(source: string): SubjectTemplate {
  const parts: Array<string | { path: string[]; mod: number }> = [];
  const fields: string[] = [];
  let last = 0;
  for (const m of source.matchAll(TOKEN)) {
    if (m.index! > last) parts.push(source.slice(last, m.index));
    const mod = m[2] === undefined ? 0 : Number(m[2]);
    if (m[2] !== undefined && !(mod >= 1)) throw new Error(`partition count in {${m[1]}%${m[2]}} must be at least 1`);
    parts.push({ path: m[1].split('.'), mod });
    fields.push(m[1]);
    last = m.index! + m[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  if (fields.length === 0) return { source, fields, render: () => source };
  return {
    source,
    fields,
    render(record) {
      let out = '';
      for (const p of parts) {
        if (typeof p === 'string') { out += p; continue; }
        const v = getPath(record, p.path);
        out += p.mod ? String(partitionOf(v, p.mod)) : subjectToken(v);
      }
      return out;
    },
  };
}

function getPath(record: Record<string, unknown>, path: string[]): unknown {
  let v: unknown = record;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** A value made safe for one subject token: no dots, wildcards or whitespace. */
export function subjectToken(v: unknown): string {
  if (v === undefined || v === null || v === '') return '_';
  const s = String(v);
  // MACs keep their colons (legal in subjects); only the characters NATS reserves are replaced.
  return /[.*>\s]/.test(s) ? s.replace(/[.*>\s]/g, '_') : s;
}

/** FNV-1a 32-bit over the value's string form: stable across processes and hosts. */
export function hashKey(v: unknown): number {
  return hash32(v) >>> 0;
}

/** hashKey as an int32 (same bits): V8 keeps it a small integer, where a uint32 above 2^31 is a heap double. */
function hash32(v: unknown): number {
  const s = v === undefined || v === null ? '' : String(v);
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** `hashKey(v) % count`, computed in int32 arithmetic (a double modulo costs more than the hash). */
export function partitionOf(v: unknown, count: number): number {
  const h = hash32(v);
  if (count > 0 && count <= 32768 && Number.isInteger(count)) {
    if ((count & (count - 1)) === 0) return h & (count - 1);
    // (hi * 2^16 + lo) mod n = ((hi mod n) * 2^16 + lo) mod n, every term below 2^31 for n <= 2^15
    return ((((h >>> 16) % count) << 16) + (h & 0xffff)) % count;
  }
  return (h >>> 0) % count;
}

/** NATS subject filter matching (`*` one token, `>` the rest). */
export function subjectMatches(filter: string, subject: string): boolean {
  if (filter === subject || filter === '>') return true;
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

/** Whether every subject matched by `inner` is also matched by `outer` (for stream lookup). */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('.');
  const n = inner.split('.');
  for (let i = 0; i < o.length; i++) {
    if (o[i] === '>') return n.length > i;
    if (i >= n.length) return false;
    if (n[i] === '>') return false;
    if (o[i] === '*') continue;
    if (n[i] === '*' || o[i] !== n[i]) return false;
  }
  return o.length === n.length;
}

/**
 * Filters of partitioned input: "wifi.frames.*.p{partition}" with 16 partitions and 4 instances
 * gives instance 1 the filters for p1, p5, p9, p13.
 */
export function partitionFilters(filter: string, partitions: number, index: number, count: number): string[] {
  if (!filter.includes('{partition}')) return [filter];
  const out: string[] = [];
  for (let p = index; p < partitions; p += count) out.push(filter.replace('{partition}', String(p)));
  return out;
}
