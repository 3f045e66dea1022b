// The @pcapflow/sink-postgres plugin declaration: a table changelog (upserts) or a stream (inserts)
// into one PostgreSQL table, on a server by URL or in an embedded PGlite directory.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  definePlugin, errorMessage, parseDuration, PcapflowError, type Actor, type ActorContext, type InputBatch,
} from '@pcapflow/core';
import { z } from 'zod';
import { PostgresWriter, type RejectedRow, type WriteResult } from './writer';

const { version } = require('../package.json') as { version: string };

const duration = z
  .union([z.number().nonnegative(), z.string()])
  .superRefine((v, c) => { try { parseDuration(v); } catch (e) { c.addIssue({ code: 'custom', message: errorMessage(e) }); } })
  .transform((v) => parseDuration(v));

const identifier = z.string().min(1).max(63).refine((s) => !s.includes('\u0000'), 'no NUL characters');

const sslSchema = z.union([
  z.boolean().describe('true = sslmode "require" (encrypted, server not verified); false = no TLS'),
  z.strictObject({
    mode: z.enum(['disable', 'require', 'verify-ca', 'verify-full']).default('verify-full')
      .describe('libpq-style sslmode: require = encrypted only; verify-ca = chain checked; verify-full = chain and host name checked'),
    ca: z.string().optional().describe('CA certificate: PEM text or a file path'),
    cert: z.string().optional().describe('client certificate (PEM text or file path) for certificate authentication'),
    key: z.string().optional().describe('client private key (PEM text or file path)'),
    servername: z.string().optional().describe('server name for SNI and the host-name check when it differs from the URL host'),
  }),
]).default(false).describe('TLS to the server (ignored for the embedded database)')
  .meta({ examples: [true, { mode: 'verify-full', ca: '/etc/ssl/pg-ca.pem' }] });

export const configSchema = z.strictObject({
  url: z.string().regex(/^(postgres(ql)?:\/\/.*)?$/, 'a postgres:// or postgresql:// URL').optional()
    .transform((v) => v || undefined)
    .describe('PostgreSQL server URL. Absent or empty ("${PG_URL:-}" with PG_URL unset): an embedded PostgreSQL (PGlite) in data_dir, no server needed')
    .meta({ examples: ['postgres://pcapflow:secret@db.local:5432/wifi', '${PG_URL}'] }),
  ssl: sslSchema,
  data_dir: z.string().min(1).default('./pcapflow-data/pg')
    .describe('embedded mode (no url): the PGlite data directory, relative to the working directory. Sinks sharing a directory share one database')
    .meta({ examples: ['./pcapflow-data/pg', '/var/lib/pcapflow/pg'] }),
  table: identifier.describe('target table (created when create_table is on)').meta({ examples: ['device_probe_stats'] }),
  schema: identifier.optional().describe('schema of the table (created if missing); default: the search_path (public)'),
  mode: z.enum(['upsert', 'insert']).default('upsert')
    .describe('upsert: one row per key, the latest record wins (for table changelogs); insert: append every record (for streams), idempotently'),
  key: z.array(identifier).min(1).optional()
    .describe('primary-key columns. Default in upsert mode: the record\'s `_key` field (set by @pcapflow/aggregate changelogs)')
    .meta({ examples: [['day', 'subtype'], ['device']] }),
  create_table: z.boolean().default(true).describe('CREATE TABLE IF NOT EXISTS from the first batch (types inferred, key as primary key)'),
  evolve: z.boolean().default(true).describe('ALTER TABLE ADD COLUMN for new fields (and widen integer columns); off: unknown fields are dropped with a warning'),
  timestamp_fields: z.array(identifier).default([])
    .describe('fields stored as timestamptz; values may be epoch milliseconds, ISO strings or dates')
    .meta({ examples: [['window_start', 'window_end', 'earliest', 'latest']] }),
  columns: z.record(identifier, z.string().min(1)).default({})
    .describe('explicit SQL column types, overriding inference (used when the table is created or a column added)')
    .meta({ examples: [{ avg_signal: 'double precision', ssids: 'text[]' }] }),
  exclude: z.array(identifier).default([]).describe('record fields never written (e.g. internal fields)').meta({ examples: [['_key']] }),
  idempotency_column: identifier.default('_pcapflow_id')
    .describe('insert mode: a text column holding "<stream>:<seq>:<index>" of each record, with a unique index, so a redelivered message never duplicates rows'),
  version_column: identifier.default('_pcapflow_version')
    .describe('upsert mode: a bigint column holding the stream sequence of the input message that last changed the row'),
  version_check: z.enum(['redelivered', 'always', 'off']).default('redelivered')
    .describe('upsert mode: when a row holding a higher version is kept instead of overwritten (or deleted). redelivered: for redelivered messages (an ack lost after the write: the older change never overwrites a newer one); always: for every message (also a consumer replaying the stream); off: no version column'),
  batch: z.strictObject({
    values_rows: z.number().int().positive().default(500).describe('rows per multi-row INSERT … VALUES statement'),
    copy_threshold: z.number().int().nonnegative().default(200)
      .describe('input batches of at least this many rows go through COPY into a temporary table + one INSERT … SELECT (server only; 0 = never)'),
    copy_rows: z.number().int().positive().default(20000).describe('rows per COPY + merge transaction'),
    group_rows: z.number().int().positive().default(10000)
      .describe('messages waiting together are written together, up to this many rows per write (a bigger message is still one write)'),
  }).prefault({}).describe('write tuning. Messages waiting in the mailbox are written as one batch (up to group_rows); upstream batches (output `batch:`) help too'),
  pool: z.strictObject({
    max: z.number().int().positive().default(4).describe('connections in the pool'),
    connection_timeout: duration.default(10_000).describe('give up connecting after this long (the write is then retried)'),
    statement_timeout: duration.optional().describe('statement_timeout for every statement; default: the server\'s'),
  }).prefault({}).describe('server connection pool'),
  retry: z.strictObject({
    initial: duration.default(250).describe('first delay after the database became unreachable'),
    max: duration.default(30_000).describe('longest delay between attempts (doubling from initial)'),
  }).prefault({}).describe('while the database is unreachable the sink holds the message and retries with backoff until it comes back (or the runtime stops: the message is then redelivered later), so nothing is lost, dead-lettered or reordered'),
});

export type PostgresSinkConfig = z.output<typeof configSchema>;

const DESCRIPTION = `Writes records to one PostgreSQL table: a table changelog (mode upsert, keyed by \`key\` or the
record's \`_key\`) or a stream (mode insert). Tables are created and evolved, timestamps typed
(timestamptz), arrays kept as PostgreSQL arrays. Every input message is written as one batch
(multi-row VALUES, or COPY + merge for big batches), and messages waiting together are written
together (up to batch.group_rows rows), idempotently: redelivery never duplicates.
While the database is unreachable the message is held and retried with backoff; rows the database
rejects go to the dead-letter subject with the database error. Without \`url\` it writes to an
embedded PostgreSQL (PGlite) directory, so a demo needs no server.

Metrics: rows_written, rows_rejected, rows_merged, rows_stale, writes, copy_merges, values_statements,
reconnects, outages, retries, deletes.`;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) { resolve(); return; }
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });
}

function isRetryable(e: unknown): boolean {
  return (e as PcapflowError | undefined)?.code === 'PCAPFLOW_RETRYABLE';
}

/** A changelog record that says "this key is gone" (a merged session window, an expired row). */
function isDeletion(r: Record<string, unknown>): boolean {
  return r._deleted === true || r._op === 'delete' || r._op === 'del';
}

export const plugin = definePlugin({
  name: '@pcapflow/sink-postgres',
  version,
  summary: 'Upsert table changelogs or insert streams into PostgreSQL (or embedded PGlite): idempotent, batched, typed, evolving',
  description: DESCRIPTION,
  config: configSchema,
  inputs: [
    { name: 'in', description: 'records to write: a table changelog (upsert by key) or a stream (insert)' },
  ],
  outputs: [],
  create(ctx: ActorContext, config: PostgresSinkConfig): Actor {
    const key = config.key ?? (config.mode === 'upsert' ? ['_key'] : undefined);
    const versionColumn = config.mode === 'upsert' && config.version_check !== 'off' ? config.version_column : undefined;
    const dataDir = config.url ? undefined : path.resolve(config.data_dir);
    // PGlite creates the directory itself but not its parents (./pcapflow-data on a first run).
    if (dataDir) fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    const ssl = config.ssl === true ? { mode: 'require' as const } : config.ssl === false ? undefined : config.ssl;
    const writer = new PostgresWriter({
      url: config.url,
      ssl,
      dataDir,
      pool: { max: config.pool.max, connectionTimeoutMs: config.pool.connection_timeout, statementTimeoutMs: config.pool.statement_timeout },
      table: {
        table: config.table,
        schema: config.schema,
        key,
        mode: config.mode,
        columns: config.columns,
        createTable: config.create_table,
        evolve: config.evolve,
        timestampFields: config.timestamp_fields,
        idempotencyColumn: config.mode === 'insert' ? config.idempotency_column : undefined,
        versionColumn,
        exclude: config.exclude,
      },
      valuesBatchRows: config.batch.values_rows,
      copyThreshold: config.batch.copy_threshold,
      copyBatchRows: config.batch.copy_rows,
      onWarning: (message, details) => ctx.log.warn({ table: config.table, ...details }, message),
    });

    const c = {
      written: ctx.counter('rows_written'),
      rejected: ctx.counter('rows_rejected'),
      merged: ctx.counter('rows_merged'),
      writes: ctx.counter('writes'),
      outages: ctx.counter('outages'),
      retries: ctx.counter('retries'),
      deletes: ctx.counter('deletes'),
      stale: ctx.counter('rows_stale'),
    };
    /** Set while the database is unreachable: when it started and the last error. */
    let outage: { since: number; error: string } | undefined;
    let fatal: string | undefined;
    /** Handlers run one after another (several subscriptions may deliver at once): order per key holds. */
    let chain: Promise<unknown> = Promise.resolve();

    /** Run a database step; while the database is unreachable, wait and try again (same batch: writes are idempotent). */
    async function withOutageRetry<T>(step: () => Promise<T>): Promise<T> {
      let delay = config.retry.initial;
      for (;;) {
        try {
          const out = await step();
          if (outage) {
            ctx.log.info({ table: config.table, downMs: Date.now() - outage.since }, 'PostgreSQL reachable again');
            outage = undefined;
          }
          return out;
        } catch (e) {
          if (!isRetryable(e)) throw e;
          if (!outage) {
            outage = { since: Date.now(), error: errorMessage(e) };
            c.outages.inc();
            ctx.log.warn({ table: config.table, err: errorMessage(e) }, 'PostgreSQL unreachable; holding the batch and retrying');
          }
          outage.error = errorMessage(e);
          // Stopping: give the message back unacked; it is redelivered (and written once) on the next run.
          if (ctx.signal.aborted) throw e;
          c.retries.inc();
          await sleep(delay, ctx.signal);
          if (ctx.signal.aborted) throw e;
          delay = Math.min(delay * 2, config.retry.max);
        }
      }
    }

    async function deadLetterRejected(rejected: readonly RejectedRow[], originals: readonly Record<string, unknown>[]): Promise<void> {
      if (!rejected.length) return;
      c.rejected.inc(rejected.length);
      // One dead-letter message per distinct error, so each carries its own database error.
      const byError = new Map<string, { rows: Record<string, unknown>[]; code?: string }>();
      for (const r of rejected) {
        const k = `${r.code ?? ''}\u0000${r.error}`;
        let g = byError.get(k);
        if (!g) byError.set(k, (g = { rows: [], code: r.code }));
        g.rows.push(originals[r.index] ?? r.record);
      }
      for (const [k, g] of byError) {
        const msg = k.slice(k.indexOf('\u0000') + 1);
        const err = new PcapflowError('PCAPFLOW_SINK', `${config.table}: ${g.code ? `[${g.code}] ` : ''}${msg}`, { details: { code: g.code, table: config.table } });
        await ctx.deadLetter(g.rows, err);
      }
    }

    function tally(r: WriteResult): void {
      c.written.inc(r.written);
      c.merged.inc(r.merged);
      c.stale.inc(r.stale);
      c.writes.inc();
    }

    /**
     * The records of one or more input messages written together: the records in message order,
     * each one's version (its message's stream sequence) and, in insert mode, its idempotency id.
     * A changelog's version is monotonic per stream, so per key (a key's changes are published in
     * order). It is compared only when `guard` says so: sequence numbers restart when a stream is
     * recreated (and on every run of the embedded transport), where a first delivery must still
     * overwrite what an earlier stream wrote.
     */
    interface Group {
      records: readonly Record<string, unknown>[];
      /** Per record; absent when every record has `version` (one message). */
      versions?: number[];
      version?: number;
      ids?: string[];
      guard: boolean;
    }

    function group(batches: readonly InputBatch[]): Group {
      const guard = !!versionColumn && (config.version_check === 'always' || batches.some((b) => b.deliveryCount > 1));
      const idsFor = (b: InputBatch, out: string[]) => { for (let i = 0; i < b.records.length; i++) out.push(`${b.stream}:${b.seq}:${i}`); };
      if (batches.length === 1) {
        const b = batches[0];
        const ids = config.mode === 'insert' ? [] : undefined;
        if (ids) idsFor(b, ids);
        return { records: b.records, version: versionColumn ? b.seq : undefined, ids, guard };
      }
      const records: Record<string, unknown>[] = [];
      const versions: number[] | undefined = versionColumn ? [] : undefined;
      const ids: string[] | undefined = config.mode === 'insert' ? [] : undefined;
      for (const b of batches) {
        for (const r of b.records) records.push(r);
        if (versions) for (let i = 0; i < b.records.length; i++) versions.push(b.seq);
        if (ids) idsFor(b, ids);
      }
      return { records, versions, ids, guard };
    }

    /** Records [from, to) of a group, written by one write(). */
    async function writeRecords(g: Group, from: number, to: number): Promise<void> {
      if (to <= from) return;
      const whole = from === 0 && to === g.records.length;
      const part = <T>(a: readonly T[] | undefined) => (a && !whole ? a.slice(from, to) : a);
      const records = part(g.records)!;
      const result = await withOutageRetry(() => writer.write(records, {
        ids: part(g.ids), version: g.version, versions: part(g.versions), onlyIfNewer: g.guard,
      }));
      tally(result);
      await deadLetterRejected(result.rejected, records);
    }

    /** Deletions [from, to) of a group, in order. */
    async function deleteKeys(g: Group, from: number, to: number): Promise<void> {
      if (!key || to <= from) return;
      const records = g.records.slice(from, to);
      const r = await withOutageRetry(() => writer.deleteKeys(records, {
        version: g.version, versions: g.versions?.slice(from, to), onlyIfNewer: g.guard,
      }));
      c.deletes.inc(r.deleted);
      await deadLetterRejected(r.rejected, records);
    }

    async function write(batches: readonly InputBatch[]): Promise<void> {
      const g = group(batches);
      const records = g.records;
      if (config.mode === 'insert' || !records.some(isDeletion)) {
        await writeRecords(g, 0, records.length);
        return;
      }
      // A changelog with deletions: keep the order of upserts and deletes per key by writing runs.
      let start = 0;
      while (start < records.length) {
        const deletion = isDeletion(records[start]);
        let end = start + 1;
        while (end < records.length && isDeletion(records[end]) === deletion) end++;
        await (deletion ? deleteKeys(g, start, end) : writeRecords(g, start, end));
        start = end;
      }
    }

    /** Messages waiting together, written together: consecutive runs of at most group_rows rows. */
    async function writeMany(batches: readonly InputBatch[]): Promise<void> {
      const limit = config.batch.group_rows;
      let from = 0;
      while (from < batches.length) {
        let rows = batches[from].records.length;
        let to = from + 1;
        while (to < batches.length && rows + batches[to].records.length <= limit) rows += batches[to++].records.length;
        await write(batches.slice(from, to));
        from = to;
      }
    }

    /** Handlers run one after another (several subscriptions may deliver at once): order per key holds. */
    function serialized(fn: () => Promise<void>): Promise<void> {
      const run = chain.then(fn);
      chain = run.catch(() => undefined);
      return run.catch((e: unknown) => {
        if (!isRetryable(e)) fatal = errorMessage(e);
        throw e;
      });
    }

    return {
      async start() {
        // Connect early so a missing driver or a bad URL shows at start; an unreachable server is not fatal here.
        await writer.open();
      },
      handle(batch: InputBatch): Promise<void> {
        return serialized(() => write([batch]));
      },
      handleMany(batches: InputBatch[]): Promise<void> {
        // The runtime groups first deliveries only; a redelivery (guarded, alone) is kept apart regardless.
        if (batches.some((b) => b.deliveryCount > 1)) return serialized(async () => { for (const b of batches) await write([b]); });
        return serialized(() => writeMany(batches));
      },
      async stop() {
        await chain;
        await writer.close();
      },
      health() {
        const s = writer.stats;
        return {
          ok: !outage,
          detail: outage
            ? `PostgreSQL unreachable since ${new Date(outage.since).toISOString()}: ${outage.error}`
            : fatal ? `last failure: ${fatal}` : `${writer.backendKind === 'pg' ? 'PostgreSQL' : 'embedded PGlite'} → ${config.table}`,
          metrics: {
            copy_merges: s.copyMerges,
            values_statements: s.valuesStatements,
            reconnects: s.reconnects,
            down: outage ? 1 : 0,
          },
        };
      },
    };
  },
});
