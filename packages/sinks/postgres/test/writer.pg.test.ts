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
