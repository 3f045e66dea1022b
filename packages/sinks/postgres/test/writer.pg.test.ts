import { PcapflowError, RetryableError } from '@pcapflow/core';
import { startPostgres, type PostgresServer } from '../../../../tools/test-servers/src/postgres';
import { freePort } from '../../../../tools/test-servers/src/free-port';
import { PostgresWriter } from '../src/writer';
import { actorCases } from './actor-cases';
import { writerCases } from './writer-cases';

// The server backend against a real PostgreSQL 15 started for this suite (never a mock).
describe('PostgresWriter on PostgreSQL (node-postgres)', () => {
  let pg: PostgresServer;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  writerCases(() => ({ url: pg.url }));

  describe('the sink actor (handle, handleMany)', () => {
    actorCases(() => ({ url: pg.url }));
  });

  describe('COPY + merge path', () => {
    it('upserts, de-duplicates and isolates bad rows like the VALUES path', async () => {
      const w = new PostgresWriter({
        url: pg.url,
        copyThreshold: 10,
        table: { table: 'copied', key: ['mac'], mode: 'upsert', createTable: true, evolve: true, timestampFields: ['ts'] },
      });
      try {
        await w.write([{ mac: 'seed', n: 0, ssids: ['a'], ts: 0, note: 'x' }]);
        const records: Record<string, unknown>[] = Array.from({ length: 100 }, (_, i) => ({
          mac: `m${i % 50}`, n: i, ssids: [`s\t${i}`, 'back\\slash', 'new\nline'], ts: 1700000000000 + i, note: i === 7 ? 'tab\there' : null,
        }));
        records[13] = { mac: 'bad', n: 'not a number', ssids: [], ts: 0, note: null };
        const res = await w.write(records);
        expect(res.merged).toBe(49); // m13 appears once (index 63), m0..m49 minus it twice
        expect(res.rejected.map((r) => [r.index, r.code])).toEqual([[13, '22P02']]);
        expect(res.written).toBe(99);
        const rows = await w.query<{ mac: string; n: number; ssids: string[]; ms: number; note: string | null }>(
          `SELECT mac, n, ssids, (extract(epoch from ts)*1000)::bigint AS ms, note FROM copied WHERE mac IN ('m7', 'm13', 'm49') ORDER BY mac`,
        );
        expect(rows).toEqual([
          { mac: 'm13', n: 63, ssids: ['s\t63', 'back\\slash', 'new\nline'], ms: 1700000000063, note: null },
          { mac: 'm49', n: 99, ssids: ['s\t99', 'back\\slash', 'new\nline'], ms: 1700000000099, note: null },
          { mac: 'm7', n: 57, ssids: ['s\t57', 'back\\slash', 'new\nline'], ms: 1700000000057, note: null },
        ]);
        expect(await w.query('SELECT count(*)::int AS n FROM copied')).toEqual([{ n: 51 }]);
        // That batch failed as one COPY and was bisected into VALUES statements; a clean batch stays on COPY.
        expect(w.stats.copyMerges).toBe(0);
        const clean = Array.from({ length: 30 }, (_, i) => ({ mac: `c${i}`, n: i, ssids: ['x\ty', `q"${i}`, null], ts: '2024-05-01T00:00:00Z', note: 'é\r\n' }));
        const res2 = await w.write(clean);
        expect(res2).toEqual({ written: 30, affected: 30, merged: 0, stale: 0, rejected: [] });
        expect(w.stats.copyMerges).toBe(1);
        expect(await w.query(`SELECT n, ssids, ts, note FROM copied WHERE mac = 'c29'`)).toEqual([
          { n: 29, ssids: ['x\ty', 'q"29', null], ts: new Date('2024-05-01T00:00:00Z'), note: 'é\r\n' },
        ]);
        // Upsert through COPY: the same keys again with new values.
        await w.write(clean.map((r) => ({ ...r, n: r.n + 100 })));
        expect(w.stats.copyMerges).toBe(2);
        expect(await w.query(`SELECT count(*)::int AS c, min(n)::int AS lo FROM copied WHERE mac LIKE 'c%'`)).toEqual([{ c: 30, lo: 100 }]);
      } finally {
        await w.close();
      }
    });
  });

  describe('binary COPY', () => {
    // Every type binary COPY writes, with edge values; the VALUES path (text parameters) is the reference.
    const columns = {
      k: 'text', i8: 'bigint', i4: 'integer', i2: 'smallint', f8: 'double precision', b: 'boolean', t: 'text',
      vc: 'varchar(8)', ts: 'timestamptz', arr: 'text[]', note: 'text',
    };
    const rows = (): Record<string, unknown>[] => [
      { k: 'a', i8: 0, i4: 0, i2: 0, f8: 0, b: false, t: '', vc: '', ts: 0, arr: [], note: null },
      { k: 'b', i8: Number.MAX_SAFE_INTEGER, i4: 2147483647, i2: 32767, f8: -0, b: true, t: 'tab\there\nnew "q" \\ é 🎉', vc: 'ünï', ts: 1_700_000_000_123.987, arr: ['x', null, 'a,b', '{"}', '🎉', ''], note: 'n' },
      { k: 'c', i8: -Number.MAX_SAFE_INTEGER, i4: -2147483648, i2: -32768, f8: 0.1 + 0.2, b: true, t: 'x', vc: 'abc', ts: new Date('2024-02-29T23:59:59.999Z'), arr: [null], note: null },
      { k: 'd', i8: 2n ** 63n - 1n, i4: -1, i2: -1, f8: Number.NaN, b: false, t: 'y', vc: 'y', ts: 253_402_300_799_999, arr: ['only'], note: null },
      { k: 'e', i8: -(2n ** 63n), i4: 1, i2: 1, f8: Number.POSITIVE_INFINITY, b: false, t: 'z', vc: 'z', ts: 946_684_799_999, arr: ['a', 'b'], note: null },
      { k: 'f', i8: -1, i4: 7, i2: 7, f8: Number.NEGATIVE_INFINITY, b: true, t: 'w', vc: 'w', ts: 1, arr: ['w'], note: null },
      { k: 'g', i8: 1, i4: 8, i2: 8, f8: 5e-324, b: true, t: 'v', vc: 'v', ts: 946_684_800_000, arr: ['v'], note: null },
      { k: 'h', i8: 2, i4: 9, i2: 9, f8: -1.7976931348623157e308, b: false, t: 'u', vc: 'u', ts: 86_400_000.5, arr: ['u'], note: null },
    ];
    const dump = (w: PostgresWriter, table: string) =>
      w.query<{ row: string }>(`SELECT (${Object.keys(columns).map((c) => `${c}::text`).join(" || '|' || ")})::text AS row FROM ${table} ORDER BY k`);

    it('stores exactly what the text paths store, and falls back to text COPY for values without a binary form', async () => {
      const table = (name: string, threshold: number) => new PostgresWriter({
        url: pg.url, copyThreshold: threshold, table: { table: name, key: ['k'], mode: 'upsert', createTable: true, evolve: false, columns },
      });
      const bin = table('bin_copy', 2);
      const ref = table('bin_ref', 0);
      try {
        for (const w of [bin, ref]) await w.write(rows());
        expect(bin.stats).toMatchObject({ copyMerges: 1, binaryCopies: 1, valuesStatements: 0 });
        expect(ref.stats).toMatchObject({ copyMerges: 0, valuesStatements: 1 });
        const stored = await dump(bin, 'bin_copy');
        expect(stored).toEqual(await dump(ref, 'bin_ref'));
        expect(stored).toHaveLength(8);
        // a few values spelled out (not only compared with the other path)
        expect(await bin.query(`SELECT i8::text, f8::text, t, ts, arr FROM bin_copy WHERE k IN ('b', 'd') ORDER BY k`)).toEqual([
          { i8: '9007199254740991', f8: '0', t: 'tab\there\nnew "q" \\ é 🎉', ts: new Date('2023-11-14T22:13:20.123Z'), arr: ['x', null, 'a,b', '{"}', '🎉', ''] },
          { i8: '9223372036854775807', f8: 'NaN', t: 'y', ts: new Date('9999-12-31T23:59:59.999Z'), arr: ['only'] },
        ]);
        expect(await bin.query(`SELECT arr, ts FROM bin_copy WHERE k = 'a'`)).toEqual([{ arr: [], ts: new Date(0) }]);

        // Values of another JS type than their column's (a numeric string, an ISO string, a float
        // for an integer): the whole shape goes through text COPY, the server parses them as before.
        const mixed = rows().map((r, i) => ({ ...r, i8: i === 3 ? '12' : r.i8, ts: i === 5 ? '2024-05-01T00:00:00+02:00' : r.ts }));
        await bin.write(mixed);
        await ref.write(mixed);
        expect(bin.stats).toMatchObject({ copyMerges: 2, binaryCopies: 1 });
        expect(await dump(bin, 'bin_copy')).toEqual(await dump(ref, 'bin_ref'));
        expect(await bin.query(`SELECT i8::text, ts FROM bin_copy WHERE k IN ('d', 'f') ORDER BY k`)).toEqual([
          { i8: '12', ts: new Date('9999-12-31T23:59:59.999Z') },
          { i8: '-1', ts: new Date('2024-04-30T22:00:00Z') },
        ]);
        const bad = rows().map((r, i) => ({ ...r, i4: i === 2 ? 1.5 : r.i4 }));
        const res = await bin.write(bad);
        expect(res.rejected.map((r) => [r.index, r.code])).toEqual([[2, '22P02']]);
        expect(bin.stats).toMatchObject({ copyMerges: 2, binaryCopies: 1 });
      } finally {
        await bin.close();
        await ref.close();
      }
    });

    it('keeps one stage table per column list and types in the session: a widened column gets its own', async () => {
      const w = new PostgresWriter({ url: pg.url, copyThreshold: 3, pool: { max: 1 }, table: { table: 'bin_widen', key: ['k'], mode: 'upsert', createTable: true, evolve: true } });
      try {
        await w.write([1, 2, 3].map((i) => ({ k: `k${i}`, n: i })));
        await w.write([1, 2, 3].map((i) => ({ k: `k${i}`, n: i * 10 })));
        await w.write([1, 2, 3].map((i) => ({ k: `k${i}`, n: i + 0.5 }))); // n: bigint → double precision
        await w.write([4, 5, 6].map((i) => ({ k: `k${i}`, n: i + 0.25, extra: 'x' }))); // another column list
        expect(w.stats).toMatchObject({ copyMerges: 4, binaryCopies: 4, valuesStatements: 0 });
        expect(await w.query(`SELECT k, n FROM bin_widen ORDER BY k`)).toEqual([
          { k: 'k1', n: 1.5 }, { k: 'k2', n: 2.5 }, { k: 'k3', n: 3.5 }, { k: 'k4', n: 4.25 }, { k: 'k5', n: 5.25 }, { k: 'k6', n: 6.25 },
        ]);
        // one connection: its session holds the three stage tables, empty
        const stages = await w.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'pcapflow_stage_%' AND relpersistence = 't' AND pg_table_is_visible(oid)`);
        expect(stages).toEqual([{ n: 3 }]);
      } finally {
        await w.close();
      }
    });

    it('a binary COPY that fails (a constraint) is bisected into VALUES statements like a text one', async () => {
      const w = new PostgresWriter({ url: pg.url, copyThreshold: 4, table: { table: 'bin_check', key: ['k'], mode: 'upsert', createTable: false, evolve: false } });
      try {
        await w.query('CREATE TABLE bin_check (k text PRIMARY KEY, n bigint CHECK (n >= 0), ts timestamptz, tags text[])');
        const recs = Array.from({ length: 10 }, (_, i) => ({ k: `k${i}`, n: i === 4 ? -5 : i, ts: 1_700_000_000_000 + i, tags: [`t${i}`] }));
        const res = await w.write(recs);
        expect(res.rejected.map((r) => [r.index, r.code])).toEqual([[4, '23514']]);
        expect(res.written).toBe(9);
        expect(w.stats.binaryCopies).toBe(0);
        expect(await w.query(`SELECT k, n, ts, tags FROM bin_check WHERE k IN ('k3', 'k9') ORDER BY k`)).toEqual([
          { k: 'k3', n: 3, ts: new Date(1_700_000_000_003), tags: ['t3'] },
          { k: 'k9', n: 9, ts: new Date(1_700_000_000_009), tags: ['t9'] },
        ]);
        await w.write(recs.map((r) => ({ ...r, n: Math.abs(r.n) + 100 })));
        expect(w.stats.binaryCopies).toBe(1);
        expect(await w.query(`SELECT count(*)::int AS c, min(n)::int AS lo FROM bin_check`)).toEqual([{ c: 10, lo: 100 }]);
      } finally {
        await w.close();
      }
    });
  });

  describe('COPY + merge and over-long values', () => {
    it('rejects an over-long varchar(n) value with 22001 (COPY input, like a plain INSERT) and writes the rest', async () => {
      const w = new PostgresWriter({ url: pg.url, copyThreshold: 5, table: { table: 'copy_len', key: ['k'], mode: 'upsert', createTable: false, evolve: false } });
      try {
        await w.query('CREATE TABLE copy_len (k text PRIMARY KEY, v varchar(3))');
        const rows = Array.from({ length: 20 }, (_, i) => ({ k: `k${i}`, v: i === 6 ? 'toolong' : `v${i}` }));
        const res = await w.write(rows);
        expect(res.rejected.map((r) => [r.index, r.code])).toEqual([[6, '22001']]);
        expect(await w.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE length(v) > 3)::int AS long FROM copy_len`)).toEqual([{ n: 19, long: 0 }]);
        expect(await w.query(`SELECT v FROM copy_len WHERE k = 'k6'`)).toEqual([]);
      } finally {
        await w.close();
      }
    });
  });

  describe('connection errors', () => {
    it('throws RetryableError while the server is down and reconnects after a restart, without duplicates', async () => {
      const w = new PostgresWriter({
        url: pg.url,
        retryDelayMs: 50,
        pool: { connectionTimeoutMs: 2000 },
        table: { table: 'restart', mode: 'insert', idempotencyColumn: '_pcapflow_id', createTable: true, evolve: true },
      });
      const w2 = new PostgresWriter({ url: pg.url, table: { table: 'restart_up', key: ['k'], mode: 'upsert', createTable: true, evolve: true } });
      try {
        await w.write([{ v: 1 }, { v: 2 }], { ids: ['s:1:0', 's:1:1'] });
        await w2.write([{ k: 'a', n: 1 }]);
        await pg.stopServer();
        const err = await w.write([{ v: 3 }], { ids: ['s:2:0'] }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RetryableError);
        expect((err as RetryableError).retryable).toBe(true);
        expect((err as RetryableError).code).toBe('PCAPFLOW_RETRYABLE');
        await expect(w2.write([{ k: 'a', n: 2 }])).rejects.toBeInstanceOf(RetryableError);
        await pg.startServer();
        // The runtime redelivers both batches; the first one was already written before the stop.
        await w.write([{ v: 1 }, { v: 2 }], { ids: ['s:1:0', 's:1:1'] });
        await w.write([{ v: 3 }], { ids: ['s:2:0'] });
        await w2.write([{ k: 'a', n: 2 }]);
        expect(await w.query('SELECT _pcapflow_id, v FROM restart ORDER BY _pcapflow_id')).toEqual([
          { _pcapflow_id: 's:1:0', v: 1 },
          { _pcapflow_id: 's:1:1', v: 2 },
          { _pcapflow_id: 's:2:0', v: 3 },
        ]);
        expect(await w2.query('SELECT k, n FROM restart_up')).toEqual([{ k: 'a', n: 2 }]);
      } finally {
        await w.close();
        await w2.close();
      }
    });

    it('a server that was never there is retryable (ECONNREFUSED)', async () => {
      const port = await freePort();
      const w = new PostgresWriter({
        url: `postgres://postgres:secret@127.0.0.1:${port}/postgres`,
        retryDelayMs: 10,
        table: { table: 't', key: ['k'], mode: 'upsert', createTable: true, evolve: true },
      });
      try {
        const err = await w.write([{ k: 1 }]).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RetryableError);
        expect((err as Error).message).toContain(`PostgreSQL (127.0.0.1:${port}/postgres) unavailable`);
        expect((err as Error).message).not.toContain('secret');
      } finally {
        await w.close();
      }
    });

    it('a missing database is not retryable', async () => {
      const w = new PostgresWriter({ url: `postgres://postgres@127.0.0.1:${pg.port}/nope`, table: { table: 't', key: ['k'], mode: 'upsert', createTable: true, evolve: true } });
      try {
        const err = await w.write([{ k: 1 }]).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PcapflowError);
        expect(err).not.toBeInstanceOf(RetryableError);
        expect((err as PcapflowError).code).toBe('PCAPFLOW_SINK');
        expect((err as Error).message).toBe('PostgreSQL (127.0.0.1:' + pg.port + '/nope): database "nope" does not exist');
      } finally {
        await w.close();
      }
    });
  });
});
