/**
 * Micro-benchmark of the aggregation engine on the per-device statistics query:
 *
 *   SELECT sa, COUNT(*), EARLIEST(ts), LATEST(ts), MIN/MAX/AVG(signal), COLLECT_SET(ssid),
 *          COUNT_DISTINCT(ssid), COUNT_DISTINCT(da) FROM probes GROUP BY sa EMIT CHANGES
 *
 * over synthetic probe-request records: skewed device activity, ~4 preferred SSIDs per device
 * (30 % wildcard probes without SSID), 90 % broadcast DA and otherwise one of two APs per device.
 * Records are generated per 1000-record batch as fresh objects/strings (like a decoder); only
 * engine time is measured. Prints records/s for 200, 2000 and 20 000 active devices.
 *
 *   node dist/bench/engine-bench.js [--records N] [--devices D] [--runs R]
 *   (build first: npx tsc -b packages/aggregate; `npm run bench:engine -w @pcapflow/aggregate`)
 *
 * With --frames FILE, instead the two aggregations of examples/wifi-probes.yaml (daily_stats over
 * every frame, device_stats over the probe requests) on real decoded frames, fed as the aggregate
 * actor feeds them (addBatch per 1000-record message, then drainChanges + closeUpTo), each batch
 * packed and unpacked as the runtime's codec does (msgpackr records). Only engine time is measured;
 * the first --records N frames of FILE are read (decoded per batch, not timed):
 *
 *   pcapflow decode CAPTURE --format msgpack > /tmp/frames.msgpack   (CAPTURE e.g. from make-bench-pcap.mjs)
 *   node dist/bench/engine-bench.js --frames /tmp/frames.msgpack --records 500000 --runs 3
 */
import { createReadStream } from 'node:fs';
import { Packr, Unpackr, UnpackrStream } from 'msgpackr';
import { Aggregator, type AggregationSpec } from '../engine';
import { toAggregationSpec, type AggregateOpConfig } from '../runtime/aggspec';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const N = arg('records', 2_000_000);
const DEVICE_COUNTS = (() => {
  const i = process.argv.indexOf('--devices');
  return (i >= 0 ? process.argv[i + 1] : '200,2000,20000').split(',').map(Number);
})();
const RUNS = arg('runs', 3);
const BATCH = 1000;

// deterministic PRNG (mulberry32)
let seed = 42;
function rnd(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const hex = (n: number) => n.toString(16).padStart(2, '0');
const mac = (i: number) => `${hex(0x02 | ((i >> 24) & 0xfc))}:${hex((i >> 16) & 255)}:${hex((i >> 8) & 255)}:${hex(i & 255)}:${hex((i * 7) & 255)}:${hex((i * 13) & 255)}`;
const ssids = Array.from({ length: 500 }, (_, i) => `net-${i}`);
const das = ['ff:ff:ff:ff:ff:ff', ...Array.from({ length: 200 }, (_, i) => mac(1_000_000 + i))];
/** A fresh flat copy of a string, as a decoder (msgpackr) produces per record: its hash is not cached yet. */
const fresh = (s: string) => Buffer.from(s, 'latin1').toString('latin1');

/**
 * Generates records batch by batch, like a decoder would (fresh objects and strings per record;
 * nothing retained), so the heap stays small as in the real pipeline. Generation is not timed.
 */
class Source {
  private readonly macs: string[];
  private ts = 1_700_000_000_000;
  constructor(private readonly devices: number) {
    this.macs = Array.from({ length: devices }, (_, i) => mac(i + 1));
  }
  batch(n: number): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = new Array(n);
    for (let i = 0; i < n; i++) {
      // skewed device activity: a few devices send most frames
      const d = Math.floor(this.devices * rnd() * rnd());
      this.ts += Math.floor(rnd() * 3);
      const ssid = rnd() < 0.3 ? null : ssids[(d * 7 + Math.floor(rnd() * 4)) % ssids.length];
      out[i] = {
        ts: this.ts,
        sa: fresh(this.macs[d]),
        // probe requests are broadcast; some are directed at one of the device's known APs
        da: fresh(rnd() < 0.9 ? das[0] : das[1 + ((d * (rnd() < 0.5 ? 1 : 3)) % (das.length - 1))]),
        ssid: ssid === null ? null : fresh(ssid),
        signal: -30 - Math.floor(rnd() * 60),
        type_subtype: 4,
      };
    }
    return out;
  }
}

export const DEVICE_STATS: AggregationSpec = {
  groupBy: ['sa'],
  timestamp: 'ts',
  window: { type: 'none' },
  aggregates: [
    { name: 'frames', fn: 'COUNT' },
    { name: 'first_seen', fn: 'EARLIEST', arg: 'ts' },
    { name: 'last_seen', fn: 'LATEST', arg: 'ts' },
    { name: 'min_signal', fn: 'MIN', arg: 'signal' },
    { name: 'max_signal', fn: 'MAX', arg: 'signal' },
    { name: 'avg_signal', fn: 'AVG', arg: 'signal' },
    { name: 'ssids', fn: 'COLLECT_SET', arg: 'ssid' },
    { name: 'ssid_count', fn: 'COUNT_DISTINCT', arg: 'ssid' },
    { name: 'da_count', fn: 'COUNT_DISTINCT', arg: 'da' },
  ],
  emit: 'changes',
};

/** Feed N records in batches of BATCH (one message each); drain changes every `drainEvery` records. Only engine time is measured. */
function run(devices: number, spec: AggregationSpec, drainEvery: number): { rate: number; changes: number; groups: number } {
  seed = 42;
  const src = new Source(devices);
  const agg = new Aggregator(spec, { clock: () => 0 });
  let changes = 0;
  let ns = 0n;
  for (let i = 0; i < N; i += BATCH) {
    const recs = src.batch(Math.min(BATCH, N - i));
    const t0 = process.hrtime.bigint();
    for (let j = 0; j < recs.length; j++) agg.add(recs[j], i + j);
    const end = i + recs.length;
    if (end % drainEvery === 0 || end === N) {
      changes += agg.drainChanges().length;
      agg.closeUpTo();
    }
    ns += process.hrtime.bigint() - t0;
  }
  return { rate: N / (Number(ns) / 1e9), changes, groups: agg.metrics().groups };
}

/** The two aggregate instances of examples/wifi-probes.yaml, through the plugin's own config → spec mapping. */
const WIFI_DAILY = toAggregationSpec({
  op: 'aggregate', table: 'daily_subtype_stats', emit: 'changes', late: 'dead_letter', timestamp: 'ts',
  group_by: ["TIMESTAMPTOSTRING(ts, 'yyyy-MM-dd') AS day", 'type_subtype AS subtype', 'subtype_name'],
  aggregates: { frames: 'COUNT(*)', earliest: 'EARLIEST(ts)', latest: 'LATEST(ts)' },
} as AggregateOpConfig);
const WIFI_DEVICES = toAggregationSpec({
  op: 'aggregate', table: 'device_probe_stats', emit: 'changes', late: 'dead_letter', timestamp: 'ts',
  group_by: ['COALESCE(wps_device_name, sa_resolved) AS device'],
  aggregates: {
    probes: 'COUNT(*)', earliest: 'EARLIEST(ts)', latest: 'LATEST(ts)', min_signal: 'MIN(signal_dbm)', max_signal: 'MAX(signal_dbm)',
    avg_signal: 'AVG(signal_dbm)', ssids: 'COLLECT_SET(ssid, max=1000)', n_ssids: 'COUNT_DISTINCT(ssid)', n_destinations: 'COUNT_DISTINCT(da)',
  },
} as AggregateOpConfig);

/** One pass over the first N frames of `file`: records/s of each wifi-probes aggregation (engine time only). */
async function runWifi(file: string): Promise<{ daily: number; devices: number; dailyRecs: number; deviceRecs: number; dailyChanges: number; deviceChanges: number }> {
  const stages = [
    { agg: new Aggregator(WIFI_DAILY), batch: [] as Record<string, unknown>[], ns: 0n, recs: 0, changes: 0, seq: 0 },
    { agg: new Aggregator(WIFI_DEVICES), batch: [] as Record<string, unknown>[], ns: 0n, recs: 0, changes: 0, seq: 0 },
  ];
  // as the runtime's codec sends and receives a message (records with one shape per message)
  const packr = new Packr({ useRecords: true });
  const unpackr = new Unpackr({ useRecords: true });
  const feed = (st: (typeof stages)[number]) => {
    const records = unpackr.unpack(packr.pack(st.batch)) as Record<string, unknown>[];
    const t0 = process.hrtime.bigint();
    st.agg.addBatch(records, ++st.seq);
    st.changes += st.agg.drainChanges().length + st.agg.closeUpTo().length;
    st.ns += process.hrtime.bigint() - t0;
    st.recs += st.batch.length;
    st.batch = [];
  };
  const stream = createReadStream(file, { highWaterMark: 1 << 20 }).pipe(new UnpackrStream({ useRecords: false }));
  let n = 0;
  for await (const r of stream as AsyncIterable<Record<string, unknown>>) {
    stages[0].batch.push(r);
    if (stages[0].batch.length === BATCH) feed(stages[0]);
    // the split stage's probe_req route (type_subtype = 4), batched as its output
    if (r.type_subtype === 4) {
      stages[1].batch.push(r);
      if (stages[1].batch.length === BATCH) feed(stages[1]);
    }
    if (++n >= N) break;
  }
  stream.destroy();
  for (const st of stages) if (st.batch.length) feed(st);
  const rate = (st: (typeof stages)[number]) => st.recs / (Number(st.ns) / 1e9);
  return {
    daily: rate(stages[0]), devices: rate(stages[1]), dailyRecs: stages[0].recs, deviceRecs: stages[1].recs,
    dailyChanges: stages[0].changes, deviceChanges: stages[1].changes,
  };
}

async function mainWifi(file: string): Promise<void> {
  const daily: number[] = [], devices: number[] = [];
  let last: Awaited<ReturnType<typeof runWifi>> | undefined;
  for (let r = 0; r < RUNS; r++) {
    last = await runWifi(file);
    daily.push(last.daily);
    devices.push(last.devices);
  }
  const show = (xs: number[]) => {
    const s = xs.slice().sort((a, b) => a - b);
    return `median ${(s[Math.floor(s.length / 2)] / 1e6).toFixed(2)}M records/s (runs: ${xs.map((x) => (x / 1e6).toFixed(2)).join(', ')})`;
  };
  console.log(`daily_stats  (${last!.dailyRecs} frames, ${last!.dailyChanges} change rows): ${show(daily)}`);
  console.log(`device_stats (${last!.deviceRecs} probe requests, ${last!.deviceChanges} change rows): ${show(devices)}`);
}

function main(): void {
  const i = process.argv.indexOf('--frames');
  if (i >= 0) {
    void mainWifi(process.argv[i + 1]);
    return;
  }
  for (const devices of DEVICE_COUNTS) {
  console.log(`${N} records, ${devices} devices`);
  const daily: AggregationSpec = { ...DEVICE_STATS, window: { type: 'tumbling', size: '1d', grace: '1h' } };
  const variants: [string, AggregationSpec, number][] = [
    ['running totals, changes drained every 100k records', DEVICE_STATS, 100_000],
    ['running totals, changes drained every 1000-record batch', DEVICE_STATS, BATCH],
    ['tumbling 1 day, changes drained every 100k records', daily, 100_000],
  ];
  for (const [label, spec, every] of variants) {
    const rates: number[] = [];
    let last = { rate: 0, changes: 0, groups: 0 };
    for (let r = 0; r < RUNS; r++) {
      last = run(devices, spec, every);
      rates.push(last.rate);
    }
    rates.sort((a, b) => a - b);
    const med = rates[Math.floor(rates.length / 2)];
    console.log(`  ${label}: median ${(med / 1e6).toFixed(2)}M records/s (runs: ${rates.map((x) => (x / 1e6).toFixed(2)).join(', ')}; ${last.groups} groups, ${last.changes} change rows)`);
  }
  }
}

if (require.main === module) main();
