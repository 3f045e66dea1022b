// The pull-query HTTP endpoint an aggregate instance serves when `http: {port}` is configured.
// One server per port per process; every table partition running in this process registers with it.
//
//   GET /tables                                   → {tables: [{table, partitions, local}]}
//   GET /tables/<table>?key=&prefix=&from=&to=&limit=   → {table, rows, total, partitions: {total, answered}}
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isPcapflowError } from '@pcapflow/core';
import { compareRows, DEFAULT_QUERY_LIMIT, type TableQuery } from './query';

export interface LocalPartition {
  table: string;
  partition: number;
  partitions: number;
  query(q: TableQuery): Promise<{ rows: Record<string, unknown>[]; total: number }> | { rows: Record<string, unknown>[]; total: number };
}

/** Table partitions living in this process (used by the HTTP endpoint and by in-process queries). */
const localTables = new Map<string, Map<number, LocalPartition>>();

export function registerLocal(p: LocalPartition): () => void {
  let m = localTables.get(p.table);
  if (!m) localTables.set(p.table, (m = new Map()));
  m.set(p.partition, p);
  return () => {
    if (m!.get(p.partition) === p) m!.delete(p.partition);
    if (m!.size === 0 && localTables.get(p.table) === m) localTables.delete(p.table);
  };
}

/** Query the partitions of a table that run in this process. */
export async function queryLocal(table: string, q: TableQuery): Promise<{ rows: Record<string, unknown>[]; total: number; answered: number; partitions: number } | undefined> {
  const m = localTables.get(table);
  if (!m || m.size === 0) return undefined;
  const rows: Record<string, unknown>[] = [];
  let total = 0;
  let partitions = 1;
  for (const p of m.values()) {
    const r = await p.query(q);
    rows.push(...r.rows);
    total += r.total;
    partitions = p.partitions;
  }
  rows.sort(compareRows);
  return { rows: rows.slice(0, q.limit ?? DEFAULT_QUERY_LIMIT), total, answered: m.size, partitions };
}

interface SharedServer { server: http.Server; refs: number; ready: Promise<number> }
const servers = new Map<string, SharedServer>();

/** Start (or share) the HTTP endpoint on host:port. Resolves with the bound port; call the returned release() on stop. */
export function serveHttp(host: string, port: number): { ready: Promise<number>; release(): Promise<void> } {
  const id = `${host}:${port}`;
  let s = port === 0 ? undefined : servers.get(id);
  if (!s) {
    const server = http.createServer((req, res) => { void handle(req, res); });
    const ready = new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });
    s = { server, refs: 0, ready };
    if (port !== 0) servers.set(id, s);
  }
  s.refs++;
  const shared = s;
  return {
    ready: shared.ready,
    release: async () => {
      if (--shared.refs > 0) return;
      if (servers.get(id) === shared) servers.delete(id);
      await new Promise<void>((resolve) => shared.server.close(() => resolve()));
    },
  };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET') return send(res, 405, { error: 'only GET' });
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts.length === 1 && parts[0] === 'tables') {
      return send(res, 200, { tables: [...localTables].map(([table, m]) => ({ table, partitions: [...m.values()][0]?.partitions ?? 0, local: [...m.keys()].sort((a, b) => a - b) })) });
    }
    if (parts.length !== 2 || parts[0] !== 'tables') return send(res, 404, { error: 'use GET /tables or GET /tables/<table>?key=&prefix=&from=&to=&limit=' });
    const sp = url.searchParams;
    const q: TableQuery = {};
    if (sp.has('key')) q.key = sp.get('key')!;
    if (sp.has('prefix')) q.prefix = sp.get('prefix')!;
    if (sp.has('from')) q.from = sp.get('from')!;
    if (sp.has('to')) q.to = sp.get('to')!;
    if (sp.has('limit')) q.limit = Number(sp.get('limit'));
    const r = await queryLocal(parts[1], q);
    if (!r) return send(res, 404, { error: `no table "${parts[1]}" in this process`, tables: [...localTables.keys()] });
    send(res, 200, { table: parts[1], rows: r.rows, total: r.total, partitions: { total: r.partitions, answered: r.answered } });
  } catch (e) {
    if (isPcapflowError(e)) send(res, e.code === 'PCAPFLOW_QUERY' ? 400 : 500, { error: e.message, code: e.code, ...(e.hint ? { hint: e.hint } : {}) });
    else send(res, 400, { error: (e as Error).message });
  }
}
