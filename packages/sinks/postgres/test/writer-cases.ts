import { PcapflowError } from '@pcapflow/core';
import { PostgresWriter, type PostgresWriterOptions, type TableSpec } from '../src/writer';

/**
 * Writer behaviour shared by both backends. `connection()` gives the url/dataDir part of the
 * options; every test uses its own table. Expected values are written out by hand.
 */
export function writerCases(connection: () => Partial<PostgresWriterOptions>): void {
  const open: PostgresWriter[] = [];
  const writer = (table: Partial<TableSpec> & { table: string }, extra: Partial<PostgresWriterOptions> = {}) => {
    const w = new PostgresWriter({
      ...connection(),
      ...extra,
      table: { mode: 'upsert', key: ['mac'], createTable: true, evolve: true, ...table },
    });
    open.push(w);
    return w;
  };
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });

  const columnTypes = async (w: PostgresWriter, table: string) => {
    const rows = await w.query<{ name: string; type: string }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [table],
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.type]));
  };

  it('creates the table with inferred types and a primary key', async () => {
    const w = writer({ table: 'devices', timestampFields: ['last_seen'] });
    const res = await w.write([
      {
        mac: 'aa:bb:cc:00:00:01', frames: 12, rssi: -41.5, randomized: false, ssids: ['home', 'cafe'],
        channels: [1, 6, 11], weights: [0.5, 2], last_seen: 1700000000000, first_seen: new Date('2024-01-01T00:00:00Z'),
        ie: { vendor: 'Apple', oui: '00:17:f2' }, nested: [[1, 2], [3]], empty: [], nothing: null,
      },
    ]);
    expect(res).toEqual({ written: 1, affected: 1, merged: 0, stale: 0, rejected: [] });
    expect(await columnTypes(w, 'devices')).toEqual({
      mac: 'text', frames: 'bigint', rssi: 'double precision', randomized: 'boolean', ssids: 'text[]',
      channels: 'bigint[]', weights: 'double precision[]', last_seen: 'timestamp with time zone',
      first_seen: 'timestamp with time zone', ie: 'jsonb', nested: 'jsonb',
    });
    const pk = await w.query<{ cols: string[] }>(
      `SELECT array_agg(a.attname::text) AS cols FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = 'devices'::regclass AND i.indisprimary`,
    );
    expect(pk[0].cols).toEqual(['mac']);
    const [row] = await w.query('SELECT * FROM devices');
    expect(row).toEqual({
      mac: 'aa:bb:cc:00:00:01', frames: 12, rssi: -41.5, randomized: false, ssids: ['home', 'cafe'], channels: [1, 6, 11],
      weights: [0.5, 2], last_seen: new Date('2023-11-14T22:13:20.000Z'), first_seen: new Date('2024-01-01T00:00:00.000Z'),
      ie: { vendor: 'Apple', oui: '00:17:f2' }, nested: [[1, 2], [3]],
    });
  });

  it('upserts: the same key twice (in one batch and across batches) leaves one row with the latest values', async () => {
    const w = writer({ table: 'upserts' });
    const r1 = await w.write([
      { mac: 'm1', frames: 1, vendor: 'Apple' },
      { mac: 'm2', frames: 5 },
      { mac: 'm1', frames: 2 },
    ]);
    expect(r1.merged).toBe(1);
    expect(r1.written).toBe(3);
    expect(r1.rejected).toEqual([]);
    await w.write([{ mac: 'm2', frames: 7, vendor: null }, { mac: 'm3', frames: 1 }]);
    await w.write([{ mac: 'm1', frames: 3 }]);
    const rows = await w.query('SELECT mac, frames, vendor FROM upserts ORDER BY mac');
    expect(rows).toEqual([
      // m1: frames from the last write; vendor kept, later records did not carry it.
      { mac: 'm1', frames: 3, vendor: 'Apple' },
      // m2: explicit null overwrites.
      { mac: 'm2', frames: 7, vendor: null },
      { mac: 'm3', frames: 1, vendor: null },
    ]);
  });

  it('upserts on a composite key', async () => {
    const w = writer({ table: 'daily', key: ['mac', 'day'], timestampFields: ['day'] });
    await w.write([
      { mac: 'm1', day: '2024-03-01T00:00:00Z', n: 1 },
      { mac: 'm1', day: '2024-03-02T00:00:00Z', n: 2 },
    ]);
    await w.write([{ mac: 'm1', day: Date.UTC(2024, 2, 1), n: 10 }]);
    const rows = await w.query(`SELECT mac, to_char(day AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, n FROM daily ORDER BY day`);
    expect(rows).toEqual([
      { mac: 'm1', day: '2024-03-01', n: 10 },
      { mac: 'm1', day: '2024-03-02', n: 2 },
    ]);
  });

  it('stores timestamps correctly from epoch ms, ISO strings with offsets, and Dates', async () => {
    const w = writer({ table: 'times', timestampFields: ['ts'] });
    await w.write([
      { mac: 'a', ts: 1700000000123 },
      { mac: 'b', ts: '2024-02-29T12:00:00+02:00' },
      { mac: 'c', ts: '2024-02-29T12:00:00' }, // no offset: UTC (the writer's session time zone)
      { mac: 'd', ts: new Date('1999-12-31T23:59:59.999Z') },
    ]);
    const rows = await w.query<{ mac: string; ms: number; ts: Date }>(
      'SELECT mac, (extract(epoch from ts) * 1000)::bigint AS ms, ts FROM times ORDER BY mac',
    );
    expect(rows.map((r) => [r.mac, r.ms])).toEqual([
      ['a', 1700000000123],
      ['b', 1709200800000],
      ['c', 1709208000000],
      ['d', 946684799999],
    ]);
    expect(rows[1].ts.toISOString()).toBe('2024-02-29T10:00:00.000Z');
  });

  it('keeps arrays as arrays (text, bigint, double precision, with nulls and odd strings)', async () => {
    const w = writer({ table: 'arrays' });
    await w.write([
      { mac: 'a', ssids: ['plain', 'with "quotes"', 'back\\slash', 'comma,brace{}', '', 'NULL', null], ints: [1, -2, 9007199254740991], dbl: [0.1, -1e-7, 3] },
      { mac: 'b', ssids: [], ints: [7], dbl: [1.5] },
    ]);
    const rows = await w.query('SELECT mac, ssids, ints, dbl FROM arrays ORDER BY mac');
    expect(rows).toEqual([
      { mac: 'a', ssids: ['plain', 'with "quotes"', 'back\\slash', 'comma,brace{}', '', 'NULL', null], ints: [1, -2, 9007199254740991], dbl: [0.1, -1e-7, 3] },
      { mac: 'b', ssids: [], ints: [7], dbl: [1.5] },
    ]);
  });

  it('evolves: adds columns for new fields and widens bigint to double precision', async () => {
    const w = writer({ table: 'evolve' });
    await w.write([{ mac: 'a', score: 3, list: [1, 2] }]);
    expect(await columnTypes(w, 'evolve')).toEqual({ mac: 'text', score: 'bigint', list: 'bigint[]' });
    await w.write([{ mac: 'b', score: 3.25, list: [0.5], vendor: 'Intel', flags: { ht: true } }]);
    expect(await columnTypes(w, 'evolve')).toEqual({
      mac: 'text', score: 'double precision', list: 'double precision[]', vendor: 'text', flags: 'jsonb',
    });
    expect(await w.query('SELECT mac, score, list, vendor, flags FROM evolve ORDER BY mac')).toEqual([
      { mac: 'a', score: 3, list: [1, 2], vendor: null, flags: null },
      { mac: 'b', score: 3.25, list: [0.5], vendor: 'Intel', flags: { ht: true } },
    ]);
  });

  it('without evolve, drops unknown fields with one warning and refuses to round doubles into bigint', async () => {
    const warnings: string[] = [];
    const w1 = writer({ table: 'fixed' });
    await w1.write([{ mac: 'a', n: 1 }]);
    const w = writer({ table: 'fixed', evolve: false }, { onWarning: (m) => warnings.push(m) });
    const res = await w.write([{ mac: 'b', n: 2, extra: 'x' }, { mac: 'c', n: 2.5, extra: 'y' }]);
    expect(res.written).toBe(1);
    expect(res.rejected.map((r) => [r.index, r.code])).toEqual([[1, '22P02']]);
    expect(warnings).toEqual(['field "extra" has no column in "fixed" and evolve is off; it is not stored']);
    expect(await columnTypes(w, 'fixed')).toEqual({ mac: 'text', n: 'bigint' });
  });

  it('insert mode with an idempotency column: a redelivered batch is not duplicated', async () => {
    const w = writer({ table: 'events', mode: 'insert', key: undefined, idempotencyColumn: '_pcapflow_id' });
    const batch = [
      { mac: 'a', ssid: 'home' },
      { mac: 'a', ssid: 'home' }, // same content, different event: kept
      { mac: 'b', ssid: 'cafe' },
    ];
    const ids = ['probe:41:0', 'probe:41:1', 'probe:41:2'];
    expect((await w.write(batch, { ids })).affected).toBe(3);
    const again = await w.write(batch, { ids });
    expect(again).toEqual({ written: 3, affected: 0, merged: 0, stale: 0, rejected: [] });
    // Partly overlapping redelivery (a larger batch after a crash).
    await w.write([...batch, { mac: 'c', ssid: 'x' }], { ids: [...ids, 'probe:42:0'] });
    expect(await w.query('SELECT _pcapflow_id, mac, ssid FROM events ORDER BY _pcapflow_id')).toEqual([
      { _pcapflow_id: 'probe:41:0', mac: 'a', ssid: 'home' },
      { _pcapflow_id: 'probe:41:1', mac: 'a', ssid: 'home' },
      { _pcapflow_id: 'probe:41:2', mac: 'b', ssid: 'cafe' },
      { _pcapflow_id: 'probe:42:0', mac: 'c', ssid: 'x' },
    ]);
    // A record without an id cannot be made idempotent: rejected, not silently duplicated.
    const res = await w.write([{ mac: 'z' }]);
    expect(res.rejected).toEqual([{ index: 0, record: { mac: 'z' }, error: 'idempotency column "_pcapflow_id" is null or missing' }]);
  });

  it('insert mode without keys appends', async () => {
    const w = writer({ table: 'log', mode: 'insert', key: undefined });
    await w.write([{ msg: 'a' }, { msg: 'a' }]);
    await w.write([{ msg: 'b' }]);
    expect(await w.query('SELECT msg, count(*)::int AS n FROM log GROUP BY msg ORDER BY msg')).toEqual([
      { msg: 'a', n: 2 },
      { msg: 'b', n: 1 },
    ]);
  });

  it('isolates bad rows (type error, NOT NULL, CHECK) and writes the good ones', async () => {
    const w = writer({ table: 'strict' });
    await w.query(`CREATE TABLE strict (mac text PRIMARY KEY, frames bigint NOT NULL, rssi double precision CHECK (rssi < 0), ssids text[])`);
    const records = Array.from({ length: 12 }, (_, i) => ({ mac: `m${i}`, frames: i, rssi: -10 - i }) as Record<string, unknown>);
    records[2] = { mac: 'm2', frames: 'abc', rssi: -1 };
    records[5] = { mac: 'm5', frames: null, rssi: -1 };
    records[9] = { mac: 'm9', frames: 9, rssi: 5 };
    records[11] = { mac: null, frames: 1 };
    const res = await w.write(records);
    expect(res.written).toBe(8);
    expect(res.rejected.map((r) => [r.index, r.code]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [2, '22P02'],
      [5, '23502'],
      [9, '23514'],
      [11, undefined],
    ]);
    expect(res.rejected.find((r) => r.index === 2)!.error).toBe('invalid input syntax for type bigint: "abc"');
    expect(res.rejected.find((r) => r.index === 2)!.record).toBe(records[2]);
    const rows = await w.query<{ mac: string }>('SELECT mac FROM strict ORDER BY frames');
    expect(rows.map((r) => r.mac)).toEqual(['m0', 'm1', 'm3', 'm4', 'm6', 'm7', 'm8', 'm10']);
  });

  it('quotes odd identifiers (quotes, spaces, keywords, case, unicode, __proto__) and rejects over-long names', async () => {
    const w = writer({ table: 'odd "table"; drop', key: ['Key Col'], schema: 'My Schema' });
    const rec: Record<string, unknown> = {
      'Key Col': 'k1', 'say "hi"': 'q', select: 1, MiXeD: true, 'semi;colon--': 'c', 'ünïcødé': 'u', constructor: 'ctor',
    };
    Object.defineProperty(rec, '__proto__', { value: 'proto', enumerable: true });
    const long = { 'Key Col': 'k2', ['x'.repeat(64)]: 1 };
    const res = await w.write([rec, long]);
    expect(res.rejected).toEqual([
      { index: 1, record: long, error: `identifier "${'x'.repeat(64)}" is longer than 63 bytes (PostgreSQL would truncate it)` },
    ]);
    // Read "__proto__" under an alias: a driver assigning it as a property would set the prototype.
    const rows = await w.query(
      'SELECT "Key Col", "say ""hi""", "select", "MiXeD", "semi;colon--", "ünïcødé", "constructor", "__proto__" AS proto FROM "My Schema"."odd ""table""; drop"',
    );
    expect(rows).toEqual([{ 'Key Col': 'k1', 'say "hi"': 'q', select: 1, MiXeD: true, 'semi;colon--': 'c', 'ünïcødé': 'u', constructor: 'ctor', proto: 'proto' }]);
  });

  it('chunks under the 65535-parameter limit', async () => {
    const w = writer({ table: 'wide' }, { valuesBatchRows: 100000, copyThreshold: 0 });
    const cols = Array.from({ length: 30 }, (_, i) => `c${i}`);
    const records = Array.from({ length: 4000 }, (_, i) => Object.fromEntries([['mac', `m${i}`], ...cols.map((c, j) => [c, i * j])]));
    // 31 columns × 4000 rows = 124000 parameters in one statement would fail; the writer splits it.
    const res = await w.write(records);
    expect(res.written).toBe(4000);
    expect(await w.query('SELECT count(*)::int AS n, sum(c29)::bigint AS s FROM wide')).toEqual([{ n: 4000, s: 29 * ((3999 * 4000) / 2) }]);
  });

  it('createTable: false and a missing table is a configuration error', async () => {
    const w = writer({ table: 'absent', createTable: false });
    const err = await w.write([{ mac: 'a' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PcapflowError);
    expect((err as PcapflowError).code).toBe('PCAPFLOW_SINK');
    expect((err as PcapflowError).hint).toBe('create the table, or set createTable: true');
  });

  it('rejects over-long values (varchar(n), char(n), varchar(n)[], a domain) with 22001 instead of truncating them', async () => {
    const w = writer({ table: 'lengths' }, { copyThreshold: 0 });
    await w.query('DROP DOMAIN IF EXISTS code3');
    await w.query('CREATE DOMAIN code3 AS varchar(3)');
    await w.query(`CREATE TABLE lengths (mac text PRIMARY KEY, v varchar(3), c char(2), tags varchar(3)[], d code3, amount numeric(5,2))`);
    const records: Record<string, unknown>[] = [
      { mac: 'ok', v: 'abc', c: 'xy', tags: ['a', 'bcd'], d: 'def', amount: 1.5 },
      { mac: 'v', v: 'abcd' },
      { mac: 'c', c: 'xyz' },
      { mac: 'tags', tags: ['ok', 'long'] },
      { mac: 'd', d: 'defg' },
      { mac: 'ok2', v: 'a', amount: 999.99 },
    ];
    const res = await w.write(records);
    expect(res.rejected.map((r) => [r.index, r.code, r.error])).toEqual([
      [1, '22001', 'value too long for type character varying(3)'],
      [2, '22001', 'value too long for type character(2)'],
      [3, '22001', 'value too long for type character varying(3)'],
      [4, '22001', 'value too long for type character varying(3)'],
    ]);
    expect(res.written).toBe(2);
    expect(await w.query(`SELECT mac, v, c, tags, d, amount::text AS amount FROM lengths ORDER BY mac`)).toEqual([
      { mac: 'ok', v: 'abc', c: 'xy', tags: ['a', 'bcd'], d: 'def', amount: '1.50' },
      { mac: 'ok2', v: 'a', c: null, tags: null, d: null, amount: '999.99' },
    ]);
    // An upsert of an existing key is checked the same way.
    const again = await w.write([{ mac: 'ok', v: 'wxyz' }]);
    expect(again.rejected.map((r) => r.code)).toEqual(['22001']);
    expect(await w.query(`SELECT v FROM lengths WHERE mac = 'ok'`)).toEqual([{ v: 'abc' }]);
  });

  it('stores bytes as bytea', async () => {
    const w = writer({ table: 'bytes' });
    await w.write([{ mac: 'a', raw: Buffer.from([0, 1, 254, 255]) }]);
    await w.write([{ mac: 'b', raw: new Uint8Array([7]) }]);
    expect(await columnTypes(w, 'bytes')).toEqual({ mac: 'text', raw: 'bytea' });
    expect(await w.query(`SELECT mac, encode(raw, 'hex') AS hex FROM bytes ORDER BY mac`)).toEqual([
      { mac: 'a', hex: '0001feff' },
      { mac: 'b', hex: '07' },
    ]);
  });

  it('version column: with onlyIfNewer an older change never overwrites (or deletes) a newer one', async () => {
    const w = writer({ table: 'versioned', versionColumn: '_pcapflow_version' });
    // Change A (version 1) applied, its ack lost; change B (version 2) applied; A redelivered.
    await w.write([{ mac: 'k', n: 'A' }, { mac: 'other', n: 'A' }], { version: 1 });
    await w.write([{ mac: 'k', n: 'B' }], { version: 2 });
    const redelivered = await w.write([{ mac: 'k', n: 'A' }, { mac: 'other', n: 'A' }], { version: 1, onlyIfNewer: true });
    expect(redelivered).toEqual({ written: 2, affected: 1, merged: 0, stale: 1, rejected: [] });
    expect(await w.query('SELECT mac, n, _pcapflow_version AS v FROM versioned ORDER BY mac')).toEqual([
      { mac: 'k', n: 'B', v: 2 },
      { mac: 'other', n: 'A', v: 1 },
    ]);
    expect(await columnTypes(w, 'versioned')).toMatchObject({ _pcapflow_version: 'bigint' });
    // The same version again is applied (one message may write a key in several statements).
    expect((await w.write([{ mac: 'k', n: 'B2' }], { version: 2, onlyIfNewer: true })).stale).toBe(0);
    // A row without a version (written before versioning) never blocks.
    await w.query(`INSERT INTO versioned (mac, n) VALUES ('legacy', 'old')`);
    expect((await w.write([{ mac: 'legacy', n: 'new' }], { version: 1, onlyIfNewer: true })).stale).toBe(0);
    // Without onlyIfNewer the write wins whatever the stored version (a new stream's first delivery).
    await w.write([{ mac: 'other', n: 'C' }], { version: 0 });
    expect(await w.query(`SELECT mac, n, _pcapflow_version AS v FROM versioned WHERE mac IN ('k', 'legacy', 'other') ORDER BY mac`)).toEqual([
      { mac: 'k', n: 'B2', v: 2 },
      { mac: 'legacy', n: 'new', v: 1 },
      { mac: 'other', n: 'C', v: 0 },
    ]);
    // Deletes: an older deletion leaves a newer row; a deletion of the same or a newer version removes it.
    expect(await w.deleteKeys([{ mac: 'k' }], { version: 1, onlyIfNewer: true })).toEqual({ deleted: 0, rejected: [] });
    expect(await w.deleteKeys([{ mac: 'k' }], { version: 2, onlyIfNewer: true })).toEqual({ deleted: 1, rejected: [] });
    expect(await w.deleteKeys([{ mac: 'other' }], { version: 0 })).toEqual({ deleted: 1, rejected: [] });
    expect(await w.query('SELECT mac FROM versioned ORDER BY mac')).toEqual([{ mac: 'legacy' }]);
  });

  it('per-record versions (records of several messages in one write): the highest version of a key wins; deletions and the resurrection check use each record\'s', async () => {
    const w = writer({ table: 'per_record', versionColumn: '_v' });
    const r = await w.write([
      { mac: 'm1', frames: 1, vendor: 'A' },
      { mac: 'm2', frames: 1 },
      { mac: 'm1', frames: 2 },
      { mac: 'm2', frames: 9, vendor: 'old' }, // older than m2's first record: only fills what the newer lacks
    ], { versions: [5, 7, 6, 3] });
    expect(r).toMatchObject({ written: 4, merged: 2, stale: 0, rejected: [] });
    const rows = () => w.query('SELECT mac, frames, vendor, _v FROM per_record ORDER BY mac');
    expect(await rows()).toEqual([
      { mac: 'm1', frames: 2, vendor: 'A', _v: 6 },
      { mac: 'm2', frames: 1, vendor: 'old', _v: 7 },
    ]);
    // m1 holds 6 > 5: kept; m2 holds 7 <= 8: deleted (tombstone 8)
    const d = await w.deleteKeys([{ mac: 'm1' }, { mac: 'm2' }], { versions: [5, 8], onlyIfNewer: true });
    expect(d).toEqual({ deleted: 1, rejected: [] });
    // an older (7) guarded change of m2 would bring it back: it is dropped again; m3 stays
    const r2 = await w.write([{ mac: 'm2', frames: 3 }, { mac: 'm3', frames: 1 }], { versions: [7, 7], onlyIfNewer: true });
    expect(r2.stale).toBe(1);
    expect(await rows()).toEqual([
      { mac: 'm1', frames: 2, vendor: 'A', _v: 6 },
      { mac: 'm3', frames: 1, vendor: null, _v: 7 },
    ]);
    await expect(w.write([{ mac: 'm4' }], { versions: [1, 2] })).rejects.toThrow(/2 versions for 1 records/);
  });

  it('exclude: those fields are never written (key columns always are); the caller\'s records are left as they were', async () => {
    const w = writer({ table: 'excluded', exclude: ['_table', 'mac', 'secret', '_v'], versionColumn: '_v' });
    const records = [
      { mac: 'm1', n: 1, _table: 'x', secret: 's', _v: 99, gone: undefined },
      { mac: 'm1', n: 2, _table: 'x' },
      { mac: 'm2', n: 3, secret: 't' },
    ];
    const before = structuredClone(records);
    const r = await w.write(records, { versions: [1, 2, 2] });
    expect(r).toMatchObject({ written: 3, merged: 1, rejected: [] });
    expect(records).toStrictEqual(before);
    expect(await columnTypes(w, 'excluded')).toEqual({ mac: 'text', n: 'bigint', _v: 'bigint' });
    expect(await w.query('SELECT mac, n, _v FROM excluded ORDER BY mac')).toEqual([{ mac: 'm1', n: 2, _v: 2 }, { mac: 'm2', n: 3, _v: 2 }]);
  });

  it('version column: an older change redelivered after a newer deletion does not bring the row back', async () => {
    const w = writer({ table: 'tomb', versionColumn: '_pcapflow_version' });
    // Change A (version 5) written, its ack lost; deletion D (version 6) applied; A redelivered.
    await w.write([{ mac: 'k', n: 'A' }, { mac: 'kept', n: 'A' }], { version: 5 });
    expect(await w.deleteKeys([{ mac: 'k' }], { version: 6 })).toEqual({ deleted: 1, rejected: [] });
    const again = await w.write([{ mac: 'k', n: 'A' }, { mac: 'kept', n: 'A' }], { version: 5, onlyIfNewer: true });
    expect(again.stale).toBe(1);
    expect(await w.query('SELECT mac, n FROM tomb ORDER BY mac')).toEqual([{ mac: 'kept', n: 'A' }]);
    // A newer change after the deletion brings the key back, and a redelivered older one leaves it be.
    await w.write([{ mac: 'k', n: 'C' }], { version: 7 });
    expect((await w.write([{ mac: 'k', n: 'A' }], { version: 5, onlyIfNewer: true })).stale).toBe(1);
    // The same message deleting and writing a key again (same version) keeps the write.
    expect(await w.deleteKeys([{ mac: 'k' }], { version: 8, onlyIfNewer: true })).toEqual({ deleted: 1, rejected: [] });
    await w.write([{ mac: 'k', n: 'D' }], { version: 8, onlyIfNewer: true });
    expect(await w.query('SELECT mac, n, _pcapflow_version AS v FROM tomb ORDER BY mac')).toEqual([{ mac: 'k', n: 'D', v: 8 }, { mac: 'kept', n: 'A', v: 5 }]);
    // The tombstones: one per deleted key, at its latest deletion.
    expect(await w.query('SELECT mac, _pcapflow_version AS v FROM tomb_pcapflow_deleted')).toEqual([{ mac: 'k', v: 8 }]);
  });

  it('version guard in a batch large enough for COPY + merge (server) or VALUES (embedded)', async () => {
    const w = writer({ table: 'versioned_big', versionColumn: 'ver' }, { copyThreshold: 10 });
    const rows = (tag: string) => Array.from({ length: 40 }, (_, i) => ({ mac: `m${i}`, tag }));
    await w.write(rows('old'), { version: 10 });
    await w.write(rows('new').slice(0, 20), { version: 11 });
    const res = await w.write(rows('old'), { version: 10, onlyIfNewer: true });
    expect(res).toMatchObject({ written: 40, affected: 20, stale: 20, rejected: [] });
    expect(await w.query('SELECT tag, count(*)::int AS n, min(ver)::int AS v FROM versioned_big GROUP BY tag ORDER BY tag')).toEqual([
      { tag: 'new', n: 20, v: 11 },
      { tag: 'old', n: 20, v: 10 },
    ]);
  });

  it('deletes by key values read as the key columns\' types (timestamp keys), rejecting unreadable ones', async () => {
    const w = writer({ table: 'del_ts', key: ['mac', 'day'], timestampFields: ['day'] });
    await w.write([
      { mac: 'a', day: Date.UTC(2024, 0, 1), n: 1 },
      { mac: 'a', day: Date.UTC(2024, 0, 2), n: 2 },
    ]);
    expect(await w.deleteKeys([{ mac: 'a', day: Date.UTC(2024, 0, 1) }])).toEqual({ deleted: 1, rejected: [] });
    const bad = await w.deleteKeys([{ mac: 'a', day: 'not a time' }, { mac: 'a' }]);
    expect(bad.deleted).toBe(0);
    expect(bad.rejected.map((r) => [r.index, r.code])).toEqual([[0, '22007'], [1, undefined]]);
    expect(await w.query('SELECT mac, n FROM del_ts')).toEqual([{ mac: 'a', n: 2 }]);
    // No table yet: nothing to delete.
    expect(await writer({ table: 'del_absent' }).deleteKeys([{ mac: 'x' }])).toEqual({ deleted: 0, rejected: [] });
  });

  it('recovers when the table is dropped behind its back', async () => {
    const w = writer({ table: 'dropped' });
    await w.write([{ mac: 'a', n: 1 }]);
    await w.query('DROP TABLE dropped');
    const res = await w.write([{ mac: 'b', n: 2 }]);
    expect(res.rejected).toEqual([]);
    expect(await w.query('SELECT mac, n FROM dropped')).toEqual([{ mac: 'b', n: 2 }]);
  });
}
