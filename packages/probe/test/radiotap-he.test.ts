// Radiotap HE / HE-MU / L-SIG / 0-length-PSDU / TLV (U-SIG, EHT) decoding compared with tshark
// 4.0.17 on synthetic frames (the corpus has no HE frame). The tshark comparisons are skipped,
// with a warning, only when tshark is not installed; CI installs it.
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { forEachPacket, newReaderCounters } from '../src/capture';
import { decodeCommand } from '../src/decode-command';
import { formatEkWifi } from '../src/ek/wifi';
import { WifiDecoder } from '../src/wifi/decoder';
import { ehtRate, heRate, PHY_11AX } from '../src/wifi/radio';
import {
  ackFrame, channel, dataFrame, heField, le16, le32, radiotap, rate, removeTemp, setLength, signal, tsharkEk,
  tsharkFields, tsharkVersion, writeTempPcap, type RtField, type TestPacket,
} from './helpers/radiotap';

const f = Math.fround;
const TSHARK = tsharkVersion();
if (!TSHARK) {
  console.warn('radiotap-he.test.ts: tshark is not installed: the comparisons with tshark are SKIPPED (CI installs tshark 4.0.17)');
}
const withTshark = TSHARK ? describe : describe.skip;

interface Decoded {
  ek: string;
  malformed: boolean;
  dataRate: number;
  phy: number;
  duration: number | null;
}

function decodeFile(file: string): Decoded[] {
  const dec = new WifiDecoder(undefined, true);
  const out: Decoded[] = [];
  forEachPacket(readFileSync(file), (p, buf) => {
    const fr = dec.decode(buf, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec);
    out.push({ ek: formatEkWifi(fr), malformed: fr.malformed, dataRate: fr.dataRate, phy: fr.phy, duration: fr.hasDuration ? fr.radioDuration : null });
  }, newReaderCounters());
  return out;
}

async function decodeCliEk(file: string): Promise<string[]> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  err.resume();
  const code = await decodeCommand({ input: file, format: 'ek', fields: 'wifi', out, err });
  expect(code).toBe(0);
  return Buffer.concat(chunks).toString('utf8').split('\n').filter((l) => l.length > 0);
}

/** tshark's float text ("720.6", "1201") as the float32 Wireshark holds; 0 when absent. */
const tsharkRate = (s: string): number => (s === '' ? 0 : f(parseFloat(s)));

describe('HE and EHT rate tables', () => {
  it('equal entries of Wireshark 4.0 he_ofdm_tab and he_mu_ofdma_tab', () => {
    // (NSTS, MCS, bandwidth/RU code, GI) -> the literal in packet-ieee80211-radio.c
    expect(heRate(1, 0, 0, 0)).toBe(f(8.6));
    expect(heRate(1, 0, 0, 2)).toBe(f(7.3));
    expect(heRate(2, 7, 2, 0)).toBe(f(720.6));
    expect(heRate(3, 6, 3, 2)).toBe(f(1653.8));
    expect(heRate(3, 10, 3, 2)).toBe(f(2756.3));
    expect(heRate(8, 11, 3, 0)).toBe(f(9607.8));
    expect(heRate(1, 0, 4, 0)).toBe(f(0.9)); // 26-tone RU
    expect(heRate(1, 0, 6, 0)).toBe(f(3.8)); // 106-tone RU, 3.75 rounds up
    expect(heRate(8, 11, 9, 0)).toBe(f(4803.9)); // 996-tone RU
  });

  it('are 0 outside the tables', () => {
    expect(heRate(0, 0, 0, 0)).toBe(0);
    expect(heRate(9, 0, 0, 0)).toBe(0);
    expect(heRate(1, 12, 0, 0)).toBe(0);
    expect(heRate(1, 0, 10, 0)).toBe(0); // 2x996-tone RU: no table entry
    expect(heRate(1, 0, 0, 3)).toBe(0);
  });

  it('give EHT rates up to MCS 13 and 320 MHz', () => {
    // 3920 data subcarriers at 320 MHz, 4096-QAM 5/6 = 10 bits, 13.6 µs symbol: 2882.35 Mb/s per stream
    expect(ehtRate(1, 13, 4, 0)).toBe(f(2882.4));
    expect(ehtRate(4, 13, 5, 0)).toBe(f(11529.4));
    expect(ehtRate(2, 11, 2, 1)).toBe(f(1134.3)); // 980 subcarriers, 1024-QAM 5/6, 14.4 µs
    expect(ehtRate(1, 12, 0, 2)).toBe(f(131.6)); // 234 × 9 / 16
    expect(ehtRate(1, 14, 0, 0)).toBe(0);
    expect(ehtRate(1, 0, 6, 0)).toBe(0);
    expect(ehtRate(0, 0, 0, 0)).toBe(0);
  });
});

withTshark(`radiotap HE/TLV decoding equals tshark ${TSHARK ?? '(not installed)'}`, () => {
  it('has the reference version', () => {
    expect(TSHARK).toBe('4.0.17');
  });

  it('HE data rate for every NSTS, MCS, bandwidth/RU and GI code (no duration)', () => {
    const packets: TestPacket[] = [];
    for (let nsts = 0; nsts < 16; nsts++) {
      for (let mcs = 0; mcs < 16; mcs++) {
        for (let bwru = 0; bwru < 16; bwru++) {
          for (let gi = 0; gi < 4; gi++) packets.push({ bytes: [...radiotap([channel(5180, 0x0140), heField({ mcs, bwru, gi, nsts })]), ...dataFrame(8)] });
        }
      }
    }
    // and with one of MCS / bandwidth / GI unknown
    packets.push({ bytes: [...radiotap([heField({ mcs: null, bwru: 2, gi: 0, nsts: 2 })]), ...dataFrame(8)] });
    packets.push({ bytes: [...radiotap([heField({ mcs: 7, bwru: null, gi: 0, nsts: 2 })]), ...dataFrame(8)] });
    packets.push({ bytes: [...radiotap([heField({ mcs: 7, bwru: 2, gi: null, nsts: 2 })]), ...dataFrame(8)] });
    const file = writeTempPcap('he-grid.pcap', 127, packets);
    const ref = tsharkFields(file, ['wlan_radio.phy', 'wlan_radio.data_rate', 'wlan_radio.duration']);
    const got = decodeFile(file);
    removeTemp(file);
    expect(got.length).toBe(packets.length);
    expect(ref.length).toBe(packets.length);
    const bad: string[] = [];
    got.forEach((g, i) => {
      const [phy, dataRate, duration] = ref[i];
      if (String(g.phy) !== phy || g.dataRate !== tsharkRate(dataRate) || (g.duration === null ? '' : String(g.duration)) !== duration) {
        bad.push(`frame ${i + 1}: tshark phy=${phy} rate=${dataRate} duration=${duration}; decoder phy=${g.phy} rate=${g.dataRate} duration=${g.duration}`);
      }
    });
    expect(bad.slice(0, 10)).toEqual([]);
    // the grid really exercised rates: every valid (NSTS 1..8, MCS 0..11, code 0..9, GI 0..2) entry
    expect(got.filter((g) => g.dataRate > 0).length).toBe(8 * 12 * 10 * 3);
    expect(got.every((g) => g.phy === PHY_11AX && g.duration === null)).toBe(true);
  });

  // Frames for the radiotap iterator paths touched by HE and TLVs. `eht` = our EHT rate; tshark
  // 4.0.17 shows U-SIG/EHT TLVs as unknown data and its rate is then `legacyRate` (from the Rate field).
  interface Case { name: string; pkt: TestPacket; eht?: number; legacyRate?: string }
  const chan = channel(5180, 0x0140);
  const sig = signal(-60);
  const zeros = (n: number): number[] => new Array<number>(n).fill(0);
  const usig = (bw: number): number[] => [...le32(0x00000002 | (bw << 15)), ...le32(0), ...le32(0)];
  const eht = (gi: number, mcs: number, nssField: number): number[] => {
    const data = zeros(36);
    data.splice(0, 4, ...le32(gi << 7));
    return [...le32(0x00000004), ...data, ...le32(0x00000012 | (mcs << 20) | (nssField << 24))];
  };
  const raw = (words: number[], body: number[]): number[] => setLength([0, 0, 0, 0, ...words.flatMap(le32), ...body]);
  const unknownTlvHeader = radiotap([chan, sig], [{ type: 34, bytes: zeros(8) }]);
  // data offset of that TLV + 4 + header length: what tshark reads for an unknown TLV
  const unknownNeed = unknownTlvHeader.length - 8 + 4 + unknownTlvHeader.length;
  const padTo = (b: number[], n: number): number[] => { const c = b.slice(0, n); while (c.length < n) c.push(0); return c; };
  const withExtra = (h: number[], extra: number[]): number[] => setLength([...h, ...extra]);
  const mu: RtField = { bit: 24, align: 2, bytes: zeros(12) };
  const lsig: RtField = { bit: 27, align: 2, bytes: [...le16(3), ...le16(0x0b | (100 << 4))] };

  const cases: Case[] = [
    { name: 'HE SU', pkt: { bytes: [...radiotap([chan, sig, heField({ mcs: 7, bwru: 2, gi: 0, nsts: 2 })]), ...dataFrame(100)] } },
    { name: 'HE + legacy rate field', pkt: { bytes: [...radiotap([rate(12), chan, sig, heField({ mcs: 7, bwru: 2, gi: 0, nsts: 2 })]), ...dataFrame(100)] } },
    { name: 'HE, 52-tone RU', pkt: { bytes: [...radiotap([chan, sig, heField({ mcs: 3, bwru: 5, gi: 1, nsts: 1 })]), ...dataFrame(100)] } },
    { name: 'HE-MU + HE-MU + L-SIG', pkt: { bytes: [...radiotap([chan, sig, heField({ format: 2, mcs: 9, bwru: 7, gi: 2, nsts: 4 }), mu, lsig]), ...dataFrame(100)] } },
    { name: 'HE with FCS flag', pkt: { bytes: [...radiotap([{ bit: 1, align: 1, bytes: [0x10] }, chan, sig, heField({ mcs: 1, bwru: 0, gi: 0, nsts: 1 })]), ...dataFrame(40), 1, 2, 3, 4] } },
    { name: 'HE-MU-other-user (bit 25, undefined size)', pkt: { bytes: [...radiotap([chan, sig, { bit: 25, align: 1, bytes: [1, 2, 3, 4] }]), ...dataFrame(100)] } },
    { name: '0-length PSDU + HE', pkt: { bytes: [...radiotap([chan, sig, heField({ mcs: 1, bwru: 0, gi: 0, nsts: 1 }), { bit: 26, align: 1, bytes: [0] }])] } },
    { name: 'HE as a TLV', pkt: { bytes: [...radiotap([chan, sig], [{ type: 23, bytes: heField({ mcs: 5, bwru: 1, gi: 2, nsts: 3 }).bytes }]), ...dataFrame(100)] } },
    { name: 'HE bit + U-SIG TLV', pkt: { bytes: [...radiotap([chan, sig, heField({ mcs: 2, bwru: 0, gi: 1, nsts: 1 })], [{ type: 33, bytes: usig(0) }]), ...dataFrame(80)] } },
    { name: 'channel and signal as TLVs', pkt: { bytes: [...radiotap([], [{ type: 3, bytes: [...le16(2437), ...le16(0x00a0)] }, { type: 5, bytes: [0xb0] }]), ...dataFrame(60)] } },
    { name: '0-length PSDU TLV', pkt: { bytes: [...radiotap([chan, sig], [{ type: 26, bytes: [0] }]), ...dataFrame(60)] } },
    { name: 'vendor-namespace TLV then HE TLV', pkt: { bytes: [...radiotap([chan, sig], [{ type: 30, bytes: [0, 0x11, 0x22, 1, 0, 0, 0, 0] }, { type: 23, bytes: heField({ mcs: 1, bwru: 0, gi: 0, nsts: 1 }).bytes }]), ...dataFrame(60)] } },
    { name: 'TLV area with 2 stray bytes', pkt: { bytes: [...withExtra(radiotap([chan, sig], [{ type: 23, bytes: heField({ mcs: 5, bwru: 1, gi: 2, nsts: 3 }).bytes }]), [0xaa, 0xbb]), ...dataFrame(60)] } },
    { name: 'TLV area with 1 stray byte', pkt: { bytes: [...withExtra(radiotap([chan, sig], [{ type: 23, bytes: heField({ mcs: 5, bwru: 1, gi: 2, nsts: 3 }).bytes }]), [0xaa]), ...dataFrame(60)] } },
    { name: 'TLV longer than the header', pkt: { bytes: [...radiotap([chan, sig], [{ type: 23, bytes: heField({ mcs: 5, bwru: 1, gi: 2, nsts: 3 }).bytes, len: 40 }]), ...dataFrame(60)] } },
    { name: 'short HE TLV reads on', pkt: { bytes: [...radiotap([chan, sig], [{ type: 23, bytes: [0x20, 0x40] }]), ...dataFrame(60)] } },
    { name: 'last TLV without padding', pkt: { bytes: [...radiotap([chan, sig], [{ type: 5, bytes: [0xb0], noPad: true }]), ...dataFrame(60)] } },
    { name: 'TLV bit with EXT in a later word', pkt: { bytes: [...raw([0x80000028, 0x90000000, 0], [...le16(5180), ...le16(0x140), 0xc4, 0, 0, 0]), ...dataFrame(60)] } },
    { name: 'unknown TLV, frame 1 byte short of the unknown-TLV item', pkt: { bytes: padTo([...unknownTlvHeader, ...ackFrame()], unknownNeed - 1) } },
    { name: 'unknown TLV, frame just long enough', pkt: { bytes: padTo([...unknownTlvHeader, ...ackFrame()], unknownNeed) } },
    { name: 'unknown TLV, captured 1 byte short, reported longer', pkt: { bytes: padTo([...unknownTlvHeader, ...ackFrame()], unknownNeed + 10), capLen: unknownNeed - 1 } },
    { name: 'RTS-retries TLV (no case in the switch)', pkt: { bytes: [...radiotap([chan, sig], [{ type: 16, bytes: [1] }]), ...ackFrame()] } },
    { name: 'U-SIG + EHT, 320 MHz MCS 13 2 streams', pkt: { bytes: [...radiotap([chan, sig], [{ type: 33, bytes: usig(4) }, { type: 34, bytes: eht(0, 13, 1) }]), ...dataFrame(200)] }, eht: 2 * 3920 * 10 / 13.6 },
    { name: 'U-SIG + EHT + legacy rate field (11a duration)', pkt: { bytes: [...radiotap([rate(12), chan, sig], [{ type: 33, bytes: usig(2) }, { type: 34, bytes: eht(1, 11, 1) }]), ...dataFrame(200)] }, eht: 2 * 980 * (25 / 3) / 14.4, legacyRate: '6' },
    { name: 'U-SIG + EHT in a short frame (tshark 4.0.17 exception)', pkt: { bytes: [...radiotap([chan, sig], [{ type: 33, bytes: usig(4) }, { type: 34, bytes: eht(0, 13, 1) }]), ...ackFrame()] } },
  ];

  it('iterator cases: ek lines, malformed flags and data rates', async () => {
    const file = writeTempPcap('he-cases.pcap', 127, cases.map((c) => c.pkt));
    const refEk = tsharkEk(file);
    const ref = tsharkFields(file, ['_ws.malformed', 'wlan_radio.phy', 'wlan_radio.data_rate']);
    const got = decodeFile(file);
    const cli = await decodeCliEk(file);
    removeTemp(file);
    expect(refEk.length).toBe(cases.length);
    expect(cli).toEqual(got.map((g) => g.ek));
    const bad: string[] = [];
    cases.forEach((c, i) => {
      const g = got[i];
      const [malformed, phy, dataRate] = ref[i];
      if (g.ek !== refEk[i]) bad.push(`${c.name}: ek\n  tshark  ${refEk[i]}\n  decoder ${g.ek}`);
      if (g.malformed !== (malformed !== '')) bad.push(`${c.name}: malformed tshark=${malformed !== ''} decoder=${g.malformed}`);
      if (c.eht === undefined) {
        if (g.dataRate !== tsharkRate(dataRate)) bad.push(`${c.name}: data rate tshark=${dataRate} decoder=${g.dataRate}`);
        if (phy !== '' && String(g.phy) !== phy) bad.push(`${c.name}: phy tshark=${phy} decoder=${g.phy}`);
      } else {
        if (dataRate !== (c.legacyRate ?? '')) bad.push(`${c.name}: tshark rate ${dataRate}, expected ${c.legacyRate ?? 'none'}`);
        if (g.dataRate !== f(Math.round(c.eht * 10) / 10)) bad.push(`${c.name}: EHT rate ${g.dataRate}, expected ${c.eht}`);
      }
    });
    expect(bad).toEqual([]);
    // the cases reach what they are named after
    const byName = (n: string): Decoded => got[cases.findIndex((c) => c.name === n)];
    expect(byName('HE-MU-other-user (bit 25, undefined size)').malformed).toBe(true);
    expect(byName('unknown TLV, frame 1 byte short of the unknown-TLV item').malformed).toBe(true);
    expect(byName('unknown TLV, frame just long enough').malformed).toBe(false);
    expect(byName('U-SIG + EHT + legacy rate field (11a duration)').duration).not.toBeNull();
    expect(byName('HE as a TLV').dataRate).toBe(f(351.0));
  });
});
