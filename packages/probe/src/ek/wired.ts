// tshark 4.0.17 `-T ek` "doc" lines for the wired reference modes of
// shared/tools/tshark-wired-reference.sh. Strings are built directly (no JSON.stringify of an
// object) so that field order is exactly the reference order and absent fields stay absent.

import type { WiredFrame } from '../wired/types';

function pad(n: number | string, w: number): string {
  const s = String(n);
  return s.length >= w ? s : '0'.repeat(w - s.length) + s;
}

/** ek "timestamp": seconds then milliseconds zero-padded to 3 digits (tshark prints 0 s as "0000"). */
export function ekTimestamp(f: WiredFrame): string {
  return f.tsSec + pad(Math.floor(f.tsNsec / 1e6), 3);
}

/** frame.time_epoch: seconds '.' nanoseconds (9 digits). */
export function ekEpoch(f: WiredFrame): string {
  return f.tsSec + '.' + pad(f.tsNsec, 9);
}

function arr(out: string[], name: string, vals: string[]): void {
  if (vals.length === 0) return;
  let s = '"' + name + '":[';
  for (let i = 0; i < vals.length; i++) s += (i ? ',' : '') + JSON.stringify(vals[i]);
  out.push(s + ']');
}

function head(f: WiredFrame): string[] {
  return [
    '"frame_number":["' + f.frameNumber + '"]',
    '"frame_time_epoch":["' + ekEpoch(f) + '"]',
  ];
}

function line(f: WiredFrame, parts: string[]): string {
  return '{"timestamp":"' + ekTimestamp(f) + '","layers":{' + parts.join(',') + '}}';
}

// Values below are digits or IP/MAC text: they never need JSON escaping, so they are concatenated
// directly (the flows line is produced for every frame and is on the hot path).
function numField(name: string, v: number): string {
  return '"' + name + '":["' + v + '"]';
}

function plainArr(name: string, vals: (string | number)[], n: number): string {
  let s = ',"' + name + '":["' + vals[0];
  for (let i = 1; i < n; i++) s += '","' + vals[i];
  return s + '"]';
}

const sSrc4: string[] = [], sDst4: string[] = [], sProto4: number[] = [];
const sSrc6: string[] = [], sDst6: string[] = [], sNxt6: number[] = [];
const sTsp: number[] = [], sTdp: number[] = [], sUsp: number[] = [], sUdp: number[] = [], sTs: number[] = [], sUs: number[] = [];

/** One `flows` line (every frame has one). */
export function formatEkFlows(f: WiredFrame): string {
  let s = '{"timestamp":"' + ekTimestamp(f) + '","layers":{' + numField('frame_number', f.frameNumber) +
    ',"frame_time_epoch":["' + ekEpoch(f) + '"],' + numField('frame_len', f.origLen) + ',' + numField('frame_cap_len', f.capLen);
  if (f.ieee8021adIds.length) s += plainArr('ieee8021ad_id', f.ieee8021adIds, f.ieee8021adIds.length);
  if (f.vlanIds.length) s += plainArr('vlan_id', f.vlanIds, f.vlanIds.length);
  let n4 = 0, n6 = 0, n4s = 0, n6s = 0;
  for (const x of f.ip) {
    if (x.version === 4) { sSrc4[n4] = x.src; sDst4[n4] = x.dst; sProto4[n4++] = x.proto; }
    else { sSrc6[n6] = x.src; sDst6[n6] = x.dst; sNxt6[n6++] = x.proto; }
  }
  n4s = n4; n6s = n6;
  let p4 = n4, p6 = n6;
  const part = f.ipPartial;
  if (part) {
    // innermost header cut short: its captured fields come last (it is the innermost layer)
    if (part.version === 4) { if (part.src !== undefined) sSrc4[n4s++] = part.src; sProto4[p4++] = part.proto; }
    else { if (part.src !== undefined) sSrc6[n6s++] = part.src; sNxt6[p6++] = part.proto; }
  }
  if (n4s) s += plainArr('ip_src', sSrc4, n4s);
  if (n4) s += plainArr('ip_dst', sDst4, n4);
  if (p4) s += plainArr('ip_proto', sProto4, p4);
  if (n6s) s += plainArr('ipv6_src', sSrc6, n6s);
  if (n6) s += plainArr('ipv6_dst', sDst6, n6);
  if (p6) s += plainArr('ipv6_nxt', sNxt6, p6);
  let nt = 0, nu = 0, nts = 0, nus = 0;
  for (const x of f.l4) {
    if (x.proto === 'tcp') { sTsp[nt] = x.srcPort; sTdp[nt++] = x.dstPort; if (x.stream !== undefined) sTs[nts++] = x.stream; }
    else { sUsp[nu] = x.srcPort; sUdp[nu++] = x.dstPort; if (x.stream !== undefined) sUs[nus++] = x.stream; }
  }
  if (nt) s += plainArr('tcp_srcport', sTsp, nt) + plainArr('tcp_dstport', sTdp, nt);
  if (nu) s += plainArr('udp_srcport', sUsp, nu) + plainArr('udp_dstport', sUdp, nu);
  if (nts) s += plainArr('tcp_stream', sTs, nts);
  if (nus) s += plainArr('udp_stream', sUs, nus);
  return s + '}}';
}

/** One `dns` line, or undefined when the frame carries no DNS response (filter dns.flags.response == 1). */
export function formatEkDns(f: WiredFrame): string | undefined {
  if (!f.dns.some((m) => m.response)) return undefined;
  const p = head(f);
  const id: string[] = [], rcode: string[] = [], qn: string[] = [], qt: string[] = [];
  const rn: string[] = [], rt: string[] = [], ttl: string[] = [], a: string[] = [], aaaa: string[] = [], cname: string[] = [];
  for (const m of f.dns) {
    id.push('0x' + pad(m.id.toString(16), 4));
    rcode.push(String(m.rcode));
    for (const q of m.questions) { qn.push(q.name); qt.push(String(q.type)); }
    for (const list of [m.answers, m.authority, m.additional]) {
      for (const r of list) {
        // SRV owner names are shown split (dns.srv.service/proto/name), not as dns.resp.name.
        if (r.type !== 33) rn.push(r.name);
        rt.push(String(r.type));
        if (r.bitmapTypes) for (const t of r.bitmapTypes) rt.push(String(t));
        if (r.ttl !== undefined) ttl.push(String(r.ttl));
        if (r.data !== undefined) {
          if (r.type === 1) a.push(r.data);
          else if (r.type === 28) aaaa.push(r.data);
          else if (r.type === 5) cname.push(r.data);
        }
      }
    }
  }
  arr(p, 'dns_id', id);
  arr(p, 'dns_flags_rcode', rcode);
  arr(p, 'dns_qry_name', qn);
  arr(p, 'dns_qry_type', qt);
  arr(p, 'dns_resp_name', rn);
  arr(p, 'dns_resp_type', rt);
  arr(p, 'dns_resp_ttl', ttl);
  arr(p, 'dns_a', a);
  arr(p, 'dns_aaaa', aaaa);
  arr(p, 'dns_cname', cname);
  return line(f, p);
}
