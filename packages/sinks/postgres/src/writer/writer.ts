import { createHash } from 'node:crypto';
import { PcapflowError, RetryableError } from '@pcapflow/core';
import { createPgBackend, createPgliteBackend, type Backend, type Session, type SslOptions } from './backend';
import { classifyError, sqlState } from './errors';
import {
  BinaryCopyBuilder, MAX_PARAMS, IdentifierError, ValueError, binaryCodecOf, checkIdentifier, checkTypeName, copyEscape, encodeValue,
  fitsBinary, inferType, kindOfType, mergeTypes, qualifiedName, quoteIdent, typeSettled, widening, type BinaryCodec, type ColumnKind,
} from './sql';

/** What to write where. One writer writes one table. */
export interface TableSpec {
  table: string;
  /** Schema (created if missing when createTable). Default: the connection's search_path (public). */
  schema?: string;
  /** Primary key columns. Upsert mode: ON CONFLICT (key) DO UPDATE. Insert mode: ON CONFLICT (key) DO NOTHING. */
  key?: string[];
  /** upsert: one row per key, latest values win. insert: append rows. */
  mode: 'upsert' | 'insert';
  /** Explicit column types (SQL type names), overriding inference; created with the table. */
  columns?: Record<string, string>;
  /** CREATE TABLE IF NOT EXISTS from the first batch's fields. */
  createTable: boolean;
  /** ALTER TABLE ADD COLUMN for new fields (and widen bigint → double precision). Else new fields are dropped. */
  evolve: boolean;
  /** Fields stored as timestamptz; values may be epoch milliseconds, ISO strings or Dates. */
  timestampFields?: string[];
  /**
   * Insert mode: a text column holding a per-row idempotency id (e.g. "<stream>:<seq>:<index>"),
   * with a unique index; rows whose id exists are skipped (ON CONFLICT DO NOTHING), so a
   * redelivered batch never duplicates rows.
   */
  idempotencyColumn?: string;
  /**
   * Upsert mode: a bigint column holding the version of each row's last change (the plugin uses the
   * input message's stream sequence). Writes and deletes given `onlyIfNewer` leave rows holding a
   * higher version alone, so a redelivered older change never overwrites a newer one.
   */
  versionColumn?: string;
  /** Record fields never written (key columns excepted). */
  exclude?: readonly string[];
}

export interface WriteOptions {
  /** Insert mode with idempotencyColumn: per-record idempotency ids, stored in that column. */
  ids?: readonly (string | undefined)[];
  /** Upsert mode with versionColumn: the version of every record of this call. */
  version?: number;
  /**
   * Upsert mode with versionColumn: one version per record (records of several input messages
   * written together), instead of `version`. Of several records with one key, the highest
   * version wins.
   */
  versions?: readonly number[];
  /** With version(s): skip rows whose stored version is higher (counted in `stale`). */
  onlyIfNewer?: boolean;
}

export interface DeleteResult {
  /** Rows deleted. */
  deleted: number;
  /** Records not applied: a key value the database cannot read for its column. */
  rejected: RejectedRow[];
}

export interface PostgresWriterOptions {
  /** postgres://user:pass@host:port/db — a PostgreSQL server via node-postgres. Unset: embedded PGlite. */
  url?: string;
  ssl?: SslOptions;
  pool?: { max?: number; connectionTimeoutMs?: number; idleTimeoutMs?: number; statementTimeoutMs?: number };
  /** PGlite data directory (embedded mode). Unset: in-memory. */
  dataDir?: string;
  table: TableSpec;
  /** Rows per multi-row INSERT … VALUES statement (also capped by the 65535-parameter limit). Default 500. */
  valuesBatchRows?: number;
  /** Batches (of one column shape) with at least this many rows go through COPY + merge (server backend only). 0 = never. Default 200. */
  copyThreshold?: number;
  /** Rows per COPY + merge transaction. Default 20000. */
  copyBatchRows?: number;
  /** Delay before the one transparent retry after a connection error (ms). Default 250. */
  retryDelayMs?: number;
  onWarning?: (message: string, details?: Record<string, unknown>) => void;
}

export interface RejectedRow {
  /** Index of the record in the array given to write(). */
  index: number;
  record: Record<string, unknown>;
  error: string;
  /** SQLSTATE when the server rejected it. */
  code?: string;
}

export interface WriteResult {
  /** Input records accepted (written, updated, or skipped as already present). */
  written: number;
  /** Rows the server reported as inserted/updated. */
  affected: number;
  /** Input records merged into another record with the same key in this batch. */
  merged: number;
  /** Rows not written because the table holds a newer version of them (onlyIfNewer). */
  stale: number;
  rejected: RejectedRow[];
}

interface Column {
  name: string;
  type: string;
  kind: ColumnKind;
  /** How COPY … (FORMAT binary) writes it; undefined: a type only text COPY writes. */
  binary?: BinaryCodec;
}

/**
 * One row to write: the record and the input indexes it stands for. The record is the caller's
 * own object (never changed: no copy per row) unless records were merged into a copy. A field is
 * present when it is an own property whose value is not undefined and not an excluded field; the
 * version and the idempotency id are kept beside it and win over a field of the same name.
 */
interface Pending {
  indexes: number[];
  record: Readonly<Record<string, unknown>>;
  /** The row's version (upsert mode with a version column). */
  version?: number;
  /** The row's idempotency id (insert mode with an idempotency column). */
  id?: string;
  /** `record` is a merge copy of ours (null prototype), not a caller's record. */
  copied?: boolean;
}

interface Encoded extends Pending {
  /** The row's values for its shape's columns, as given (null for NULL). */
  raw: unknown[];
  /** Their text form (encodeValue): made by encode for text shapes, else when a statement needs it. */
  values?: (string | null)[];
}

/** A group of rows with the same columns, written by one statement shape. */
interface Shape {
  columns: Column[];
  rows: Encoded[];
  /** Some value of some row has no binary form (see fitsBinary), or some column none. */
  textOnly: boolean;
  /** Set when the rows go through binary COPY: every value fits its column's codec. */
  binary?: BinaryCodec[];
}

/** The text form of a row's values (encodeValue; throws ValueError for a value its column cannot take). */
function textValues(raw: readonly unknown[], columns: readonly Column[]): (string | null)[] {
  const values: (string | null)[] = new Array(raw.length);
  for (let j = 0; j < raw.length; j++) values[j] = encodeValue(raw[j], columns[j].kind);
  return values;
}

class SchemaChanged extends Error {}

const DEFAULT_VALUES_ROWS = 500;
/** The tombstone table of a table: `<table>_pcapflow_deleted` (see PostgresWriter.tombstones). */
export const TOMBSTONE_SUFFIX = '_pcapflow_deleted';
const TOMBSTONE_RETENTION = '1 day';
const TOMBSTONE_PRUNE_EVERY_MS = 3_600_000;

/** Alias of the target table in INSERT statements (the version guard compares against its row). */
const TARGET_ALIAS = 'pcapflow_t';
/**
 * From here on COPY + merge costs both sides less than VALUES statements (the server parses and
 * plans a multi-row VALUES statement of thousands of parameters on every write; COPY goes to a
 * stage table kept per session, in binary where the types allow).
 */
const DEFAULT_COPY_THRESHOLD = 200;
const DEFAULT_COPY_ROWS = 20000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** host:port of a URL, for messages (never the password). */
function redact(url: string | undefined): string {
  if (!url) return 'embedded PGlite';
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * A field of a pending row: its version and id win over record fields of the same name (an
 * excluded name still gets them: they are not record fields). Other excluded fields never reach
 * here (encode leaves their columns out).
 */
function fieldValue(p: Pending, name: string, idColumn: string | undefined, versionColumn: string | undefined, exclude?: ReadonlySet<string>): unknown {
  if (name === versionColumn) {
    if (p.version !== undefined) return p.version;
    if (exclude?.has(name)) return undefined;
  } else if (name === idColumn) {
    if (p.id !== undefined) return p.id;
    if (exclude?.has(name)) return undefined;
  }
  return hasOwn(p.record, name) ? p.record[name] : undefined;
}

/** `pcapflow_stage_<hash of what>`: the session's stage table for one target and column list. */
function stageTableName(what: string): string {
  // 64 bits of SHA-256: two shapes of one session would need the same 16 hex digits
  return `pcapflow_stage_${createHash('sha256').update(what).digest('hex').slice(0, 16)}`;
}

function keyPart(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

/**
 * Writes batches of records into one PostgreSQL table: creates and evolves the table, upserts on
 * a key or inserts idempotently, isolates bad rows, and turns connection trouble into
 * RetryableError. Calls to write() are serialized.
 */
export class PostgresWriter {
  readonly spec: Readonly<TableSpec>;
  private readonly opts: PostgresWriterOptions;
  private backend?: Backend;
  private columns?: Map<string, Column>;
  private readonly target: string;
  /**
   * Upsert mode with a version column: the keys of deleted rows, with the version of their deletion,
   * so an older change redelivered after the deletion cannot bring the row back (see deleteNow).
   */
  private readonly tombstones: string;
  private tombstonesReady = false;
  private tombstonesPrunedAt = 0;
  private readonly conflictCols: string[];
  private readonly warned = new Set<string>();
  /** Field names already checked as identifiers (the same few names repeat in every batch). */
  private readonly goodNames = new Set<string>();
  private readonly exclude?: ReadonlySet<string>;
  private tail: Promise<unknown> = Promise.resolve();
  /** INSERT … VALUES texts by columns, row count and guard (see valuesSql). */
  private readonly valuesSqlCache = new Map<string, string>();
  /** Counters for health/metrics: statements by path (binaryCopies: the COPY + merges in binary format), rows, transparent reconnects. */
  readonly stats = { valuesStatements: 0, copyMerges: 0, binaryCopies: 0, rowsWritten: 0, rowsRejected: 0, reconnects: 0 };

  constructor(options: PostgresWriterOptions) {
    const spec = options.table;
    checkIdentifier(spec.table);
    if (spec.schema) checkIdentifier(spec.schema);
    for (const k of spec.key ?? []) checkIdentifier(k);
    for (const [c, t] of Object.entries(spec.columns ?? {})) {
      checkIdentifier(c);
      checkTypeName(t);
    }
    if (spec.idempotencyColumn) checkIdentifier(spec.idempotencyColumn);
    if (spec.versionColumn) {
      checkIdentifier(spec.versionColumn);
      if (spec.mode !== 'upsert' || spec.key!.includes(spec.versionColumn)) {
        throw new PcapflowError('PCAPFLOW_CONFIG_INVALID', `table ${spec.table}: a version column needs mode "upsert" and must not be a key column`);
      }
    }
    if (spec.mode === 'upsert' && !spec.key?.length) {
      throw new PcapflowError('PCAPFLOW_CONFIG_INVALID', `table ${spec.table}: mode "upsert" needs key columns`, {
        hint: 'set key: [column, …] or use mode: insert',
      });
    }
    this.opts = options;
    this.spec = spec;
    const keyCols = new Set(spec.key ?? []);
    const exclude = (spec.exclude ?? []).filter((f) => !keyCols.has(f));
    if (exclude.length) this.exclude = new Set(exclude);
    this.target = qualifiedName(spec.table, spec.schema);
    this.tombstones = qualifiedName(`${spec.table}${TOMBSTONE_SUFFIX}`, spec.schema);
    this.conflictCols =
      spec.mode === 'upsert' ? spec.key! : spec.idempotencyColumn ? [spec.idempotencyColumn] : spec.key ?? [];
  }

  get backendKind(): 'pg' | 'pglite' {
    return this.opts.url ? 'pg' : 'pglite';
  }

  /** Connect (lazily done by write/query); throws PCAPFLOW_DEPENDENCY_MISSING when the driver is absent. */
  async open(): Promise<void> {
    this.db();
  }

  private db(): Backend {
    if (!this.backend) {
      const o = this.opts;
      this.backend = o.url
        ? createPgBackend({
            url: o.url,
            ssl: o.ssl,
            max: o.pool?.max,
            connectionTimeoutMs: o.pool?.connectionTimeoutMs,
            idleTimeoutMs: o.pool?.idleTimeoutMs,
            statementTimeoutMs: o.pool?.statementTimeoutMs,
            onWarning: o.onWarning,
          })
        : createPgliteBackend(o.dataDir);
    }
    return this.backend;
  }

  /** Run SQL (tests, the README's "query the embedded database"). Rows as plain objects; int8 as number. */
  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    const r = await this.withRetry(() => this.db().query(sql, params), true);
    return r.rows as R[];
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
    const b = this.backend;
    this.backend = undefined;
    await b?.close();
  }

  /** Columns of the table as last read (undefined before the first write). */
  describe(): { name: string; type: string }[] | undefined {
    return this.columns ? [...this.columns.values()].map(({ name, type }) => ({ name, type })) : undefined;
  }

  /**
   * Write a batch. Resolves with the rejected rows (bad values, constraint violations) so the
   * caller can dead-letter them; throws RetryableError when the database is unreachable (nothing
   * or part of the batch may be written: writes are idempotent, so redeliver the whole batch) and
   * PcapflowError for configuration/schema problems.
   *
   * `options`: idempotency ids (insert mode), the records' version (one for all, or one per record
   * when records of several messages are written together) and whether to keep newer rows (upsert mode).
   * The records are never changed (nor copied, unless records of one key are merged).
   */
  write(records: readonly Record<string, unknown>[], options: WriteOptions = {}): Promise<WriteResult> {
    return this.serialized(() => this.writeNow(records, options));
  }

  /**
   * Delete the rows with the keys of `records` (changelog deletions). With `version` and
   * `onlyIfNewer`, a row holding a higher version (a later change) is kept. A missing table is
   * nothing to delete.
   */
  deleteKeys(records: readonly Record<string, unknown>[], options: Omit<WriteOptions, 'ids'> = {}): Promise<DeleteResult> {
    return this.serialized(() => this.deleteNow(records, options));
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async writeNow(records: readonly Record<string, unknown>[], options: WriteOptions): Promise<WriteResult> {
    const result: WriteResult = { written: 0, affected: 0, merged: 0, stale: 0, rejected: [] };
    const reject = (p: Pending, error: string, code?: string) => {
      for (const index of p.indexes) result.rejected.push({ index, record: records[index], error, code });
    };
    if (options.versions && options.versions.length !== records.length) {
      throw new PcapflowError('PCAPFLOW_SINK', `write to ${this.target}: ${options.versions.length} versions for ${records.length} records`);
    }
    const versioned = options.version !== undefined || options.versions !== undefined;
    const guard = !!(options.onlyIfNewer && versioned && this.spec.versionColumn);
    const { passes, fieldsAreColumnsOf } = this.prepare(records, options, guard, result, reject);
    const all = passes.length === 1 ? passes[0] : passes.flat();
    if (all.length === 0) {
      this.stats.rowsRejected += result.rejected.length;
      return result;
    }

    try {
      await this.withRetry(() => this.ensureSchema(all, fieldsAreColumnsOf));
    } catch (e) {
      if (!(e instanceof SchemaChanged)) throw e;
      // Someone changed the table while we altered it: read it again, once.
      this.columns = undefined;
      try {
        await this.withRetry(() => this.ensureSchema(all));
      } catch (e2) {
        if (e2 instanceof SchemaChanged) throw new PcapflowError('PCAPFLOW_SINK', `preparing ${this.target}: ${e2.message}`, { cause: e2.cause });
        throw e2;
      }
    }

    const threshold = this.opts.copyThreshold ?? DEFAULT_COPY_THRESHOLD;
    const copyFrom = this.db().kind === 'pg' && threshold > 0 ? threshold : Infinity;
    for (const pending of passes) {
      for (const shape of this.encode(pending, reject, copyFrom)) {
        const copy = shape.rows.length >= copyFrom;
        const size = copy ? this.opts.copyBatchRows ?? DEFAULT_COPY_ROWS : this.valuesRows(shape.columns.length);
        for (let i = 0; i < shape.rows.length; i += size) {
          const rows = i === 0 && size >= shape.rows.length ? shape.rows : shape.rows.slice(i, i + size);
          await this.writeChunk(shape.columns, rows, copy, guard, result, reject, shape.binary);
        }
      }
    }
    if (guard) {
      const written = options.versions ? [...new Set(all.map((p) => p.version!))] : [options.version!];
      result.stale += await this.withRetry(() => this.dropResurrected(written));
    }
    this.stats.rowsWritten += result.written;
    this.stats.rowsRejected += result.rejected.length;
    return result;
  }

  /**
   * A guarded (older, redelivered) change of a key deleted by a newer change finds no row to lose
   * against and inserts it again: delete what this write (rows of its version) brought back.
   */
  private async dropResurrected(versions: readonly number[]): Promise<number> {
    const v = this.spec.versionColumn!;
    const s = this.db();
    if (!this.tombstonesReady) {
      // no deletion yet by this writer: the table may still exist (another writer, an earlier run)
      const exists = await s.query('SELECT to_regclass($1) IS NOT NULL AS exists', [this.tombstones]);
      if (!exists.rows[0]?.exists) return 0;
    }
    const on = this.spec.key!.map((k) => `t.${quoteIdent(k)} = d.${quoteIdent(k)}`).join(' AND ');
    const r = await s.query(
      `DELETE FROM ${this.target} AS t USING ${this.tombstones} AS d WHERE ${on} AND t.${quoteIdent(v)} = ANY($1::bigint[]) AND d.${quoteIdent(v)} > t.${quoteIdent(v)}`,
      [`{${versions.join(',')}}`],
    );
    return r.rowCount;
  }

  /** The tombstone table: key columns typed as the table's, the deletion's version, when. */
  private async ensureTombstones(cols: Map<string, Column>): Promise<void> {
    const v = quoteIdent(this.spec.versionColumn!);
    const key = this.spec.key!;
    if (!this.tombstonesReady) {
      const defs = key.map((k) => `${quoteIdent(k)} ${cols.get(k)!.type}`);
      await this.tolerateRace(() => this.db().query(
        `CREATE TABLE IF NOT EXISTS ${this.tombstones} (${defs.join(', ')}, ${v} bigint NOT NULL, deleted_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (${key.map(quoteIdent).join(', ')}))`,
      ));
      this.tombstonesReady = true;
    }
    // Redeliveries come within minutes (ack_wait × max_deliver): a day of tombstones is plenty.
    if (Date.now() - this.tombstonesPrunedAt > TOMBSTONE_PRUNE_EVERY_MS) {
      this.tombstonesPrunedAt = Date.now();
      await this.db().query(`DELETE FROM ${this.tombstones} WHERE deleted_at < now() - interval '${TOMBSTONE_RETENTION}'`);
    }
  }

  private valuesRows(ncols: number): number {
    return Math.max(1, Math.min(this.opts.valuesBatchRows ?? DEFAULT_VALUES_ROWS, Math.floor(MAX_PARAMS / Math.max(1, ncols))));
  }

  /**
   * Validate field names and keys, attach ids and versions, merge rows with the same key (the
   * newest wins). Returns passes, written one after the other: one, unless a guarded merge would
   * carry an older record's field under a newer version (a row holding a version between the two
   * would then get that older field): that record starts a later pass instead, as if written alone.
   */
  private prepare(
    records: readonly Record<string, unknown>[],
    { ids, version, versions }: WriteOptions,
    guard: boolean,
    result: WriteResult,
    reject: (p: Pending, error: string, code?: string) => void,
  ): { passes: Pending[][]; fieldsAreColumnsOf?: Map<string, Column> } {
    const spec = this.spec;
    const exclude = this.exclude;
    // Fields that are columns need no identifier check nor type inference (ensureSchema skips its scan).
    const columns = this.columns;
    let allColumns = columns !== undefined;
    const idColumn = spec.idempotencyColumn;
    const versionColumn = spec.versionColumn;
    const conflictCols = this.conflictCols;
    const upsert = spec.mode === 'upsert';
    const byKey = new Map<string, { p: Pending; pass: number }>();
    const passes: Pending[][] = [[]];
    const goodNames = this.goodNames;
    next: for (let index = 0; index < records.length; index++) {
      const record = records[index];
      for (const k in record) {
        if (columns?.has(k)) continue;
        if (!hasOwn(record, k) || record[k] === undefined || exclude?.has(k)) continue;
        allColumns = false;
        if (goodNames.has(k)) continue;
        try {
          checkIdentifier(k);
        } catch (e) {
          reject({ indexes: [index], record }, (e as Error).message);
          continue next;
        }
        if (goodNames.size < 10000) goodNames.add(k);
      }
      const id = idColumn ? ids?.[index] : undefined;
      const rowVersion = versionColumn ? (versions ? versions[index] : version) : undefined;
      const p: Pending = { indexes: [index], record, version: rowVersion, id };
      if (conflictCols.length === 0) {
        passes[0].push(p);
        continue;
      }
      let k: string;
      const keyValue = fieldValue(p, conflictCols[0], idColumn, versionColumn, exclude);
      if (conflictCols.length === 1 && keyValue !== null && keyValue !== undefined) {
        k = typeof keyValue === 'string' ? keyValue : keyPart(keyValue);
      } else {
        const keyValues = conflictCols.map((c) => fieldValue(p, c, idColumn, versionColumn, exclude));
        const missing = keyValues.findIndex((v) => v === null || v === undefined);
        if (missing >= 0) {
          const name = conflictCols[missing];
          reject(p, `${name === idColumn ? 'idempotency' : 'key'} column "${name}" is null or missing`);
          continue;
        }
        // Postgres refuses to update one row twice in one statement (21000): collapse duplicates.
        k = JSON.stringify(keyValues.map(keyPart));
      }
      const prev = byKey.get(k);
      if (!prev) {
        byKey.set(k, { p, pass: 0 });
        passes[0].push(p);
        continue;
      }
      const into = prev.p;
      if (!upsert) {
        // insert: the first wins (DO NOTHING)
        result.merged++;
        into.indexes.push(index);
        continue;
      }
      const newer = rowVersion === undefined || into.version === undefined || rowVersion >= into.version;
      if (guard && rowVersion !== into.version && !this.hasAllFields(newer ? record : into.record, newer ? into.record : record)) {
        const pass = prev.pass + 1;
        if (passes.length === pass) passes.push([]);
        byKey.set(k, { p, pass });
        passes[pass].push(p);
        continue;
      }
      result.merged++;
      into.indexes.push(index);
      // upsert: the newer record's fields win, fields only the older one has are kept.
      if (!into.copied) {
        into.record = this.copyFields(into.record, Object.create(null) as Record<string, unknown>, true);
        into.copied = true;
      }
      this.copyFields(record, into.record as Record<string, unknown>, newer);
      if (newer) into.version = rowVersion;
      if (id !== undefined && into.id === undefined) into.id = id;
    }
    return { passes, fieldsAreColumnsOf: allColumns ? columns : undefined };
  }

  /** Copy the present fields of `from` into `to` (a null-prototype copy); `overwrite`: also fields `to` has. */
  private copyFields(from: Readonly<Record<string, unknown>>, to: Record<string, unknown>, overwrite: boolean): Record<string, unknown> {
    for (const f in from) {
      const v = from[f];
      if (v === undefined || !hasOwn(from, f) || this.exclude?.has(f)) continue;
      if (overwrite || to[f] === undefined) to[f] = v;
    }
    return to;
  }

  /** Whether `a` has every present field of `b` (then merging `b` under `a` leaves exactly `a`). */
  private hasAllFields(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
    for (const f in b) {
      if (b[f] === undefined || !hasOwn(b, f) || this.exclude?.has(f)) continue;
      if (!hasOwn(a, f) || a[f] === undefined) return false;
    }
    return true;
  }

  private async loadColumns(s: Session): Promise<Map<string, Column> | undefined> {
    const exists = await s.query('SELECT to_regclass($1) IS NOT NULL AS exists', [this.target]);
    if (!exists.rows[0]?.exists) return undefined;
    const r = await s.query(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [this.target],
    );
    const cols = new Map<string, Column>();
    for (const row of r.rows) {
      const name = String(row.name);
      const type = String(row.type);
      cols.set(name, { name, type, kind: kindOfType(type), binary: binaryCodecOf(type) });
    }
    return cols;
  }

  private async uniqueIndexes(s: Session): Promise<string[][]> {
    const r = await s.query(
      `SELECT array_agg(a.attname::text ORDER BY k.ord) AS cols
         FROM pg_index i
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
        GROUP BY i.indexrelid`,
      [this.target],
    );
    return r.rows.map((row) => row.cols as string[]);
  }

  /**
   * Types wanted by the batch's fields. Fields that already have a column are only checked for
   * integer → double widening (cheap: this runs over every value of every batch).
   */
  private inferFields(rows: Pending[], existing?: Map<string, Column>, allFieldsExist = false): Map<string, string | undefined> {
    const spec = this.spec;
    const ts = new Set(spec.timestampFields ?? []);
    const types = new Map<string, string | undefined>();
    const exclude = this.exclude;
    // Integer columns, checked for values that need double precision.
    const ints = existing && spec.evolve ? [...existing.values()].filter((c) => c.kind.base === 'int') : [];
    let versions = false;
    let ids = false;
    for (const p of rows) {
      if (p.version !== undefined) versions = true;
      if (p.id !== undefined) ids = true;
      if (allFieldsExist) continue;
      const record = p.record;
      for (const k in record) {
        if (existing?.has(k)) continue;
        const v = record[k];
        if (v === undefined || !hasOwn(record, k) || exclude?.has(k)) continue;
        if (k === spec.versionColumn && p.version !== undefined) continue;
        if (k === spec.idempotencyColumn && p.id !== undefined) continue;
        // a type no later value can change is not inferred again (see typeSettled)
        const known = types.get(k);
        if (known !== undefined && typeSettled(known)) continue;
        const explicit = spec.columns?.[k];
        if (explicit) {
          types.set(k, explicit);
          continue;
        }
        const t = k === spec.idempotencyColumn ? 'text' : k === spec.versionColumn ? 'bigint' : inferType(v, ts.has(k));
        types.set(k, mergeTypes(types.get(k), t));
      }
    }
    if (ids && !existing?.has(spec.idempotencyColumn!)) types.set(spec.idempotencyColumn!, 'text');
    if (versions && !existing?.has(spec.versionColumn!)) types.set(spec.versionColumn!, 'bigint');
    for (const c of ints) {
      if (exclude?.has(c.name)) continue;
      const array = c.type === 'bigint[]';
      if (!array && c.type !== 'bigint') continue;
      for (const p of rows) {
        if (!hasOwn(p.record, c.name)) continue;
        const v = p.record[c.name];
        if (!array ? typeof v === 'number' && !Number.isSafeInteger(v) : Array.isArray(v) && v.some((x) => typeof x === 'number' && !Number.isSafeInteger(x))) {
          types.set(c.name, array ? 'double precision[]' : 'double precision');
          break;
        }
      }
    }
    return types;
  }

  /** Make the table fit the batch: create it, add columns, widen integer columns. */
  /** `fieldsAreColumnsOf`: prepare found every field of `rows` a column of this map (no scan for new fields). */
  private async ensureSchema(rows: Pending[], fieldsAreColumnsOf?: Map<string, Column>): Promise<void> {
    const s = this.db();
    const spec = this.spec;
    if (!this.columns) {
      let cols = await this.loadColumns(s);
      if (!cols) {
        if (!spec.createTable) {
          throw new PcapflowError('PCAPFLOW_SINK', `table ${this.target} does not exist in ${redact(this.opts.url)}`, {
            hint: 'create the table, or set createTable: true',
          });
        }
        await this.createTable(s, rows);
        cols = await this.loadColumns(s);
        if (!cols) throw new PcapflowError('PCAPFLOW_SINK', `table ${this.target} was not created`);
      } else {
        await this.ensureConflictIndex(s);
      }
      this.columns = cols;
    }
    const cols = this.columns;
    const ddl: string[] = [];
    const wanted = this.inferFields(rows, cols, fieldsAreColumnsOf !== undefined && fieldsAreColumnsOf === cols);
    for (const [field, explicit] of Object.entries(spec.columns ?? {})) if (!wanted.has(field)) wanted.set(field, explicit);
    for (const [field, type] of wanted) {
      const have = cols.get(field);
      if (have) {
        const wider = type ? widening(have.type, type) : undefined;
        if (wider && spec.evolve) {
          ddl.push(`ALTER TABLE ${this.target} ALTER COLUMN ${quoteIdent(field)} TYPE ${wider} USING ${quoteIdent(field)}::${wider}`);
        }
        continue;
      }
      if (type === undefined) continue; // only nulls / empty arrays so far: add it when a value arrives
      if (!spec.evolve) {
        if (!this.warned.has(field)) {
          this.warned.add(field);
          this.opts.onWarning?.(`field "${field}" has no column in ${this.target} and evolve is off; it is not stored`, { field });
        }
        continue;
      }
      ddl.push(`ALTER TABLE ${this.target} ADD COLUMN IF NOT EXISTS ${quoteIdent(field)} ${type}`);
    }
    if (ddl.length > 0) {
      for (const stmt of ddl) await s.query(stmt);
      this.columns = (await this.loadColumns(s)) ?? cols;
    }
  }

  private async createTable(s: Session, rows: Pending[]): Promise<void> {
    const spec = this.spec;
    const types = this.inferFields(rows);
    for (const [field, explicit] of Object.entries(spec.columns ?? {})) types.set(field, explicit);
    const defs: string[] = [];
    const keySet = new Set(spec.key ?? []);
    for (const k of spec.key ?? []) {
      const t = types.get(k);
      if (!t) throw new PcapflowError('PCAPFLOW_SINK', `cannot infer the type of key column "${k}" of ${this.target}`, { hint: `give it in columns: { ${k}: <type> }` });
      defs.push(`${quoteIdent(k)} ${t} NOT NULL`);
    }
    for (const [field, t] of types) if (t && !keySet.has(field)) defs.push(`${quoteIdent(field)} ${t}`);
    if (spec.key?.length) defs.push(`PRIMARY KEY (${spec.key.map(quoteIdent).join(', ')})`);
    if (spec.schema) await this.tolerateRace(() => s.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(spec.schema!)}`));
    await this.tolerateRace(() => s.query(`CREATE TABLE IF NOT EXISTS ${this.target} (\n  ${defs.join(',\n  ')}\n)`));
    await this.ensureConflictIndex(s);
  }

  /** The ON CONFLICT target needs a unique index on exactly those columns. */
  private async ensureConflictIndex(s: Session): Promise<void> {
    const cols = this.conflictCols;
    if (cols.length === 0) return;
    const have = await this.uniqueIndexes(s);
    const sameSet = (a: string[]) => a.length === cols.length && cols.every((c) => a.includes(c));
    if (have.some(sameSet)) return;
    const spec = this.spec;
    if (!spec.createTable && !spec.evolve) {
      throw new PcapflowError('PCAPFLOW_SINK', `${this.target} has no unique index on (${cols.join(', ')})`, {
        hint: `CREATE UNIQUE INDEX ON ${this.target} (${cols.map(quoteIdent).join(', ')}), or enable evolve`,
      });
    }
    if (spec.idempotencyColumn && cols[0] === spec.idempotencyColumn) {
      await s.query(`ALTER TABLE ${this.target} ADD COLUMN IF NOT EXISTS ${quoteIdent(spec.idempotencyColumn)} text`);
    }
    const name = Buffer.from(`${spec.table}_${cols.join('_')}_key`).subarray(0, 63).toString('utf8').replace(/\uFFFD$/, '');
    await this.tolerateRace(() =>
      s.query(`CREATE UNIQUE INDEX IF NOT EXISTS ${quoteIdent(name)} ON ${this.target} (${cols.map(quoteIdent).join(', ')})`),
    );
  }

  /** Concurrent CREATE … IF NOT EXISTS from two instances can still collide in the catalog. */
  private async tolerateRace(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      if (!['23505', '42P07', '42P06', '42701'].includes(sqlState(e) ?? '')) throw e;
    }
  }

  /**
   * Group rows by the set of columns they carry and encode their values: shapes of at least
   * `copyFrom` rows whose values all have a binary form go to binary COPY (no text made), the
   * others get their text form (a value its column cannot take rejects its row, in row order).
   */
  private encode(rows: Pending[], reject: (p: Pending, error: string, code?: string) => void, copyFrom = Infinity): Shape[] {
    const { idempotencyColumn: idColumn, versionColumn } = this.spec;
    const exclude = this.exclude;
    const colList = [...this.columns!.values()].filter((c) => !exclude?.has(c.name) || c.name === idColumn || c.name === versionColumn);
    const shapes = new Map<string, Shape>();
    let last: Shape | undefined;
    /** Rows rejected here, by position in `rows`, reported in that order. */
    const rejected: { at: number; p: Pending; error: string }[] = [];
    // Columns read straight off a plain record (no own-property check): not the version or id
    // column (kept beside the record) and no name an object inherits (toString, constructor, …).
    const direct = colList.map((c) => c.name !== idColumn && c.name !== versionColumn && !(c.name in Object.prototype));
    for (let at = 0; at < rows.length; at++) {
      const p = rows[at];
      const record = p.record;
      const proto = Object.getPrototypeOf(record) as unknown;
      const plain = proto === Object.prototype || proto === null;
      const raw: unknown[] = [];
      // Rows mostly carry the columns of the row before: compare while collecting, list them only when not.
      const lastCols = last?.columns;
      let same = lastCols !== undefined;
      // Checked in the same pass (one pass over the values costs less than two, the more so in a
      // short-lived process whose code is not optimized yet).
      let binary = true;
      for (let j = 0; j < colList.length; j++) {
        const c = colList[j];
        const v = plain && direct[j] ? record[c.name] : fieldValue(p, c.name, idColumn, versionColumn, exclude);
        if (v === undefined) continue;
        if (same && lastCols![raw.length] !== c) same = false;
        if (binary && v !== null && (c.binary === undefined || !fitsBinary(v, c.binary))) binary = false;
        raw.push(v);
      }
      if (raw.length === 0) {
        rejected.push({ at, p, error: `no field of the record matches a column of ${this.target}` });
        continue;
      }
      // Rows with different field sets are written by different statements, so a missing field
      // leaves the stored value alone instead of overwriting it with NULL.
      let shape = same && lastCols!.length === raw.length ? last! : undefined;
      if (!shape) {
        const present = colList.filter((c) => fieldValue(p, c.name, idColumn, versionColumn, exclude) !== undefined);
        const sig = present.map((c) => c.name).join('\u0000');
        shape = shapes.get(sig);
        if (!shape) shapes.set(sig, (shape = { columns: present, rows: [], textOnly: present.some((c) => c.binary === undefined) }));
        last = shape;
      }
      if (!binary) shape.textOnly = true;
      const e = p as Encoded;
      e.raw = raw;
      e.values = undefined;
      shape.rows.push(e);
    }
    const out: Shape[] = [];
    let positions: Map<Pending, number> | undefined;
    for (const shape of shapes.values()) {
      if (shape.rows.length >= copyFrom && !shape.textOnly) {
        shape.binary = shape.columns.map((c) => c.binary!);
        out.push(shape);
        continue;
      }
      const kept: Encoded[] = [];
      for (const e of shape.rows) {
        try {
          e.values = textValues(e.raw, shape.columns);
          kept.push(e);
        } catch (err) {
          if (!(err instanceof ValueError || err instanceof IdentifierError)) throw err;
          positions ??= new Map(rows.map((r, i) => [r, i]));
          rejected.push({ at: positions.get(e)!, p: e, error: err.message });
        }
      }
      shape.rows = kept;
      if (kept.length > 0) out.push(shape);
    }
    if (rejected.length > 1) rejected.sort((a, b) => a.at - b.at);
    for (const r of rejected) reject(r.p, r.error);
    return out;
  }

  /**
   * ON CONFLICT rule. With `guard` (and the version column among the written ones), a row whose
   * stored version is higher is left alone. `<=`, not `<`: one message may write a key in several
   * statements (runs split by deletions), all with its version; re-applying the same version is
   * idempotent. A NULL version (rows written before versioning, or by others) never blocks.
   */
  private conflictClause(columns: Column[], guard = false): string {
    if (this.conflictCols.length === 0) return '';
    const target = `ON CONFLICT (${this.conflictCols.map(quoteIdent).join(', ')})`;
    if (this.spec.mode === 'insert') return ` ${target} DO NOTHING`;
    const keys = new Set(this.conflictCols);
    const sets = columns.filter((c) => !keys.has(c.name)).map((c) => `${quoteIdent(c.name)} = EXCLUDED.${quoteIdent(c.name)}`);
    if (!sets.length) return ` ${target} DO NOTHING`;
    const v = this.spec.versionColumn;
    const where = guard && v && columns.some((c) => c.name === v)
      ? ` WHERE ${TARGET_ALIAS}.${quoteIdent(v)} IS NULL OR ${TARGET_ALIAS}.${quoteIdent(v)} <= EXCLUDED.${quoteIdent(v)}`
      : '';
    return ` ${target} DO UPDATE SET ${sets.join(', ')}${where}`;
  }

  /**
   * Multi-row INSERT … VALUES with untyped parameters: the server types each one as its target
   * column and applies the column's own input rules (length, precision, domain checks), exactly
   * as a plain INSERT would. An explicit cast such as `$1::varchar(3)` would instead truncate an
   * over-long value silently (SQL's explicit-cast rule), storing something else than was sent.
   */
  private async insertValues(s: Session, columns: Column[], rows: Encoded[], guard: boolean): Promise<number> {
    const n = columns.length;
    const params: (string | null)[] = new Array(rows.length * n);
    for (let i = 0; i < rows.length; i++) {
      // Rows of a binary shape get their text form here (a chunk bisected after a failed COPY).
      const values = (rows[i].values ??= textValues(rows[i].raw, columns));
      for (let j = 0; j < n; j++) params[i * n + j] = values[j];
    }
    const affected = (await s.query(this.valuesSql(columns, rows.length, guard), params)).rowCount;
    this.stats.valuesStatements++;
    return affected;
  }

  /** The text of a multi-row INSERT … VALUES: the same few shapes and sizes repeat, so it is kept. */
  private valuesSql(columns: Column[], rowCount: number, guard: boolean): string {
    const key = `${rowCount}\u0000${guard ? 1 : 0}\u0000${columns.map((c) => c.name).join('\u0000')}`;
    let sql = this.valuesSqlCache.get(key);
    if (sql !== undefined) return sql;
    const n = columns.length;
    const tuples: string[] = new Array(rowCount);
    const ph: string[] = new Array(n);
    for (let i = 0; i < rowCount; i++) {
      for (let j = 0; j < n; j++) ph[j] = `$${i * n + j + 1}`;
      tuples[i] = `(${ph.join(', ')})`;
    }
    sql = `INSERT INTO ${this.target} AS ${TARGET_ALIAS} (${columns.map((c) => quoteIdent(c.name)).join(', ')}) VALUES ${tuples.join(', ')}${this.conflictClause(columns, guard)}`;
    if (this.valuesSqlCache.size >= 32) this.valuesSqlCache.clear();
    this.valuesSqlCache.set(key, sql);
    return sql;
  }

  private async copyMerge(columns: Column[], rows: Encoded[], guard: boolean, binary?: BinaryCodec[]): Promise<number> {
    const names = columns.map((c) => quoteIdent(c.name)).join(', ');
    let data: string | Buffer;
    if (binary) {
      const b = new BinaryCopyBuilder(rows.length * columns.length * 12);
      for (const r of rows) b.row(r.raw, binary);
      data = b.finish();
    } else {
      data = '';
      for (const r of rows) {
        const values = r.values!;
        let line = copyEscape(values[0]);
        for (let j = 1; j < values.length; j++) line += '\t' + copyEscape(values[j]);
        data += line + '\n';
      }
    }
    const defs = columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
    const stage = stageTableName(`${this.target}\u0000${defs}`);
    return this.db().transaction(async (s) => {
      // Typed stage table (the columns' own types, typmods included: COPY input rejects an
      // over-long value like a plain INSERT), then one INSERT … SELECT applies the same ON CONFLICT
      // rule as the VALUES path. The table stays in the session, emptied at every commit: creating
      // and dropping one per batch costs the server catalog work (pg_class, pg_attribute, pg_type
      // rows, a file) on every write. Named by its columns and their types, so a changed shape or
      // a widened column gets its own.
      await s.query(`CREATE TEMP TABLE IF NOT EXISTS ${stage} (${defs}) ON COMMIT DELETE ROWS`);
      await s.copyFrom!(`COPY ${stage} (${names}) FROM STDIN${binary ? ' (FORMAT binary)' : ''}`, data);
      const r = await s.query(`INSERT INTO ${this.target} AS ${TARGET_ALIAS} (${names}) SELECT ${names} FROM ${stage}${this.conflictClause(columns, guard)}`);
      return r.rowCount;
    }).then((n) => {
      this.stats.copyMerges++;
      if (binary) this.stats.binaryCopies++;
      return n;
    });
  }

  /** Write one chunk; on a data error split it in halves until the bad rows stand alone. */
  private async writeChunk(
    columns: Column[],
    rows: Encoded[],
    copy: boolean,
    guard: boolean,
    result: WriteResult,
    reject: (p: Pending, error: string, code?: string) => void,
    binary?: BinaryCodec[],
  ): Promise<void> {
    try {
      const affected = await this.withRetry(() => (copy ? this.copyMerge(columns, rows, guard, binary) : this.insertValues(this.db(), columns, rows, guard)));
      this.tally(result, rows, affected, guard);
    } catch (e) {
      if (e instanceof SchemaChanged) {
        // The table changed under us (dropped, altered by someone else): re-read it and retry these rows once.
        this.columns = undefined;
        await this.withRetry(() => this.ensureSchema(rows));
        for (const shape of this.encode(rows, reject)) {
          try {
            const affected = await this.withRetry(() => this.insertValues(this.db(), shape.columns, shape.rows, guard));
            this.tally(result, shape.rows, affected, guard);
          } catch (e2) {
            if (e2 instanceof SchemaChanged) {
              throw new PcapflowError('PCAPFLOW_SINK', `writing to ${this.target}: ${(e2.cause as Error)?.message}`, { cause: e2.cause });
            }
            if (!isDataError(e2)) throw e2;
            await this.bisect(shape.columns, shape.rows, e2, guard, result, reject);
          }
        }
        return;
      }
      if (!isDataError(e)) throw e;
      await this.bisect(columns, rows, e, guard, result, reject);
    }
  }

  private tally(result: WriteResult, rows: Encoded[], affected: number, guard: boolean): void {
    result.affected += affected;
    for (const r of rows) result.written += r.indexes.length;
    // Guarded upsert: every row is inserted or updated unless its stored version is newer.
    if (guard) result.stale += Math.max(0, rows.length - affected);
  }

  private async bisect(
    columns: Column[], rows: Encoded[], e: unknown, guard: boolean, result: WriteResult, reject: (p: Pending, error: string, code?: string) => void,
  ): Promise<void> {
    if (rows.length === 1) {
      reject(rows[0], (e as Error).message, sqlState(e));
      return;
    }
    const mid = rows.length >> 1;
    await this.writeChunk(columns, rows.slice(0, mid), false, guard, result, reject);
    await this.writeChunk(columns, rows.slice(mid), false, guard, result, reject);
  }

  private async deleteNow(records: readonly Record<string, unknown>[], options: Omit<WriteOptions, 'ids'>): Promise<DeleteResult> {
    const out: DeleteResult = { deleted: 0, rejected: [] };
    const key = this.spec.key ?? [];
    if (key.length === 0 || records.length === 0) return out;
    if (!this.columns) {
      const cols = await this.withRetry(() => this.loadColumns(this.db()));
      if (!cols) return out; // no table yet: nothing to delete
      this.columns = cols;
    }
    const cols = this.columns;
    const v = this.spec.versionColumn;
    if (options.versions && options.versions.length !== records.length) {
      throw new PcapflowError('PCAPFLOW_SINK', `delete from ${this.target}: ${options.versions.length} versions for ${records.length} records`);
    }
    const versioned = options.version !== undefined || options.versions !== undefined;
    const guard = options.onlyIfNewer && versioned && v !== undefined && cols.has(v);
    // Untyped parameters, typed by the key columns (like the INSERT path): a timestamp or numeric key matches by value.
    const where = key.map((k, i) => `${quoteIdent(k)} = $${i + 1}`);
    if (guard) where.push(`(${quoteIdent(v)} IS NULL OR ${quoteIdent(v)} <= $${key.length + 1})`);
    const sql = `DELETE FROM ${this.target} WHERE ${where.join(' AND ')}`;
    // Versioned: remember the deletion (an older change redelivered later must not bring the row back).
    const tomb = v !== undefined && cols.has(v) && versioned;
    const k = key.map(quoteIdent).join(', ');
    const tombSql = tomb
      ? `INSERT INTO ${this.tombstones} AS d (${k}, ${quoteIdent(v)}) VALUES (${key.map((_, i) => `$${i + 1}`).join(', ')}, $${key.length + 1})
         ON CONFLICT (${k}) DO UPDATE SET ${quoteIdent(v)} = GREATEST(d.${quoteIdent(v)}, EXCLUDED.${quoteIdent(v)}), deleted_at = now()`
      : '';
    if (tomb) await this.withRetry(() => this.ensureTombstones(cols));
    for (let index = 0; index < records.length; index++) {
      const r = records[index];
      const reject = (error: string, code?: string) => out.rejected.push({ index, record: r, error, code });
      const missing = key.find((k) => r[k] === null || r[k] === undefined || !cols.has(k));
      if (missing !== undefined) {
        reject(`key column "${missing}" is null or missing`);
        continue;
      }
      let params: (string | null)[];
      try {
        params = key.map((k) => encodeValue(r[k], cols.get(k)!.kind));
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
        reject(e.message);
        continue;
      }
      const rowVersion = String(options.versions ? options.versions[index] : options.version);
      if (guard) params.push(rowVersion);
      try {
        out.deleted += (await this.withRetry(() => this.db().query(sql, params))).rowCount;
        if (tomb) {
          const tp = guard ? params : [...params, rowVersion];
          await this.withRetry(() => this.db().query(tombSql, tp));
        }
      } catch (e) {
        if (e instanceof SchemaChanged) {
          // Table dropped (or its columns) behind our back: nothing left to delete; re-read it next time.
          this.columns = undefined;
          if (sqlState(e.cause) === '42P01') continue;
          throw new PcapflowError('PCAPFLOW_SINK', `deleting from ${this.target}: ${e.message}`, { cause: e.cause });
        }
        if (!isDataError(e)) throw e;
        reject((e as Error).message, sqlState(e));
      }
    }
    return out;
  }

  /**
   * Run `fn`, retrying once after a connection error (a pooled connection that died with a server
   * restart fails the first query; the retry gets a fresh one), then classify what is left.
   */
  private async withRetry<T>(fn: () => Promise<T>, raw = false): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (e instanceof PcapflowError || e instanceof SchemaChanged) throw e;
        const cls = classifyError(e);
        if (raw && cls !== 'connection') throw e;
        switch (cls) {
          case 'connection':
            if (attempt === 0) {
              this.stats.reconnects++;
              await sleep(this.opts.retryDelayMs ?? 250);
              continue;
            }
            throw new RetryableError(`PostgreSQL (${redact(this.opts.url)}) unavailable: ${(e as Error).message || sqlState(e)}`, {
              cause: e,
              hint: 'the batch will be retried; check that the database server is running and reachable',
              details: { code: sqlState(e) },
            });
          case 'data':
            throw e;
          case 'schema':
            throw Object.assign(new SchemaChanged((e as Error).message), { cause: e });
          default:
            throw new PcapflowError('PCAPFLOW_SINK', `PostgreSQL (${redact(this.opts.url)}): ${(e as Error).message}`, {
              cause: e,
              hint: sqlState(e)?.startsWith('28') ? 'check the user name and password in the URL' : undefined,
              details: { code: sqlState(e) },
            });
        }
      }
    }
  }
}

function isDataError(e: unknown): boolean {
  return !(e instanceof PcapflowError) && !(e instanceof SchemaChanged) && classifyError(e) === 'data';
}
