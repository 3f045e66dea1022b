// Wired decoding vs tshark 4.0.17 references (shared/captures/wired/*.dns.jsonl, *.flows.jsonl):
// every line, every field must be equal. Corpus missing => the test FAILS (never skips).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCapture } from '../src/capture/reader';
import { WiredDecoder, formatEkDns, formatEkFlows, toWiredRecord, flowKey, decodeWired } from '../src/wired';

const CORPUS = process.env.PCAPFLOW_CORPUS ?? path.resolve(__dirname, '../../../../shared/captures');
const WIRED = path.join(CORPUS, 'wired');

/**
 * Documented tshark discrepancies: `file -> frame -> field -> why`. Empty: none needed so far.
 * An entry here makes the comparison skip exactly that field of that line and nothing else.
 */
const TSHARK_EXCEPTIONS: Record<string, Record<number, Record<string, string>>> = {};

function captures(): string[] {
  if (!fs.existsSync(WIRED)) throw new Error(`wired corpus not found at ${WIRED} (set PCAPFLOW_CORPUS)`);
  return fs.readdirSync(WIRED).filter((n) => /\.(pcap|pcapng|cap)$/.test(n)).sort();
}

function refLines(file: string): string[] {
  const t = fs.readFileSync(file, 'utf8');
  return t.split('\n').filter((l) => l.length > 0);
}

interface Mismatch { file: string; frame: string; field: string; expected: unknown; actual: unknown }

function compareLines(file: string, kind: string, exp: string[], act: string[]): Mismatch[] {
  const out: Mismatch[] = [];
  const n = Math.max(exp.length, act.length);
  for (let i = 0; i < n; i++) {
    if (exp[i] === act[i]) continue;
    const e = exp[i] === undefined ? undefined : JSON.parse(exp[i]);
    const a = act[i] === undefined ? undefined : JSON.parse(act[i]);
    const frame = String(e?.layers?.frame_number?.[0] ?? a?.layers?.frame_number?.[0] ?? `line ${i + 1}`);
    const exc = TSHARK_EXCEPTIONS[file]?.[Number(frame)] ?? {};
    if (!e || !a) { out.push({ file: `${file} (${kind})`, frame, field: '<line>', expected: exp[i], actual: act[i] }); continue; }
    if (e.timestamp !== a.timestamp) out.push({ file: `${file} (${kind})`, frame, field: 'timestamp', expected: e.timestamp, actual: a.timestamp });
    const keys = new Set([...Object.keys(e.layers), ...Object.keys(a.layers)]);
    for (const k of keys) {
      if (exc[k]) continue;
      if (JSON.stringify(e.layers[k]) !== JSON.stringify(a.layers[k])) {
        out.push({ file: `${file} (${kind})`, frame, field: k, expected: e.layers[k], actual: a.layers[k] });
      }
    }
    if (Object.keys(exc).length === 0 && JSON.stringify(Object.keys(e.layers)) !== JSON.stringify(Object.keys(a.layers))) {
      out.push({ file: `${file} (${kind})`, frame, field: '<field order>', expected: Object.keys(e.layers), actual: Object.keys(a.layers) });
    }
  }
  return out;
}

function decodeFile(name: string): { flows: string[]; dns: string[]; malformed: number } {
  const buf = new Uint8Array(fs.readFileSync(path.join(WIRED, name)));
  const dec = new WiredDecoder();
  const flows: string[] = [], dns: string[] = [];
  for (const pkt of readCapture(buf)) {
    const f = dec.decode(pkt);
    flows.push(formatEkFlows(f));
    const d = formatEkDns(f);
    if (d !== undefined) dns.push(d);
  }
  return { flows, dns, malformed: dec.malformedCount };
}

describe('wired decode equals tshark 4.0.17 (-T ek)', () => {
  const files = captures();
  it('finds wired captures with references', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  for (const name of files) {
    const base = name.replace(/\.(pcap|pcapng|cap)$/, '');
    it(`${name}: flows + dns lines equal`, () => {
      const flowsRef = path.join(WIRED, base + '.flows.jsonl');
      const dnsRef = path.join(WIRED, base + '.dns.jsonl');
      const got = decodeFile(name);
      const mism: Mismatch[] = [];
      if (fs.existsSync(flowsRef)) mism.push(...compareLines(name, 'flows', refLines(flowsRef), got.flows));
      if (fs.existsSync(dnsRef)) mism.push(...compareLines(name, 'dns', refLines(dnsRef), got.dns));
      if (mism.length) {
        const msg = mism.slice(0, 30).map((m) => `${m.file} frame ${m.frame} ${m.field}: expected ${JSON.stringify(m.expected)} actual ${JSON.stringify(m.actual)}`).join('\n');
        throw new Error(`${mism.length} mismatches\n${msg}`);
      }
    });
  }
});

describe('comparison harness', () => {
  it('reports field-level mismatches (not vacuous)', () => {
    const e = ['{"timestamp":"1","layers":{"frame_number":["1"],"ip_src":["1.1.1.1"]}}'];
    const a = ['{"timestamp":"1","layers":{"frame_number":["1"],"ip_src":["1.1.1.2"]}}'];
    expect(compareLines('x', 'flows', e, a)).toEqual([{ file: 'x (flows)', frame: '1', field: 'ip_src', expected: ['1.1.1.1'], actual: ['1.1.1.2'] }]);
    expect(compareLines('x', 'flows', e, []).length).toBe(1);
  });
});

describe('flow key', () => {
  it('is direction independent (IPv4, IPv6, VLAN)', () => {
    expect(flowKey('tcp', '10.0.0.1', 1234, '10.0.0.2', 80)).toBe(flowKey('tcp', '10.0.0.2', 80, '10.0.0.1', 1234));
    expect(flowKey('udp', '2001:db8::1', 53, 'fe80::1', 5353, [10, 20])).toBe(flowKey('udp', 'fe80::1', 5353, '2001:db8::1', 53, [10, 20]));
    expect(flowKey('tcp', '10.0.0.1', 1, '10.0.0.2', 2)).not.toBe(flowKey('udp', '10.0.0.1', 1, '10.0.0.2', 2));
    expect(flowKey('tcp', '10.0.0.1', 1, '10.0.0.2', 2, [5])).not.toBe(flowKey('tcp', '10.0.0.1', 1, '10.0.0.2', 2, [6]));
  });
  it('both directions of every corpus flow map to one key and one stream', () => {
    const buf = new Uint8Array(fs.readFileSync(path.join(WIRED, 'zeek__wikipedia.pcap')));
    const dec = new WiredDecoder();
    const streamOfKey = new Map<string, Set<string>>();
    let bidir = 0;
    const dirs = new Map<string, Set<string>>();
    for (const pkt of readCapture(buf)) {
      const r = toWiredRecord(dec.decode(pkt));
      if (!r.flow_key) continue;
      const s = String(r.tcp_stream ?? r.udp_stream);
      if (!streamOfKey.has(r.flow_key)) streamOfKey.set(r.flow_key, new Set());
      streamOfKey.get(r.flow_key)!.add(s);
      if (!dirs.has(r.flow_key)) dirs.set(r.flow_key, new Set());
      dirs.get(r.flow_key)!.add(`${r.ip_src}:${r.src_port}`);
    }
    for (const [k, s] of streamOfKey) expect([k, s.size]).toEqual([k, 1]);
    for (const d of dirs.values()) if (d.size === 2) bidir++;
    expect(bidir).toBeGreaterThan(10);
  });
});

describe('wired record', () => {
  it('has snake_case fields with DNS answers', () => {
    const buf = new Uint8Array(fs.readFileSync(path.join(WIRED, 'zeek__pcapng-multi-interface.pcapng')));
    const pkts = [...readCapture(buf)];
    const dec = new WiredDecoder();
    const recs = pkts.map((p) => toWiredRecord(dec.decode(p)));
    const r = recs[1];
    expect(r).toMatchObject({ frame: 2, ip_src: '1.1.1.1', ip_dst: '172.17.0.2', ip_proto: 17, src_port: 53, dst_port: 36343, udp_stream: 0, tcp_stream: null, malformed: false });
    expect(r.dns?.id).toBe(0x4fe8);
    expect(r.dns?.answers.map((a) => [a.name, a.type, a.data])).toEqual([
      ['www.apple.com', 5, 'www-apple-com.v.aaplimg.com'],
      ['www-apple-com.v.aaplimg.com', 5, 'www.apple.com.edgekey.net'],
      ['www.apple.com.edgekey.net', 5, 'e6858.dsce9.akamaiedge.net'],
      ['e6858.dsce9.akamaiedge.net', 1, '23.194.101.24'],
    ]);
    expect(r.flow_key).toBe(recs[0].flow_key);
    // stateless decode of the same frame: same fields, no stream numbers
    const s = toWiredRecord(decodeWired(pkts[1], 2));
    expect(s.udp_stream).toBeNull();
    expect(s.dns?.answers.length).toBe(4);
  });
});
