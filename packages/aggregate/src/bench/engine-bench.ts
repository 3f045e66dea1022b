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
 * actor feeds them (addBatch per 1000-record message, then drainChanges + closeUpTo, a commit per
 * message to an in-memory KV, the changelog records encoded), each batch packed and unpacked as the
 * runtime's codec does (msgpackr records). Engine, commit and changelog time are measured apart
 * (process CPU time; the KV server and the transport are not); the first --records N frames of FILE are read
 * (decoded per batch, not timed):
 *
 *   pcapflow decode CAPTURE --format msgpack > /tmp/frames.msgpack   (CAPTURE e.g. from make-bench-pcap.mjs)
 *   node dist/bench/engine-bench.js --frames /tmp/frames.msgpack --records 500000 --runs 3
 *
 * With --stage daily_stats|device_stats FILE, one of them as its actor runs it, commit and changelog
 * included, in CPU µs per record (see mainStage):
 *
 *   node --max-semi-space-size=64 dist/bench/engine-bench.js --stage device_stats /tmp/frames.msgpack --runs 5 [--group 2] [--changelog packed|msgpackr|alternate]
 */
import { createReadStream } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { Packr, Unpackr, UnpackrStream } from 'msgpackr';
import { partitionOf } from '@pcapflow/core';
// eslint-disable-next-line no-restricted-imports -- the bench encodes the changelog as the runtime does
import { encodeBatch as encodeRuntimeBatch } from '@pcapflow/core/runtime';
import { Aggregator, type AggregationSpec } from '../engine';
import { MemKv } from './mem-kv';
import { ChangelogPacker, changeRecord } from '../query/query';
import { toAggregationSpec, type AggregateOpConfig } from '../runtime/aggspec';
import { AppliedSeqs, TableStore } from '../runtime/state';

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
/** --stage: messages applied under one commit (the example's run groups about two) */
const GROUP = arg('group', 2);
/** --stage: how the changelog records are encoded (see mainStage) */
const CHANGELOG = (() => {
  const i = process.argv.indexOf('--changelog');
  return i >= 0 ? process.argv[i + 1] : 'packed';
})();

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
const WIFI_DAILY_CONFIG = {
  op: 'aggregate', table: 'daily_subtype_stats', emit: 'changes', late: 'dead_letter', timestamp: 'ts',
  group_by: ["TIMESTAMPTOSTRING(ts, 'yyyy-MM-dd') AS day", 'type_subtype AS subtype', 'subtype_name'],
  aggregates: { frames: 'COUNT(*)', earliest: 'EARLIEST(ts)', latest: 'LATEST(ts)' },
} as AggregateOpConfig;
const WIFI_DAILY = toAggregationSpec(WIFI_DAILY_CONFIG);
const WIFI_DEVICES_CONFIG = {
  op: 'aggregate', table: 'device_probe_stats', emit: 'changes', late: 'dead_letter', timestamp: 'ts',
  group_by: ['COALESCE(wps_device_name, sa_resolved) AS device'],
  aggregates: {
    probes: 'COUNT(*)', earliest: 'EARLIEST(ts)', latest: 'LATEST(ts)', min_signal: 'MIN(signal_dbm)', max_signal: 'MAX(signal_dbm)',
    avg_signal: 'AVG(signal_dbm)', ssids: 'COLLECT_SET(ssid, max=1000)', n_ssids: 'COUNT_DISTINCT(ssid)', n_destinations: 'COUNT_DISTINCT(da)',
  },
} as AggregateOpConfig;
const WIFI_DEVICES = toAggregationSpec(WIFI_DEVICES_CONFIG);

/** The first --records N frame records of a msgpack stream as `pcapflow decode --format msgpack` writes it. */
async function* framesOf(file: string): AsyncGenerator<Record<string, unknown>> {
  const stream = createReadStream(file, { highWaterMark: 1 << 20 }).pipe(new UnpackrStream({ useRecords: false }));
  let n = 0;
  try {
    for await (const r of stream as AsyncIterable<Record<string, unknown>>) {
      yield r;
      if (++n >= N) break;
    }
  } finally {
    stream.destroy();
  }
}

/** CPU time of the process (user + system, every thread: GC included) in ns: the machine is shared, wall time is not the cost. */
function cpuNs(): bigint {
  const u = process.cpuUsage();
  return BigInt(u.user + u.system) * 1000n;
}

interface WifiStage {
  name: string;
  table: string;
  agg: Aggregator;
  store: TableStore;
  applied: AppliedSeqs;
  batch: Record<string, unknown>[];
  /** ns in the engine (addBatch, drainChanges, closeUpTo), in commits, in changelog records + their encoding */
  engineNs: bigint;
  commitNs: bigint;
  changelogNs: bigint;
  recs: number;
  changes: number;
  seq: number;
}

type WifiResult = Pick<WifiStage, 'name' | 'engineNs' | 'commitNs' | 'changelogNs' | 'recs' | 'changes'> & { rowPuts: number; commits: number };

/**
 * One pass over the first N frames of `file` through each wifi-probes aggregation, fed as the aggregate
 * actor feeds it: addBatch per 1000-record message, drainChanges + closeUpTo, a commit to an in-memory
 * KV (TableStore: row encoding and slot bookkeeping, no server), and the changelog records
 * (changeRecord) encoded as the runtime's codec does. Each part is timed on its own.
 */
async function runWifi(file: string): Promise<WifiResult[]> {
  const stage = (name: string, table: string, spec: AggregationSpec): WifiStage => {
    const store = new TableStore(new MemKv('bench'), { table, partitions: 1, dedupeWindowMs: 600_000, dedupeMax: 100_000, replayEpochs: 0 });
    return { name, table, agg: new Aggregator(spec), store, applied: new AppliedSeqs(600_000, 100_000), batch: [], engineNs: 0n, commitNs: 0n, changelogNs: 0n, recs: 0, changes: 0, seq: 0 };
  };
  const stages = [stage('daily_stats', 'daily_subtype_stats', WIFI_DAILY), stage('device_stats', 'device_probe_stats', WIFI_DEVICES)];
  // as the runtime's codec sends and receives a message (records with one shape per message)
  const packr = new Packr({ useRecords: true });
  const unpackr = new Unpackr({ useRecords: true });
  const feed = async (st: WifiStage) => {
    const records = unpackr.unpack(packr.pack(st.batch)) as Record<string, unknown>[];
    const seq = ++st.seq;
    const t0 = cpuNs();
    st.agg.addBatch(records, seq);
    const changes = st.agg.drainChanges().concat(st.agg.closeUpTo());
    const t1 = cpuNs();
    st.applied.add('IN', seq, 0);
    await st.store.commit(st.agg, st.applied);
    const t2 = cpuNs();
    const out = changes.map((ch) => changeRecord(st.table, st.agg.groupNames, ch, true));
    // the runtime's encodeBatch for records without a packed form: msgpackr records
    for (let i = 0; i < out.length; i += BATCH) packr.pack(out.slice(i, i + BATCH));
    const t3 = cpuNs();
    st.engineNs += t1 - t0;
    st.commitNs += t2 - t1;
    st.changelogNs += t3 - t2;
    st.changes += changes.length;
    st.recs += st.batch.length;
    st.batch = [];
  };
  for await (const r of framesOf(file)) {
    stages[0].batch.push(r);
    if (stages[0].batch.length === BATCH) await feed(stages[0]);
    // the split stage's probe_req route (type_subtype = 4), batched as its output
    if (r.type_subtype === 4) {
      stages[1].batch.push(r);
      if (stages[1].batch.length === BATCH) await feed(stages[1]);
    }
  }
  for (const st of stages) if (st.batch.length) await feed(st);
  return stages.map((st) => ({
    name: st.name, engineNs: st.engineNs, commitNs: st.commitNs, changelogNs: st.changelogNs, recs: st.recs, changes: st.changes,
    rowPuts: st.store.rowPuts, commits: st.store.commits,
  }));
}

async function mainWifi(file: string): Promise<void> {
  const runs: WifiResult[][] = [];
  for (let r = 0; r < RUNS; r++) runs.push(await runWifi(file));
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const us = (ns: bigint, recs: number) => Number(ns) / 1e3 / recs;
  for (let s = 0; s < runs[0].length; s++) {
    const last = runs[runs.length - 1][s];
    const part = (f: (x: WifiResult) => bigint) => {
      const xs = runs.map((run) => us(f(run[s]), run[s].recs));
      return `${median(xs).toFixed(3)} (${xs.map((x) => x.toFixed(3)).join(', ')})`;
    };
    const total = runs.map((run) => run[s].recs / (Number(run[s].engineNs + run[s].commitNs + run[s].changelogNs) / 1e9));
    console.log(`${last.name} (${last.recs} records, ${last.changes} change rows, ${last.commits} commits, ${last.rowPuts} row puts): ` +
      `median ${(median(total) / 1e6).toFixed(2)}M records/s (runs: ${total.map((x) => (x / 1e6).toFixed(2)).join(', ')})`);
    console.log(`  µs per record: engine ${part((x) => x.engineNs)}; commit ${part((x) => x.commitNs)}; changelog ${part((x) => x.changelogNs)}`);
  }
}

/**
 * --stage device_stats|daily_stats FILE: one aggregate instance of examples/wifi-probes.yaml as its actor
 * runs it: each 1000-record message encoded up front as msgpackr records, then per message (decoded
 * untimed) the timed part: coldKeys → readRows → warm, addBatch, drain, a commit to an in-memory KV
 * with the example's max_rows, coolDown, and the changelog records packed (ChangelogPacker) and encoded as the runtime does. FILE is a msgpack stream of frame
 * records as `pcapflow decode --format msgpack` writes (the first --records N are read; device_stats
 * takes their probe requests). Prints process CPU µs per record (GC included) per run, and the GC
 * pause time per record.
 */
async function mainStage(stage: string, file: string): Promise<void> {
  const cfgs: Record<string, AggregateOpConfig> = {
    daily_stats: WIFI_DAILY_CONFIG, device_stats: WIFI_DEVICES_CONFIG,
  };
  const cfg = cfgs[stage];
  if (!cfg) throw new Error(`--stage: daily_stats or device_stats, got ${stage}`);
  const spec = toAggregationSpec(cfg);
  // as the runtime's codec sends and receives a message (records with one shape per message)
  const packr = new Packr({ useRecords: true });
  const unpackr = new Unpackr({ useRecords: true });
  const encodeBatch = (recs: Record<string, unknown>[]) => packr.pack(recs);
  const maxRows = stage === 'device_stats' ? 10_000 : undefined;
  const records: Record<string, unknown>[] = [];
  for await (const r of framesOf(file)) {
    // device_stats reads the split's probe_req route (type_subtype = 4)
    if (stage === 'daily_stats' || r.type_subtype === 4) records.push(r);
  }
  // messages as the example's subjects batch them: device_stats reads the split's probe_req output
  // (16 subjects by sa), daily_stats the probe's (by subtype name and sa), each batched to 1000 records
  const subject = stage === 'device_stats' ? (r: Record<string, unknown>) => `p${partitionOf(r.sa, 16)}` : (r: Record<string, unknown>) => `${String(r.subtype_name)}.p${partitionOf(r.sa, 16)}`;
  const pending = new Map<string, Record<string, unknown>[]>();
  const messages: Uint8Array[] = [];
  for (const r of records) {
    const p = subject(r);
    let b = pending.get(p);
    if (b === undefined) pending.set(p, (b = []));
    b.push(r);
    if (b.length === BATCH) messages.push(encodeBatch(b.splice(0)));
  }
  for (const b of pending.values()) if (b.length) messages.push(encodeBatch(b));
  records.length = 0;
  let gcMs = 0;
  const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) gcMs += e.duration; });
  obs.observe({ entryTypes: ['gc'] });
  for (let run = 0; run < RUNS; run++) {
    const store = new TableStore(new MemKv('bench'), { table: cfg.table, partitions: 1, dedupeWindowMs: 600_000, dedupeMax: 100_000, replayEpochs: 0, ...(maxRows ? { maxRows } : {}) });
    const agg = new Aggregator(spec, maxRows ? { maxRows } : {});
    const applied = new AppliedSeqs(600_000, 100_000);
    const packer = new ChangelogPacker(cfg.table, agg.groupNames, spec.aggregates.map((a) => a.name), agg.window.type !== 'none');
    let recs = 0, changes = 0, warmed = 0, addNs = 0n, commitNs = 0n, changelogNs = 0n, ns = 0n;
    // --changelog msgpackr: records without their packed form (the runtime packs them with msgpackr); alternate: run by run
    const packed = CHANGELOG === 'packed' || (CHANGELOG === 'alternate' && run % 2 === 1);
    const gc0 = gcMs;
    await new Promise((r) => setImmediate(r));
    for (let m = 0; m < messages.length; m++) {
      // decoded as the runtime decodes a message whose fields are not projected (not timed)
      const batch = unpackr.unpack(messages[m]) as Record<string, unknown>[];
      const t0 = cpuNs();
      if (agg.coldRows > 0) {
        const keys = agg.coldKeys(batch);
        if (keys.size) {
          agg.warm(keys, await store.readRows(keys.keys(), true));
          warmed += keys.size;
        }
      }
      const ta = cpuNs();
      agg.addBatch(batch, m + 1);
      applied.add('IN', m + 1, 0);
      recs += batch.length;
      addNs += cpuNs() - ta;
      // the actor applies the messages waiting in its mailbox under one commit
      if ((m + 1) % GROUP !== 0 && m + 1 < messages.length) {
        ns += cpuNs() - t0;
        continue;
      }
      const ch = agg.drainChanges();
      const closed = agg.closeUpTo();
      const all = closed.length ? ch.concat(closed) : ch;
      const tc = cpuNs();
      await store.commit(agg, applied);
      commitNs += cpuNs() - tc;
      const cooled = agg.coolDown();
      if (cooled.length) store.forget(cooled);
      // as the actor emits them (packed as they are made) and the runtime encodes them
      const tl = cpuNs();
      const out = all.map((c) => {
        const r = changeRecord(cfg.table, agg.groupNames, c, true);
        if (packed) packer.pack(r, c);
        return r;
      });
      for (let i = 0; i < out.length; i += BATCH) encodeRuntimeBatch(out.slice(i, i + BATCH));
      changelogNs += cpuNs() - tl;
      changes += all.length;
      ns += cpuNs() - t0;
    }
    await new Promise((r) => setImmediate(r));
    console.log(`${stage} run ${run + 1}: ${(Number(ns) / 1e3 / recs).toFixed(3)} µs CPU per record, of which addBatch ${(Number(addNs) / 1e3 / recs).toFixed(3)}, commit ${(Number(commitNs) / 1e3 / recs).toFixed(3)}, changelog ${(Number(changelogNs) / 1e3 / recs).toFixed(3)}${packed ? ' packed' : ' msgpackr'} (${recs} records, ${changes} changes, ${store.rowPuts} row puts, ${warmed} warmed; GC pauses ${((gcMs - gc0) / recs * 1e3).toFixed(3)} µs per record)`);
  }
  obs.disconnect();
}

function main(): void {
  const st = process.argv.indexOf('--stage');
  if (st >= 0) {
    void mainStage(process.argv[st + 1], process.argv[st + 2]);
    return;
  }
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
