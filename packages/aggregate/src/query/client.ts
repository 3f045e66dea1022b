// Pull-query client: scatter a query to every partition of a table over NATS request/reply (or ask
// the HTTP endpoint), gather and order the rows; and print them as a table or JSON lines.
import { PcapflowError, type ErrorCode } from '@pcapflow/core';
import { compareRows, decodeJson, encodeJson, querySubject, DEFAULT_QUERY_LIMIT, type QueryReply, type TableQuery } from './query';

/** Anything that can do NATS request/reply (the runtime's Transport does). */
export interface Requester {
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
}

export interface TableQueryResult {
  table: string;
  rows: Record<string, unknown>[];
  total: number;
  partitions: number;
  groupColumns: string[];
}

/**
 * Query all partitions of `table`. The partition count comes from `options.partitions` (e.g. the
 * topology's `instances`) or from an `info` request to partition 0. Every partition must answer.
 */
export async function queryTable(nc: Requester, table: string, q: TableQuery, options: { timeoutMs?: number; partitions?: number } = {}): Promise<TableQueryResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const ask = async (subject: string, body: unknown): Promise<QueryReply> => {
    let raw: Uint8Array;
    try {
      raw = await nc.request(subject, encodeJson(body), timeoutMs);
    } catch (e) {
      throw new PcapflowError('PCAPFLOW_TRANSPORT', `no answer on ${subject} within ${timeoutMs} ms: ${(e as Error).message}`, {
        cause: e, hint: `is the aggregate instance with table "${table}" running, with \`query: true\`, on this NATS server?`,
      });
    }
    const r = decodeJson<QueryReply>(raw);
    // The server refused the query (bad time, time range on an unwindowed table, malformed key).
    if (r.error) throw new PcapflowError(r.code ?? 'PCAPFLOW_QUERY', `table ${table}: ${r.error}`, r.hint ? { hint: r.hint } : {});
    return r;
  };
  let partitions = options.partitions;
  let groupColumns: string[] = [];
  if (partitions === undefined) {
    const info = await ask(querySubject(table), { op: 'info' });
    partitions = info.partitions;
    groupColumns = info.groupColumns ?? [];
  }
  const replies = await Promise.all(Array.from({ length: partitions }, (_, i) => ask(querySubject(table, i), { op: 'query', ...q })));
  const rows: Record<string, unknown>[] = [];
  let total = 0;
  for (const r of replies) {
    rows.push(...(r.rows ?? []));
    total += r.total ?? 0;
    if (!groupColumns.length && r.groupColumns) groupColumns = r.groupColumns;
  }
  rows.sort(compareRows);
  return { table, rows: rows.slice(0, q.limit ?? DEFAULT_QUERY_LIMIT), total, partitions, groupColumns };
}

/** Query the HTTP endpoint (`http: {port}` on the aggregate instance). */
export async function queryHttp(baseUrl: string, table: string, q: TableQuery): Promise<TableQueryResult> {
  const u = new URL(`/tables/${encodeURIComponent(table)}`, baseUrl);
  for (const [k, v] of Object.entries(q)) if (v !== undefined) u.searchParams.set(k, String(v));
  const res = await fetch(u);
  const body = (await res.json()) as { rows?: Record<string, unknown>[]; total?: number; partitions?: { total: number }; error?: string; code?: ErrorCode; hint?: string };
  if (!res.ok) throw new PcapflowError(body.code ?? (res.status < 500 ? 'PCAPFLOW_QUERY' : 'PCAPFLOW_TRANSPORT'), `${u.href}: ${body.error ?? res.status}`, body.hint ? { hint: body.hint } : {});
  return { table, rows: body.rows ?? [], total: body.total ?? 0, partitions: body.partitions?.total ?? 1, groupColumns: [] };
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/**
 * ISO 8601 UTC text of epoch milliseconds, with microseconds when the time has them (capture
 * timestamps do); undefined when the number is no representable time.
 */
export function isoTime(ms: number): string | undefined {
  if (!Number.isFinite(ms)) return undefined;
  let whole = Math.floor(ms);
  let micros = Math.round((ms - whole) * 1000);
  if (micros === 1000) { whole++; micros = 0; }
  const d = new Date(whole);
  if (Number.isNaN(d.getTime())) return undefined;
  const iso = d.toISOString();
  return micros === 0 ? iso : `${iso.slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}

export interface FormatOptions {
  /** 'iso' (default): time columns as ISO 8601 UTC in table format; 'ms': as epoch milliseconds */
  timeFormat?: 'iso' | 'ms';
  /** columns holding epoch-ms times besides window_start/window_end (tableColumns() lists them from the config) */
  timeColumns?: readonly string[];
}

/**
 * Format rows: 'json' = one JSON object per line, times as epoch milliseconds (numbers, as stored);
 * 'table' = aligned columns (group columns and window first, then aggregates; the internal
 * _key/_table/_final columns are left out), times as ISO 8601 UTC.
 */
export function formatRows(rows: readonly Record<string, unknown>[], format: 'table' | 'json', options: FormatOptions = {}): string {
  if (format === 'json') return rows.map((r) => JSON.stringify(r, (_k, x) => (typeof x === 'bigint' ? String(x) : x))).join('\n') + (rows.length ? '\n' : '');
  if (rows.length === 0) return '(no rows)\n';
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k) && k !== '_table' && k !== '_final' && k !== '_key') cols.push(k);
  const iso = (options.timeFormat ?? 'iso') === 'iso';
  const times = new Set(iso ? ['window_start', 'window_end', ...(options.timeColumns ?? [])] : []);
  const render = (r: Record<string, unknown>, k: string): string => {
    const v = r[k];
    return (times.has(k) && typeof v === 'number' && isoTime(v)) || cell(v);
  };
  const table = [cols, ...rows.map((r) => cols.map((k) => render(r, k)))];
  const widths = cols.map((_, i) => Math.max(...table.map((line) => line[i].length)));
  const numeric = cols.map((k) => !times.has(k) && rows.every((r) => r[k] === null || r[k] === undefined || typeof r[k] === 'number'));
  const lines = table.map((line) => line.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines.join('\n') + '\n';
}
