// Oracle test: examples/wifi-probes.yaml (probe → split → daily subtype stats + per-device probe
// stats → sink-postgres) on a real nats-server into a real PostgreSQL, against the same two queries
// computed by PostgreSQL itself over the decoded frames (probe library → psql COPY, SQL below).
// Runs on the whole real Wi-Fi corpus and on a generated capture of 1M frames, each once plainly and
// once with the aggregators killed (connection dropped without draining, like kill -9) and restarted
// mid-run. The set-up (servers, capture, running the topology) is shared with the bench.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readCapture, WifiDecoder, toRecord, isWifiLinktype } from '@pcapflow/probe';
import { startPostgres } from '@pcapflow/test-servers';
import {
  corpusDir, createDatabase, EXAMPLE_PLUGINS, exampleTopology, generateCapture, killPlacement, psql, queryRows, runExample, startServers, type Servers,
} from '../src/bench/example-harness';

const ROOT = path.resolve(__dirname, '../../..');
const GENERATED_FRAMES = Number(process.env.PCAPFLOW_ORACLE_FRAMES ?? 1_000_000);

/** Local plugin packages re-exporting the package names (jest maps them to src): no build needed. */
function wrapper(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-oracle-plugin-'));
  const pkgDir = { '@pcapflow/probe': 'packages/probe', '@pcapflow/aggregate': 'packages/aggregate', '@pcapflow/sink-postgres': 'packages/sinks/postgres' }[name]!;
  const { version } = JSON.parse(readFileSync(path.join(ROOT, pkgDir, 'package.json'), 'utf8')) as { version: string };
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version, main: 'index.js', pcapflow: { plugin: true, runtime: '^0.1.0' } }));
  writeFileSync(path.join(dir, 'index.js'), `module.exports = require(${JSON.stringify(name)});\n`);
  return dir;
}

let servers: Servers;
let tmp: string;
const use: Record<string, string> = {};

beforeAll(async () => {
  if (!existsSync(path.join(corpusDir(), 'wifi'))) throw new Error(`capture corpus not found at ${corpusDir()} (set PCAPFLOW_CORPUS)`);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-oracle-'));
  for (const name of EXAMPLE_PLUGINS) use[name] = wrapper(name);
  servers = await startServers(startPostgres);
}, 120_000);

afterAll(async () => {
  await servers?.stop();
  for (const d of [tmp, ...Object.values(use)]) if (d) rmSync(d, { recursive: true, force: true });
});

// ---------------------------------------------------------------- the oracle: PostgreSQL over the decoded frames

function csv(v: unknown): string {
  if (v === null || v === undefined) return '';
  return '"' + String(v).replace(/"/g, '""') + '"';
}

/** Decode the capture files with the probe library and COPY the fields the queries need into `frames`. */
async function loadDecoded(url: string, files: string[]): Promise<number> {
  await psql(url, `CREATE TABLE frames (ts double precision, type_subtype int, subtype_name text, sa_resolved text,
    wps_device_name text, signal_dbm double precision, ssid text, da text)`);
  let n = 0;
  let chunk: string[] = [];
  const flush = async () => {
    if (chunk.length) await psql(url, 'COPY frames FROM STDIN WITH (FORMAT csv)', chunk.join('\n') + '\n');
    chunk = [];
  };
  for (const file of files) {
    const dec = new WifiDecoder();
    for (const pkt of readCapture(readFileSync(file))) {
      if (!isWifiLinktype(pkt.linktype)) continue;
      const r = toRecord(dec.decode(pkt.data, 0, pkt.capLen, pkt.origLen, pkt.linktype, pkt.tsSec, pkt.tsNsec)) as unknown as Record<string, unknown>;
      chunk.push([r.ts, r.type_subtype, r.subtype_name, r.sa_resolved, r.wps_device_name, r.signal_dbm, r.ssid, r.da].map(csv).join(','));
      n++;
      if (chunk.length >= 200_000) await flush();
    }
  }
  await flush();
  return n;
}

// The two tables of examples/wifi-probes.yaml as SQL over the frames. Times as epoch ms.
const EXPECTED_DAILY = `
  SELECT to_char(to_timestamp(ts / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, type_subtype AS subtype, subtype_name,
         count(*) AS frames, min(ts) AS earliest, max(ts) AS latest
    FROM frames GROUP BY 1, 2, 3`;
const EXPECTED_DEVICES = `
  SELECT COALESCE(wps_device_name, sa_resolved) AS device, count(*) AS probes, min(ts) AS earliest, max(ts) AS latest,
         min(signal_dbm) AS min_signal, max(signal_dbm) AS max_signal, avg(signal_dbm) AS avg_signal,
         coalesce(array_agg(DISTINCT ssid) FILTER (WHERE ssid IS NOT NULL), '{}') AS ssids,
         count(DISTINCT ssid) AS n_ssids, count(DISTINCT da) AS n_destinations
    FROM frames WHERE type_subtype = 4 GROUP BY 1`;
const ACTUAL_DAILY = `
  SELECT day, subtype, subtype_name, frames, extract(epoch FROM earliest) * 1000 AS earliest, extract(epoch FROM latest) * 1000 AS latest
    FROM daily_subtype_stats`;
const ACTUAL_DEVICES = `
  SELECT device, probes, extract(epoch FROM earliest) * 1000 AS earliest, extract(epoch FROM latest) * 1000 AS latest,
         min_signal, max_signal, avg_signal, coalesce(ssids, '{}') AS ssids, n_ssids, n_destinations
    FROM device_probe_stats`;

type Row = Record<string, unknown>;
interface Expected { frames: number; daily: Row[]; devices: Row[] }

/** Load a capture's decoded frames once and compute both tables with SQL. */
async function expectedFor(name: string, files: string[]): Promise<Expected> {
  const url = await createDatabase(servers.pgUrl, `frames_${name}`);
  const frames = await loadDecoded(url, files);
  const [daily, devices] = await Promise.all([queryRows(url, EXPECTED_DAILY), queryRows(url, EXPECTED_DEVICES)]);
  return { frames, daily, devices };
}

/**
 * Compare tables row by row. Times within 1 ms (the sink writes timestamptz from epoch-ms numbers;
 * frames carry µs/ns), floats to 1e-9 relative, arrays as sets; everything else exactly.
 */
function compareTables(name: string, keyCols: string[], actual: Row[], expected: Row[]): void {
  const key = (r: Row) => JSON.stringify(keyCols.map((k) => r[k] ?? null));
  const a = new Map(actual.map((r) => [key(r), r]));
  const e = new Map(expected.map((r) => [key(r), r]));
  const problems: string[] = [];
  for (const k of e.keys()) if (!a.has(k)) problems.push(`${name}: missing row ${k}`);
  for (const k of a.keys()) if (!e.has(k)) problems.push(`${name}: unexpected row ${k}`);
  for (const [k, er] of e) {
    const ar = a.get(k);
    if (!ar) continue;
    for (const col of Object.keys(er)) {
      const x = ar[col] ?? null;
      const y = er[col] ?? null;
      let same: boolean;
      if (Array.isArray(y)) same = Array.isArray(x) && x.length === y.length && new Set([...x, ...y]).size === y.length;
      else if (typeof y === 'number' && typeof x === 'number') same = col === 'earliest' || col === 'latest' ? Math.abs(x - y) < 1 : Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(y));
      else same = x === y;
      if (!same) problems.push(`${name} ${k}.${col}: pipeline ${JSON.stringify(x)} ≠ SQL ${JSON.stringify(y)}`);
    }
  }
  expect(problems.slice(0, 20)).toEqual([]);
  expect(actual.length).toBe(expected.length);
}

let runNo = 0;

/** Run the example over `capture` into a fresh database (fresh nats-server) and compare with the oracle. */
async function checkRun(capture: string, expected: Expected, kills = 0): Promise<{ kills: number; seconds: number }> {
  await servers.restartNats();
  const db = await createDatabase(servers.pgUrl, `pipeline_${++runNo}`);
  const yaml = exampleTopology({
    use,
    // kill runs: the aggregators alone on a "host" of their own; a short ack_wait so that what the
    // killed aggregator had pulled comes back quickly (the host extends it while a handler runs)
    ...(kills ? { hostOf: killPlacement, consumer: { ack_wait: '5s' } } : {}),
  });
  const run = await runExample({ natsUrl: servers.natsUrl, capture, pgUrl: db, yaml, kills, expectedFrames: expected.frames, timeoutMs: 300_000 });
  expect(run.frames).toBe(expected.frames);
  const [daily, devices] = await Promise.all([queryRows(db, ACTUAL_DAILY), queryRows(db, ACTUAL_DEVICES)]);
  compareTables('daily_subtype_stats', ['day', 'subtype', 'subtype_name'], daily, expected.daily);
  compareTables('device_probe_stats', ['device'], devices, expected.devices);
  return { kills: run.kills, seconds: run.ms / 1000 };
}

describe('wifi-probes.yaml equals PostgreSQL over the decoded frames', () => {
  describe('the real Wi-Fi corpus (every capture in shared/captures/wifi)', () => {
    const dir = path.join(corpusDir(), 'wifi');
    let expected: Expected;
    beforeAll(async () => {
      const files = readdirSync(dir).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).sort().map((f) => path.join(dir, f));
      expected = await expectedFor('real', files);
      // the oracle itself is not trivial: several subtypes and days, many devices
      expect(expected.frames).toBeGreaterThan(1000);
      expect(expected.devices.length).toBeGreaterThan(5);
    }, 120_000);

    test('every row equal', async () => {
      await checkRun(dir, expected);
    }, 120_000);

    test('every row equal with the aggregators killed twice mid-run', async () => {
      const r = await checkRun(dir, expected, 2);
      expect(r.kills).toBe(2);
    }, 180_000);
  });

  describe(`a generated capture of ${GENERATED_FRAMES} frames`, () => {
    let file: string;
    let expected: Expected;
    beforeAll(async () => {
      file = path.join(tmp, 'generated.pcap');
      generateCapture(file, GENERATED_FRAMES);
      expected = await expectedFor('generated', [file]);
      expect(expected.frames).toBe(GENERATED_FRAMES);
      expect(expected.daily.length).toBeGreaterThanOrEqual(7 * 6);
      expect(expected.devices.length).toBeGreaterThan(500);
    }, 300_000);

    test('every row equal', async () => {
      const r = await checkRun(file, expected);
      console.log(`oracle: ${GENERATED_FRAMES} generated frames, ${expected.daily.length} daily rows, ${expected.devices.length} devices: pipeline ${r.seconds.toFixed(1)} s`);
    }, 300_000);

    test('every row equal with the aggregators killed twice mid-run', async () => {
      const r = await checkRun(file, expected, 2);
      expect(r.kills).toBe(2);
      console.log(`oracle with ${r.kills} kills: pipeline ${r.seconds.toFixed(1)} s`);
    }, 300_000);
  });
});
