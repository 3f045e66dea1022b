// The aggregate plugin in real topologies on the embedded transport: split, filter, project,
// aggregate (changelog + table), and config errors that point into the YAML.
import { startTestPipeline, type TestPipeline } from '@pcapflow/core/testkit';
import plugin, { queryLocal } from '../src';
import { wrapperPlugin } from './helpers/wrapper-plugin';

let use: string;
beforeAll(() => { use = JSON.stringify(wrapperPlugin()); });

const running = new Set<TestPipeline>();
afterEach(async () => { for (const p of [...running]) await p.stop().catch(() => undefined); running.clear(); });
async function start(yaml: string): Promise<TestPipeline> {
  const p = await startTestPipeline({ yaml, logLevel: process.env.AGG_LOG ? "info" : "silent" });
  running.add(p);
  return p;
}

const FRAMES = [
  { sa: 'aa:aa:aa:aa:aa:01', subtype: 4, ssid: 'home', signal_dbm: -40, ts: Date.UTC(2024, 0, 1, 10) },
  { sa: 'aa:aa:aa:aa:aa:01', subtype: 4, ssid: 'cafe', signal_dbm: -70, ts: Date.UTC(2024, 0, 1, 11) },
  { sa: 'aa:aa:aa:aa:aa:02', subtype: 8, ssid: 'home', signal_dbm: -50, ts: Date.UTC(2024, 0, 1, 12) },
  { sa: 'aa:aa:aa:aa:aa:02', subtype: 4, ssid: null, signal_dbm: -55, ts: Date.UTC(2024, 0, 2, 1) },
  { sa: 'aa:aa:aa:aa:aa:03', subtype: 27, ssid: null, signal_dbm: -80, ts: Date.UTC(2024, 0, 2, 2) },
];

test('the declaration names split routes as outputs', () => {
  expect(plugin.name).toBe('@pcapflow/aggregate');
  const cfg = plugin.config.parse({ op: 'split', routes: [{ name: 'probes', where: 'subtype == 4' }, { name: 'beacons', where: 'subtype == 8' }], otherwise: 'rest' });
  expect(plugin.dynamicOutputs!(cfg)).toEqual(['probes', 'beacons', 'rest']);
});

test('split routes records by predicate to their own subjects (first match, otherwise)', async () => {
  const p = await start(`
streams:
  IN: { subjects: ["in.>"], storage: memory }
  OUT: { subjects: ["out.>"], storage: memory }
instances:
  split:
    use: ${use}
    config:
      op: split
      routes:
        - { name: probe_req, where: "subtype == 4" }
        - { name: beacon, where: "subtype == 8" }
      otherwise: other
    inputs: { in: "in.frames" }
    outputs: { probe_req: "out.probe_req", beacon: "out.beacon", other: "out.other" }
`);
  const seen = p.collect('out.>');
  await p.feed('in.frames', FRAMES);
  await seen.waitFor(5);
  await p.drain();
  const bySubject = (s: string) => seen.records.filter((r) => r.$subject === s).map(({ $subject: _, ...r }) => r);
  // whole records, although the split decodes only `subtype` (Actor.inputFields)
  expect(bySubject('out.probe_req')).toEqual([FRAMES[0], FRAMES[1], FRAMES[3]]);
  expect(bySubject('out.beacon')).toEqual([FRAMES[2]]);
  expect(bySubject('out.other')).toEqual([FRAMES[4]]);
  expect(p.runtime.actors.find((a) => a.name === 'split')!.metrics().decoded_projected).toBeGreaterThan(0);
});

test('filter and project (select, compute, rename, drop) chain', async () => {
  const p = await start(`
streams:
  IN: { subjects: ["in.>"], storage: memory }
  MID: { subjects: ["mid.>"], storage: memory }
  OUT: { subjects: ["out.>"], storage: memory }
instances:
  strong:
    use: ${use}
    config: { op: filter, where: "signal_dbm > -60" }
    inputs: { in: "in.frames" }
    outputs: { out: "mid.strong" }
  label:
    use: ${use}
    config:
      op: project
      select: '*'
      compute: { device: "coalesce(ssid, sa)", day: "TIMESTAMPTOSTRING(ts, 'yyyy-MM-dd')" }
      rename: { signal_dbm: rssi }
      drop: [subtype]
    inputs: { in: "mid.strong" }
    outputs: { out: "out.labelled" }
`);
  const seen = p.collect('out.>');
  await p.feed('in.frames', FRAMES);
  await seen.waitFor(3);
  await p.drain();
  const got = seen.records.map(({ $subject: _s, ...r }) => r);
  expect(got).toEqual([
    { sa: 'aa:aa:aa:aa:aa:01', ssid: 'home', rssi: -40, ts: FRAMES[0].ts, device: 'home', day: '2024-01-01' },
    { sa: 'aa:aa:aa:aa:aa:02', ssid: 'home', rssi: -50, ts: FRAMES[2].ts, device: 'home', day: '2024-01-01' },
    { sa: 'aa:aa:aa:aa:aa:02', ssid: null, rssi: -55, ts: FRAMES[3].ts, device: 'aa:aa:aa:aa:aa:02', day: '2024-01-02' },
  ]);
});

test('aggregate: per-device statistics with a changelog and a queryable table', async () => {
  const p = await start(`
streams:
  IN: { subjects: ["in.>"], storage: memory }
  TAB: { subjects: ["tab.>"], storage: memory }
instances:
  stats:
    use: ${use}
    config:
      op: aggregate
      table: device_stats
      group_by: [sa]
      timestamp: ts
      aggregates:
        frames: COUNT(*)
        min_signal: MIN(signal_dbm)
        max_signal: MAX(signal_dbm)
        avg_signal: AVG(signal_dbm)
        ssids: COLLECT_SET(ssid)
        n_ssids: COUNT_DISTINCT(ssid)
        first_seen: EARLIEST(ts)
        last_seen: LATEST(ts)
    inputs: { in: "in.frames" }
    outputs: { changes: "tab.device_stats" }
`);
  const seen = p.collect('tab.>');
  await p.feed('in.frames', FRAMES.slice(0, 3));
  await p.feed('in.frames', FRAMES.slice(3));
  await p.drain();
  // Expected values computed by hand from FRAMES.
  const rows = (await queryLocal('device_stats', {}))!.rows.map(({ _key: _k, _table: _t, _final: _f, ...r }) => r);
  expect(rows).toEqual([
    { sa: 'aa:aa:aa:aa:aa:01', frames: 2, min_signal: -70, max_signal: -40, avg_signal: -55, ssids: ['home', 'cafe'], n_ssids: 2, first_seen: FRAMES[0].ts, last_seen: FRAMES[1].ts },
    { sa: 'aa:aa:aa:aa:aa:02', frames: 2, min_signal: -55, max_signal: -50, avg_signal: -52.5, ssids: ['home'], n_ssids: 1, first_seen: FRAMES[2].ts, last_seen: FRAMES[3].ts },
    { sa: 'aa:aa:aa:aa:aa:03', frames: 1, min_signal: -80, max_signal: -80, avg_signal: -80, ssids: [], n_ssids: 0, first_seen: FRAMES[4].ts, last_seen: FRAMES[4].ts },
  ]);
  // The changelog: the last change per key equals the table row.
  const last = new Map<string, Record<string, unknown>>();
  for (const r of seen.records) last.set(r._key as string, r);
  expect(last.size).toBe(3);
  expect(last.get(rows.length ? 'aa_3Aaa_3Aaa_3Aaa_3Aaa_3A02' : '')!.frames).toBe(2);
  expect(seen.records.every((r) => r._table === 'device_stats')).toBe(true);
});

test('aggregate: daily tumbling windows with emit final, grace and late records to the late output', async () => {
  const day = 86_400_000;
  const p = await start(`
streams:
  IN: { subjects: ["in.>"], storage: memory }
  TAB: { subjects: ["tab.>"], storage: memory }
instances:
  daily:
    use: ${use}
    config:
      op: aggregate
      table: daily_subtypes
      group_by: [subtype]
      window: { type: tumbling, size: 1d, grace: 1h, timestamp: ts }
      emit: final
      late: emit
      aggregates: { frames: COUNT(*), first: EARLIEST(ts), last: LATEST(ts), start: WINDOWSTART }
    inputs: { in: "in.frames" }
    outputs: { changes: "tab.daily", late: "tab.late" }
`);
  const seen = p.collect('tab.>');
  const t0 = Date.UTC(2024, 0, 1);
  await p.feed('in.frames', [{ subtype: 4, ts: t0 + 1000 }, { subtype: 4, ts: t0 + 2000 }, { subtype: 8, ts: t0 + 3000 }]);
  await p.feed('in.frames', [{ subtype: 4, ts: t0 + day + 2 * 3_600_000 }]); // watermark = day 2 01:00 → day 1 closes
  await p.feed('in.frames', [{ subtype: 8, ts: t0 + 5000 }]); // late: its window closed
  await p.drain();
  const finals = seen.records.filter((r) => r.$subject === 'tab.daily').map((r) => ({ subtype: r.subtype, frames: r.frames, first: r.first, last: r.last, start: r.start, ws: r.window_start, we: r.window_end, final: r._final }));
  expect(finals).toEqual([
    { subtype: 4, frames: 2, first: t0 + 1000, last: t0 + 2000, start: t0, ws: t0, we: t0 + day, final: true },
    { subtype: 8, frames: 1, first: t0 + 3000, last: t0 + 3000, start: t0, ws: t0, we: t0 + day, final: true },
  ]);
  expect(seen.records.filter((r) => r.$subject === 'tab.late').map((r) => r.ts)).toEqual([t0 + 5000]);
});

test('expression errors are reported at the YAML line with the column inside the expression', async () => {
  const yaml = `
streams:
  IN: { subjects: ["in.>"], storage: memory }
instances:
  stats:
    use: ${use}
    config:
      op: aggregate
      table: t1
      group_by: [sa]
      where: "signal_dbm > > 3"
      aggregates:
        n: COUNT(*)
        bad: MAX(signal_dbm +)
    inputs: { in: "in.frames" }
`;
  const err = await startTestPipeline({ yaml }).then(() => undefined, (e: Error) => e);
  expect(err).toBeDefined();
  const msg = err!.message;
  expect(msg).toMatch(/test-topology\.yaml:11:\d+: instances\.stats\.config\.where: .*column 14/);
  expect(msg).toMatch(/test-topology\.yaml:14:\d+: instances\.stats\.config\.aggregates\.bad: /);
});

test('a split route with a broken predicate and an unknown aggregate are config errors', () => {
  const r1 = plugin.config.safeParse({ op: 'split', routes: [{ name: 'a', where: "subtype ==" }] });
  expect(r1.success).toBe(false);
  expect(r1.error!.issues[0].path).toEqual(['routes', 0, 'where']);
  const r2 = plugin.config.safeParse({ op: 'aggregate', table: 't', group_by: ['x'], aggregates: { n: 'COUNTZ(*)' } });
  expect(r2.success).toBe(false);
  expect(r2.error!.issues[0].path).toEqual(['aggregates', 'n']);
  expect(r2.error!.issues[0].message).toMatch(/unknown aggregate function 'COUNTZ'/);
  const r3 = plugin.config.safeParse({ op: 'aggregate', table: 't', group_by: ['x'], aggregates: { s: 'COLLECT_SET(ssid, max=5)', h: 'HISTOGRAM(ch, maxx=3)' } });
  expect(r3.success).toBe(false);
  expect(r3.error!.issues[0].path).toEqual(['aggregates', 'h']);
});
