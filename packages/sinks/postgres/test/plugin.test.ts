// The sink-postgres plugin in real topologies: a real nats-server (JetStream) and a real
// PostgreSQL server started for this suite, plus the embedded transport + embedded PGlite default.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeValue } from '@pcapflow/core';
import { startNatsServer, startTestPipeline, type NatsServerHandle, type TestPipeline } from '@pcapflow/core/testkit';
import { startPostgres, type PostgresServer } from '@pcapflow/test-servers';
import plugin, { configSchema, PostgresWriter } from '../src';

const PKG = JSON.parse(readFileSync(path.resolve(__dirname, '../package.json'), 'utf8')) as { version: string };

/** A local plugin package re-exporting the sources (jest maps @pcapflow/sink-postgres to src), so no build is needed. */
function wrapperPlugin(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-sink-pg-plugin-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: '@pcapflow/sink-postgres', version: PKG.version, main: 'index.js', pcapflow: { plugin: true, runtime: '^0.1.0' } }));
  writeFileSync(path.join(dir, 'index.js'), "module.exports = require('@pcapflow/sink-postgres');\n");
  return dir;
}

let nats: NatsServerHandle;
let pg: PostgresServer;
let pluginDir: string;
let n = 0;
beforeAll(async () => {
  [nats, pg] = await Promise.all([startNatsServer(), startPostgres()]);
  pluginDir = wrapperPlugin();
}, 60_000);
afterAll(async () => {
  await nats?.stop();
  await pg?.stop();
  rmSync(pluginDir, { recursive: true, force: true });
});

const running = new Set<TestPipeline>();
async function start(yaml: string, natsUrl: string | undefined = nats.url): Promise<TestPipeline> {
  const p = await startTestPipeline({ yaml, natsUrl, logLevel: process.env.LOG ? "info" : "silent" });
  const stop = p.stop.bind(p);
  p.stop = async () => { running.delete(p); await stop(); };
  running.add(p);
  return p;
}
afterEach(async () => { for (const p of [...running]) await p.stop().catch(() => undefined); });

/** A query helper on the test server (its own writer: the sink's is inside the actor). */
async function sql<R = Record<string, unknown>>(text: string, params: unknown[] = [], url: string = pg.url): Promise<R[]> {
  const w = new PostgresWriter({ url, table: { table: 'unused', mode: 'insert', createTable: false, evolve: false } });
  try { return await w.query<R>(text, params); } finally { await w.close(); }
}

interface Names { pre: string; table: string; stream: string; dlqStream: string }
function names(): Names {
  const pre = `sp${++n}x${Date.now() % 100000}`;
  return { pre, table: `t_${pre}`, stream: `${pre.toUpperCase()}_IN`, dlqStream: `${pre.toUpperCase()}_DLQ` };
}

function topology(nm: Names, config: Record<string, unknown>, opts: { instance?: string; consumer?: string; input?: string } = {}): string {
  return `
streams:
  ${nm.stream}: { subjects: ["${nm.pre}.in.>"], storage: file }
  ${nm.dlqStream}: { subjects: ["${nm.pre}.dlq"], storage: file }
instances:
  ${opts.instance ?? 'sink'}:
    use: ${JSON.stringify(pluginDir)}
    version: "^${PKG.version}"
    config: ${JSON.stringify(config)}
    inputs:
      in: "${opts.input ?? `${nm.pre}.in.>`}"
    dead_letter: "${nm.pre}.dlq"
${opts.consumer ? `    consumer: ${opts.consumer}\n` : ''}`;
}

/** A changelog as @pcapflow/aggregate emits it: group columns, window, aggregates and `_key`. */
function changelog(i: number, version = 0): Record<string, unknown> {
  const device = `dev-${i % 40}`;
  return {
    _key: device, device, count: i + version, earliest: 1700000000000 + i, latest: 1700000000000 + i * 10 + version,
    avg_signal: -50.5 - (i % 7), ssids: [`net-${i % 3}`, `net-${(i + 1) % 3}`], window_start: 1699999200000,
  };
}

function sink(p: TestPipeline, instance = 'sink'): Record<string, number> {
  return p.runtime.actors.find((a) => a.name === instance)!.health().metrics as Record<string, number>;
}

/** Wait for a condition the pipeline reaches asynchronously (a generous bound, not a timing check). */
async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Read a whole stream (messages with headers) from the start. */
async function readMessages(p: TestPipeline, stream: string, filter: string, expected: number, timeoutMs = 20_000) {
  const out: { headers: Record<string, string>; records: Record<string, unknown>[] }[] = [];
  const sub = await p.transport.consume(
    { stream, durable: `check_${++n}`, filterSubject: filter, maxAckPending: 100, ackWaitMs: 30_000, maxDeliver: 1 },
    async (msg) => { out.push({ headers: msg.headers, records: decodeValue<Record<string, unknown>[]>(msg.data) }); msg.ack(); },
  );
  const deadline = Date.now() + timeoutMs;
  while (out.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200)); // nothing more than expected
  await sub.stop();
  return out;
}

describe('config', () => {
  test('defaults: embedded PGlite in ./pcapflow-data/pg, upsert on _key, create + evolve, retry with backoff', () => {
    const c = configSchema.parse({ table: 'probes' });
    expect(c.url).toBeUndefined();
    expect(c.key).toBeUndefined();
    expect(c).toMatchObject({
      data_dir: './pcapflow-data/pg', mode: 'upsert', create_table: true, evolve: true,
      ssl: false, batch: { values_rows: 500, copy_threshold: 200, copy_rows: 20000, group_rows: 10000 }, retry: { initial: 250, max: 30_000 },
      idempotency_column: '_pcapflow_id', version_column: '_pcapflow_version', version_check: 'redelivered',
    });
    expect(configSchema.safeParse({ table: 't', version_check: 'never' }).success).toBe(false);
    expect(configSchema.parse({ table: 't', retry: { initial: '1s', max: '1m' } }).retry).toEqual({ initial: 1000, max: 60_000 });
    expect(configSchema.safeParse({ table: 't', url: 'mysql://x' }).success).toBe(false);
    expect(configSchema.parse({ table: 't', url: '' }).url).toBeUndefined(); // ${PG_URL:-} with PG_URL unset
    expect(configSchema.safeParse({ table: 't', mode: 'merge' }).success).toBe(false);
    expect(configSchema.safeParse({ table: 't', tabel: 'x' }).success).toBe(false);
    expect(plugin.name).toBe('@pcapflow/sink-postgres');
    expect(plugin.inputs.map((i) => i.name)).toEqual(['in']);
  });
});

describe('sink-postgres on nats-server + PostgreSQL', () => {
  test('a changelog is upserted: one row per key, latest values win, timestamps typed, arrays kept', async () => {
    const nm = names();
    const p = await start(topology(nm, { url: pg.url, table: nm.table, timestamp_fields: ['earliest', 'latest', 'window_start'] }));
    // 10 messages of 20 records: keys repeat within and across messages.
    for (let m = 0; m < 10; m++) await p.feed(`${nm.pre}.in.x`, Array.from({ length: 20 }, (_, j) => changelog(m * 20 + j)));
    await p.drain();
    const metrics = sink(p);
    await p.stop();

    const expected = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < 200; i++) expected.set(changelog(i)._key as string, changelog(i));
    const rows = await sql<Record<string, unknown>>(`SELECT _key, device, count::int AS count, (extract(epoch FROM earliest) * 1000)::bigint AS earliest,
      (extract(epoch FROM latest) * 1000)::bigint AS latest, avg_signal, ssids, (extract(epoch FROM window_start) * 1000)::bigint AS window_start FROM ${nm.table} ORDER BY _key`);
    expect(rows).toEqual([...expected.values()].sort((a, b) => String(a._key).localeCompare(String(b._key))));
    const types = await sql<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY column_name`, [nm.table]);
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.data_type]))).toMatchObject({
      earliest: 'timestamp with time zone', latest: 'timestamp with time zone', window_start: 'timestamp with time zone', ssids: 'ARRAY', count: 'bigint', avg_signal: 'double precision',
    });
    const pk = await sql<{ col: string }>(`SELECT a.attname AS col FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = $1::regclass AND i.indisprimary`, [nm.table]);
    expect(pk.map((r) => r.col)).toEqual(['_key']);
    expect(metrics).toMatchObject({ rows_written: 200, rows_rejected: 0 });
    expect(metrics.dead_lettered ?? 0).toBe(0);
    // 20 distinct keys in each message of 20, 40 in all: only messages written together (waiting
    // together in the mailbox, so it depends on timing) merge records, at most down to one per key
    expect(metrics.rows_merged).toBeLessThanOrEqual(200 - 40);
  });

  test.each([['upsert'], ['insert']])('redelivery never duplicates (%s mode)', async (mode) => {
    const nm = names();
    const config = { url: pg.url, table: nm.table, mode, ...(mode === 'upsert' ? { key: ['device'] } : {}) };
    const records = (m: number) => Array.from({ length: 25 }, (_, j) => ({ device: `d${m}-${j}`, n: m * 100 + j, ts: 1700000000000 + j }));
    const p = await start(topology(nm, config));
    for (let m = 0; m < 8; m++) await p.feed(`${nm.pre}.in.a`, records(m));
    await p.drain();
    // The same messages (same stream, same sequence numbers) delivered again: a second durable
    // consumer reads the stream from its start, exactly as JetStream redelivers unacked messages.
    const again = await start(topology(nm, config, { instance: 'sink_again' }));
    await again.drain();
    expect(sink(again, 'sink_again').rows_written).toBe(200);
    // A message delivered twice in a row by one actor (redelivery after a lost ack).
    await p.stop();
    await again.stop();
    expect(await sql(`SELECT count(*)::int AS c, count(DISTINCT device)::int AS d FROM ${nm.table}`)).toEqual([{ c: 200, d: 200 }]);
    if (mode === 'insert') {
      const ids = await sql<{ id: string }>(`SELECT _pcapflow_id AS id FROM ${nm.table} ORDER BY n LIMIT 2`);
      expect(ids.map((r) => r.id)).toEqual([`${nm.stream}:1:0`, `${nm.stream}:1:1`]);
    }
  });

  test.each([['upsert'], ['insert']])('PostgreSQL stopped mid-stream and restarted: every row lands exactly once (%s)', async (mode) => {
    const nm = names();
    const config = { url: pg.url, table: nm.table, mode, key: mode === 'upsert' ? ['device', 'm'] : undefined, retry: { initial: 50, max: 500 }, pool: { connection_timeout: 2000 } };
    // Default consumer settings (max_deliver 5): the sink itself must hold messages through the outage.
    const p = await start(topology(nm, config));
    const records = (m: number) => Array.from({ length: 50 }, (_, j) => ({ device: `d${j}`, m, v: m * 1000 + j }));
    for (let m = 0; m < 10; m++) await p.feed(`${nm.pre}.in.b`, records(m));
    await p.drain();
    await pg.stopServer();
    try {
      for (let m = 10; m < 40; m++) await p.feed(`${nm.pre}.in.b`, records(m));
      // Several seconds down: longer than the runtime's whole redelivery schedule (250 ms, 1 s, 5 s).
      const deadline = Date.now() + 8000;
      while (Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      const h = p.runtime.actors.find((a) => a.name === 'sink')!.health();
      expect(h.ok).toBe(false);
      expect(h.detail).toMatch(/unreachable/);
    } finally {
      await pg.startServer();
    }
    for (let m = 40; m < 50; m++) await p.feed(`${nm.pre}.in.b`, records(m));
    await p.drain(60_000);
    const metrics = sink(p);
    const dlq = await readMessages(p, nm.dlqStream, `${nm.pre}.dlq`, 0, 500);
    await p.stop();
    expect(dlq).toEqual([]);
    expect(metrics.outages).toBeGreaterThanOrEqual(1);
    expect(metrics.dead_lettered ?? 0).toBe(0);
    expect(metrics.rows_rejected).toBe(0);
    expect(await sql(`SELECT count(*)::int AS c, count(DISTINCT (device, m))::int AS d, sum(v)::bigint AS s FROM ${nm.table}`)).toEqual([
      { c: 2500, d: 2500, s: Array.from({ length: 50 }, (_, m) => Array.from({ length: 50 }, (_, j) => m * 1000 + j).reduce((a, b) => a + b, 0)).reduce((a, b) => a + b, 0) },
    ]);
  }, 120_000);

  test('a row the database rejects is dead-lettered with the database error; the rest land', async () => {
    const nm = names();
    // The database's own rule: a CHECK constraint on an existing table (the sink adds its idempotency column).
    await sql(`CREATE TABLE ${nm.table} (device text, code text CONSTRAINT code_short CHECK (length(code) <= 3), n bigint)`);
    const p = await start(topology(nm, { url: pg.url, table: nm.table, mode: 'insert' }));
    await p.feed(`${nm.pre}.in.c`, [{ device: 'a', code: 'abc', n: 1 }]);
    await p.drain();
    const batch = Array.from({ length: 30 }, (_, i) => ({ device: `d${i}`, code: i === 17 ? 'much too long' : 'ok', n: i }));
    batch[5] = { device: 'd5', code: 'ok', n: 'five' } as never; // wrong type for the existing bigint column
    await p.feed(`${nm.pre}.in.c`, batch);
    await p.drain();
    const dlq = await readMessages(p, nm.dlqStream, `${nm.pre}.dlq`, 2);
    const metrics = sink(p);
    await p.stop();
    expect(await sql(`SELECT count(*)::int AS c FROM ${nm.table}`)).toEqual([{ c: 29 }]);
    expect(metrics.rows_rejected).toBe(2);
    const byRecord = new Map(dlq.map((m) => [String(m.records[0]!.device), m]));
    expect(dlq.map((m) => m.records.length)).toEqual([1, 1]);
    expect(byRecord.get('d17')!.records[0]).toEqual({ device: 'd17', code: 'much too long', n: 17 });
    expect(byRecord.get('d17')!.headers['Pcapflow-Error']).toMatch(/\[23514\].*violates check constraint "code_short"/);
    expect(byRecord.get('d5')!.headers['Pcapflow-Error']).toMatch(/\[22P02\] invalid input syntax for type bigint: "five"/);
    expect(metrics.rows_written).toBe(29);
    expect(byRecord.get('d17')!.headers['Pcapflow-Instance']).toBe('sink');
    expect(byRecord.get('d17')!.headers['Pcapflow-Error-Code']).toBe('PCAPFLOW_SINK');
  });

  test('messages waiting in the mailbox are written together (handleMany): same rows, fewer writes', async () => {
    const nm = names();
    const config = { url: pg.url, table: nm.table, exclude: ['_table'] };
    // Create the sink's durable consumer, then let 40 messages pile up while it is not running.
    const first = await start(topology(nm, config));
    await first.feed(`${nm.pre}.in.p0`, [{ _key: 'seed', n: 0 }]);
    await first.drain();
    await first.stop();
    const feeder = await start(topology(nm, config, { instance: 'feeder', input: `${nm.pre}.in.none` }));
    for (let m = 1; m <= 40; m++) {
      // 4 keys, each changed by every 4th message; message 20 deletes k0 (written again from 24 on), message 38 deletes k2
      const records: Record<string, unknown>[] = m === 20 || m === 38 ? [{ _key: `k${m % 4}`, _deleted: true }] : [{ _key: `k${m % 4}`, n: m, _table: 'x' }];
      await feeder.feed(`${nm.pre}.in.p${m % 16}`, records);
    }
    await feeder.stop();
    const p = await start(topology(nm, config));
    await p.drain();
    const m = sink(p);
    await p.stop();
    expect(m.handled_groups).toBeGreaterThanOrEqual(1);
    // this run's counters: 38 upserts, fewer writes than messages
    expect(m.rows_written).toBe(38);
    expect(m.writes).toBeLessThan(38);
    expect(m.deletes).toBe(2);
    // stream sequences: seed 1, message m is m + 1
    expect(await sql(`SELECT _key, n, _pcapflow_version AS v FROM ${nm.table} ORDER BY _key`)).toEqual([
      { _key: 'k0', n: 40, v: 41 }, { _key: 'k1', n: 37, v: 38 }, { _key: 'k3', n: 39, v: 40 },
      { _key: 'seed', n: 0, v: 1 },
    ]);
  });

  test('deletions in a changelog remove the row', async () => {
    const nm = names();
    const p = await start(topology(nm, { url: pg.url, table: nm.table }));
    await p.feed(`${nm.pre}.in.d`, [{ _key: 'a', n: 1 }, { _key: 'b', n: 2 }]);
    await p.feed(`${nm.pre}.in.d`, [{ _key: 'a', _deleted: true }, { _key: 'c', n: 3 }, { _key: 'b', n: 4 }]);
    await p.drain();
    await p.stop();
    expect(await sql(`SELECT _key, n FROM ${nm.table} ORDER BY _key`)).toEqual([{ _key: 'b', n: 4 }, { _key: 'c', n: 3 }]);
  });
});

describe('versions: an older change never overwrites a newer one', () => {
  test('a message redelivered after its write (handler failed after the write, as with a lost ack) does not overwrite a newer change', async () => {
    const nm = names();
    await sql(`CREATE TABLE ${nm.table} (_key text PRIMARY KEY, n text)`);
    // The database fails the message after its first statement: a trigger raising a (non-data) error for key "fail".
    await sql(`CREATE FUNCTION ${nm.table}_fail() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW._key = 'fail' THEN RAISE EXCEPTION 'refused' USING ERRCODE = 'P0001'; END IF; RETURN NEW; END $$`);
    await sql(`CREATE TRIGGER fail BEFORE INSERT ON ${nm.table} FOR EACH ROW EXECUTE FUNCTION ${nm.table}_fail()`);
    const p = await start(topology(nm, { url: pg.url, table: nm.table }, { consumer: '{ max_deliver: 2, backoff: [3000] }' }));
    // Change A: k=A is written by the first statement (the deletion splits the message), then the handler fails.
    await p.feed(`${nm.pre}.in.a`, [{ _key: 'k', n: 'A' }, { _key: 'gone', _deleted: true }, { _key: 'fail', n: 'x' }]);
    await waitFor('the first delivery of A to fail', () => (sink(p).failed ?? 0) >= 1);
    expect(await sql(`SELECT n, _pcapflow_version AS v FROM ${nm.table}`)).toEqual([{ n: 'A', v: 1 }]);
    // Change B of the same key, applied while A waits for its redelivery (backoff 3 s).
    await p.feed(`${nm.pre}.in.b`, [{ _key: 'k', n: 'B' }]);
    await waitFor('B to be written', async () => (await sql<{ n: string }>(`SELECT n FROM ${nm.table}`))[0]?.n === 'B');
    // A's second delivery fails the same way and is dead-lettered (max_deliver 2).
    await waitFor('A to be redelivered and dead-lettered', () => (sink(p).dead_lettered ?? 0) >= 1);
    const metrics = sink(p);
    await p.stop();
    expect(await sql(`SELECT _key, n, _pcapflow_version AS v FROM ${nm.table}`)).toEqual([{ _key: 'k', n: 'B', v: 2 }]);
    // The redelivered A was compared against B (not merely redelivered before B).
    expect(metrics.rows_stale).toBe(1);
    expect(metrics.failed).toBe(2);
  }, 60_000);

  test('version_check "always": a consumer replaying old messages leaves newer rows; the default re-applies them', async () => {
    const nm = names();
    const base = { url: pg.url, table: nm.table, key: ['device'] };
    const p = await start(topology(nm, { ...base, version_check: 'always' }));
    await p.feed(`${nm.pre}.in.a`, [{ device: 'k', n: 'A' }, { device: 'j', n: 'A' }]);
    await p.feed(`${nm.pre}.in.b`, [{ device: 'k', n: 'B' }]);
    await p.drain();
    await p.stop();
    // Another durable consumer replays only message A (a first delivery: deliveryCount 1).
    const replay = await start(topology(nm, { ...base, version_check: 'always' }, { instance: 'replay', input: `${nm.pre}.in.a` }));
    await replay.drain();
    const m = sink(replay, 'replay');
    await replay.stop();
    expect(m).toMatchObject({ rows_written: 2, rows_stale: 1 });
    expect(await sql(`SELECT device, n, _pcapflow_version AS v FROM ${nm.table} ORDER BY device`)).toEqual([
      { device: 'j', n: 'A', v: 1 },
      { device: 'k', n: 'B', v: 2 },
    ]);
    // Default (redelivered): a first delivery always applies, so a replay re-applies history in order.
    const replay2 = await start(topology(nm, base, { instance: 'replay2', input: `${nm.pre}.in.a` }));
    await replay2.drain();
    await replay2.stop();
    expect(await sql(`SELECT device, n FROM ${nm.table} ORDER BY device`)).toEqual([{ device: 'j', n: 'A' }, { device: 'k', n: 'A' }]);
  });

  test('deletions carry the guard too, and match timestamp keys by value', async () => {
    const nm = names();
    const config = { url: pg.url, table: nm.table, key: ['device', 'day'], timestamp_fields: ['day'], version_check: 'always' };
    const p = await start(topology(nm, config));
    const day = Date.UTC(2024, 4, 1);
    await p.feed(`${nm.pre}.in.a`, [{ device: 'x', day, n: 1 }, { device: 'y', day, n: 1 }]);
    await p.feed(`${nm.pre}.in.del`, [{ device: 'x', day, _deleted: true }, { device: 'y', day, _deleted: true }]);
    await p.feed(`${nm.pre}.in.b`, [{ device: 'x', day, n: 3 }]);
    await p.drain();
    const m = sink(p);
    await p.stop();
    expect(m.deletes).toBe(2);
    expect(await sql(`SELECT device, n, _pcapflow_version AS v FROM ${nm.table} ORDER BY device`)).toEqual([{ device: 'x', n: 3, v: 3 }]);
    // The deletion message replayed after the newer upsert of x: x stays.
    const replay = await start(topology(nm, config, { instance: 'old_delete', input: `${nm.pre}.in.del` }));
    await replay.drain();
    await replay.stop();
    expect(await sql(`SELECT device, n FROM ${nm.table} ORDER BY device`)).toEqual([{ device: 'x', n: 3 }]);
  });

  test('a new stream (sequence numbers from 1 again) still updates rows written from an older one', async () => {
    const nm = names();
    const config = { url: pg.url, table: nm.table, key: ['device'] };
    const p = await start(topology(nm, config));
    for (let m = 0; m < 5; m++) await p.feed(`${nm.pre}.in.r`, [{ device: 'x', run: 1, m }]);
    await p.drain();
    await p.stop();
    // A fresh nats-server: the same stream name starts again at sequence 1 (as after deleting and recreating it).
    const nats2 = await startNatsServer();
    try {
      const p2 = await start(topology(nm, config), nats2.url);
      await p2.feed(`${nm.pre}.in.r`, [{ device: 'x', run: 2, m: 0 }]);
      await p2.drain();
      await p2.stop();
    } finally {
      await nats2.stop();
    }
    expect(await sql(`SELECT device, run, m, _pcapflow_version AS v FROM ${nm.table}`)).toEqual([{ device: 'x', run: 2, m: 0, v: 1 }]);
  }, 60_000);
});

describe('sink-postgres: values the column cannot hold', () => {
  test('an over-long value for a varchar(n) column is dead-lettered with 22001, never truncated', async () => {
    const nm = names();
    await sql(`CREATE TABLE ${nm.table} (device text PRIMARY KEY, code varchar(3))`);
    const p = await start(topology(nm, { url: pg.url, table: nm.table, key: ['device'] }));
    await p.feed(`${nm.pre}.in.v`, [{ device: 'a', code: 'abc' }, { device: 'b', code: 'abcd' }, { device: 'c', code: 'x' }]);
    await p.drain();
    const dlq = await readMessages(p, nm.dlqStream, `${nm.pre}.dlq`, 1);
    await p.stop();
    expect(await sql(`SELECT device, code FROM ${nm.table} ORDER BY device`)).toEqual([{ device: 'a', code: 'abc' }, { device: 'c', code: 'x' }]);
    expect(dlq.map((m) => m.records)).toEqual([[{ device: 'b', code: 'abcd' }]]);
    expect(dlq[0]!.headers['Pcapflow-Error']).toMatch(/\[22001\] value too long for type character varying\(3\)/);
  });
});

describe('embedded transport + embedded PGlite (no url)', () => {
  test('rows are written to the data directory and queryable after the run', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-sink-pglite-'));
    try {
      const nm = names();
      const yaml = topology(nm, { data_dir: dir, table: 'probes', key: ['device'], timestamp_fields: ['ts'] });
      const p = await start(yaml, undefined);
      await p.feed(`${nm.pre}.in.e`, [{ device: 'x', ts: 1700000000000, ssids: ['a', 'b'] }, { device: 'y', ts: 1700000001000, ssids: [] }]);
      await p.feed(`${nm.pre}.in.e`, [{ device: 'x', ts: 1700000002000, ssids: ['c'] }]);
      await p.drain();
      await p.stop();
      // A fresh PGlite on the same directory (the sink's was closed with the pipeline).
      const w = new PostgresWriter({ dataDir: dir, table: { table: 'probes', mode: 'insert', createTable: false, evolve: false } });
      try {
        expect(await w.query(`SELECT device, (extract(epoch FROM ts) * 1000)::bigint AS ms, ssids FROM probes ORDER BY device`)).toEqual([
          { device: 'x', ms: 1700000002000, ssids: ['c'] },
          { device: 'y', ms: 1700000001000, ssids: [] },
        ]);
      } finally {
        await w.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
