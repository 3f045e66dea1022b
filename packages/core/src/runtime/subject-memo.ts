import { hashKey, type SubjectTemplate } from '../subject';

/** Distinct keys remembered per template; past this the memo starts over (high-cardinality subjects). */
const MAX_MEMO = 8192;
/** Partition counts up to this get the precomputed-subjects path. */
const MAX_PRECOMPUTED = 4096;
/** The token grammar of subject templates (src/subject.ts). */
const TOKEN = /\{([A-Za-z_][\w.]*)(?:%(\d+))?\}/g;

type Render = (record: Record<string, unknown>) => string;

/**
 * A template's render made cheap per record, returning the very same string object for one
 * subject (so the map lookups that follow hit a string whose hash V8 has cached). Rendering anew
 * (hash, number to string, concatenation) and hashing the fresh result cost hundreds of ns a record.
 *
 * - no field: rendered once;
 * - one `{field%N}` token: the N subjects are built up front and a string value picks one by its
 *   partition (`hashKey`, as render uses it);
 * - one field otherwise: memoized on the field's value (render is a pure function of it);
 * - several fields, or a value that is no string or number: rendered every time.
 */
export function memoizedRender(template: SubjectTemplate): Render {
  if (template.fields.length === 0) {
    const subject = template.render({});
    return () => subject;
  }
  if (template.fields.length > 1) return (record) => template.render(record);
  const path = template.fields[0]!.split('.');
  const read = fieldReader(path);
  const memo = memoOnValue(template, read);
  return partitioned(template, path, read, memo) ?? memo;
}

function fieldReader(path: string[]): (record: Record<string, unknown>) => unknown {
  const top = path[0]!;
  if (path.length === 1) return (record) => record[top];
  return (record) => {
    let v: unknown = record;
    for (const k of path) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[k];
    }
    return v;
  };
}

function memoOnValue(template: SubjectTemplate, read: (record: Record<string, unknown>) => unknown): Render {
  const memo = new Map<string | number, string>();
  return (record) => {
    const v = read(record);
    if (typeof v !== 'string' && typeof v !== 'number') return template.render(record);
    let subject = memo.get(v);
    if (subject === undefined) {
      if (memo.size >= MAX_MEMO) memo.clear();
      subject = template.render(record);
      memo.set(v, subject);
    }
    return subject;
  };
}

function partitioned(template: SubjectTemplate, path: string[], read: (record: Record<string, unknown>) => unknown, fallback: Render): Render | undefined {
  const tokens = [...template.source.matchAll(TOKEN)];
  if (tokens.length !== 1 || tokens[0]![2] === undefined) return undefined;
  const t = tokens[0]!;
  const mod = Number(t[2]);
  if (!(mod >= 1 && mod <= MAX_PRECOMPUTED)) return undefined;
  const prefix = template.source.slice(0, t.index);
  const suffix = template.source.slice(t.index! + t[0].length);
  const subjects = Array.from({ length: mod }, (_, i) => `${prefix}${i}${suffix}`);
  // partitionOf is hashKey(v) % mod; a uint32 hash above 2^31 is a double to V8, and a double
  // modulo costs more than the hash itself. Same value, computed in int32 arithmetic.
  const pow2 = (mod & (mod - 1)) === 0;
  const render: Render = (record) => {
    const v = read(record);
    if (typeof v !== 'string') return fallback(record);
    const h = hashKey(v);
    return subjects[pow2 ? h & (mod - 1) : ((((h >>> 16) % mod) * 65536) + (h & 0xffff)) % mod]!;
  };
  // Built from the template's source, not from its render: make sure the two agree.
  for (const sample of ['', 'a', 'key-1', 'aa:bb:cc:dd:ee:ff', 'x.y z']) {
    let record: Record<string, unknown> = {};
    for (let i = path.length - 1; i >= 0; i--) record = { [path[i]!]: i === path.length - 1 ? sample : record };
    if (render(record) !== template.render(record)) return undefined;
  }
  return render;
}
