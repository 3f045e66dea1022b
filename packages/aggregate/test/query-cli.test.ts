// `pcapflow query` on a real nats-server, through the command's registration (argument parsing as the
// CLI does it): time ranges (a typed error without window; windows overlapping [from, to) with one),
// keys typed as text against group columns of every type, and times printed as ISO 8601 in tables.
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { startNatsServer, startTestPipeline, type NatsServerHandle, type TestPipeline } from '@pcapflow/core/testkit';
import { queryHttp, queryTable, formatRows, type AggregateActor } from '../src';
import { registerAggregateCommands, type CommandLike } from '../src/cli-commands';
import { tableColumns } from '../src/query/columns';
import type { AggregateOpConfig } from '../src/runtime/aggspec';
import { wrapperPlugin } from './helpers/wrapper-plugin';

const sink = () => { const chunks: string[] = []; const w = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }); return { w, text: () => chunks.join('') }; };

const MIN = 60_000, HOUR = 3_600_000, DAY = 86_400_000;
const T = Date.UTC(2017, 6, 18, 10, 0, 0); // 2017-07-18T10:00:00Z
const A = 'aa:00:00:00:00:01', B = 'aa:00:00:00:00:02';
// Capture timestamps carry microseconds: f1 is at 10:00:00.123456.
const FRAMES = [
  { ts: T + 123.456, sa: A, type_subtype: 4, subtype_name: 'probe_req', retry: false, ssid: 'Cafe, Bar', signal_dbm: -50 },
  { ts: T + 30 * MIN, sa: A, type_subtype: 4, subtype_name: 'probe_req', retry: true, ssid: 'Cafe, Bar', signal_dbm: -40 },
  { ts: T + 90 * MIN, sa: B, type_subtype: 8, subtype_name: 'beacon', retry: false, ssid: 'home', signal_dbm: -60 },
  { ts: T + DAY + 5 * MIN, sa: A, type_subtype: 4, subtype_name: 'probe_req', retry: false, ssid: 'home', signal_dbm: -55 },
];

let nats: NatsServerHandle;
let p: TestPipeline;
let file: string;
let prefix: string;
beforeAll(async () => {
  nats = await startNatsServer();
  prefix = `qc${Date.now() % 100000}`;
  const use = JSON.stringify(wrapperPlugin());
  // daily: the wifi-probes daily table (no window; a string, a number and a string group column);
  // ssids: a string with a comma and a boolean; hourly: tumbling 1 h windows per device.
  const yaml = `
transport: { nats: { servers: ["${nats.url}"] } }
streams:
  ${prefix}_IN: { subjects: ["${prefix}.in.>"], storage: memory }
instances:
  daily:
    use: ${use}
    config:
      op: aggregate
      table: ${prefix}_daily
      group_by: ["TIMESTAMPTOSTRING(ts, 'yyyy-MM-dd') AS day", "type_subtype AS subtype", "subtype_name"]
      timestamp: ts
      aggregates: { frames: COUNT(*), earliest: EARLIEST(ts), latest: LATEST(ts) }
      state: { persist: false }
      http: { port: 0 }
    inputs: { in: "${prefix}.in.>" }
  ssids:
    use: ${use}
    config:
      op: aggregate
      table: ${prefix}_ssids
      group_by: [ssid, retry]
      aggregates: { frames: COUNT(*) }
      state: { persist: false }
    inputs: { in: "${prefix}.in.>" }
  hourly:
    use: ${use}
    config:
      op: aggregate
      table: ${prefix}_hourly
      group_by: [sa]
      window: { type: tumbling, size: 1h, retention: 30d, timestamp: ts }
      aggregates: { frames: COUNT(*), first_seen: EARLIEST(ts), last_seen: MAX(ts), max_signal: MAX(signal_dbm) }
      state: { persist: false }
    inputs: { in: "${prefix}.in.>" }
`;
  file = path.join(mkdtempSync(path.join(os.tmpdir(), 'pcapflow-qc-')), 'topology.yaml');
  writeFileSync(file, yaml);
  p = await startTestPipeline({ yaml, natsUrl: nats.url, baseDir: path.dirname(file) });
  await p.feed(`${prefix}.in.x`, FRAMES);
  await p.drain();
});
afterAll(async () => { await p?.stop(); await nats?.stop(); });

/** `pcapflow query …` as the CLI registers and parses it, printing into buffers. */
async function query(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = sink(), err = sink();
  const result = { code: -1 };
  const program = new Command('pcapflow').exitOverride();
  registerAggregateCommands(program as unknown as CommandLike, (fn) => async (...a) => { result.code = await fn(...a); }, { out: out.w, err: err.w });
  await program.parseAsync(['node', 'pcapflow', 'query', file, ...args]);
  return { code: result.code, out: out.text(), err: err.text() };
}
const jsonRows = (text: string) => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

test('a time range on a table without window is a typed error, on the CLI, over NATS and over HTTP', async () => {
  const r = await query(`${prefix}_daily`, '--from', '2020-01-01');
  expect(r.code).toBe(1);
  expect(r.out).toBe('');
  expect(r.err).toMatch(/PCAPFLOW_QUERY: .*has no window/);
  expect(r.err).toMatch(/\n {2}hint: filter by key instead: give the group values \(day, subtype, subtype_name\)/);

  await expect(queryTable(p.transport, `${prefix}_daily`, { to: '2020-01-01' })).rejects.toMatchObject({ code: 'PCAPFLOW_QUERY', message: expect.stringMatching(/has no window/) });

  const daily = p.runtime.actors.find((a) => a.name.startsWith('daily')) as unknown as { actor: AggregateActor };
  const url = `http://127.0.0.1:${daily.actor.httpPort}`;
  await expect(queryHttp(url, `${prefix}_daily`, { from: T })).rejects.toMatchObject({ code: 'PCAPFLOW_QUERY', hint: expect.stringMatching(/filter by key/) });
  // without a range the same table answers
  expect((await queryHttp(url, `${prefix}_daily`, {})).rows).toHaveLength(3);
});

test('on a windowed table, from/to select the windows overlapping [from, to)', async () => {
  const windows = async (q: { from?: number | string; to?: number | string }) =>
    (await queryTable(p.transport, `${prefix}_hourly`, q)).rows.map((r) => `${String(r.sa)}@${new Date(r.window_start as number).toISOString()}`);
  // hourly windows: A [10:00, 11:00) and next day [10:00, 11:00); B [11:30 → 11:00, 12:00)
  const a1 = `${A}@2017-07-18T10:00:00.000Z`, a2 = `${A}@2017-07-19T10:00:00.000Z`, b1 = `${B}@2017-07-18T11:00:00.000Z`;
  expect(await windows({})).toEqual([a1, a2, b1]);
  // a range inside two windows selects both (not only the one starting in it)
  expect(await windows({ from: T + 30 * MIN, to: T + 90 * MIN })).toEqual([a1, b1]);
  // `to` is exclusive: the window starting at `to` is out
  expect(await windows({ from: T, to: T + HOUR })).toEqual([a1]);
  // a window ending at `from` is out
  expect(await windows({ from: T + HOUR })).toEqual([a2, b1]);
  expect(await windows({ to: T + 1 })).toEqual([a1]);
  // ISO text without offset is UTC, whatever the local time zone
  const tz = process.env.TZ;
  process.env.TZ = 'America/New_York';
  try {
    expect(await windows({ from: '2017-07-18T10:30', to: '2017-07-18 11:30:00' })).toEqual([a1, b1]);
    expect(await windows({ from: '2017-07-19' })).toEqual([a2]);
  } finally {
    if (tz === undefined) delete process.env.TZ; else process.env.TZ = tz;
  }
  await expect(queryTable(p.transport, `${prefix}_hourly`, { from: T + HOUR, to: T + HOUR })).rejects.toMatchObject({ code: 'PCAPFLOW_QUERY', message: expect.stringMatching(/empty time range/) });

  const r = await query(`${prefix}_hourly`, '--from', '2017-07-18T10:30:00Z', '--to', '2017-07-18T11:30:00Z', '--format', 'json');
  expect(r.code).toBe(0);
  expect(jsonRows(r.out).map((x) => [x.sa, x.window_start, x.frames])).toEqual([[A, T, 2], [B, T + HOUR, 1]]);
  const bad = await query(`${prefix}_hourly`, '--from', 'yesterday');
  expect(bad.code).toBe(1);
  expect(bad.err).toMatch(/PCAPFLOW_QUERY: from: cannot read time 'yesterday'\n {2}hint: .*ISO 8601/);
});

test('keys typed as text match group columns of any type; the _key form works too', async () => {
  const frames = async (table: string, key: string) => {
    const r = await query(`${prefix}_${table}`, key, '--format', 'json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    return jsonRows(r.out).map((x) => x.frames);
  };
  // comma form: a string, a number (4, also written 4.0) and a string column
  expect(await frames('daily', '2017-07-18,4,probe_req')).toEqual([2]);
  expect(await frames('daily', '2017-07-18,4.0,probe_req')).toEqual([2]);
  expect(await frames('daily', '2017-07-19,4,probe_req')).toEqual([1]);
  expect(await frames('daily', '2017-07-18,8,probe_req')).toEqual([]);
  // the canonical _key (written by hand from the key encoding: "_" + hex per byte, "=" + number)
  expect(await frames('daily', '2017-07-18.=4.probe_5Freq')).toEqual([2]);
  // a boolean column, and a comma inside a value written as \,
  expect(await frames('ssids', 'Cafe\\, Bar,true')).toEqual([1]);
  expect(await frames('ssids', 'Cafe\\, Bar,false')).toEqual([1]);
  expect(await frames('ssids', 'home,false')).toEqual([2]);
  expect(await frames('ssids', 'Cafe_2C_20Bar.=t')).toEqual([1]);
  // one group column: the whole text is the value; a window's _key selects that window only
  expect(await frames('hourly', A)).toEqual([2, 1]);
  expect(await frames('hourly', `aa_3A00_3A00_3A00_3A00_3A01.=w${T + DAY}`)).toEqual([1]);

  // too few values is an error that names the columns, not an empty answer
  const r = await query(`${prefix}_daily`, '2017-07-18,4');
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/PCAPFLOW_QUERY: key '2017-07-18,4' has 2 values, but table "\w+" groups by 3 columns \(day, subtype, subtype_name\)\n {2}hint: /);
  await expect(queryTable(p.transport, `${prefix}_ssids`, { key: 'home' })).rejects.toMatchObject({ code: 'PCAPFLOW_QUERY' });
  expect((await queryTable(p.transport, `${prefix}_daily`, { key: '2017-07-18,4,probe_req' })).rows.map((x) => x.frames)).toEqual([2]);
});

test('table format prints times as ISO 8601 UTC; JSON keeps epoch milliseconds', async () => {
  const t = await query(`${prefix}_daily`);
  expect(t.code).toBe(0);
  const lines = t.out.trim().split('\n');
  expect(lines[0].split(/\s+/)).toEqual(['day', 'subtype', 'subtype_name', 'frames', 'earliest', 'latest']);
  expect(lines.slice(2).map((l) => l.split(/\s+/))).toEqual([
    ['2017-07-18', '4', 'probe_req', '2', '2017-07-18T10:00:00.123456Z', '2017-07-18T10:30:00.000Z'],
    ['2017-07-18', '8', 'beacon', '1', '2017-07-18T11:30:00.000Z', '2017-07-18T11:30:00.000Z'],
    ['2017-07-19', '4', 'probe_req', '1', '2017-07-19T10:05:00.000Z', '2017-07-19T10:05:00.000Z'],
  ]);
  const h = await query(`${prefix}_hourly`, B);
  expect(h.out.trim().split('\n').map((l) => l.split(/\s+/))).toEqual([
    ['sa', 'frames', 'first_seen', 'last_seen', 'max_signal', 'window_start', 'window_end'],
    expect.any(Array),
    [B, '1', '2017-07-18T11:30:00.000Z', '2017-07-18T11:30:00.000Z', '-60', '2017-07-18T11:00:00.000Z', '2017-07-18T12:00:00.000Z'],
  ]);
  const j = await query(`${prefix}_daily`, '2017-07-18,4,probe_req', '--format', 'json');
  expect(jsonRows(j.out).map((x) => [x.earliest, x.latest])).toEqual([[T + 123.456, T + 30 * MIN]]);
});

test('tableColumns finds the time columns of a config; formatRows prints them', () => {
  const config = {
    op: 'aggregate', table: 't', timestamp: 'ts', emit: 'changes', late: 'dead_letter',
    group_by: ["DATETRUNC(ts, 'hour') AS hour", 'sa', 'HOUR(ts) AS h'],
    window: { type: 'hopping', size: '1h', advance: '30m' },
    aggregates: { ws: 'WINDOWSTART', first: 'MIN(ts)', seen: 'LATEST(COALESCE(STRINGTOTIMESTAMP(seen_at), ts))', n: 'COUNT(*)', loud: 'MAX(signal)', s: 'SUM(ts)' },
  } as unknown as AggregateOpConfig;
  expect(tableColumns(config)).toEqual({ table: 't', groupColumns: ['hour', 'sa', 'h'], windowed: true, timeColumns: ['hour', 'ws', 'first', 'seen'] });
  const rows = [{ hour: Date.UTC(2024, 0, 1, 5), n: 3, _key: 'k' }];
  expect(formatRows(rows, 'table', { timeColumns: ['hour'] })).toBe('hour                      n\n------------------------  -\n2024-01-01T05:00:00.000Z  3\n');
  expect(formatRows(rows, 'table', { timeColumns: ['hour'], timeFormat: 'ms' })).toBe('         hour  n\n-------------  -\n1704085200000  3\n');
});
