/**
 * End-to-end benchmark of the original analysis (examples/wifi-probes.yaml):
 *
 *   capture file → probe → JetStream → split + daily subtype stats + per-device stats → KV tables → PostgreSQL
 *
 * on a generated capture (make-bench-pcap.mjs, 2M frames by default), all instances in this one
 * process on a private nats-server and PostgreSQL. Then, on a fresh nats-server, every instance alone
 * over what its input stream holds (where the time goes, per stage), and two ceilings measured in the
 * same run on the same servers: raw JetStream publish and consume of the probe's own messages, and a
 * PostgreSQL COPY of decoded-frame rows. Peak RSS of this process is reported when the probe has
 * published half and all of the frames, to show whether memory stays flat as the count grows.
 *
 *   npx tsc -b tsconfig.build.json && npm run bench -w @pcapflow/aggregate -- [--packets 2000000] [--pcap FILE]
 *        [--skip-stages] [--skip-ceilings] [--profile DIR] [--live-heap]
 *
 * --live-heap runs a full garbage collection at each RSS mark and prints the live JS heap (each costs a pause).
 * --profile DIR writes a CPU profile per stage (DIR/<stage>.cpuprofile; open in Chrome DevTools).
 *
 * Then (unless --skip-processes) the same pipeline placed on several hosts (three by default), one OS process each, on a
 * fresh nats-server, as `pcapflow run --host NAME` would run it: `--placement "a,b|c,d"` lists the
 * instances of each process (default DEFAULT_PLACEMENT; every instance not listed goes to the last).
 * The consuming processes are started first and the probe's last, as a deployment runs; extra node
 * flags for those processes go in BENCH_CHILD_NODE_ARGS (e.g. "--single-threaded-gc").
 *
 * Plugins are loaded by package name (their dist builds).
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as path from 'node:path';
import { startTestPipeline } from '@pcapflow/core/testkit';
import {
  cpuBetween, cpuSnapshot, createDatabase, exampleTopology, generateCapture, psql, runExample, runInstanceAlone, startServers, type PostgresLike,
} from './example-harness';
import { runInProcesses, type ProcessRunResult } from './multi-process';

const TARGET = 250_000;
const STAGES = ['probe', 'split', 'daily_stats', 'device_stats', 'pg_daily', 'pg_devices'] as const;
/**
 * Three processes (2026-11-23, 2M frames): {probe} + {split, daily_stats, pg_daily} + {device_stats,
 * pg_devices}. With two, {probe} + the rest, the second process's event loop was busy 78 % of the run
 * and bounded it; with three, each is busy 36–48 %. On that noisy machine the rates overlap (three:
 * 155k–250k, median 196k, 14 runs; two: 165k–247k, median 190k, 8 runs), so the choice rests on the
 * balance. `--placement` compares others.
 */
const DEFAULT_PLACEMENT = 'probe|split,daily_stats,pg_daily|device_stats,pg_devices';

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

/** @pcapflow/test-servers ships TypeScript sources (a private test package): load them through swc. */
function loadStartPostgres(): () => Promise<PostgresLike> {
  const req = createRequire(__filename);
  const exts = req.extensions as unknown as Record<string, (m: { _compile(code: string, file: string): void }, file: string) => void>;
  if (!exts['.ts']) {
    const swc = req('@swc/core') as { transformFileSync(f: string, o: unknown): { code: string } };
    exts['.ts'] = (m, file) => m._compile(swc.transformFileSync(file, {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' },
    }).code, file);
  }
  return (req('@pcapflow/test-servers') as { startPostgres(): Promise<PostgresLike> }).startPostgres;
}

const fmt = (n: number) => (!Number.isFinite(n) ? '–' : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));
const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Raw JetStream: consume the probe's messages from FRAMES (ack only), re-publish a sample of them into another stream. */
async function jetstreamCeiling(natsUrl: string, frames: number): Promise<{ consume: number; publish: number; msgBytes: number }> {
  const p = await startTestPipeline({ yaml: `streams:\n  CEIL: { subjects: ["ceil.>"], storage: file }\ninstances: {}\n`, natsUrl });
  try {
    const sample: Uint8Array[] = [];
    let msgs = 0;
    let bytes = 0;
    let t = performance.now();
    let settle!: () => void;
    const done = new Promise<void>((r) => { settle = r; });
    const expected = Math.ceil(frames / 1000);
    let idle: NodeJS.Timeout | undefined;
    const sub = await p.transport.consume({ stream: 'FRAMES', durable: 'ceiling', filterSubject: 'wifi.frames.>', maxAckPending: 256, ackWaitMs: 60_000, maxDeliver: 1 }, async (msg) => {
      msg.ack();
      msgs++;
      bytes += msg.data.length;
      if (sample.length < 200) sample.push(msg.data);
      // the stream holds ≥ frames/1000 messages (partial batches at subject switches): stop when no more come
      clearTimeout(idle);
      idle = setTimeout(settle, msgs >= expected ? 300 : 3000);
    });
    await done;
    const consumeMs = performance.now() - t - 300;
    await sub.stop();
    const consume = frames / (consumeMs / 1000);
    // publish: the same messages again (≥ 1M records), 64 in flight, as the runtime's publishers do
    const perMsg = frames / msgs;
    const n = Math.ceil(Math.min(frames, 1_000_000) / perMsg);
    t = performance.now();
    const inflight = new Set<Promise<unknown>>();
    for (let m = 0; m < n; m++) {
      const pr: Promise<unknown> = p.transport.publish(`ceil.p${m % 16}`, sample[m % sample.length]!).finally(() => inflight.delete(pr));
      inflight.add(pr);
      if (inflight.size >= 64) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    const publish = (n * perMsg) / ((performance.now() - t) / 1000);
    return { consume, publish, msgBytes: bytes / msgs };
  } finally {
    await p.stop();
  }
}

async function copyCeiling(pgUrl: string, rows: number): Promise<number> {
  await psql(pgUrl, 'CREATE TABLE bench_copy (ts double precision, type_subtype int, subtype_name text, sa_resolved text, signal_dbm double precision, ssid text, da text)');
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const mac = `02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    lines.push(`${1700000000000 + i}\t${i % 5 === 0 ? 4 : 8}\t${i % 5 === 0 ? 'probe_req' : 'beacon'}\t${mac}\t${-40 - (i % 50)}\tnet-${i % 97}\tff:ff:ff:ff:ff:ff`);
  }
  const data = lines.join('\n') + '\n';
  const t = performance.now();
  await psql(pgUrl, 'COPY bench_copy FROM STDIN', data);
  return rows / ((performance.now() - t) / 1000);
}

/** CPU profile of one async section through the inspector (only with --profile). */
async function profiled<T>(dir: string | undefined, name: string, f: () => Promise<T>): Promise<T> {
  if (!dir) return f();
  const s = new Session();
  s.connect();
  const post = (method: string, params?: object) => new Promise<unknown>((res, rej) => s.post(method, params ?? {}, (e, r) => (e ? rej(e) : res(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  try {
    return await f();
  } finally {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    s.disconnect();
  }
}

/** CPU seconds that processes of this command name used (0 when none ran). */
function cpuOf(c: ReturnType<typeof cpuBetween>, command: string): number {
  return c.byCommand.find(([k]) => k === command)?.[1] ?? 0;
}

/** Main-thread GC pause time from now until stop(), by kind (perf_hooks 'gc' entries), ms. */
function gcPauses(): { stop(): { minor: number; major: number } } {
  const t = { minor: 0, major: 0 };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) t.minor += e.duration; else t.major += e.duration;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return { stop: () => { obs.disconnect(); return t; } };
}

async function main(): Promise<void> {
  const profileDir = arg('profile');
  const packets = Number(arg('packets', '2000000'));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-agg-bench-'));
  const servers = await startServers(loadStartPostgres());
  try {
    let pcap = arg('pcap');
    if (!pcap) {
      pcap = path.join(tmp, 'bench.pcap');
      const t = performance.now();
      generateCapture(pcap, packets);
      console.log(`generated ${fmt(packets)} frames (${mb(statSync(pcap).size)}) in ${sec(performance.now() - t)}: ${pcap}`);
    }

    // ---- 1. the whole pipeline in this process
    const marks = [0.25, 0.5, 0.75, 1].map((f) => Math.floor(packets * f));
    const rssAt: Array<{ frames: number; rss: number; now: number; heap: number; heapTotal: number; buffers: number; live?: number }> = [];
    // --live-heap: a full collection at each mark, so the heap in use is what is live (costs a pause each)
    const fullGc = flag('live-heap') ? (v8.setFlagsFromString('--expose-gc'), runInNewContext('gc') as () => void) : undefined;
    let peak = process.memoryUsage().rss;
    const rssBefore = peak;
    const e2eDb = await createDatabase(servers.pgUrl, 'bench_e2e');
    const cpu0 = cpuSnapshot();
    const run = await profiled(profileDir, 'end-to-end', () => runExample({
      natsUrl: servers.natsUrl, capture: pcap!, pgUrl: e2eDb, yaml: exampleTopology(), timeoutMs: 3_600_000,
      onTick: ({ aggregated }) => {
        const m = process.memoryUsage();
        peak = Math.max(peak, m.rss);
        while (marks.length && aggregated >= marks[0]!) {
          const frames = marks.shift()!;
          let live: number | undefined;
          if (fullGc) { fullGc(); live = process.memoryUsage().heapUsed; }
          rssAt.push({ frames, rss: peak, now: m.rss, heap: m.heapUsed, heapTotal: m.heapTotal, buffers: m.arrayBuffers, ...(live !== undefined ? { live } : {}) });
        }
      },
    }));
    const e2eCpu = cpuBetween(cpu0, cpuSnapshot());
    peak = Math.max(peak, process.memoryUsage().rss);
    const [daily, devices] = (await psql(e2eDb, 'SELECT (SELECT count(*) FROM daily_subtype_stats), (SELECT count(*) FROM device_probe_stats)')).trim().split('|').map(Number);
    const e2e = run.frames / (run.activeMs / 1000);

    // ---- 1b. the same pipeline as one OS process per host (fresh server, fresh database)
    let multi: (ProcessRunResult & { placement: string[][]; daily: number; devices: number; cpu: ReturnType<typeof cpuBetween> }) | undefined;
    if (!flag('skip-processes')) {
      const groups = (arg('placement') ?? DEFAULT_PLACEMENT).split('|').map((g) => g.split(',').map((x) => x.trim()).filter(Boolean));
      const hostOf = (name: string) => { const i = groups.findIndex((g) => g.includes(name)); return `h${i >= 0 ? i : groups.length - 1}`; };
      await servers.restartNats();
      const db = await createDatabase(servers.pgUrl, 'bench_processes');
      const c0 = cpuSnapshot();
      const r = await runInProcesses({
        natsUrl: servers.natsUrl, yaml: exampleTopology({ hostOf }), hosts: groups.map((_, i) => `h${i}`), sourceHost: hostOf('probe'), env: { CAPTURE: pcap, PG_URL: db },
      });
      const [d, v] = (await psql(db, 'SELECT (SELECT count(*) FROM daily_subtype_stats), (SELECT count(*) FROM device_probe_stats)')).trim().split('|').map(Number);
      const placed = groups.map((_, i) => STAGES.filter((s) => hostOf(s) === `h${i}`));
      // node's CPU without the child processes' start-up (module loading, connecting: not per-frame work, and outside the measured run)
      const cpu = cpuBetween(c0, cpuSnapshot());
      const boot = Object.values(r.bootCpuMs).reduce((a, b) => a + b, 0) / 1000;
      cpu.byCommand = cpu.byCommand.map(([k, v]) => [k, k === 'node' ? Math.max(0, v - boot) : v]);
      multi = { ...r, placement: placed, daily: d!, devices: v!, cpu };
    }

    // ---- 2. each instance alone (fresh server; each consumes what the previous stages left in the streams)
    const stages: Array<{ name: string; ms: number; recordsIn: number; cpu: ReturnType<typeof cpuBetween>; gc: { minor: number; major: number } }> = [];
    if (!flag('skip-stages')) {
      await servers.restartNats();
      const db = await createDatabase(servers.pgUrl, 'bench_stages');
      const yaml = exampleTopology({ hostOf: (n) => n });
      for (const name of STAGES) {
        const c0 = cpuSnapshot();
        const gc = gcPauses();
        const r = await profiled(profileDir, name, () => runInstanceAlone({ natsUrl: servers.natsUrl, yaml, instance: name, capture: pcap!, pgUrl: db, timeoutMs: 3_600_000 }));
        stages.push({ name, ms: r.ms, recordsIn: name === 'probe' ? r.emitted : r.recordsIn, cpu: cpuBetween(c0, cpuSnapshot()), gc: gc.stop() });
      }
    }

    // ---- 3. ceilings, same servers, same run
    const ceilings = flag('skip-ceilings') || flag('skip-stages') ? undefined : {
      js: await jetstreamCeiling(servers.natsUrl, run.frames),
      copy: await copyCeiling(servers.pgUrl, Math.min(packets, 500_000)),
    };

    console.log('');
    console.log(`| what | time | rate | CPU µs per frame of the run: node / nats-server / postgres | GC pauses: scavenges / mark-compact |`);
    console.log(`|---|---|---|---|---|`);
    // The rate is the pipeline at work: from the probe starting to read the file to the last input
    // handled anywhere (the sinks' last write). The wall time besides it adds start-up (connections,
    // streams, consumers, KV buckets) and the harness's idle detection (polls until every queue is empty).
    console.log(`| **end to end**: file → probe → JetStream → split + daily + device stats → KV → PostgreSQL, one process (${fmt(run.frames)} frames), from the probe's start to the last row written | ${sec(run.activeMs)} | **${fmt(e2e)} frames/s** (target ${fmt(TARGET)}: ${e2e >= TARGET ? 'met' : 'not met'}) |`);
    console.log(`| … wall time with start-up and idle detection | ${sec(run.ms)} | ${fmt(run.frames / (run.ms / 1000))} frames/s |`);
    console.log(`| … of which the probe publishing every frame (acked) | ${sec(run.sourceMs)} | ${fmt(run.frames / (run.sourceMs / 1000))} frames/s |`);
    if (multi) {
      const rate = multi.frames / (multi.activeMs / 1000);
      console.log(`| **end to end, ${multi.placement.length} processes** (${multi.placement.map((g) => `{${g.join(', ')}}`).join(' + ')}; ${fmt(multi.frames)} frames), from the probe's start to the last row written | ${sec(multi.activeMs)} | **${fmt(rate)} frames/s** (${(rate / e2e).toFixed(2)}× one process; target ${fmt(TARGET)}: ${rate >= TARGET ? 'met' : 'not met'}) |`);
      console.log(`| … wall time with start-up and idle detection, ${multi.placement.length} processes | ${sec(multi.ms)} | ${fmt(multi.frames / (multi.ms / 1000))} frames/s |`);
    }
    for (const s of stages) {
      const what = s.name === 'probe' ? 'probe alone: file → decode → JetStream' : `${s.name} alone over its input stream (${fmt(s.recordsIn)} records in)`;
      // CPU per frame of the whole run (not per record in): the stages' figures add up to the pipeline's
      const us = (cmd: string) => (cpuOf(s.cpu, cmd) / run.frames * 1e6).toFixed(2);
      console.log(`| stage: ${what} | ${sec(s.ms)} | ${fmt(run.frames / (s.ms / 1000))} frames/s (${fmt(s.recordsIn / (s.ms / 1000))} records/s) | ${us('node')} / ${us('nats-server')} / ${us('postgres')} | ${s.gc.minor.toFixed(0)} / ${s.gc.major.toFixed(0)} ms |`);
    }
    if (stages.length) {
      const sum = stages.reduce((x, s) => x + s.ms, 0);
      const cpuSum = (cmd: string) => (stages.reduce((x, s) => x + cpuOf(s.cpu, cmd), 0) / run.frames * 1e6).toFixed(2);
      console.log(`| sum of the stages alone (what one CPU-bound process can at best overlap into) | ${sec(sum)} | ${fmt(run.frames / (sum / 1000))} frames/s | ${cpuSum('node')} / ${cpuSum('nats-server')} / ${cpuSum('postgres')} |`);
    }
    if (ceilings) {
      console.log(`| ceiling: raw JetStream consume + ack of the probe's messages (${fmt(ceilings.js.msgBytes)} B each, no decode) | | ${fmt(ceilings.js.consume)} frames/s |`);
      console.log(`| ceiling: raw JetStream publish of the same messages, 64 in flight | | ${fmt(ceilings.js.publish)} frames/s |`);
      console.log(`| ceiling: PostgreSQL COPY (psql, 7 columns of decoded-frame rows) | | ${fmt(ceilings.copy)} rows/s |`);
    }
    console.log('');
    // Where the machine's CPU went: with every core busy, the end-to-end rate is bounded by the CPU seconds per frame of all processes together.
    const cpuLine = (what: string, c: ReturnType<typeof cpuBetween>, frames: number) => {
      const used = c.byCommand.reduce((s, [, v]) => s + v, 0);
      console.log(`CPU, ${what}: ${c.byCommand.map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}; together ${used.toFixed(1)} s = ${(used / frames * 1e6).toFixed(1)} µs per frame; steal ${c.steal.toFixed(1)} s of ${c.wallCpu.toFixed(1)} s machine time`);
    };
    cpuLine('end to end, one process', e2eCpu, run.frames);
    if (multi) {
      cpuLine(`end to end, ${multi.placement.length} processes (node without their start-up)`, multi.cpu, multi.frames);
      // which process bounds the rate: one process cannot use more than one core's worth of its own thread
      console.log(`  node CPU by process: ${multi.placement.map((g, i) => `{${g.join(', ')}} ${((multi!.cpuMs[`h${i}`] ?? 0) / 1000).toFixed(1)} s (${((multi!.cpuMs[`h${i}`] ?? 0) / multi!.activeMs * 100).toFixed(0)} % of the run, ${fmt(multi!.waits[`h${i}`] ?? 0)} waits)`).join(', ')}; start-up of the ${multi.placement.length} processes ${(Object.values(multi.bootCpuMs).reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s, this driving process ${(multi.driverCpuMs / 1000).toFixed(1)} s`);
      console.log(`  last input handled, s after the probe's start: ${Object.entries(multi.doneAfterMs).sort((a, b) => a[1] - b[1]).map(([k, t]) => `${k} ${(t / 1000).toFixed(2)}`).join(', ')}`);
    }
    console.log(`tables: daily_subtype_stats ${daily} rows, device_probe_stats ${devices} rows; sink rows written (upserts) ${run.sinkRows}`);
    console.log(`RSS of this process (the whole pipeline), by frames aggregated (daily_stats reads every frame): before the run ${mb(rssBefore)}`);
    console.log(`| frames aggregated | ${rssAt.map((r) => fmt(r.frames)).join(' | ')} | end |`);
    console.log(`|---|${rssAt.map(() => '---|').join('')}---|`);
    console.log(`| peak RSS so far | ${rssAt.map((r) => mb(r.rss)).join(' | ')} | ${mb(peak)} |`);
    console.log(`| RSS at that moment | ${rssAt.map((r) => mb(r.now)).join(' | ')} | |`);
    console.log(`| JS heap in use / reserved | ${rssAt.map((r) => `${mb(r.heap)} / ${mb(r.heapTotal)}`).join(' | ')} | |`);
    console.log(`| ArrayBuffers (message buffers) | ${rssAt.map((r) => mb(r.buffers)).join(' | ')} | |`);
    if (fullGc) console.log(`| JS heap live (after a full GC) | ${rssAt.map((r) => mb(r.live ?? 0)).join(' | ')} | |`);
    const commits = (m: Record<string, number> | undefined) => `${m?.commits ?? 0} commits (${m?.row_puts ?? 0} row puts, ${m?.changes ?? 0} changes) for ${m?.handled ?? 0} messages`;
    const rows = (m: Record<string, number> | undefined) => `rows in memory ${m?.groups ?? 0}, in KV only ${m?.cold_rows ?? 0} (${m?.rows_to_kv ?? 0} sent to KV only, ${m?.rows_from_kv ?? 0} read back)`;
    // how many messages split and the sinks took, and in how many groups and database writes (linger's effect)
    const sinks = (m: Record<string, Record<string, number>>) => ['split', 'pg_daily', 'pg_devices'].map((n) => `${n} ${m[n]?.handled ?? 0} messages in ${m[n]?.handled_groups ?? 0} groups${m[n]?.writes !== undefined ? `, ${m[n]!.writes} writes` : `, ${m[n]?.emitted ?? 0} records out`}`).join('; ');
    console.log(`aggregate, one process: daily_stats ${commits(run.metrics.daily_stats)}; device_stats ${commits(run.metrics.device_stats)}, ${rows(run.metrics.device_stats)}`);
    console.log(`  ${sinks(run.metrics)}`);
    if (multi) {
      console.log(`${multi.placement.length} processes: tables daily_subtype_stats ${multi.daily} rows, device_probe_stats ${multi.devices} rows; peak RSS ${multi.placement.map((g, i) => `{${g.join(', ')}} ${mb(multi!.maxRss[`h${i}`] ?? 0)}`).join(', ')}`);
      console.log(`aggregate, ${multi.placement.length} processes: daily_stats ${commits(multi.metrics.daily_stats)}; device_stats ${commits(multi.metrics.device_stats)}, ${rows(multi.metrics.device_stats)}`);
      console.log(`  ${sinks(multi.metrics)}`);
    }
  } finally {
    await servers.stop().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
