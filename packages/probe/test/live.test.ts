// The live source (libpcap through the optional `pcap` package) capturing real traffic on the
// loopback interface, under the real runtime (embedded transport and a real nats-server), checked
// against tshark capturing the same traffic at the same time: every frame once, same 5-tuples,
// flows, DNS names, timestamps to the µs and bytes; then against the probe's file source reading
// tshark's file; and kernel drops counted when the capture buffer overflows.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeValue, partitionOf } from '@pcapflow/core';
import { startNatsServer, startTestPipeline, type NatsServerHandle, type TestPipeline } from '@pcapflow/core/testkit';
import { readCapture, type Packet } from '../src';
import { PKG, wrapperPlugin } from './helpers/wrapper-plugin';

type Rec = Record<string, unknown> & { $subject: string };


/** Capture needs root or CAP_NET_RAW (bit 13 of the effective set). */
function hasCapNetRaw(): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m !== null && (BigInt('0x' + m[1]) & (1n << 13n)) !== 0n;
  } catch {
    return false;
  }
}
const isRoot = process.getuid?.() === 0;
/** The native addon must load, not just resolve. */
const pcapInstalled = (() => { try { createRequire(__filename)('pcap'); return true; } catch { return false; } })();
const canCapture = (isRoot || hasCapNetRaw()) && pcapInstalled;
const liveTest = canCapture ? test : test.skip;


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `cond` (generous: the machine is shared); `tick` runs before each check. */
async function until(what: string, cond: () => boolean, tick?: () => void, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    tick?.();
    if (cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

let nats: NatsServerHandle;
let pluginDir: string;
let seq = 0;
beforeAll(async () => {
  if (!canCapture) return;
  nats = await startNatsServer();
  pluginDir = wrapperPlugin();
});
afterAll(async () => { await nats?.stop(); });

/** Everything a test started is stopped, also when it fails. */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined); });

async function startPipeline(yaml: string, natsUrl?: string): Promise<TestPipeline> {
  const p = await startTestPipeline({ yaml, natsUrl });
  let stopped = false;
  const stop = p.stop.bind(p);
  p.stop = async () => { if (!stopped) { stopped = true; await stop(); } };
  cleanups.push(() => p.stop());
  return p;
}

function topology(prefix: string, source: Record<string, unknown>): string {
  return `
streams:
  ${prefix}_NET: { subjects: ["${prefix}.net.>"], storage: file }
instances:
  probe:
    use: ${JSON.stringify(pluginDir)}
    version: "^${PKG.version}"
    config: { source: ${JSON.stringify(source)}, keep_raw: true }
    outputs:
      wired: "${prefix}.net.packets.{kind}.p{flow_key%16}"
`;
}

/** Records of a stream from its start, through a fresh durable consumer, as they arrive. */
async function follow(p: TestPipeline, stream: string, filter: string): Promise<{ records: Rec[]; stop(): Promise<void> }> {
  const out: Rec[] = [];
  const sub = await p.transport.consume(
    { stream, durable: `check_${++seq}`, filterSubject: filter, maxAckPending: 1000, ackWaitMs: 30_000, maxDeliver: 1 },
    async (msg) => { for (const r of decodeValue<Record<string, unknown>[]>(msg.data)) out.push({ ...r, $subject: msg.subject }); msg.ack(); },
  );
  let stopped = false;
  const stop = async () => { if (!stopped) { stopped = true; await sub.stop(); } };
  cleanups.push(stop);
  return { records: out, stop };
}

function metrics(p: TestPipeline): Record<string, number> {
  return p.runtime.actors.find((x) => x.name === 'probe')!.health().metrics as Record<string, number>;
}

async function bindUdp(type: 'udp4' | 'udp6', address: string, port = 0): Promise<dgram.Socket> {
  const s = dgram.createSocket(type);
  await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind(port, address, () => { s.off('error', reject); resolve(); }); });
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}

const send = (s: dgram.Socket, data: Uint8Array, port: number, address: string) =>
  new Promise<void>((resolve, reject) => s.send(data, port, address, (e) => (e ? reject(e) : resolve())));

/** tshark capturing `filter` on lo into a pcap file, started before the probe; stopped with SIGINT (flushes the file). */
async function startTshark(filter: string): Promise<{ file: string; stop(): Promise<void> }> {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'pcapflow-live-ref-')), 'ref.pcap');
  const child: ChildProcess = spawn('tshark', ['-i', 'lo', '-f', filter, '-F', 'pcap', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => { gone = true; });
  child.once('error', (e) => { stderr += String(e); gone = true; });
  await until('tshark to start capturing', () => {
    if (gone) throw new Error(`tshark exited: ${stderr}`);
    return /Capturing on/.test(stderr);
  });
  const stop = async () => { if (!gone) child.kill('SIGINT'); await exited; };
  cleanups.push(stop);
  return { file, stop };
}

/**
 * Without a socket asking for receive timestamps, Linux stamps a packet separately in each
 * capture socket (two captures of one packet then differ by the delivery gap, often 1 µs); with
 * one (SO_TIMESTAMP, held here by a python3 child until its stdin closes), the packet is stamped
 * once on receipt and every capture reports that time, so the probe and tshark must agree exactly.
 */
async function holdKernelRxTimestamps(): Promise<void> {
  const child = spawn('python3', ['-c', [
    'import socket, sys',
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
    's.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_TIMESTAMP", 29), 1)',
    'print("ready", flush=True)',
    'sys.stdin.read()',
  ].join('\n')], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let gone = false;
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('close', () => { gone = true; resolve(); }));
  child.once('error', (e) => { out += `${String(e)} (python3 is needed to enable kernel receive timestamps)`; gone = true; });
  cleanups.push(async () => { child.stdin!.end(); await exited; });
  await until('the SO_TIMESTAMP holder', () => {
    if (gone) throw new Error(`python3 SO_TIMESTAMP holder failed: ${out}`);
    return out.includes('ready');
  });
}

/** The packets tshark wrote so far (it flushes per packet; a record cut mid-write is not returned). */
function referencePackets(file: string): Packet[] {
  if (!existsSync(file)) return [];
  const buf = new Uint8Array(readFileSync(file));
  return buf.length < 24 ? [] : [...readCapture(buf)];
}

/** Source and destination UDP ports of an Ethernet/IPv4|IPv6 frame as tshark wrote it. */
function udpPorts(pkt: Packet): [number, number] {
  const d = pkt.data;
  const et = (d[12]! << 8) | d[13]!;
  const off = 14 + (et === 0x0800 ? (d[14]! & 0xf) * 4 : 40);
  return [(d[off]! << 8) | d[off + 1]!, (d[off + 2]! << 8) | d[off + 3]!];
}

// DNS messages built here (not by the code under test): a query for NAME/A and its answer.
const DNS_NAME = 'live-check.pcapflow.example';
const DNS_ADDR = [192, 0, 2, 7];
function dnsQuery(id: number): Buffer {
  const qname = Buffer.concat([...DNS_NAME.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
  const header = Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD, 1 question
  return Buffer.concat([header, qname, Buffer.from([0, 1, 0, 1])]); // A, IN
}
function dnsResponse(query: Buffer): Buffer {
  const r = Buffer.from(query);
  r[2] = 0x81; r[3] = 0x80; // QR RD RA, rcode 0
  r[7] = 1; // 1 answer
  const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, ...DNS_ADDR]); // name → question, A IN ttl 3600
  return Buffer.concat([r, answer]);
}

/** One tshark -T ek document per frame of `file` (index lines dropped). */
function tsharkEk(file: string): Array<Record<string, string[]>> {
  const fields = ['frame.time_epoch', 'frame.len', 'frame.cap_len', 'eth.type', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst',
    'udp.srcport', 'udp.dstport', 'udp.stream', 'dns.id', 'dns.flags.response', 'dns.qry.name', 'dns.resp.name', 'dns.a'];
  const r = spawnSync('tshark', ['-n', '-r', file, '-T', 'ek', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' }, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tshark -r failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.startsWith('{"timestamp"')).map((l) => (JSON.parse(l) as { layers: Record<string, string[]> }).layers);
}

/** "1795426521.393854000" → µs since the epoch (exact: < 2^53). */
function epochMicros(s: string): number {
  const [sec, frac = ''] = s.split('.');
  return Number(sec) * 1e6 + Number(frac.padEnd(9, '0').slice(0, 6));
}

const one = (l: Record<string, string[]>, k: string) => l[k]?.[0];

describe.each([['embedded'], ['nats']])('live source on lo (%s transport)', (kind) => {
  const url = () => (kind === 'nats' ? nats.url : undefined);

  liveTest(`${canCapture ? '' : '[skipped: needs root or CAP_NET_RAW and the pcap package] '}UDP and DNS on lo: the records equal tshark's capture of the same traffic, and the file source's reading of it`, async () => {
    const pre = `lv${kind[0]}${++seq}x${Date.now() % 100000}`;
    // The test's traffic all goes to one free port; a separate socket sends sync datagrams until
    // both captures have seen one, so the test's own datagrams are seen by both from the first.
    const server = await bindUdp('udp4', '127.0.0.1');
    const port = server.address().port;
    const server6 = os.networkInterfaces().lo?.some((a) => a.address === '::1') ? await bindUdp('udp6', '::1', port) : undefined;
    const syncer = await bindUdp('udp4', '127.0.0.1');
    const syncPort = syncer.address().port;
    const client = await bindUdp('udp4', '127.0.0.1');
    const client6 = server6 ? await bindUdp('udp6', '::1') : undefined;
    // DNS is recognised by port 53 on one side: the resolver side sends from 53 on an address of
    // its own in 127/8 (free even where a local resolver listens on 127.0.0.1:53 or 127.0.0.53:53).
    const dnsAddr = `127.${10 + (process.pid % 200)}.${seq % 250}.${1 + (Date.now() % 250)}`;
    const dnsClient = await bindUdp('udp4', dnsAddr, 53);

    server.on('message', (msg, rinfo) => {
      if (rinfo.port === syncPort) return;
      const reply = rinfo.port === 53 ? dnsResponse(msg) : msg; // other datagrams are echoed
      server.send(reply, rinfo.port, rinfo.address);
    });
    server6?.on('message', (msg, rinfo) => server6.send(msg, rinfo.port, rinfo.address));

    const filter = `udp port ${port}`;
    await holdKernelRxTimestamps();
    const tshark = await startTshark(filter);
    const p = await startPipeline(topology(pre, { kind: 'live', interface: 'lo', filter, stats_interval: 100 }), url());
    const reader = await follow(p, `${pre}_NET`, `${pre}.net.>`);
    const recs = reader.records;
    const isSync = (r: Record<string, unknown>) => r.src_port === syncPort || r.dst_port === syncPort;

    let syncs = 0;
    await until('both captures to see a sync datagram',
      () => (metrics(p).frames_read ?? 0) > 0 && referencePackets(tshark.file).length > 0,
      () => { void send(syncer, Buffer.from(`sync ${++syncs}`), port, '127.0.0.1'); });
    const syncsSent = syncs;

    // The traffic: datagrams of several sizes (echoed), a DNS query and its answer, IPv6 if lo has ::1.
    const sizes = [0, 1, 200, 1472, 9000, 40_000];
    for (const n of sizes) await send(client, Buffer.alloc(n, n % 251), port, '127.0.0.1');
    await send(dnsClient, dnsQuery(0x5eed), port, '127.0.0.1');
    if (client6) await send(client6, Buffer.from('over ipv6'), port, '::1');
    const expected = sizes.length * 2 + 2 + (client6 ? 2 : 0);

    const refTest = () => referencePackets(tshark.file).filter((pkt) => !udpPorts(pkt).includes(syncPort));
    await until(`${expected} frames in both captures`, () => recs.filter((r) => !isSync(r)).length >= expected && refTest().length >= expected);
    await sleep(500); // anything extra (a duplicate) would show up in the counts below
    // all records emitted so far have arrived (the count of sync frames is the probe's own)
    await until('every emitted record', () => recs.length === metrics(p).emitted_wired);
    const m = metrics(p);
    await reader.stop();
    await p.stop();
    await tshark.stop();

    const ref = referencePackets(tshark.file);
    const refIdx = ref.map((pkt, i) => ({ pkt, i })).filter(({ pkt }) => !udpPorts(pkt).includes(syncPort));
    const live = recs.filter((r) => !isSync(r)).sort((a, b) => (a.frame as number) - (b.frame as number));

    // Same frames: count, bytes, timestamps to the µs, in the same order.
    expect(live).toHaveLength(expected);
    expect(refIdx).toHaveLength(expected);
    expect(new Set(recs.map((r) => r.frame)).size).toBe(recs.length);
    const ek = tsharkEk(tshark.file);
    expect(ek).toHaveLength(ref.length);
    live.forEach((r, k) => {
      const { pkt, i } = refIdx[k]!;
      const l = ek[i]!;
      const at = `frame ${k}`;
      expect([at, Buffer.from(r.raw as Uint8Array).equals(Buffer.from(pkt.data))]).toEqual([at, true]);
      expect([at, Math.round((r.ts as number) * 1000)]).toEqual([at, epochMicros(one(l, 'frame_time_epoch')!)]);
      expect([at, Math.round((r.ts as number) * 1000)]).toEqual([at, pkt.tsSec * 1e6 + Math.round(pkt.tsNsec / 1000)]);
      // 5-tuple and lengths as tshark dissects them
      expect([at, r.len, r.cap_len, r.ip_src, r.ip_dst, r.ip_proto, r.src_port, r.dst_port, r.udp_stream]).toEqual([at,
        Number(one(l, 'frame_len')), Number(one(l, 'frame_cap_len')), one(l, 'ip_src') ?? one(l, 'ipv6_src'), one(l, 'ip_dst') ?? one(l, 'ipv6_dst'),
        17, Number(one(l, 'udp_srcport')), Number(one(l, 'udp_dstport')), Number(one(l, 'udp_stream'))]);
      // DNS as tshark decodes it
      const dns = r.dns as { id: number; response: boolean; questions: Array<{ name: string }>; answers: Array<{ name: string; type: number; data: string }> } | null;
      if (l.dns_id) {
        expect([at, r.kind, dns?.id, dns?.response, dns?.questions.map((q) => q.name)]).toEqual([at, 'dns', parseInt(one(l, 'dns_id')!, 16), one(l, 'dns_flags_response') === '1', l.dns_qry_name]);
        expect([at, dns?.answers.map((a) => a.name), dns?.answers.filter((a) => a.type === 1).map((a) => a.data)]).toEqual([at, l.dns_resp_name ?? [], l.dns_a ?? []]);
      } else {
        expect([at, r.kind, dns]).toEqual([at, 'udp', null]);
      }
      expect(r.$subject).toBe(`${pre}.net.packets.${r.kind}.p${partitionOf(r.flow_key, 16)}`);
      expect(r.capture).toBe('lo');
      expect(r.src_mac).toBe('00:00:00:00:00:00');
      expect(r.malformed).toBe(false);
    });
    // What was sent is what was captured (independently of both decoders).
    const udpPayloads = live.filter((r) => r.kind === 'udp').map((r) => (r.len as number) - 14 - (r.ip_version === 4 ? 20 : 40) - 8);
    // (echoes interleave with the sends: compare as multisets)
    const byNumber = (a: number, b: number) => a - b;
    expect(udpPayloads.sort(byNumber)).toEqual([...sizes.flatMap((n) => [n, n]), ...(client6 ? [9, 9] : [])].sort(byNumber));
    const dnsRecs = live.filter((r) => r.kind === 'dns');
    expect(dnsRecs.map((r) => [r.ip_src, r.src_port, r.ip_dst, r.dst_port, (r.dns as { response: boolean }).response]))
      .toEqual([[dnsAddr, 53, '127.0.0.1', port, false], ['127.0.0.1', port, dnsAddr, 53, true]]);
    expect(dnsRecs.map((r) => (r.dns as { questions: Array<{ name: string }> }).questions[0]!.name)).toEqual([DNS_NAME, DNS_NAME]);
    expect((dnsRecs[1]!.dns as { answers: Array<{ data: string }> }).answers.map((a) => a.data)).toEqual([DNS_ADDR.join('.')]);
    // One flow key per tshark conversation (direction-independent), and per conversation one key.
    const keyOfStream = new Map<number, Set<unknown>>();
    const streamOfKey = new Map<unknown, Set<number>>();
    for (const r of live) {
      const s = r.udp_stream as number;
      (keyOfStream.get(s) ?? keyOfStream.set(s, new Set()).get(s)!).add(r.flow_key);
      (streamOfKey.get(r.flow_key) ?? streamOfKey.set(r.flow_key, new Set()).get(r.flow_key)!).add(s);
    }
    expect(keyOfStream.size).toBe(client6 ? 3 : 2);
    for (const k of [...keyOfStream.values(), ...streamOfKey.values()]) expect(k.size).toBe(1);

    // Counters: every frame read and decoded as Ethernet (lo's link type), no drops, nothing unsupported.
    const sync = recs.length - expected;
    expect(sync).toBeGreaterThan(0);
    expect(sync).toBeLessThanOrEqual(syncsSent);
    expect(m).toMatchObject({ frames_read: recs.length, decoded: recs.length, emitted_wired: recs.length, linktype_1: recs.length, malformed: 0, unsupported_linktype: 0, kernel_drops: 0 });

    // The probe's file source reading tshark's file gives the same records (frame numbers and
    // the capture name aside), so live and file capture are interchangeable downstream.
    const pre2 = `${pre}f`;
    const pf = await startPipeline(topology(pre2, { kind: 'file', path: tshark.file }), url());
    await pf.drain(60_000);
    const fileReader = await follow(pf, `${pre2}_NET`, `${pre2}.net.>`);
    const fileRecs = fileReader.records;
    await until('the file source\'s records', () => fileRecs.length >= ref.length);
    await fileReader.stop();
    await pf.stop();
    expect(fileRecs).toHaveLength(ref.length);
    const strip = (r: Rec) => {
      const { frame: _f, capture: _c, $subject, raw, ...rest } = r;
      return { ...rest, raw: Buffer.from(raw as Uint8Array).toString('hex'), subject: $subject.slice($subject.indexOf('.net.')) };
    };
    const fileTest = fileRecs.filter((r) => !isSync(r)).sort((a, b) => (a.frame as number) - (b.frame as number));
    expect(fileTest.map(strip)).toEqual(live.map(strip));
  });
});
