// The probe plugin running in real topologies (embedded transport and a real nats-server):
// file, directory (rotating + growing files, restart with KV offsets), tshark-ek and live sources.
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeValue, partitionOf } from '@pcapflow/core';
import { startNatsServer, startTestPipeline, testActorContext, type NatsServerHandle, type TestPipeline } from '@pcapflow/core/testkit';
import plugin, { readCapture, decodeWifi, WifiDecoder, WiredDecoder, toWiredRecord } from '../src';
import { corpusPath, readReferenceLines, requireCorpus } from './helpers/corpus';
import { PKG, wrapperPlugin } from './helpers/wrapper-plugin';

type Rec = Record<string, unknown> & { $subject: string };



let nats: NatsServerHandle;
let pluginDir: string;
let seq = 0;
beforeAll(async () => {
  requireCorpus();
  nats = await startNatsServer();
  pluginDir = wrapperPlugin();
});
afterAll(async () => { await nats?.stop(); });

/** Pipelines still running when a test fails are stopped, so a failure never leaves a source polling. */
const running = new Set<TestPipeline>();
async function startPipeline(o: { yaml: string; natsUrl?: string }): Promise<TestPipeline> {
  const p = await startTestPipeline(o);
  const stop = p.stop.bind(p);
  p.stop = async () => { running.delete(p); await stop(); };
  running.add(p);
  return p;
}
afterEach(async () => { for (const p of [...running]) await p.stop().catch(() => undefined); });

function topology(prefix: string, source: Record<string, unknown>, extra = ''): string {
  return `
streams:
  ${prefix}_FRAMES: { subjects: ["${prefix}.wifi.>"], storage: file }
  ${prefix}_NET: { subjects: ["${prefix}.net.>"], storage: file }
instances:
  probe:
    use: ${JSON.stringify(pluginDir)}
    version: "^${PKG.version}"
    config: { source: ${JSON.stringify(source)}${extra} }
    outputs:
      frames: { subject: "${prefix}.wifi.frames.{subtype_name}.p{sa%16}", batch: 100 }
      wired: "${prefix}.net.packets.{kind}.p{flow_key%16}"
`;
}

/** Read records of a stream from the start through a fresh durable consumer until `n` arrived. */
async function readStream(p: TestPipeline, stream: string, filter: string, n: number, timeoutMs = 30_000): Promise<Rec[]> {
  const out: Rec[] = [];
  const sub = await p.transport.consume(
    { stream, durable: `check_${++seq}`, filterSubject: filter, maxAckPending: 1000, ackWaitMs: 30_000, maxDeliver: 1 },
    async (msg) => { for (const r of decodeValue<Record<string, unknown>[]>(msg.data)) out.push({ ...r, $subject: msg.subject }); msg.ack(); },
  );
  const deadline = Date.now() + timeoutMs;
  while (out.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await sub.stop();
  if (out.length < n) throw new Error(`expected ${n} records on ${filter}, got ${out.length}`);
  return out;
}

function metrics(p: TestPipeline): Record<string, number> {
  const a = p.runtime.actors.find((x) => x.name === 'probe')!;
  return a.health().metrics as Record<string, number>;
}

function key(r: Rec): string { return `${r.capture}#${r.frame}`; }

/** Per subject, the frames of one (capture, sa) arrive in capture order. */
function expectPerKeyOrder(records: Rec[]): void {
  const last = new Map<string, { frame: number; ts: number }>();
  for (const r of records) {
    const k = `${r.$subject}|${r.capture}|${r.sa}`;
    const prev = last.get(k);
    if (prev) expect(r.frame as number).toBeGreaterThan(prev.frame);
    last.set(k, { frame: r.frame as number, ts: r.ts as number });
  }
}

const wifiFile = (n: string) => corpusPath('wifi', n);
const refCount = (ref: string) => readReferenceLines(ref).length;

describe.each([['embedded'], ['nats']])('probe plugin on %s transport', (kind) => {
  const url = () => (kind === 'nats' ? nats.url : undefined);
  const prefix = () => `pr${kind[0]}${++seq}x${Date.now() % 100000}`;

  test('file source: every frame once, keyed subjects, per-key order, malformed counted, wired too', async () => {
    const pre = prefix();
    const files = [wifiFile('aircrack-ng__test1.pcap'), wifiFile('aircrack-ng__wpa.cap'), corpusPath('wired', 'zeek__wikipedia.pcap')];
    const p = await startPipeline({ yaml: topology(pre, { kind: 'file', path: files }), natsUrl: url() });
    await p.drain(60_000);
    const nWifi = refCount('aircrack-ng__test1.tshark.jsonl') + refCount('aircrack-ng__wpa.tshark.jsonl');
    const flowsRef = readFileSync(corpusPath('wired', 'zeek__wikipedia.flows.jsonl'), 'utf8').split('\n').filter(Boolean);
    const frames = await readStream(p, `${pre}_FRAMES`, `${pre}.wifi.>`, nWifi);
    const wired = await readStream(p, `${pre}_NET`, `${pre}.net.>`, flowsRef.length);
    const m = metrics(p);
    await p.stop();

    expect(frames).toHaveLength(nWifi);
    expect(new Set(frames.map(key)).size).toBe(nWifi);
    // Subjects keyed by subtype name and the source MAC's partition.
    for (const r of frames) expect(r.$subject).toBe(`${pre}.wifi.frames.${r.subtype_name ?? '_'}.p${partitionOf(r.sa, 16)}`);
    expectPerKeyOrder(frames);
    // Field values are tshark's.
    for (const [capture, ref] of [['aircrack-ng__test1.pcap', 'aircrack-ng__test1.tshark.jsonl'], ['aircrack-ng__wpa.cap', 'aircrack-ng__wpa.tshark.jsonl']]) {
      const lines = readReferenceLines(ref).map((l) => JSON.parse(l).layers as Record<string, string[]>);
      for (const r of frames.filter((x) => x.capture === capture)) {
        const l = lines[(r.frame as number) - 1]!;
        expect([r.frame, r.sa ?? undefined, r.type_subtype]).toEqual([r.frame, l.wlan_sa?.[0], l.wlan_fc_type_subtype ? parseInt(l.wlan_fc_type_subtype[0]!, 16) : null]);
      }
    }
    expect(frames.filter((r) => r.malformed).map(key)).toEqual(['aircrack-ng__wpa.cap#1']);
    expect(m.malformed).toBe(1);
    expect(m.frames_read).toBe(nWifi + flowsRef.length);
    expect(Object.entries(m).filter(([k]) => /^linktype_(105|127|119|163|192)$/.test(k)).reduce((a, [, v]) => a + v, 0)).toBe(nWifi);
    expect(m.linktype_1).toBe(flowsRef.length);
    expect(m.unsupported_linktype).toBe(0);
    expect(m.files_done).toBe(3);
    // Wired: one record per packet, DNS ones on the dns subject, flow keys partitioned.
    expect(wired).toHaveLength(flowsRef.length);
    for (const r of wired) expect(r.$subject).toBe(`${pre}.net.packets.${r.kind}.p${partitionOf(r.flow_key, 16)}`);
    const dnsFrames = readFileSync(corpusPath('wired', 'zeek__wikipedia.dns.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => Number(JSON.parse(l).layers.frame_number[0]));
    const dnsRecs = new Set(wired.filter((r) => r.kind === 'dns').map((r) => r.frame as number));
    for (const f of dnsFrames) expect(dnsRecs.has(f)).toBe(true);
  });

  test('directory source: rotating files and a growing file, every frame exactly once; restart resumes from KV', async () => {
    const pre = prefix();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-rotate-'));
    const yaml = topology(pre, { kind: 'directory', path: dir, pattern: '*.pcap', poll_interval: 30 }, ', malformed: emit');
    const a = readFileSync(wifiFile('aircrack-ng__test1.pcap'));
    const b = readFileSync(wifiFile('libwifi__probe_req.pcap'));
    const c = readFileSync(wifiFile('aircrack-ng__3.pcap'));
    const d = readFileSync(wifiFile('libwifi__beacons_with_221.pcap'));
    const nA = refCount('aircrack-ng__test1.tshark.jsonl');
    const nB = refCount('libwifi__probe_req.tshark.jsonl');
    const nC = refCount('aircrack-ng__3.tshark.jsonl');
    const nD = refCount('libwifi__beacons_with_221.tshark.jsonl');

    let p = await startPipeline({ yaml, natsUrl: url() });
    writeFileSync(path.join(dir, 'cap-0001.pcap'), a);
    // cap-0002 grows: header + part of a record, then the rest in two appends (cut mid-record)
    const cut1 = 24 + 40, cut2 = Math.floor(b.length / 2) + 3;
    writeFileSync(path.join(dir, 'cap-0002.pcap'), b.subarray(0, cut1));
    await readStream(p, `${pre}_FRAMES`, `${pre}.wifi.>`, nA);
    appendFileSync(path.join(dir, 'cap-0002.pcap'), b.subarray(cut1, cut2));
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(path.join(dir, 'cap-0002.pcap'), b.subarray(cut2));
    writeFileSync(path.join(dir, 'cap-0003.pcap'), c);
    writeFileSync(path.join(dir, 'notes.txt'), 'ignored: does not match the pattern');
    const first = await readStream(p, `${pre}_FRAMES`, `${pre}.wifi.>`, nA + nB + nC);
    // cap-0001 and cap-0002 are complete once newer files exist; cap-0003 (the newest) is still followed
    for (const deadline = Date.now() + 30_000; (metrics(p).files_done ?? 0) < 2 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    const m1 = metrics(p);
    expect(new Set(first.map(key)).size).toBe(nA + nB + nC);
    expect(first.filter((r) => r.capture === 'cap-0002.pcap').map((r) => r.frame)).toEqual(Array.from({ length: nB }, (_, i) => i + 1));
    expectPerKeyOrder(first);
    expect(m1.files_done).toBe(2);
    await p.stop();
    if (kind === 'embedded') return; // KV survives restarts only on NATS (embedded KV lives in the process)

    // Restart on the same NATS: nothing is re-emitted; a new file is picked up.
    p = await startPipeline({ yaml, natsUrl: url() });
    writeFileSync(path.join(dir, 'cap-0004.pcap'), d);
    const all = await readStream(p, `${pre}_FRAMES`, `${pre}.wifi.>`, nA + nB + nC + nD);
    // wait until the restarted probe has published all of cap-0004, then check nothing else came
    const deadline = Date.now() + 30_000;
    while ((metrics(p).emitted_frames ?? 0) < nD && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const m2 = metrics(p);
    await p.stop();
    expect(m2.emitted_frames).toBe(nD);
    expect(all).toHaveLength(nA + nB + nC + nD);
    expect(new Set(all.map(key)).size).toBe(nA + nB + nC + nD);
    expect(all.filter((r) => r.capture === 'cap-0004.pcap')).toHaveLength(nD);
  });

  test('tshark-ek source: reference lines (with index lines) become records equal to the decoder\'s', async () => {
    const pre = prefix();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-ek-'));
    const ref = readReferenceLines('aircrack-ng__test1.tshark.jsonl');
    const ekFile = path.join(dir, 'sensor.jsonl');
    writeFileSync(ekFile, ref.map((l) => `{"index":{"_index":"packets-2024-01-01","_type":"doc"}}\n${l}\n`).join('') + 'not json\n');
    const flowsFile = corpusPath('wired', 'zeek__wikipedia.flows.jsonl');
    const flows = readFileSync(flowsFile, 'utf8').split('\n').filter(Boolean);
    const yaml = topology(pre, { kind: 'tshark-ek', path: ekFile }, ', detail: full');
    const p = await startPipeline({ yaml, natsUrl: url() });
    await p.drain(60_000);
    const recs = await readStream(p, `${pre}_FRAMES`, `${pre}.wifi.>`, ref.length);
    const m = metrics(p);
    await p.stop();
    expect(m.frames_read).toBe(ref.length);
    expect(m.capture_errors).toBe(1); // the "not json" line, counted, not fatal
    const dec = new WifiDecoder();
    const pkts = [...readCapture(readFileSync(wifiFile('aircrack-ng__test1.pcap')))];
    const FIELDS = ['type_subtype', 'fc_type', 'channel', 'signal_dbm', 'duration_us', 'ra', 'ra_resolved', 'ta', 'ta_resolved', 'da', 'da_resolved', 'sa', 'sa_resolved', 'bssid', 'sta', 'ssid', 'ssid_hex', 'country', 'wps_device_name', 'sa_local'] as const;
    const byFrame = new Map(recs.map((r) => [r.frame as number, r]));
    pkts.forEach((pkt, i) => {
      const exp = decodeWifi(pkt, dec) as unknown as Record<string, unknown>;
      exp.sa_local = exp.sa ? (parseInt((exp.sa as string).slice(0, 2), 16) & 2) === 2 : null;
      const got = byFrame.get(i + 1)!;
      for (const f of FIELDS) expect([i + 1, f, got[f]]).toEqual([i + 1, f, exp[f]]);
      expect((got.vendor_ies as Array<{ oui: number }>).map((v) => v.oui)).toEqual((exp.vendor_ies as Array<{ oui: number }>).map((v) => v.oui));
      expect(got.ts).toBe(Math.floor(exp.ts as number));
    });

    // wired ek (flows) lines → wired records with the decoder's flow keys and stream numbers
    const pre2 = prefix();
    const p2 = await startPipeline({ yaml: topology(pre2, { kind: 'tshark-ek', path: flowsFile }), natsUrl: url() });
    await p2.drain(60_000);
    const wired = await readStream(p2, `${pre2}_NET`, `${pre2}.net.>`, flows.length);
    await p2.stop();
    const wdec = new WiredDecoder();
    const expected = [...readCapture(readFileSync(corpusPath('wired', 'zeek__wikipedia.pcap')))].map((pkt) => toWiredRecord(wdec.decode(pkt)));
    const got = new Map(wired.map((r) => [r.frame as number, r]));
    for (const e of expected) {
      const g = got.get(e.frame)!;
      expect([e.frame, g.ip_src, g.ip_dst, g.src_port, g.dst_port, g.flow_key, g.tcp_stream, g.udp_stream, g.len])
        .toEqual([e.frame, e.ip_src, e.ip_dst, e.src_port, e.dst_port, e.flow_key, e.tcp_stream, e.udp_stream, e.len]);
    }
  });
});

describe('live source errors', () => {
  const fakeCtx = () => testActorContext({ instance: 'probe', outputs: ['frames', 'wired'] }).ctx;
  const start = async (iface: string) => {
    const config = plugin.config.parse({ source: { kind: 'live', interface: iface, filter: 'udp port 53' } });
    const actor = await plugin.create(fakeCtx(), config);
    return actor.start!();
  };
  const isRoot = process.getuid?.() === 0;
  const pcapInstalled = (() => { try { require.resolve('pcap'); return true; } catch { return false; } })();

  test('an unknown interface is a PCAPFLOW_CAPTURE error listing the interfaces', async () => {
    await expect(start('pcapflow-nope0')).rejects.toMatchObject({
      code: 'PCAPFLOW_CAPTURE', message: expect.stringMatching(/no such network interface "pcapflow-nope0" \(interfaces: .*lo/),
    });
  });

  (isRoot ? test.skip : test)('without root/CAP_NET_RAW capture is refused with a hint', async () => {
    await expect(start('lo')).rejects.toMatchObject({ code: 'PCAPFLOW_CAPTURE', hint: expect.stringMatching(/setcap cap_net_raw/) });
  });

  (isRoot && !pcapInstalled ? test : test.skip)('as root without the pcap package: PCAPFLOW_DEPENDENCY_MISSING with the install hint', async () => {
    await expect(start('lo')).rejects.toMatchObject({ code: 'PCAPFLOW_DEPENDENCY_MISSING', hint: expect.stringMatching(/apt-get install libpcap-dev && npm install pcap/) });
  });
});
