/**
 * Probe benchmark: frames/s of tshark -T ek, `pcapflow decode --format ek`, the library decode
 * loop, the frame records the plugin publishes (in memory), and decode + JetStream publish through
 * the runtime, beside the raw ceiling: nats.js publishing the same bytes, already batched. The
 * nats-server shares the machine's cores, so its CPU time is printed with the publish rows.
 *
 *   npm run bench -w @pcapflow/probe -- [--pcap FILE] [--packets N] [--tshark-frames N] [--runs R] [--skip-tshark] [--skip-decode-cli] [--skip-publish]
 *
 * Rows with "fields: …" use the field selection of examples/wifi-probes.yaml (tshark's -e); the
 * in-memory rows also print the packed bytes per frame record.
 *
 * Without --pcap (or PCAPFLOW_BENCH_PCAP) the capture is made with shared/tools/make-bench-pcap.mjs
 * (--seed 1, default 1,000,000 packets) and cached in the temp directory. The shared directory is
 * PCAPFLOW_SHARED, else $PCAPFLOW_CORPUS/.., else ../shared next to the repository.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startNatsServer, startTestPipeline } from '@pcapflow/core/testkit';
import { encodeValue, partitionOf, subjectToken } from '@pcapflow/core';
import { CaptureParser, forEachPacket, STEP_PACKET, STEP_CONTINUE } from '../capture/reader';
import { EkSink, writeEkWifi } from '../ek/wifi';
import { getMacResolver } from '../oui';
import { WifiDecoder } from '../wifi/decoder';
import { toRecord } from '../wifi/record';
import { Counters, PacketProcessor } from '../source/processor';
import { DETAIL_GROUPS, packedValues, type DetailGroup } from '../wifi/pack';

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
const flag = (name: string) => argv.includes(`--${name}`);

const PKG_DIR = path.resolve(__dirname, '../..');
const REPO = path.resolve(PKG_DIR, '../..');
const SHARED = process.env.PCAPFLOW_SHARED ?? (process.env.PCAPFLOW_CORPUS ? path.resolve(process.env.PCAPFLOW_CORPUS, '..') : path.resolve(REPO, '../shared'));
const PACKETS = Number(opt('packets') ?? 1_000_000);
/** Frames tshark decodes (default: the whole capture; fewer = quicker, see step 1). */
const TSHARK_FRAMES = Number(opt('tshark-frames') ?? Infinity);
const RUNS = Number(opt('runs') ?? 3);

function log(s: string) { process.stderr.write(s + '\n'); }
const secs = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

function benchPcap(): string {
  const given = opt('pcap') ?? process.env.PCAPFLOW_BENCH_PCAP;
  if (given) return given;
  const f = path.join(os.tmpdir(), `pcapflow-probe-bench-${PACKETS}-seed1.pcap`);
  if (!existsSync(f)) {
    const tool = path.join(SHARED, 'tools/make-bench-pcap.mjs');
    log(`making ${f} with ${tool} (${PACKETS} packets)…`);
    // made under a temporary name and renamed: a concurrent bench never reads a half-written file
    const part = `${f}.${process.pid}.part`;
    const r = spawnSync(process.execPath, [tool, '--out', part, '--packets', String(PACKETS), '--seed', '1'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) { rmSync(part, { force: true }); throw new Error(`make-bench-pcap failed (set PCAPFLOW_SHARED or pass --pcap FILE)`); }
    renameSync(part, f);
  }
  return f;
}

/** First `n` frames of a capture as a new file (pcap or pcapng: header blocks kept). */
function prefixCapture(buf: Uint8Array, n: number, out: string): number {
  const p = new CaptureParser();
  let off = 0, frames = 0;
  for (;;) {
    const r = p.step(buf, off, buf.length);
    if (r === STEP_PACKET) { frames++; off = p.consumed; if (frames >= n) break; }
    else if (r === STEP_CONTINUE) off = p.consumed;
    else break;
  }
  writeFileSync(out, buf.subarray(0, off));
  return frames;
}

async function run(cmd: string, args: string[], stdoutFd: number | 'ignore'): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', stdoutFd, 'pipe'] });
    let err = '';
    c.stderr!.on('data', (d) => { err += d; });
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(0) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(0, 500)}`))));
  });
}

interface Row { what: string; frames: number; seconds: number; note?: string }

/** CPU seconds (user + system) a process has used so far, from /proc (undefined where there is none). */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100/s on Linux)
  } catch { return undefined; }
}

/** The nats-server listening on `port` (the testkit does not expose its pid). */
function natsServerPid(port: number): number | undefined {
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.includes('nats-server') && argv[argv.indexOf('-p') + 1] === String(port)) return Number(d);
    }
  } catch { /* no /proc */ }
  return undefined;
}

/** Frame records as the plugin builds them (decode + record + msgpack form), handed to `emit`. */
function runProcessor(buf: Uint8Array, capture: string, detail: readonly DetailGroup[], emit: (r: Record<string, unknown>) => void, fields?: readonly string[]): void {
  const counters = new Counters({ counter: () => ({ value: 0, inc() { /* not counted */ } }) });
  const proc = new PacketProcessor((_o, r) => emit(r), counters, { wifi: true, wired: true, keepRaw: false, malformed: 'emit', detail, fields: fields && { frames: fields } }).beginCapture(capture);
  forEachPacket(buf, (p, b) => proc.packet(b, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec));
}

/** The `fields: { frames: [...] }` list of examples/wifi-probes.yaml (the analysis' fields). */
function exampleFields(): string[] {
  const text = readFileSync(path.join(REPO, 'examples/wifi-probes.yaml'), 'utf8');
  const m = /\n\s+fields:\s*\n\s+frames:\s*\[([^\]]*)\]/.exec(text);
  if (!m) throw new Error('examples/wifi-probes.yaml has no `fields: { frames: [...] }` in its probe block');
  return m[1]!.split(',').map((f) => f.trim()).filter(Boolean);
}

const FIELDS = exampleFields();

async function main(): Promise<void> {
  const file = benchPcap();
  const buf = readFileSync(file);
  let total = 0;
  forEachPacket(buf, () => { total++; });
  log(`capture: ${file} (${total} frames, ${(buf.length / 1e6).toFixed(0)} MB)`);
  const rows: Row[] = [];
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-bench-'));
  const devnull = openSync('/dev/null', 'w');

  // 1. tshark -T ek with the reference fields. By default on the whole capture, the same work as
  // the rows below (tshark gets slower as a capture goes on: on the 1M-frame capture, frames
  // 20k..100k run at ~40k/s but the whole file at ~29k/s, so a prefix flatters it). With
  // --tshark-frames N < capture size (quicker), two prefixes are timed (N/5 and N frames): the
  // row "incl. start-up" is N frames in one run, and the "x tshark" baseline is the difference
  // of the two, i.e. without start-up.
  let tsharkBase: Row | undefined;
  if (!flag('skip-tshark')) {
    const script = path.join(SHARED, 'tools/tshark-reference.sh');
    const measure = async (n: number): Promise<{ frames: number; seconds: number; full: boolean }> => {
      const full = n >= total;
      const input = full ? file : path.join(tmp, `prefix-${n}.pcap`);
      const frames = full ? total : prefixCapture(buf, n, input);
      const t0 = process.hrtime.bigint();
      await run('bash', [script, input], devnull);
      return { frames, seconds: secs(t0), full };
    };
    try {
      if (TSHARK_FRAMES >= total) {
        log(`tshark: ${script} on the whole capture (${total} frames)…`);
        const all = await measure(total);
        tsharkBase = { what: 'tshark -T ek (tshark-reference.sh)', frames: all.frames, seconds: all.seconds, note: 'whole capture, start-up included; baseline of "x tshark"' };
        rows.push(tsharkBase);
      } else {
        log(`tshark: ${script} on ${Math.floor(TSHARK_FRAMES / 5)}- and ${TSHARK_FRAMES}-frame prefixes…`);
        const small = await measure(Math.floor(TSHARK_FRAMES / 5));
        const big = await measure(TSHARK_FRAMES);
        rows.push({ what: 'tshark -T ek (tshark-reference.sh), incl. start-up', frames: big.frames, seconds: big.seconds, note: `${big.frames}-frame prefix` });
        tsharkBase = { what: 'tshark -T ek (tshark-reference.sh), no start-up', frames: big.frames - small.frames, seconds: big.seconds - small.seconds,
          note: `frames ${small.frames + 1}..${big.frames}: (${big.seconds.toFixed(2)} - ${small.seconds.toFixed(2)}) s; baseline of "x tshark"` };
        rows.push(tsharkBase);
      }
    } catch (e) {
      log(`tshark not measured: ${(e as Error).message}`);
    }
  }

  // 2. pcapflow decode --format ek > /dev/null (the real CLI; decodeCommand in a child if the CLI lacks `decode`)
  if (!flag('skip-decode-cli')) {
    const cli = path.join(REPO, 'apps/cli/bin/pcapflow.js');
    let best = Infinity;
    let how = 'node apps/cli/bin/pcapflow.js decode F --format ek';
    for (let i = 0; i < RUNS; i++) {
      const t0 = process.hrtime.bigint();
      try {
        if (how.startsWith('node apps')) await run(process.execPath, [cli, 'decode', file, '--format', 'ek'], devnull);
        else await run(process.execPath, ['-e', `require(${JSON.stringify(PKG_DIR)}).decodeCommand({input:${JSON.stringify(file)},format:'ek',fields:'wifi',out:process.stdout,err:process.stderr}).then(c=>process.exitCode=c)`], devnull);
      } catch (e) {
        if (!how.startsWith('node apps')) throw e;
        log(`CLI decode failed (${(e as Error).message.split('\n')[0]}); measuring decodeCommand in a child process instead`);
        how = 'node -e decodeCommand(...) (CLI not wired)';
        i--;
        continue;
      }
      best = Math.min(best, secs(t0));
    }
    rows.push({ what: 'pcapflow decode --format ek > /dev/null', frames: total, seconds: best, note: `${how}, process start included, best of ${RUNS}` });
  }

  // 3. library decode loop alone, and with ek bytes / typed records
  getMacResolver();
  const loops: Array<[string, () => void]> = [
    ['library decode loop (WifiDecoder)', () => { const d = new WifiDecoder(); forEachPacket(buf, (p, b) => { d.decode(b, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec); }); }],
    ['library decode + ek bytes (writeEkWifi)', () => {
      const d = new WifiDecoder(); const sink = new EkSink();
      forEachPacket(buf, (p, b) => { writeEkWifi(d.decode(b, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec), sink); if (sink.pos > 1 << 20) sink.take(); });
    }],
    ['library decode + typed record (toRecord)', () => { const d = new WifiDecoder(); forEachPacket(buf, (p, b) => { toRecord(d.decode(b, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec)); }); }],
    ['decode + frame record with msgpack form (detail: basic)', () => { runProcessor(buf, path.basename(file), [], () => undefined); }],
    ['decode + frame record with msgpack form (detail: full)', () => { runProcessor(buf, path.basename(file), DETAIL_GROUPS, () => undefined); }],
    [`decode + frame record with msgpack form (fields: ${FIELDS.join(',')})`, () => { runProcessor(buf, path.basename(file), [], () => undefined, FIELDS); }],
  ];
  // packed bytes per frame record of each kind (one extra pass, not timed)
  const bytesPerFrame = (detail: readonly DetailGroup[], fields?: readonly string[]) => {
    let bytes = 0, n = 0;
    runProcessor(buf, path.basename(file), detail, (r) => { bytes += packedValues(r)!.length; n++; }, fields);
    return bytes / n;
  };
  const packedSize = new Map<string, number>([
    [loops[3]![0], bytesPerFrame([])], [loops[4]![0], bytesPerFrame(DETAIL_GROUPS)], [loops[5]![0], bytesPerFrame([], FIELDS)],
  ]);
  for (const [what, fn] of loops) {
    let best = Infinity;
    let cpu = Infinity;
    for (let i = 0; i < RUNS; i++) {
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      fn();
      best = Math.min(best, secs(t0));
      const c = process.cpuUsage(c0);
      cpu = Math.min(cpu, (c.user + c.system) / 1e6);
    }
    // CPU time beside wall time: on a shared machine the wall clock also counts other jobs
    const size = packedSize.get(what);
    rows.push({ what, frames: total, seconds: best, note: `in memory, best of ${RUNS}; CPU ${cpu.toFixed(2)} s (${(total / cpu / 1e3).toFixed(0)}k frames per CPU second, ${(cpu / total * 1e9).toFixed(0)} ns/frame)${size === undefined ? '' : `; ${size.toFixed(1)} B/frame packed`}` });
  }

  // 4. decode + JetStream publish
  if (!flag('skip-publish')) {
    const nats = await startNatsServer();
    const natsPid = natsServerPid(nats.port);
    const cpuNote = (node: NodeJS.CpuUsage, server0: number | undefined) => {
      const srv = server0 === undefined ? undefined : cpuSeconds(natsPid)! - server0;
      return `node CPU ${((node.user + node.system) / 1e6).toFixed(2)} s, nats-server CPU ${srv === undefined ? '?' : srv.toFixed(2)} s`;
    };
    try {
      // 4a. the runtime path: the probe plugin in a topology, file-storage stream, acked publishes
      // (a fresh stream each time); the default record (detail: basic) best of min(runs, 2), then detail: full once
      let run = 0;
      const topologyRun = async (detail: 'basic' | 'full', fields?: readonly string[]): Promise<Row> => {
        const id = run++;
        const yaml = `
streams:
  BENCH${id}: { subjects: ["bench${id}.>"], storage: file }
instances:
  probe:
    use: ${JSON.stringify(PKG_DIR)}
    config: { source: { kind: file, path: ${JSON.stringify(file)} }, detail: ${detail}${fields ? `, fields: { frames: ${JSON.stringify(fields)} }` : ''} }
    outputs:
      frames: { subject: "bench${id}.wifi.{subtype_name}.p{sa%16}", batch: 1000 }
      wired: "bench${id}.net.{kind}"
`;
        const t0 = process.hrtime.bigint();
        const c0 = process.cpuUsage();
        const s0 = cpuSeconds(natsPid);
        const p = await startTestPipeline({ yaml, natsUrl: nats.url });
        const actor = p.runtime.actors.find((a) => a.name === 'probe')!;
        while (!actor.finished) await new Promise((r) => setTimeout(r, 5));
        const s = secs(t0);
        const note = cpuNote(process.cpuUsage(c0), s0);
        const m = actor.health().metrics as Record<string, number>;
        await p.stop();
        return { what: `decode + JetStream publish (probe plugin in a topology, ${fields ? `fields: ${fields.join(',')}` : `detail: ${detail}`})`, frames: m.emitted_frames ?? total, seconds: s,
          note: `file stream, batches of 1000 per subject, acked; pipeline start to last ack; ${note}` };
      };
      let best: Row | undefined;
      const n = Math.min(RUNS, 2);
      for (let i = 0; i < n; i++) {
        const row = await topologyRun('basic');
        if (!best || row.seconds < best.seconds) best = row;
      }
      best!.note += `; best of ${n}`;
      rows.push(best!);
      rows.push(await topologyRun('full'));
      let bestFields: Row | undefined;
      for (let i = 0; i < n; i++) {
        const row = await topologyRun('basic', FIELDS);
        if (!bestFields || row.seconds < bestFields.seconds) bestFields = row;
      }
      bestFields!.note += `; best of ${n}`;
      rows.push(bestFields!);

      // 4b. the raw ceiling: the same records (detail: basic) batched per subject as the runtime
      // does, 1000 per message, encoded before the clock starts, then published through nats.js
      // (the runtime's transport) with message ids, 32 in flight (the runtime's limit)
      const messages: Array<[string, Uint8Array]> = [];
      const bySubject = new Map<string, Record<string, unknown>[]>();
      let frames = 0;
      runProcessor(buf, path.basename(file), [], (r) => {
        frames++;
        const subject = `raw.wifi.${subjectToken(r.subtype_name)}.p${partitionOf(r.sa, 16)}`;
        let list = bySubject.get(subject);
        if (!list) { list = []; bySubject.set(subject, list); }
        list.push(r);
        if (list.length === 1000) { messages.push([subject, encodeValue(list)]); bySubject.delete(subject); }
      });
      for (const [subject, list] of bySubject) messages.push([subject, encodeValue(list)]);
      const bytes = messages.reduce((a, m) => a + m[1].length, 0);
      let bestRaw: Row | undefined;
      for (let i = 0; i < n; i++) {
        const p2 = await startTestPipeline({ yaml: `streams:\n  RAW${i}: { subjects: ["raw${i}.>"], storage: file }\ninstances: {}\n`, natsUrl: nats.url });
        const t1 = process.hrtime.bigint();
        const c0 = process.cpuUsage();
        const s0 = cpuSeconds(natsPid);
        const inflight = new Set<Promise<unknown>>();
        let k = 0;
        for (const [subject, data] of messages) {
          const pr = p2.transport.publish(`raw${i}.${subject.slice(4)}`, data, { msgId: `raw.${i}.${k++}` }).finally(() => inflight.delete(pr));
          inflight.add(pr);
          if (inflight.size >= 32) await Promise.race(inflight);
        }
        await Promise.all(inflight);
        const s = secs(t1);
        const note = cpuNote(process.cpuUsage(c0), s0);
        await p2.stop();
        const row = { what: 'raw ceiling: nats.js publish of the same bytes, pre-batched (detail: basic)', frames, seconds: s,
          note: `${messages.length} messages, ${(bytes / 1e6).toFixed(0)} MB (${(bytes / frames).toFixed(0)} B/frame), ${(bytes / s / 1e6).toFixed(0)} MB/s, 32 in flight, acked; ${note}; best of ${n}` };
        if (!bestRaw || row.seconds < bestRaw.seconds) bestRaw = row;
      }
      rows.push(bestRaw!);
    } finally {
      await nats.stop();
    }
  }
  closeSync(devnull);
  rmSync(tmp, { recursive: true, force: true });

  const tsRate = tsharkBase ? tsharkBase.frames / tsharkBase.seconds : undefined;
  const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(1)}k`);
  const w = Math.max(...rows.map((r) => r.what.length));
  const lines = [
    `${'what'.padEnd(w)}  ${'frames'.padStart(9)}  ${'seconds'.padStart(8)}  ${'frames/s'.padStart(9)}  ${'x tshark'.padStart(8)}  note`,
    `${'-'.repeat(w)}  ${'-'.repeat(9)}  ${'-'.repeat(8)}  ${'-'.repeat(9)}  ${'-'.repeat(8)}  ----`,
  ];
  for (const r of rows) {
    const rate = r.frames / r.seconds;
    lines.push(`${r.what.padEnd(w)}  ${String(r.frames).padStart(9)}  ${r.seconds.toFixed(2).padStart(8)}  ${fmt(rate).padStart(9)}  ${(tsRate ? (rate / tsRate).toFixed(1) + 'x' : '-').padStart(8)}  ${r.note ?? ''}`);
  }
  lines.push('', 'targets (reported, not asserted): decode loop >= 100x tshark; decode --format ek >= 30x; decode + publish >= 500k frames/s');
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e) => { process.stderr.write(`probe-bench: ${(e as Error).stack ?? e}\n`); process.exit(1); });
