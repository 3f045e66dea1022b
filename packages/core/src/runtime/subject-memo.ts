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
    const outer = tokens[1 - inner]!;
    return memoOnKeyAndPartition(template, tokenKey(outer[1]!, outer[2]), tokenKey(tokens[inner]![1]!, tokens[inner]![2]), Number(tokens[inner]![2]));
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

/** memoOnTwo when one token is `{field%N}`: the subjects of one outer key are N array slots. */
function memoOnKeyAndPartition(
  template: SubjectTemplate,
  outerKey: (record: Record<string, unknown>) => string | number | null | undefined,
  partitionKey: (record: Record<string, unknown>) => string | number | null | undefined,
  partitions: number,
): Render {
  const memo = new Map<string | number | null, Array<string | undefined>>();
  let slots = 0;
  return (record) => {
    const a = outerKey(record);
    if (a === undefined) return template.render(record);
    const b = partitionKey(record) as number | undefined; // a partition: an integer in [0, partitions)
    if (b === undefined) return template.render(record);
    let subjects = memo.get(a);
    if (subjects === undefined) {
      if (slots + partitions > MAX_ARRAY_SLOTS) { memo.clear(); slots = 0; }
      subjects = new Array<string | undefined>(partitions).fill(undefined);
      slots += partitions;
      memo.set(a, subjects);
    }
    let subject = subjects[b];
    if (subject === undefined) {
      subject = template.render(record);
      subjects[b] = subject;
    }
    return subject;
  };
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
