// Pull queries over a materialized table: the request/reply protocol and its evaluation.
import { PcapflowError, type ErrorCode } from '@pcapflow/core';
import { decodeKey, MsgpackWriter, type Aggregator, type Change } from '../engine';
import { encodeGroupKey, escapeKeyText } from '../engine/keys';

/**
 * A pull query. All criteria combine with AND.
 *   key     a row's `_key` (with or without its window part), or the group values in group-column
 *           order separated by "," (see parseQueryKey; one group column: the whole text is the value)
 *   prefix  the encoded key starts with it, or the first group column's text starts with it
 *   from/to windows overlapping [from, to): window end > from and window start < to (epoch ms, or
 *           ISO 8601 read as UTC unless it has an offset); an error on a table without window
 *   limit   most rows returned (default 10 000)
 */
export interface TableQuery {
  key?: string;
  prefix?: string;
  from?: number | string;
  to?: number | string;
  limit?: number;
}

/** Request on pcapflow.query.<table>[.<partition>]: JSON of this. */
export type QueryRequest = ({ op: 'query' } & TableQuery) | { op: 'info' };

export interface QueryReply {
  table: string;
  partition: number;
  partitions: number;
  /** group column names, in key order */
  groupColumns?: string[];
  rows?: Record<string, unknown>[];
  /** rows matched before `limit` */
  total?: number;
  error?: string;
  /** with `error`: the PcapflowError code and hint, when the server sends them */
  code?: ErrorCode;
  hint?: string;
}

export const DEFAULT_QUERY_LIMIT = 10_000;

/** What a query needs to know about its table to be checked. */
export interface TableShape {
  table: string;
  /** group column names, in key order */
  groupColumns: readonly string[];
  /** false for `window: none` (running totals): such rows have no window to select by time */
  windowed: boolean;
}

/** A query the table cannot answer as asked (bad time, window range on an unwindowed table, malformed key). */
export function queryError(message: string, hint: string, details?: Record<string, unknown>): PcapflowError {
  return new PcapflowError('PCAPFLOW_QUERY', message, { hint, ...(details ? { details } : {}) });
}

/** NATS subject of a table's pull queries (partition omitted: partition 0, which also answers `info`). */
export function querySubject(table: string, partition?: number): string {
  return partition === undefined ? `pcapflow.query.${table}` : `pcapflow.query.${table}.${partition}`;
}

/**
 * A changelog / query row: group columns, aggregates, window_start/window_end, _key, _table, _final.
 * `consume`: the caller drops `ch` after this (the actor publishing what it drained), so its `row`
 * object becomes the record instead of being copied (one object and a dozen property copies less
 * per changelog row; same keys in the same order).
 */
export function changeRecord(table: string, groupNames: readonly string[], ch: Change, consume = false): Record<string, unknown> {
  if (ch.deleted) {
    const { values, windowStart } = decodeKey(ch.key);
    const r: Record<string, unknown> = {};
    groupNames.forEach((n, i) => { r[n] = values[i] ?? null; });
    if (windowStart !== undefined) r.window_start = windowStart;
    r._key = ch.key;
    r._table = table;
    r._final = true;
    r._deleted = true;
    return r;
  }
  // Copied key by key: the spread copy came out several times slower to build here and, with the
  // fields added after it, slower for msgpackr to encode (this runs for every changelog row).
  let r: Record<string, unknown>;
  if (consume) r = ch.row;
  else {
    r = {};
    const row = ch.row;
    for (const k in row) r[k] = row[k];
  }
  if (ch.windowStart !== undefined) {
    r.window_start = ch.windowStart;
    r.window_end = ch.windowEnd;
  }
  r._key = ch.key;
  r._table = table;
  r._final = ch.final;
  if (ch.truncated) r._truncated = ch.truncated;
  return r;
}

// Registry symbols of core's codec (see PACKED_KEYS in @pcapflow/core codec.ts): a record carrying
// both is encoded by concatenating its values' bytes instead of being walked by msgpackr.
const PACKED_KEYS: unique symbol = Symbol.for('pcapflow.packedKeys') as never;
const PACKED_VALUES: unique symbol = Symbol.for('pcapflow.packedValues') as never;

/**
 * Writes each changelog record's msgpack form as it is emitted (core's pre-packed records): the
 * runtime then copies those bytes into the message instead of having msgpackr walk every record,
 * look its shape up and grow its buffer; the records decode to exactly what changeRecord built.
 * The record keeps its properties (the output subject is rendered from them). Its key order is
 * changeRecord's, above: a change to one is a change to the other (changelog-record.test.ts).
 */
export class ChangelogPacker {
  /** changeRecord's keys in its order: the row's columns, window bounds, then its own fields */
  private readonly keys: readonly string[] | undefined;
  private readonly keysTruncated: readonly string[];
  private readonly columns: readonly string[];
  private readonly windowed: boolean;
  /** records are views of its buffers, which it never writes again (see MsgpackWriter.beginAfter) */
  private readonly w = new MsgpackWriter(64 * 1024);

  constructor(private readonly table: string, groupNames: readonly string[], aggregateNames: readonly string[], windowed: boolean) {
    this.columns = [...groupNames, ...aggregateNames];
    this.windowed = windowed;
    const keys = [...this.columns, ...(windowed ? ['window_start', 'window_end'] : []), '_key', '_table', '_final'];
    this.keysTruncated = Object.freeze([...keys, '_truncated']);
    // a column named like one of changeRecord's own fields is overwritten in place: not packed then
    this.keys = new Set(this.keysTruncated).size === this.keysTruncated.length ? Object.freeze(keys) : undefined;
  }

  /**
   * Give `record` (changeRecord(table, names, ch, true)) its packed form. Left without one when a
   * value is not one the writer writes (an object, a Date…) or the row does not have the columns
   * in the expected order: the runtime then packs the record from its properties.
   */
  pack(record: Record<string, unknown>, ch: Change): void {
    if (ch.deleted || this.keys === undefined) return;
    const w = this.w;
    w.beginAfter();
    const row = ch.row;
    const cols = this.columns;
    for (let i = 0; i < cols.length; i++) {
      const v = row[cols[i]];
      // (msgpackr writes undefined as an extension, the writer as nil)
      if (v === undefined || !w.value(v)) {
        w.discard();
        return;
      }
    }
    if (this.windowed) {
      if (!w.value(ch.windowStart) || !w.value(ch.windowEnd)) {
        w.discard();
        return;
      }
    }
    w.str(ch.key);
    w.str(this.table);
    w.bool(ch.final);
    if (ch.truncated && !w.value(ch.truncated)) {
      w.discard();
      return;
    }
    (record as Record<symbol, unknown>)[PACKED_KEYS] = ch.truncated ? this.keysTruncated : this.keys;
    (record as Record<symbol, unknown>)[PACKED_VALUES] = w.take();
  }
}

// Date, optional time, optional zone. Without a zone the time is UTC (as the table format prints it),
// never the local time zone of whoever runs the query.
const ISO_RE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Epoch ms of a query bound: a number, digits, or an ISO 8601 date/time (UTC unless it has an offset). */
export function parseTimeBound(v: number | string | undefined, what: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const bad = () => queryError(`${what}: cannot read time '${String(v)}'`, 'use epoch milliseconds or ISO 8601, e.g. 2024-05-01, 2024-05-01T10:00:00Z or 2024-05-01T12:00+02:00 (UTC unless an offset is given)');
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw bad();
    return v;
  }
  const s = v.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  const m = ISO_RE.exec(s);
  if (!m) throw bad();
  const ms = Date.parse(m[2] === undefined ? `${m[1]}T00:00:00Z` : `${m[1]}T${m[2]}${m[3] ?? 'Z'}`);
  if (Number.isNaN(ms)) throw bad();
  return ms;
}

/** A KEY as given: its text (compared with `_key`) and, when it reads as group values, those values' texts. */
export interface QueryKey {
  text: string;
  values?: string[];
}

/**
 * Read a key against the table's group columns. With one group column the whole text is the value
 * (a MAC, or text with commas). With several, the values are separated by ","; "\," is a comma inside
 * a value and "\\" a backslash. A text that does not give one value per column must be a `_key`.
 */
export function parseQueryKey(key: string, shape: TableShape): QueryKey {
  const n = shape.groupColumns.length;
  if (n === 0) return { text: key };
  if (n === 1) return { text: key, values: [key] };
  const values = splitKey(key);
  if (values.length === n) return { text: key, values };
  if (looksLikeRowKey(key, n)) return { text: key };
  const cols = shape.groupColumns.join(', ');
  throw queryError(
    `key '${key}' has ${values.length} value${values.length === 1 ? '' : 's'}, but table "${shape.table}" groups by ${n} columns (${cols})`,
    `give ${n} values in the order ${cols}, separated by "," (write \\, for a comma inside a value), or a row's _key as printed by --format json`,
    { key, groupColumns: shape.groupColumns },
  );
}

function splitKey(key: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < key.length; i++) {
    const c = key[i];
    if (c === '\\' && i + 1 < key.length) cur += key[++i];
    else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}

function looksLikeRowKey(key: string, n: number): boolean {
  if (!/^[-/_=.A-Za-z0-9]+$/.test(key)) return false;
  try {
    return decodeKey(key).values.length === n;
  } catch {
    return false;
  }
}

const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Whether the text typed for a group column matches the column's value: strings exactly, numbers by
 * value ("4" and "4.0" match 4), booleans as true/false, null as "" or "null", anything else as JSON.
 */
export function keyValueMatches(text: string, v: unknown): boolean {
  if (typeof v === 'string') return v === text;
  if (typeof v === 'number') return NUMBER_RE.test(text) && Number(text) === v;
  if (typeof v === 'boolean') return text.toLowerCase() === String(v);
  if (v === null || v === undefined) return text === '' || text.toLowerCase() === 'null';
  if (typeof v === 'bigint') return text === String(v);
  if (v instanceof Date) return NUMBER_RE.test(text) ? Number(text) === v.getTime() : text === v.toISOString();
  return text === JSON.stringify(v);
}

/** The typed values a text may stand for (for the engine's index); keyValueMatches is the full rule. */
function typedCandidates(text: string): unknown[] {
  const out: unknown[] = [text];
  if (NUMBER_RE.test(text)) out.push(Number(text));
  const lower = text.toLowerCase();
  if (lower === 'true' || lower === 'false') out.push(lower === 'true');
  if (text === '' || lower === 'null') out.push(null);
  return out;
}

const MAX_INDEX_PROBES = 256;

/** Group value tuples the key can stand for; undefined when there are too many to probe. */
function keyTuples(groupColumns: number, key: QueryKey): unknown[][] | undefined {
  let tuples: unknown[][] = [];
  if (key.values) {
    tuples = [[]];
    for (const text of key.values) {
      const next: unknown[][] = [];
      for (const t of tuples) for (const c of typedCandidates(text)) next.push([...t, c]);
      tuples = next;
      if (tuples.length > MAX_INDEX_PROBES) return undefined;
    }
  }
  if (looksLikeRowKey(key.text, groupColumns)) tuples.push(decodeKey(key.text).values);
  return tuples;
}

/**
 * Row keys (of a table without window) the query key can match, to read from KV; undefined when the
 * key is not of a form that names its rows (then every row must be looked at).
 */
export function candidateRowKeys(groupColumns: number, key: QueryKey): string[] | undefined {
  const tuples = keyTuples(groupColumns, key);
  if (!tuples || tuples.length === 0) return undefined;
  // a value of another kind (a Date, bigint, JSON) is not reachable by these probes
  if (key.values?.some((t) => t.startsWith('{') || t.startsWith('['))) return undefined;
  return [...new Set(tuples.map((t) => encodeGroupKey(t)))];
}

/** Rows the key can match, through the engine's index; undefined when the whole table must be scanned. */
function indexedRows(agg: Aggregator, key: QueryKey): Change[] | undefined {
  const tuples = keyTuples(agg.groupNames.length, key);
  if (!tuples) return undefined;
  const out: Change[] = [];
  for (const t of tuples) out.push(...agg.lookup(t));
  // Nothing found: a value of another kind (a Date, bigint, JSON) is not reachable by these probes.
  return out.length ? out : undefined;
}

function groupKeyOf(ch: Change): string {
  return ch.windowStart !== undefined ? ch.key.slice(0, ch.key.lastIndexOf('.=w')) : ch.key;
}

function rowMatchesKey(ch: Change, key: QueryKey, groupNames: readonly string[]): boolean {
  if (ch.key === key.text || groupKeyOf(ch) === key.text) return true;
  const values = key.values;
  if (!values) return false;
  for (let i = 0; i < values.length; i++) if (!keyValueMatches(values[i], ch.groupValues[groupNames[i]])) return false;
  return true;
}

/** A query's criteria, read and checked against the table: typed errors for what cannot be answered. */
export interface CheckedQuery {
  key?: QueryKey;
  from?: number;
  to?: number;
  limit: number;
}

export function checkQuery(q: TableQuery, shape: TableShape): CheckedQuery {
  const from = parseTimeBound(q.from, 'from');
  const to = parseTimeBound(q.to, 'to');
  if ((from !== undefined || to !== undefined) && !shape.windowed) {
    const cols = shape.groupColumns.length ? ` (${shape.groupColumns.join(', ')})` : '';
    throw queryError(
      `table "${shape.table}" has no window: a time range (from/to) selects windows, and its rows have none`,
      `filter by key instead: give the group values${cols} as KEY, or use --prefix; a time range needs a windowed table (window: {type: tumbling, size: 1h, …})`,
      { table: shape.table },
    );
  }
  if (from !== undefined && to !== undefined && from >= to) {
    throw queryError(`empty time range: from (${new Date(from).toISOString()}) is not before to (${new Date(to).toISOString()})`,
      'the range is [from, to): to is exclusive and must be later than from');
  }
  const limit = q.limit ?? DEFAULT_QUERY_LIMIT;
  if (!Number.isInteger(limit) || limit < 0) throw queryError(`limit must be a whole number ≥ 0, got ${String(q.limit)}`, 'e.g. --limit 100');
  return { ...(q.key !== undefined ? { key: parseQueryKey(q.key, shape) } : {}), ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), limit };
}

/**
 * Evaluate a query on one partition's aggregator, plus `extra` rows held outside it (rows in KV only,
 * read for this query). Throws a PcapflowError (PCAPFLOW_QUERY) for a query it cannot answer.
 */
export function runQuery(agg: Aggregator, table: string, q: TableQuery, extra?: readonly Change[]): { rows: Record<string, unknown>[]; total: number } {
  const { key, from, to, limit } = checkQuery(q, { table, groupColumns: agg.groupNames, windowed: agg.window.type !== 'none' });
  const escapedPrefix = q.prefix !== undefined ? escapeKeyText(q.prefix) : undefined;
  const out: Record<string, unknown>[] = [];
  let total = 0;
  let source: readonly Change[] = (key && indexedRows(agg, key)) ?? agg.rows();
  if (extra?.length) source = source.concat(extra);
  const seen = new Set<string>();
  for (const ch of source) {
    if (seen.has(ch.key)) continue;
    seen.add(ch.key);
    if (key && !rowMatchesKey(ch, key, agg.groupNames)) continue;
    if (q.prefix !== undefined) {
      const first = agg.groupNames.length ? ch.row[agg.groupNames[0]] : undefined;
      const ok = ch.key.startsWith(q.prefix) || ch.key.startsWith(escapedPrefix!) || (first !== undefined && first !== null && String(first).startsWith(q.prefix));
      if (!ok) continue;
    }
    // windows overlapping [from, to)
    if (from !== undefined && ch.windowStart !== undefined && (ch.windowEnd ?? ch.windowStart) <= from && ch.windowStart < from) continue;
    if (to !== undefined && ch.windowStart !== undefined && ch.windowStart >= to) continue;
    total++;
    if (out.length < limit) out.push(changeRecord(table, agg.groupNames, ch));
  }
  out.sort(compareRows);
  return { rows: out, total };
}

/** Rows in key order, windows by start. */
export function compareRows(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const ka = String(a._key), kb = String(b._key);
  const ga = a.window_start !== undefined ? ka.slice(0, ka.lastIndexOf('.=w')) : ka;
  const gb = b.window_start !== undefined ? kb.slice(0, kb.lastIndexOf('.=w')) : kb;
  if (ga !== gb) return ga < gb ? -1 : 1;
  return (Number(a.window_start ?? 0) - Number(b.window_start ?? 0));
}

const enc = new TextEncoder();
const dec = new TextDecoder();
export const encodeJson = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x)));
export const decodeJson = <T>(b: Uint8Array): T => JSON.parse(dec.decode(b)) as T;
