import { partitionOf, TOKEN, type SubjectTemplate } from '../subject';

/** Distinct keys remembered per template; past this the memo starts over (high-cardinality subjects). */
const MAX_MEMO = 8192;
/** Partition counts up to this get the precomputed-subjects path. */
const MAX_PRECOMPUTED = 4096;
/** Two fields, one of them `{field%N}` with N up to this: N array slots per value of the other (see memoOnKeyAndPartition). */
const MAX_ARRAY_PARTITIONS = 256;
/** Array slots that memo allocates before it starts over (bounds its memory as MAX_MEMO bounds the maps). */
const MAX_ARRAY_SLOTS = 4 * MAX_MEMO;

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
 * - two fields (the probe's "wifi.frames.{subtype_name}.p{sa%16}"): memoized on the pair of keys,
 *   a `{field%N}` token keyed by its partition (N keys, not one per value);
 * - more fields, or a value that is no string or number: rendered every time.
 */
export function memoizedRender(template: SubjectTemplate): Render {
  if (template.fields.length === 0) {
    const subject = template.render({});
    return () => subject;
  }
  if (template.fields.length === 2) return memoOnTwo(template) ?? ((record) => template.render(record));
  if (template.fields.length > 2) return (record) => template.render(record);
  const path = template.fields[0]!.split('.');
  const read = fieldReader(path);
  const memo = memoOnValue(template, read);
  return partitioned(template, path, read, memo) ?? memo;
}

/**
 * `record => value at path` as code of its own (`record["a"]["b"]`, not a loop over the path):
 * a closure shared by every field would see every field name at one property load (a
 * megamorphic load, and a call V8 does not inline); generated code loads one named property.
 */
function fieldReader(path: string[]): (record: Record<string, unknown>) => unknown {
  return new Function('record', `${readCode(path, 'v', 'record')}\nreturn v;`) as (record: Record<string, unknown>) => unknown;
}

/** Code that declares `v` as the value at `path` of `from` (undefined through a non-object, as getPath). */
function readCode(path: string[], v: string, from: string): string {
  const top = JSON.stringify(path[0]!);
  if (path.length === 1) return `const ${v} = ${from}[${top}];`;
  let code = `let ${v} = ${from}[${top}];`;
  for (const k of path.slice(1)) code += `\n${v} = ${v} === null || typeof ${v} !== 'object' ? undefined : ${v}[${JSON.stringify(k)}];`;
  return code;
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
  const render: Render = (record) => {
    const v = read(record);
    if (typeof v !== 'string') return fallback(record);
    return subjects[partitionOf(v, mod)]!;
  };
  // Built from the template's source, not from its render: make sure the two agree.
  for (const sample of ['', 'a', 'key-1', 'aa:bb:cc:dd:ee:ff', 'x.y z']) {
    let record: Record<string, unknown> = {};
    for (let i = path.length - 1; i >= 0; i--) record = { [path[i]!]: i === path.length - 1 ? sample : record };
    if (render(record) !== template.render(record)) return undefined;
  }
  return render;
}

/**
 * Two fields: what the template renders for a token depends only on its key (the value of a
 * `{field}` token, the partition of a `{field%N}` one), so the subject is memoized on the pair
 * of keys, and render runs once per pair. Bounded like the one-field memo.
 */
function memoOnTwo(template: SubjectTemplate): Render | undefined {
  const tokens = [...template.source.matchAll(TOKEN)];
  if (tokens.length !== 2) return undefined;
  // a `{field%N}` token as the inner key: an array indexed by the partition, not a second map
  const inner = tokens.findIndex((t) => t[2] !== undefined && Number(t[2]) >= 1 && Number(t[2]) <= MAX_ARRAY_PARTITIONS);
  if (inner >= 0) {
    return memoOnKeyAndPartition(template, tokens[1 - inner]!, tokens[inner]!, Number(tokens[inner]![2]));
  }
  const [keyA, keyB] = tokens.map((t) => tokenKey(t[1]!, t[2]));
  const memo = new Map<string | number | null, Map<string | number | null, string>>();
  let size = 0;
  return (record) => {
    const a = keyA!(record);
    if (a === undefined) return template.render(record);
    const b = keyB!(record);
    if (b === undefined) return template.render(record);
    let inner = memo.get(a);
    if (inner === undefined) {
      if (size >= MAX_MEMO) { memo.clear(); size = 0; }
      inner = new Map();
      memo.set(a, inner);
    }
    let subject = inner.get(b);
    if (subject === undefined) {
      if (size >= MAX_MEMO) { memo.clear(); size = 0; inner = new Map(); memo.set(a, inner); }
      subject = template.render(record);
      inner.set(b, subject);
      size++;
    }
    return subject;
  };
}

/**
 * memoOnTwo when one token is `{field%N}`: the subjects of one outer key are N array slots.
 * Generated per template (the probe's subject is rendered once per frame): the field reads are
 * named loads, and the partition's FNV-1a hash (partitionOf's) runs inline over a string value.
 */
function memoOnKeyAndPartition(template: SubjectTemplate, outer: RegExpMatchArray, inner: RegExpMatchArray, partitions: number): Render {
  const outerMod = outer[2] === undefined ? undefined : Number(outer[2]);
  const outerKey = outerMod === undefined
    // null/undefined (an ACK has no source address) are a key of their own
    ? 'if (typeof va === "string" || typeof va === "number") a = va; else if (va == null) a = null; else return template.render(record);'
    : `if (typeof va === "string" || va == null) a = partitionOf(va, ${outerMod}); else return template.render(record);`;
  // partitionOf hashes String(v); strings only (and null/undefined, as ""), so the key stays exact
  const reduce = (partitions & (partitions - 1)) === 0 ? `h & ${partitions - 1}` : `partitionOf(s, ${partitions})`;
  const body = `
let slots = 0;
return function renderSubject(record) {
  ${readCode(outer[1]!.split('.'), 'va', 'record')}
  let a;
  ${outerKey}
  ${readCode(inner[1]!.split('.'), 'vb', 'record')}
  if (typeof vb !== "string" && vb != null) return template.render(record);
  const s = vb == null ? "" : vb;
  let h = ${0x811c9dc5 | 0};
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), ${0x01000193});
  const b = ${reduce};
  let subjects = memo.get(a);
  if (subjects === undefined) {
    if (slots + ${partitions} > ${MAX_ARRAY_SLOTS}) { memo.clear(); slots = 0; }
    subjects = new Array(${partitions}).fill(undefined);
    slots += ${partitions};
    memo.set(a, subjects);
  }
  let subject = subjects[b];
  if (subject === undefined) {
    subject = template.render(record);
    subjects[b] = subject;
  }
  return subject;
};`;
  const memo = new Map<string | number | null, Array<string | undefined>>();
  return (new Function('template', 'memo', 'partitionOf', body) as (t: SubjectTemplate, m: typeof memo, p: typeof partitionOf) => Render)(template, memo, partitionOf);
}

/** The memo key of one token: the field's value, or its partition; undefined when not memoizable. */
function tokenKey(field: string, mod: string | undefined): (record: Record<string, unknown>) => string | number | null | undefined {
  const read = fieldReader(field.split('.'));
  if (mod === undefined) {
    return (record) => {
      const v = read(record);
      // null/undefined (an ACK has no source address) are a key of their own
      return typeof v === 'string' || typeof v === 'number' ? v : v == null ? null : undefined;
    };
  }
  const n = Number(mod);
  return (record) => {
    const v = read(record);
    // render hashes String(v); strings only, so the key stays cheap to compute and exact
    return typeof v === 'string' || v == null ? partitionOf(v, n) : undefined;
  };
}
