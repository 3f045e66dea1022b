// PHY pseudo-header ("wlan_radio") model and Wireshark 4.0's duration computation
// (epan/dissectors/packet-ieee80211-radio.c). Float maths is done in single precision
// (Math.fround) where Wireshark uses C `float`, so rounding matches exactly.
// 802.11ax (HE) has a data rate but no duration in Wireshark 4.0; 802.11be (EHT, radiotap U-SIG/EHT
// TLVs) is not decoded by 4.0 at all: its rate is an addition of ours, computed the same way.

export const PHY_UNKNOWN = 0;
export const PHY_11_FHSS = 1;
export const PHY_11_IR = 2;
export const PHY_11_DSSS = 3;
export const PHY_11B = 4;
export const PHY_11A = 5;
export const PHY_11G = 6;
export const PHY_11N = 7;
export const PHY_11AC = 8;
export const PHY_11AD = 9;
export const PHY_11AH = 10;
export const PHY_11AX = 11;

export const BW_20 = 0;
export const BW_40 = 1;

const f = Math.fround;

/** Radio metadata filled by the radiotap / PPI / Prism / AVS parsers (Wireshark's ieee_802_11_phdr). */
export class RadioInfo {
  present = false;
  fcsLen = -1; // -1 unknown, 0 none, 4 present
  badFcs = false;
  datapad = false;
  phy = PHY_UNKNOWN;
  hasChannel = false;
  channel = 0;
  hasFrequency = false;
  frequency = 0;
  hasDataRate = false;
  dataRate = 0; // 500 kb/s units
  hasSignalDbm = false;
  signalDbm = 0;
  hasNoiseDbm = false;
  noiseDbm = 0;
  hasTsf = false;
  tsfHi = 0;
  tsfLo = 0;
  zeroLengthPsdu = false;
  // 11b/g
  hasShortPreamble = false;
  shortPreamble = false;
  // 11n
  hasMcs = false;
  mcs = 0;
  hasBandwidth = false;
  bandwidth = 0;
  hasShortGi = false;
  shortGi = false;
  hasGreenfield = false;
  greenfield = false;
  hasFec = false;
  hasStbcStreams = false;
  stbcStreams = 0;
  hasNess = false;
  ness = 0;
  // 11ac
  vhtHasStbc = false;
  vhtStbc = false;
  vhtHasShortGi = false;
  vhtShortGi = false;
  vhtHasBandwidth = false;
  vhtBandwidth = 0;
  vhtMcs0 = 0;
  vhtNss0 = 0;
  vhtMcs = [0, 0, 0, 0];
  vhtNss = [0, 0, 0, 0];
  // 11ax (radiotap HE): bit set = known (HE_MCS | HE_BWRU | HE_GI)
  heKnown = 0;
  heMcs = 0;
  heBwru = 0;
  heGi = 0;
  heNsts = 0;
  // 11be (radiotap U-SIG + EHT TLVs; not in Wireshark 4.0's phdr): EHT_BW | EHT_GI | EHT_MCS | EHT_NSS
  ehtKnown = 0;
  ehtBw = 0;
  ehtGi = 0;
  ehtMcs = 0;
  ehtNss = 0;

  reset(): void {
    this.present = false;
    this.fcsLen = -1;
    this.badFcs = false;
    this.datapad = false;
    this.phy = PHY_UNKNOWN;
    this.hasChannel = this.hasFrequency = this.hasDataRate = this.hasSignalDbm = this.hasNoiseDbm = false;
    this.hasTsf = false;
    this.zeroLengthPsdu = false;
    this.ehtKnown = 0;
    this.resetPhyInfo();
  }

  resetPhyInfo(): void {
    this.hasShortPreamble = false;
    this.shortPreamble = false;
    this.resetHt();
    this.vhtHasStbc = this.vhtHasShortGi = this.vhtHasBandwidth = false;
    this.vhtStbc = this.vhtShortGi = false;
    // (unrolled: the loop cost as much as the rest of the reset)
    const mcs = this.vhtMcs, nss = this.vhtNss;
    mcs[0] = mcs[1] = mcs[2] = mcs[3] = 0;
    nss[0] = nss[1] = nss[2] = nss[3] = 0;
  }

  /** memset of Wireshark's info_11n, which shares a union with (and is larger than) info_11ax. */
  resetHt(): void {
    this.hasMcs = this.hasBandwidth = this.hasShortGi = this.hasGreenfield = this.hasFec = this.hasStbcStreams = this.hasNess = false;
    this.mcs = this.bandwidth = this.stbcStreams = this.ness = 0;
    this.shortGi = this.greenfield = false;
    this.heKnown = this.heNsts = 0;
  }
}

export const HE_MCS = 1;
export const HE_BWRU = 2;
export const HE_GI = 4;
export const EHT_BW = 1;
export const EHT_GI = 2;
export const EHT_MCS = 4;
export const EHT_NSS = 8;

/** ieee80211_mhz_to_chan (wsutil/frequency-utils.c). */
export function mhzToChannel(freq: number): number {
  if (freq >= 2412 && freq <= 2472) return ((freq - 2412) / 5 | 0) + 1;
  if (freq === 2484) return 14;
  if (freq >= 5000 && freq <= 5995) return (freq - 5000) / 5 | 0;
  if (freq >= 5950 && freq <= 7125) return (freq - 5950) / 5 | 0;
  if (freq >= 4910 && freq <= 4980) return ((freq - 4910) / 5 | 0) + 182;
  return -1;
}

export function rateIsDsss(r: number): boolean {
  return r === 2 || r === 4 || r === 11 || r === 22 || r === 44 || r === 66;
}
export function rateIsOfdm(r: number): boolean {
  return r === 12 || r === 18 || r === 24 || r === 36 || r === 48 || r === 72 || r === 96 || r === 108;
}

// --- 802.11n tables (MCS 0..76) ---
const HT_DBPS = [
  26, 52, 78, 104, 156, 208, 234, 260, 52, 104, 156, 208, 312, 416, 468, 520, 78, 156, 234, 312, 468, 624, 702, 780,
  104, 208, 312, 416, 624, 832, 936, 1040, 12, 156, 208, 260, 234, 312, 390, 208, 260, 260, 312, 364, 364, 416, 312,
  390, 390, 468, 546, 546, 624, 260, 312, 364, 312, 364, 416, 468, 416, 468, 520, 520, 572, 390, 468, 546, 468, 546,
  624, 702, 624, 702, 780, 780, 858,
];
const HT_STREAMS = [
  1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 1, 2, 2, 2, 2, 2, 2,
  3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
];
const HT_NES = [
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2,
];
const MAX_MCS_INDEX = 76;
/** HT-LTFs for 1..4 space-time streams, and for 0..3 extension spatial streams. */
const HT_LTF_DATA = [1, 2, 4, 4];
const HT_LTF_EXT = [0, 1, 2, 4];

export function htRate(mcs: number, bw40: boolean, sgi: boolean): number {
  return f((HT_DBPS[mcs] * (bw40 ? 108 : 52)) / 52.0 / (sgi ? 3.6 : 4.0));
}

// --- 802.11ac ---
const VHT_BW2IDX = [0, 1, 0, 0, 2, 1, 1, 0, 0, 0, 0, 3, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0];
const VHT_DBPS = [26, 52, 78, 104, 156, 208, 234, 260, 312, f(1040 / 3.0)];
const SUBCARRIERS = [52, 108, 234, 468];
// valid[mcs][bw] bitmask over nss-1
// invalid (mcs, bw index, nss - 1) combinations, as mcs * 100 + bw * 10 + nss - 1
const VHT_INVALID = new Set([622, 626, 900, 901, 903, 904, 906, 907, 925, 932]);
function vhtValid(mcs: number, bw: number, nss: number): boolean {
  return !VHT_INVALID.has(mcs * 100 + bw * 10 + nss - 1);
}

// --- 802.11ax / 802.11be ---
// Wireshark's HE tables (he_ofdm_tab, he_mu_ofdma_tab, "converted from mcsindex.com") hold each
// rate rounded to 0.1 Mb/s as a float: NSTS × data subcarriers × coded bits per subcarrier /
// (12.8 µs + GI). They are generated here from that formula, with the rounding done in integers
// (half up), and checked entry by entry against tshark 4.0.17 (test/radiotap-he.test.ts).
/** Coded bits per subcarrier × 6 for MCS 0..13 (BPSK 1/2 … 4096-QAM 5/6). */
const OFDM_BITS6 = [3, 6, 9, 12, 18, 24, 27, 30, 36, 40, 45, 50, 54, 60];
/** Symbol + guard interval in 0.1 µs for GI 0.8 / 1.6 / 3.2 µs. */
const SYMBOL_T = [136, 144, 160];
/** Data subcarriers: HE bandwidth/RU code 0..9 (20/40/80/160 MHz, then 26/52/106/242/484/996-tone RUs). */
const HE_NSD = [234, 468, 980, 1960, 24, 48, 102, 234, 468, 980];
/** Data subcarriers: U-SIG bandwidth code 0..5 (20/40/80/160/320-1/320-2 MHz). */
const EHT_NSD = [234, 468, 980, 1960, 3920, 3920];

function ofdmRate(nss: number, nsd: number, mcs: number, gi: number): number {
  const num = nss * nsd * OFDM_BITS6[mcs] * 100; // rate × 10 = num / den
  const den = 6 * SYMBOL_T[gi];
  return f(Math.floor((2 * num + den) / (2 * den)) / 10);
}

/** ieee80211_he_ofdm_rate / ieee80211_he_mu_ofdma_rate: 0 outside the tables (NSTS 1..8, MCS 0..11, code 0..9, GI 0..2). */
export function heRate(nsts: number, mcs: number, bwru: number, gi: number): number {
  if (nsts < 1 || nsts > 8 || mcs > 11 || bwru > 9 || gi > 2) return 0;
  return ofdmRate(nsts, HE_NSD[bwru], mcs, gi);
}

/** EHT rate in the same form (NSS 1..8, MCS 0..13, U-SIG BW 0..5 incl. 320 MHz, GI 0..2); 0 outside. */
export function ehtRate(nss: number, mcs: number, bw: number, gi: number): number {
  if (nss < 1 || nss > 8 || mcs > 13 || bw > 5 || gi > 2) return 0;
  return ofdmRate(nss, EHT_NSD[bw], mcs, gi);
}

/** Cross-frame state for A-MPDU detection (Wireshark keeps it in file-scope statics). */
export class AggregateState {
  prevHasTsf = false;
  prevTsfHi = 0;
  prevTsfLo = 0;
  prevPhy = PHY_UNKNOWN;
  prevLength = 0;
  inAggregate = false;
  aggPhy = PHY_UNKNOWN;
  // aggregate phy info (11n: mcs/bw/sgi..., 11ac: mcs0/nss0/...) snapshot
  agg = new RadioInfo();
  prevInfo = new RadioInfo();
  frameNo = 0;
  reset(): void {
    this.prevHasTsf = false;
    this.prevPhy = PHY_UNKNOWN;
    this.prevLength = 0;
    this.inAggregate = false;
    this.frameNo = 0;
  }
}

function copyPhy(dst: RadioInfo, src: RadioInfo): void {
  dst.hasShortPreamble = src.hasShortPreamble; dst.shortPreamble = src.shortPreamble;
  dst.hasMcs = src.hasMcs; dst.mcs = src.mcs; dst.hasBandwidth = src.hasBandwidth; dst.bandwidth = src.bandwidth;
  dst.hasShortGi = src.hasShortGi; dst.shortGi = src.shortGi; dst.hasGreenfield = src.hasGreenfield; dst.greenfield = src.greenfield;
  dst.hasFec = src.hasFec; dst.hasStbcStreams = src.hasStbcStreams; dst.stbcStreams = src.stbcStreams; dst.hasNess = src.hasNess; dst.ness = src.ness;
  dst.vhtHasStbc = src.vhtHasStbc; dst.vhtStbc = src.vhtStbc; dst.vhtHasShortGi = src.vhtHasShortGi; dst.vhtShortGi = src.vhtShortGi;
  dst.vhtHasBandwidth = src.vhtHasBandwidth; dst.vhtBandwidth = src.vhtBandwidth;
  for (let i = 0; i < 4; i++) { dst.vhtMcs[i] = src.vhtMcs[i]; dst.vhtNss[i] = src.vhtNss[i]; }
}

function calc11n(frameLength: number, p: RadioInfo, stbc: number): number {
  const bits = 8 * frameLength + 16 + HT_NES[p.mcs] * 6;
  const mstbc = stbc ? 2 : 1;
  const bps = HT_DBPS[p.mcs] * (p.bandwidth === BW_40 ? 2 : 1);
  let symbols = Math.floor(bits / (bps * mstbc));
  if (bits % (bps * mstbc) > 0) symbols++;
  symbols *= mstbc;
  return Math.floor((symbols * (p.shortGi ? 36 : 40) + 5) / 10);
}

function calc11ac(frameLength: number, rate: number): number {
  const bits = 8 * frameLength + 16;
  return Math.trunc(f(bits / rate)) >>> 0;
}

/** Result of `computeRadio`: -1 when Wireshark shows no duration. */
export interface RadioResult {
  duration: number;
  dataRate: number; // Mb/s (float), 0 if unknown
}

/**
 * Port of dissect_wlan_radio_phdr's rate + duration logic. `frameLength` is the reported length
 * of the 802.11 frame handed to wlan_radio (including FCS if captured), `addFcs` mirrors
 * `pseudo_header->ieee_802_11.fcs_len == 0` (true for PPI, false for radiotap/Prism/AVS).
 */
export function computeRadio(p: RadioInfo, frameLength: number, addFcs: boolean, st: AggregateState, out: RadioResult): void {
  let dataRate = 0;
  let haveRate = false;
  if (p.hasDataRate) {
    dataRate = f(p.dataRate * 0.5);
    haveRate = true;
  }
  st.frameNo++;
  let phy = p.phy;
  let info: RadioInfo = p;
  let priorAgg = 0;
  let inAgg = false;
  // A-MPDU detection (only first pass semantics; we decode in order)
  const sameTsf = p.hasTsf && st.prevHasTsf && p.tsfHi === st.prevTsfHi && p.tsfLo === st.prevTsfLo;
  const prevTsfNonZero = st.prevTsfHi !== 0 || st.prevTsfLo !== 0;
  const tsfZero = p.tsfHi === 0 && p.tsfLo === 0;
  const prevMax = st.prevTsfHi === 0xffffffff && st.prevTsfLo === 0xffffffff;
  if (st.frameNo > 1 && (p.phy === PHY_11N || p.phy === PHY_11AC) && p.phy === st.prevPhy && p.hasTsf && st.prevHasTsf &&
      (sameTsf || (!st.inAggregate && prevTsfNonZero && tsfZero) || prevMax)) {
    if (!st.inAggregate) {
      st.inAggregate = true;
      st.aggPhy = st.prevPhy;
      copyPhy(st.agg, st.prevInfo);
    }
    inAgg = true;
    if (st.prevLength % 4 !== 0) st.prevLength = (st.prevLength | 3) + 1;
    st.prevLength += 4;
    priorAgg = st.prevLength;
    st.prevLength += frameLength;
    if (p.phy === PHY_11N) {
      if (p.hasMcs && st.agg.hasMcs && p.mcs > st.agg.mcs) copyPhy(st.agg, p);
    } else if (p.vhtMcs[0] > st.agg.vhtMcs[0]) copyPhy(st.agg, p);
    phy = st.aggPhy;
    info = st.agg;
  } else {
    st.inAggregate = false;
    st.prevLength = frameLength;
  }
  st.prevHasTsf = p.hasTsf;
  st.prevTsfHi = p.tsfHi;
  st.prevTsfLo = p.tsfLo;
  st.prevPhy = p.phy;
  // prevInfo is read only when the next frame joins an aggregate, which needs this PHY to be 11n/11ac
  if (p.phy === PHY_11N || p.phy === PHY_11AC) copyPhy(st.prevInfo, p);

  let hasShortPre = false;
  let shortPre = true;
  switch (phy) {
    case PHY_11B:
    case PHY_11G:
      hasShortPre = info.hasShortPreamble;
      shortPre = info.shortPreamble;
      break;
    case PHY_11N:
      if (info.hasMcs && info.hasBandwidth && info.hasShortGi && info.mcs < MAX_MCS_INDEX) {
        dataRate = htRate(info.mcs, info.bandwidth === BW_40, info.shortGi);
        haveRate = true;
      }
      break;
    case PHY_11AC: {
      let can = info.vhtHasShortGi;
      let bw = 0;
      if (info.vhtHasBandwidth) {
        if (info.vhtBandwidth < VHT_BW2IDX.length) bw = VHT_BW2IDX[info.vhtBandwidth];
        else can = false;
      } else can = false;
      for (let i = 0; i < 4; i++) {
        const nss = info.vhtNss[i];
        const mcs = info.vhtMcs[i];
        if (nss !== 0 && can && mcs <= 9 && nss <= 8 && vhtValid(mcs, bw, nss)) {
          const r = f(f(f(f(VHT_DBPS[mcs] * SUBCARRIERS[bw]) / (info.vhtShortGi ? 3.6 : 4.0)) / 52.0) * nss);
          dataRate = r;
          if (r !== 0) haveRate = true;
        }
      }
      break;
    }
    case PHY_11AX:
      if (info.heKnown === (HE_MCS | HE_BWRU | HE_GI)) {
        const r = heRate(info.heNsts, info.heMcs, info.heBwru, info.heGi);
        if (r !== 0) {
          dataRate = r;
          haveRate = true;
        }
      }
      break;
    default:
      break;
  }
  out.dataRate = haveRate ? dataRate : 0;
  // EHT: reported rate only; the duration below stays Wireshark 4.0's (which knows no EHT).
  if (p.ehtKnown === (EHT_BW | EHT_GI | EHT_MCS | EHT_NSS)) {
    const r = ehtRate(p.ehtNss, p.ehtMcs, p.ehtBw, p.ehtGi);
    if (r !== 0) out.dataRate = r;
  }
  out.duration = -1;
  if (addFcs) frameLength += 4;
  if (!(haveRate && dataRate > 0)) return;
  if (phy === PHY_11G && (dataRate === 1 || dataRate === 2 || dataRate === 5.5 || dataRate === 11 || dataRate === 22 || dataRate === 33)) phy = PHY_11B;
  else if (phy === PHY_UNKNOWN && (dataRate === 1 || dataRate === 2 || dataRate === 5.5 || dataRate === 11 || dataRate === 22 || dataRate === 33)) phy = PHY_11B;
  else if (phy === PHY_UNKNOWN && (dataRate === 6 || dataRate === 9 || dataRate === 12 || dataRate === 18 || dataRate === 24 || dataRate === 36 || dataRate === 48 || dataRate === 54)) phy = PHY_11A;
  switch (phy) {
    case PHY_11B: {
      if (!hasShortPre) shortPre = true;
      const preamble = shortPre ? 72 + 24 : 144 + 48;
      out.duration = Math.ceil(f(preamble + f(f(frameLength * 8) / dataRate)));
      return;
    }
    case PHY_11A:
    case PHY_11G: {
      const bits = 16 + 8 * frameLength + 6;
      const symbols = Math.ceil(f(bits / f(dataRate * 4))) >>> 0;
      out.duration = 20 + symbols * 4;
      return;
    }
    case PHY_11N: {
      if (!info.hasMcs || info.mcs > MAX_MCS_INDEX || !info.hasBandwidth || !info.hasShortGi) return;
      let preamble = info.hasGreenfield ? (info.greenfield ? 24 : 32) : 32;
      const stbc = info.hasStbcStreams ? info.stbcStreams : 0;
      let ness = 0;
      if (info.hasNess) {
        ness = info.ness;
        if (ness >= 4) return;
      }
      const nsts = HT_STREAMS[info.mcs] + stbc;
      if (nsts === 0 || nsts - 1 >= 4) return;
      preamble += 4 * (HT_LTF_DATA[nsts - 1] + HT_LTF_EXT[ness]);
      if (inAgg) {
        if (priorAgg !== 0) preamble = 0;
        const prior = calc11n(priorAgg, info, stbc);
        out.duration = (preamble + calc11n(frameLength + priorAgg, info, stbc) - prior) >>> 0;
      } else {
        out.duration = preamble + calc11n(frameLength, info, stbc);
      }
      return;
    }
    case PHY_11AC: {
      let preamble = 32 + 4 * info.vhtNss[0] * (info.vhtHasStbc ? (info.vhtStbc ? 1 : 0) + 1 : 1);
      if (inAgg) {
        if (priorAgg !== 0) preamble = 0;
        const prior = calc11ac(priorAgg, dataRate);
        out.duration = (preamble + calc11ac(priorAgg + frameLength, dataRate) - prior) >>> 0;
      } else {
        out.duration = preamble + calc11ac(frameLength, dataRate);
      }
      return;
    }
    default:
      return;
  }
}
