import * as fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { PcapflowError } from '@pcapflow/core';
import type * as PgTypes from 'pg';

/**
 * The two database backends behind one small interface: node-postgres (a server by URL) and
 * PGlite (embedded PostgreSQL in WASM with a data directory, for the demo: no server needed).
 * Both drivers are loaded lazily so a missing one is a typed error naming what to install, and
 * a user of one backend never pays for loading the other.
 */
export interface SqlResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

export interface Session {
  query(sql: string, params?: readonly unknown[]): Promise<SqlResult>;
  /** COPY ... FROM STDIN with its data (text, or a binary-format payload); undefined when the backend cannot stream COPY. */
  copyFrom?(sql: string, data: string | Buffer): Promise<number>;
}

export interface Backend extends Session {
  readonly kind: 'pg' | 'pglite';
  /** Run `fn` on one connection inside BEGIN/COMMIT (ROLLBACK on error). */
  transaction<T>(fn: (s: Session) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type SslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

export interface SslOptions {
  mode: SslMode;
  /** CA certificate: PEM text or a file path. */
  ca?: string;
  /** Client certificate (PEM text or file path) for certificate authentication. */
  cert?: string;
  /** Client private key (PEM text or file path). */
  key?: string;
  /** Server name for SNI / certificate checks when it differs from the URL's host. */
  servername?: string;
}

export interface PgBackendOptions {
  url: string;
  ssl?: SslOptions;
  /** Pool size (default 4). The writer itself uses one connection at a time per write. */
  max?: number;
  connectionTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** statement_timeout for every statement (ms); unset = server default. */
  statementTimeoutMs?: number;
  onWarning?: (message: string, details?: Record<string, unknown>) => void;
}

function dependencyMissing(pkg: string, why: string, cause: unknown): PcapflowError {
  return new PcapflowError('PCAPFLOW_DEPENDENCY_MISSING', `${why} needs the npm package "${pkg}", which could not be loaded`, {
    cause,
    hint: `npm install ${pkg}`,
    details: { package: pkg },
  });
}

function isModuleNotFound(e: unknown, pkg: string): boolean {
  const err = e as { code?: string; message?: string };
  return (err?.code === 'MODULE_NOT_FOUND' || err?.code === 'ERR_MODULE_NOT_FOUND') && String(err.message).includes(pkg);
}

/** `require('pg')` at first use. Exported for tests of the error path. */
export function loadPg(req: (id: string) => unknown = require): typeof PgTypes {
  try {
    return req('pg') as typeof PgTypes;
  } catch (e) {
    if (isModuleNotFound(e, 'pg')) throw dependencyMissing('pg', 'writing to a PostgreSQL server (postgres.url)', e);
    throw e;
  }
}

/** Resolve PGlite's entry point (the worker thread loads it from this path). */
export function resolvePglite(resolve: (id: string) => string = require.resolve): string {
  try {
    return resolve('@electric-sql/pglite');
  } catch (e) {
    if (isModuleNotFound(e, '@electric-sql/pglite')) {
      throw dependencyMissing('@electric-sql/pglite', 'the embedded database (no postgres.url configured)', e);
    }
    throw e;
  }
}

function pemOrFile(v: string | undefined, what: string): string | undefined {
  if (v === undefined) return undefined;
  if (v.includes('-----BEGIN')) return v;
  try {
    return fs.readFileSync(v, 'utf8');
  } catch (e) {
    // Typed as configuration: an ENOENT here must not look like a server that is not up yet.
    throw new PcapflowError('PCAPFLOW_CONFIG_INVALID', `cannot read the TLS ${what} file ${v}: ${(e as Error).message}`, {
      cause: e,
      hint: 'give PEM text or a readable file path',
    });
  }
}

/** node-postgres `ssl` option for a libpq-style sslmode. */
export function pgSslConfig(ssl: SslOptions | undefined): PgTypes.ClientConfig['ssl'] {
  if (!ssl || ssl.mode === 'disable') return false;
  const base = { ca: pemOrFile(ssl.ca, 'CA'), cert: pemOrFile(ssl.cert, 'certificate'), key: pemOrFile(ssl.key, 'key'), servername: ssl.servername };
  switch (ssl.mode) {
    case 'require':
      // Encrypted, server not verified (libpq's "require").
      return { ...base, rejectUnauthorized: false };
    case 'verify-ca':
      // Chain verified against the CA, host name not checked.
      return { ...base, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ...base, rejectUnauthorized: true };
  }
}

/**
 * TLS settings from the URL's libpq parameters (sslmode, sslrootcert, sslcert, sslkey), with
 * libpq's meaning: node-postgres reads `sslmode=require` as verify-full, so the URL would not
 * mean what it says to anyone used to psql. `prefer`/`allow` (try TLS, fall back to plain) have
 * no node-postgres equivalent and are refused rather than silently changed.
 */
export function sslFromUrl(url: string): SslOptions | undefined {
  let params: URLSearchParams;
  try {
    params = new URL(url).searchParams;
  } catch {
    return undefined;
  }
  const mode = params.get('sslmode') ?? undefined;
  const ca = params.get('sslrootcert') ?? undefined;
  const cert = params.get('sslcert') ?? undefined;
  const key = params.get('sslkey') ?? undefined;
  if (mode === undefined) return ca || cert || key ? { mode: 'verify-full', ca, cert, key } : undefined;
  if (mode === 'disable' || mode === 'require' || mode === 'verify-ca' || mode === 'verify-full') return { mode, ca, cert, key };
  throw new PcapflowError('PCAPFLOW_CONFIG_INVALID', `sslmode=${mode} in the PostgreSQL URL is not supported`, {
    hint: 'use sslmode=disable, require, verify-ca or verify-full (or the ssl option)',
  });
}

/** Strip ssl* query parameters: TLS is configured from SslOptions only (pg would let the URL's win). */
function stripSslParams(url: string): string {
  try {
    const u = new URL(url);
    const drop = [...u.searchParams.keys()].filter((k) => k.startsWith('ssl') || k === 'uselibpqcompat');
    if (drop.length === 0) return url; // leave other URLs exactly as given
    for (const k of drop) u.searchParams.delete(k);
    return u.toString();
  } catch {
    return url;
  }
}

/** int8 as a JS number (like PGlite) when it is exact, else as a string. */
function int8(v: string): number | string {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

function mapDeep(v: unknown, f: (s: string) => unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => mapDeep(x, f));
  return typeof v === 'string' ? f(v) : v;
}

/**
 * COPY FROM STDIN as a node-postgres "submittable" (the protocol hooks pg-copy-streams uses), so
 * no extra dependency is needed. The whole text payload is written at once: batches are bounded
 * by the writer, so there is nothing to stream.
 */
class CopyFromText {
  callback?: (err: Error | null, rowCount?: number) => void;
  private rowCount = 0;
  private done = false;
  constructor(
    readonly text: string,
    private readonly data: string | Buffer,
  ) {}
  submit(connection: { query(text: string): void }): void {
    connection.query(this.text);
  }
  handleCopyInResponse(connection: { sendCopyFromChunk(b: Buffer): void; endCopyFrom(): void }): void {
    const buf = typeof this.data === 'string' ? Buffer.from(this.data, 'utf8') : this.data;
    const CHUNK = 1 << 20;
    for (let off = 0; off < buf.length; off += CHUNK) connection.sendCopyFromChunk(buf.subarray(off, off + CHUNK));
    connection.endCopyFrom();
  }
  handleCommandComplete(msg: { text?: string }): void {
    const m = /(\d+)$/.exec(msg.text ?? '');
    this.rowCount = m ? Number(m[1]) : 0;
  }
  handleReadyForQuery(): void {
    this.finish(null);
  }
  // pg calls handleError (and not handleReadyForQuery) when the server or socket fails.
  handleError(err: Error): void {
    this.finish(err);
  }
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
  private finish(err: Error | null): void {
    if (this.done) return;
    this.done = true;
    this.callback?.(err, this.rowCount);
  }
}

function pgSession(client: PgTypes.PoolClient | PgTypes.Pool): Session {
  return {
    async query(sql, params) {
      const r = await client.query(sql, params as unknown[] | undefined);
      return { rows: r.rows as Record<string, unknown>[], rowCount: r.rowCount ?? 0 };
    },
  };
}

export function createPgBackend(opts: PgBackendOptions): Backend {
  const pg = loadPg();
  const defaults = pg.types;
  // Per-pool type parsers (never the global registry: other code in the process may use pg).
  const types = {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === 20) return int8;
      if (oid === 1016) {
        const parseArr = defaults.getTypeParser(1016 as number as 20, 'text') as unknown as (s: string) => unknown;
        return (s: string) => mapDeep(parseArr(s), int8);
      }
      return defaults.getTypeParser(oid, format as 'text');
    },
  };
  // Explicit options win over the URL's parameters.
  const ssl = pgSslConfig(opts.ssl ?? sslFromUrl(opts.url));
  const pool = new pg.Pool({
    connectionString: stripSslParams(opts.url),
    ssl,
    max: opts.max ?? 4,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 10000,
    idleTimeoutMillis: opts.idleTimeoutMs ?? 30000,
    application_name: 'pcapflow-sink-postgres',
    // UTC session: ISO strings without an offset mean UTC, whatever the server's TimeZone.
    options: '-c TimeZone=UTC',
    statement_timeout: opts.statementTimeoutMs,
    types: types as unknown as PgTypes.CustomTypesConfig,
  });
  // An idle pooled connection dying (server restart) must not crash the process; the pool drops it.
  pool.on('error', (err) => opts.onWarning?.('idle PostgreSQL connection failed; it will be replaced', { error: err.message }));

  const copyFrom = async (client: PgTypes.PoolClient, sql: string, data: string | Buffer): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      const sub = new CopyFromText(sql, data);
      sub.callback = (err, n) => (err ? reject(err) : resolve(n ?? 0));
      client.query(sub as unknown as PgTypes.QueryConfig);
    });

  return {
    kind: 'pg',
    ...pgSession(pool),
    async copyFrom(sql, data) {
      const client = await pool.connect();
      try {
        const n = await copyFrom(client, sql, data);
        client.release();
        return n;
      } catch (e) {
        client.release(e as Error);
        throw e;
      }
    },
    async transaction(fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const session: Session = { ...pgSession(client), copyFrom: (sql, data) => copyFrom(client, sql, data) };
        const out = await fn(session);
        await client.query('COMMIT');
        return out;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch {
          // The connection is unusable: destroy it instead of returning it to the pool.
          broken = e as Error;
        }
        throw e;
      } finally {
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}

/**
 * PGlite runs in a worker thread: its WASM engine is synchronous, so a large statement would
 * otherwise stall the actor's event loop (NATS heartbeats, acks). The worker also loads PGlite
 * with Node's own module loader (PGlite's CommonJS build uses dynamic import(), which sandboxes
 * such as jest's VM reject).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglitePath);
let db;
const ready = PGlite.create(workerData.dataDir ? { dataDir: workerData.dataDir } : {}).then(async (d) => {
  await d.exec("SET TimeZone = 'UTC'");
  db = d;
});
ready.catch(() => {});
// Parameters arrive as PostgreSQL text; PGlite's own bytea serializer accepts only byte arrays.
const QUERY_OPTIONS = { serializers: { 17: (v) => (typeof v === 'string' ? v : '\\\\x' + Buffer.from(v).toString('hex')) } };
const FIELDS = ['code', 'detail', 'hint', 'severity', 'schema', 'table', 'column', 'constraint', 'dataType', 'position'];
parentPort.on('message', async (m) => {
  try {
    await ready;
    let result = null;
    if (m.op === 'query') {
      const r = await db.query(m.sql, m.params, QUERY_OPTIONS);
      result = { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    } else if (m.op === 'close') {
      await db.close();
    }
    parentPort.postMessage({ id: m.id, result });
  } catch (e) {
    const error = { message: String((e && e.message) || e), name: e && e.name };
    for (const f of FIELDS) if (e && e[f] !== undefined) error[f] = e[f];
    parentPort.postMessage({ id: m.id, error });
  }
});
`;

interface PgliteHandle {
  request(op: 'query' | 'close', sql?: string, params?: readonly unknown[]): Promise<SqlResult | null>;
  /** Serializes transactions against other statements (one PGlite connection). */
  lock: Promise<unknown>;
  refs: number;
  terminate(): Promise<void>;
}

function startPgliteWorker(dataDir: string | undefined, onExit: () => void): PgliteHandle {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { pglitePath: resolvePglite(), dataDir } });
  const pending = new Map<number, { resolve: (r: SqlResult | null) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let dead: Error | undefined;
  worker.unref(); // referenced only while requests are in flight
  worker.on('message', (m: { id: number; result?: SqlResult | null; error?: Record<string, unknown> }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (pending.size === 0) worker.unref();
    if (m.error) p.reject(Object.assign(new Error(String(m.error.message)), m.error));
    else p.resolve(m.result ?? null);
  });
  const fail = (e: Error) => {
    dead = e;
    onExit();
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  worker.on('error', (e) => fail(new PcapflowError('PCAPFLOW_SINK', `embedded PGlite failed: ${e.message}`, { cause: e })));
  worker.on('exit', (code) => fail(new PcapflowError('PCAPFLOW_SINK', `embedded PGlite worker exited (code ${code})`)));
  return {
    refs: 0,
    async terminate() {
      dead ??= new PcapflowError('PCAPFLOW_SINK', 'embedded PGlite is closed');
      await worker.terminate();
    },
    lock: Promise.resolve(),
    request(op, sql, params) {
      if (dead) return Promise.reject(dead);
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ id, op, sql, params });
      });
    },
  };
}

/**
 * One PGlite per data directory within the process: two PGlite instances on one directory would
 * corrupt it, and several sink instances (tables) may point at the same one.
 */
const pgliteByDir = new Map<string, PgliteHandle>();

export function createPgliteBackend(dataDir: string | undefined): Backend {
  const key = dataDir ?? `memory://${Math.random()}`;
  let handle = pgliteByDir.get(key);
  if (!handle) {
    const created: PgliteHandle = (handle = startPgliteWorker(dataDir, () => {
      if (pgliteByDir.get(key) === created) pgliteByDir.delete(key);
    }));
    pgliteByDir.set(key, handle);
  }
  handle.refs++;
  const h = handle;
  let closed = false;

  const raw = async (sql: string, params?: readonly unknown[]): Promise<SqlResult> =>
    (await h.request('query', sql, params ? [...params] : undefined)) as SqlResult;
  /** Run fn while holding the lock; statements outside transactions take it too. */
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = h.lock.then(fn);
    h.lock = run.catch(() => undefined);
    return run;
  };

  return {
    kind: 'pglite',
    query: (sql, params) => exclusive(() => raw(sql, params)),
    transaction: (fn) =>
      exclusive(async () => {
        await raw('BEGIN');
        try {
          const out = await fn({ query: raw });
          await raw('COMMIT');
          return out;
        } catch (e) {
          await raw('ROLLBACK').catch(() => undefined);
          throw e;
        }
      }),
    async close() {
      if (closed) return;
      closed = true;
      if (--h.refs === 0) {
        pgliteByDir.delete(key);
        await exclusive(() => h.request('close')).catch(() => undefined);
        await h.terminate();
      }
    },
  };
}
