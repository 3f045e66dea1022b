// Pull queries over a materialized table: the request/reply protocol and its evaluation.
import { decodeKey, encodeGroupKey, type Aggregator, type Change } from '../engine';
import { escapeKeyText } from '../engine/keys';
import { toMillis } from '../expr';

/**
 * A pull query. All criteria combine with AND.
 *   key     a row key (`_key`), a group key without window, or the raw value of a one-column group key
 *           (e.g. a MAC "aa:bb:cc:dd:ee:ff"; several columns: the values joined with ",")
 *   prefix  the encoded key starts with it, or the first group column's text starts with it
 *   from/to window start ≥ from and ≤ to (epoch ms or ISO time); rows without window always match
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
}

export const DEFAULT_QUERY_LIMIT = 10_000;

/** NATS subject of a table's pull queries (partition omitted: partition 0, which also answers `info`). */
export function querySubject(table: string, partition?: number): string {
  return partition === undefined ? `pcapflow.query.${table}` : `pcapflow.query.${table}.${partition}`;
}

/** A changelog / query row: group columns, aggregates, window_start/window_end, _key, _table, _final. */
export function changeRecord(table: string, groupNames: readonly string[], ch: Change): Record<string, unknown> {
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
  const r: Record<string, unknown> = { ...ch.row };
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

/** Epoch ms of a query bound: a number, digits, or an ISO date/time. */
export function parseTimeBound(v: number | string | undefined, what: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v === 'number') return v;
  if (/^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  const ms = toMillis(v);
  if (ms === null || Number.isNaN(ms)) throw new Error(`${what}: cannot read time '${v}' (use epoch milliseconds or ISO 8601, e.g. 2024-05-01T00:00:00Z)`);
  return ms;
}

/** Evaluate a query on one partition's aggregator. */
export function runQuery(agg: Aggregator, table: string, q: TableQuery): { rows: Record<string, unknown>[]; total: number } {
  const from = parseTimeBound(q.from, 'from');
  const to = parseTimeBound(q.to, 'to');
  const limit = q.limit ?? DEFAULT_QUERY_LIMIT;
  const keyForms = q.key !== undefined ? keyCandidates(q.key) : undefined;
  const escapedPrefix = q.prefix !== undefined ? escapeKeyText(q.prefix) : undefined;
  const out: Record<string, unknown>[] = [];
  let total = 0;
  // a one-column raw key can use the engine's index
  let source: Change[];
  if (q.key !== undefined && agg.groupNames.length === 1 && !q.key.includes('.=w')) {
    source = agg.lookup([q.key]);
    if (source.length === 0) source = agg.rows();
  } else source = agg.rows();
  const seen = new Set<string>();
  for (const ch of source) {
    if (seen.has(ch.key)) continue;
    seen.add(ch.key);
    const groupKey = ch.windowStart !== undefined ? ch.key.slice(0, ch.key.lastIndexOf('.=w')) : ch.key;
    if (keyForms && !keyForms.has(ch.key) && !keyForms.has(groupKey)) continue;
    if (q.prefix !== undefined) {
      const first = agg.groupNames.length ? ch.row[agg.groupNames[0]] : undefined;
      const ok = ch.key.startsWith(q.prefix) || ch.key.startsWith(escapedPrefix!) || (first !== undefined && first !== null && String(first).startsWith(q.prefix));
      if (!ok) continue;
    }
    if (ch.windowStart !== undefined) {
      if (from !== undefined && ch.windowStart < from) continue;
      if (to !== undefined && ch.windowStart > to) continue;
    }
    total++;
    if (out.length < limit) out.push(changeRecord(table, agg.groupNames, ch));
  }
  out.sort(compareRows);
  return { rows: out, total };
}

function keyCandidates(key: string): Set<string> {
  const s = new Set<string>([key, encodeGroupKey([key])]);
  if (key.includes(',')) s.add(encodeGroupKey(key.split(',')));
  const n = Number(key);
  if (key.trim() !== '' && Number.isFinite(n)) s.add(encodeGroupKey([n]));
  return s;
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
