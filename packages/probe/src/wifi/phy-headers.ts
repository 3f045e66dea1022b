// Radio capture headers in front of 802.11 frames: radiotap (127), PPI (192), Prism (119) and
// AVS (163, or Prism link type carrying an AVS header). They fill a RadioInfo exactly like
// Wireshark 4.0's dissectors fill `struct ieee_802_11_phdr`, including its radiotap iterator
// rules (alignment, extended bitmaps, namespace switches, unknown-field give-up, the TLV area of
// present bit 28) and the exceptions its radiotap dissector raises. Radiotap HE (bit 23 or TLV 23)
// sets 802.11ax; HE-MU (24) and L-SIG (27) only take their room; U-SIG (33) and EHT (34) exist
// only as TLVs, unknown to Wireshark 4.0, and give the EHT rate of ours (see radio.ts).

import {
  RadioInfo, PHY_11_FHSS, PHY_11_DSSS, PHY_11A, PHY_11B, PHY_11G, PHY_11N, PHY_11AC, PHY_11AD, PHY_11AX, PHY_UNKNOWN,
  mhzToChannel, rateIsDsss, rateIsOfdm, BW_40, BW_20, HE_MCS, HE_BWRU, HE_GI, EHT_BW, EHT_GI, EHT_MCS, EHT_NSS,
} from './radio';

/** Outcome of parsing a radio header. */
export class HeaderResult {
  /** Offset of the 802.11 frame relative to the packet start, or -1 when no 802.11 follows. */
  wlanOffset = -1;
  /** Wireshark raised an exception or a PI_MALFORMED expert info. */
  malformed = false;
  /** An exception stopped dissection (no further layers). */
  aborted = false;
}

// radiotap namespace: [align, size] per bit (Wireshark 4.0 radiotap-iter.c, xchannel override
// included); 0 = no definition (25, HE-MU-other-user). Bit 28 (TLVs) is handled by the iterator.
const RT_ALIGN = [8, 1, 1, 2, 2, 1, 1, 2, 2, 2, 1, 1, 1, 1, 2, 2, 1, 1, 4, 1, 4, 2, 8, 2, 2, 0, 1, 2];
const RT_SIZE = [8, 1, 1, 4, 2, 1, 1, 2, 2, 2, 1, 1, 1, 1, 2, 2, 1, 1, 8, 3, 8, 12, 12, 12, 12, 0, 1, 4];
const RT_NBITS = RT_ALIGN.length;

/**
 * Bytes Wireshark 4.0's radiotap dissector reads from a TLV's data offset, by TLV type (the type
 * is dissected as the field of that number); -1 = no case in its switch: the unknown-TLV path,
 * which needs 4 + radiotap length bytes. 22 (timestamp) reads its flags with a 16-bit load at
 * +11. 32 (S1G) is not decoded here.
 */
const TLV_READ = [
  8, 1, 1, 4, 2, 1, 1, 2, 2, 2, 1, 1, 1, 1, 2, 2, -1, 1, 8, 3, 8, 12, 13, 12, 12, -1, 1, 4, 0, -1, 0, -1, 0,
];

/** Radiotap HE field (dissect_radiotap_he_info): only MCS, bandwidth/RU, GI and NSTS reach wlan_radio. */
function parseHe(b: Uint8Array, o: number, ri: RadioInfo): void {
  ri.phy = PHY_11AX;
  const d1 = u16le(b, o);
  const d5 = u16le(b, o + 8);
  if (d1 & 0x0020) {
    ri.heKnown |= HE_MCS;
    ri.heMcs = b[o + 5] & 0x0f;
  }
  if (u16le(b, o + 2) & 0x0002) {
    ri.heKnown |= HE_GI;
    ri.heGi = (d5 >> 4) & 0x03;
  }
  if (d1 & 0x4000) {
    ri.heKnown |= HE_BWRU;
    ri.heBwru = d5 & 0x0f;
  }
  ri.heNsts = b[o + 10] & 0x0f;
}

/**
 * Radiotap EHT TLV: GI (known bit 2, data[0] bits 7-8) and the first user-info word's MCS (bits
 * 20-23) and NSS (bits 24-27, +1 as in Wireshark). Not part of Wireshark 4.0, which shows the TLV
 * as unknown data.
 */
function parseEht(b: Uint8Array, o: number, len: number, ri: RadioInfo): void {
  if (len < 8) return;
  if (u32le(b, o) & 0x00000004) {
    ri.ehtKnown |= EHT_GI;
    ri.ehtGi = (u32le(b, o + 4) >>> 7) & 0x03;
  }
  if (len < 44) return; // known + data[9] + user_info[0]
  const ui = u32le(b, o + 40);
  if (ui & 0x00000002) {
    ri.ehtKnown |= EHT_MCS;
    ri.ehtMcs = (ui >>> 20) & 0x0f;
  }
  if (ui & 0x00000010) {
    ri.ehtKnown |= EHT_NSS;
    ri.ehtNss = ((ui >>> 24) & 0x0f) + 1;
  }
}

const CHAN_TURBO = 0x0010, CHAN_CCK = 0x0020, CHAN_OFDM = 0x0040, CHAN_2GHZ = 0x0080, CHAN_5GHZ = 0x0100;
const CHAN_DYN = 0x0400, CHAN_GFSK = 0x0800, CHAN_STURBO = 0x2000;
const CHAN_HT20 = 0x10000, CHAN_HT40U = 0x20000, CHAN_HT40D = 0x40000;
const CHAN_ALLTURBO = CHAN_2GHZ | CHAN_5GHZ | CHAN_GFSK | CHAN_CCK | CHAN_OFDM | CHAN_DYN | CHAN_TURBO | CHAN_STURBO;
const CHAN_FHSS = CHAN_2GHZ | CHAN_GFSK;
const CHAN_DSSS = CHAN_2GHZ;
const CHAN_A = CHAN_5GHZ | CHAN_OFDM;
const CHAN_B = CHAN_2GHZ | CHAN_CCK;
const CHAN_PUREG = CHAN_2GHZ | CHAN_OFDM;
const CHAN_G = CHAN_2GHZ | CHAN_DYN;
const CHAN_108A = CHAN_A | CHAN_TURBO;
const CHAN_108PUREG = CHAN_PUREG | CHAN_TURBO;
const CHAN_ST = CHAN_108A | CHAN_STURBO;

function isAd(freq: number): boolean {
  return freq >= 57240 && freq <= 71640;
}

function u16le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}
function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
function i8(v: number): number {
  return (v << 24) >> 24;
}

function phyFromChannelFlags(ri: RadioInfo, cflags: number): void {
  switch (cflags & CHAN_ALLTURBO) {
    case CHAN_FHSS: ri.phy = PHY_11_FHSS; break;
    case CHAN_DSSS: ri.phy = PHY_11_DSSS; break;
    case CHAN_A: ri.phy = PHY_11A; break;
    case CHAN_B: ri.phy = PHY_11B; break;
    case CHAN_PUREG:
    case CHAN_G: ri.phy = PHY_11G; break;
    case CHAN_108A: ri.phy = PHY_11A; break;
    case CHAN_108PUREG: ri.phy = PHY_11G; break;
    default: break;
  }
}

/** A non-zero channel frequency (MHz) and, when it maps to one, its channel number. */
function setFrequency(ri: RadioInfo, freq: number): void {
  ri.hasFrequency = true;
  ri.frequency = freq;
  const ch = mhzToChannel(freq);
  if (ch !== -1) {
    ri.hasChannel = true;
    ri.channel = ch;
  }
}

/**
 * Iteration plan of a present word without bits 28..31: [end of the last field's data, 1 if the
 * iterator stops with -EINVAL (bit 25), then (field, offset) pairs]; offsets relative to the header.
 */
function makeRadiotapPlan(word: number): Int32Array {
  const plan = [0, 0];
  let arg = 8;
  for (let idx = 0; idx < RT_NBITS; idx++) {
    if (!((word >>> idx) & 1)) continue;
    const align = RT_ALIGN[idx];
    if (!align) {
      plan[1] = 1;
      break;
    }
    const pad = arg & (align - 1);
    if (pad) arg += align - pad;
    plan.push(idx, arg);
    arg += RT_SIZE[idx];
  }
  plan[0] = arg;
  return Int32Array.from(plan);
}

const radiotapPlans = new Map<number, Int32Array>();
let lastPlanWord = -1;
let lastPlan: Int32Array | undefined;

/** The plan of `word` (cached; undefined once many distinct words were seen: the general path then). */
function radiotapPlan(word: number): Int32Array | undefined {
  if (word === lastPlanWord) return lastPlan;
  let plan = radiotapPlans.get(word);
  if (plan === undefined) {
    if (radiotapPlans.size >= 1024) return undefined;
    plan = makeRadiotapPlan(word);
    radiotapPlans.set(word, plan);
  }
  lastPlanWord = word;
  lastPlan = plan;
  return plan;
}

/**
 * Radiotap. `b[off .. off+capLen)` is the captured packet, `origLen` its reported length.
 */
export function parseRadiotap(b: Uint8Array, off: number, capLen: number, origLen: number, ri: RadioInfo, res: HeaderResult): void {
  ri.reset();
  res.wlanOffset = -1;
  res.malformed = false;
  res.aborted = false;
  if (capLen < 4) {
    // tvb_get_letohs(tvb, 2) throws
    res.aborted = true;
    res.malformed = origLen < 4;
    return;
  }
  const version = b[off];
  const length = u16le(b, off + 2);
  if (length < 8) {
    res.malformed = true; // ei_radiotap_invalid_header_length (PI_MALFORMED)
    return;
  }
  if (length > capLen) {
    // tvb_memdup(0, length) throws
    res.aborted = true;
    res.malformed = length > origLen;
    return;
  }
  ri.present = true;
  res.wlanOffset = length;
  if (version !== 0) return; // iterator init fails -> hand off to 802.11 without radio fields

  // Locate the end of the present-bitmap chain. (The first present word read once: u32le is a
  // call here, parseRadiotap being past V8's inlining budget.)
  const present0 = u32le(b, off + 4);
  let p = 4;
  if (present0 & 0x80000000) {
    if (p + 4 > length) return;
    while (u32le(b, off + p) & 0x80000000) {
      p += 4;
      if (p + 4 > length) return; // init fails
    }
  }
  const bitmapEnd = p + 4; // first argument byte (relative)
  const nBitmaps = (bitmapEnd - 4) / 4;
  for (let i = 0; i < nBitmaps; i++) {
    const w = i === 0 ? present0 : u32le(b, off + 4 + 4 * i);
    if ((w & 0x60000000) === 0x60000000) {
      res.malformed = true; // both namespaces in one word: skip all fields
      postRadiotap(ri, false, 0);
      return;
    }
  }

  let haveRflags = false;
  let rflags = 0;
  let arg = bitmapEnd;
  let bm = 0;
  let shifter = present0;
  let idx = 0;
  let nsRtap = true; // current namespace is radiotap (false = none/unknown vendor)
  let isRtapNs = true;
  let resetOnExt = false;
  let nextNsData = -1;
  let err = 0; // 0 = ENOENT (clean end), 1 = EINVAL
  // TLV mode (present bit 28): the rest of the header is {type u16, len u16, data, pad to 4}
  let tlvMode = false;
  let tlvFirst = false;
  let tlvLen = 0;
  // The common case, one present word of plain radiotap fields: their offsets depend on that word
  // alone, so they come from a plan made once per word instead of the iterator (same fields, same
  // offsets, same outcome).
  const plan = (shifter & 0xf0000000) === 0 ? radiotapPlan(shifter) : undefined;
  let planPos = plan !== undefined && plan[0] <= length ? 2 : -1;
  for (;;) {
    let field: number;
    let thisArg: number;
    if (planPos >= 0) {
      if (planPos >= plan!.length) {
        if (plan![1]) err = 1; // bit 25 (no definition) ends the iteration with -EINVAL
        break;
      }
      field = plan![planPos];
      thisArg = plan![planPos + 1];
      planPos += 2;
    } else if (tlvMode) {
      if (tlvFirst) tlvFirst = false;
      else {
        const step = 4 + ((tlvLen + 3) & ~3);
        if (arg + step > length) break; // padding of the last TLV may be missing
        arg += step;
      }
      if (arg + 1 > length) break;
      if (arg + 4 > length) { err = 1; break; }
      field = u16le(b, off + arg);
      tlvLen = u16le(b, off + arg + 2);
      if (arg + 4 + tlvLen > length) { err = 1; break; }
      if (field === 30) continue; // vendor namespace TLV: not radiotap data
      thisArg = arg + 4;
      // Wireshark reads a TLV's data as it would the field of that number, from the packet (not
      // the TLV): a short TLV reads on. Unknown types (U-SIG 33, EHT 34, ...) add an item of the
      // whole header's length after the 4 data bytes it mislabels as type/len, past the packet
      // end for a short frame: an exception that ends dissection (no wlan_radio, no 802.11).
      const need = field < TLV_READ.length && TLV_READ[field] >= 0 ? TLV_READ[field] : 4 + length;
      if (thisArg + need > capLen) {
        res.aborted = true;
        res.malformed = thisArg + need > origLen;
        res.wlanOffset = -1;
        return;
      }
      isRtapNs = true;
    } else {
      const bit = idx % 32;
      if (bit === 31 && !(shifter & 1)) break;
      if (!(shifter & 1)) {
        shifter >>>= 1;
        idx++;
        continue;
      }
      let align: number;
      let size: number;
      if (bit === 28) {
        // TLVs follow, 4-aligned, whatever the namespace
        const pad = arg & 3;
        if (pad) arg += 4 - pad;
        tlvMode = true;
        tlvFirst = true;
        continue;
      } else if (bit === 29 || bit === 31) {
        align = 1; size = 0;
      } else if (bit === 30) {
        align = 2; size = 6;
      } else {
        if (!nsRtap || idx >= RT_NBITS) {
          if (nsRtap) break; // unknown radiotap field: -ENOENT
          align = 0; size = 0;
        } else {
          align = RT_ALIGN[idx];
          size = RT_SIZE[idx];
        }
        if (!align) {
          // skip the rest of this namespace (HE-MU-other-user, bit 25, is such a field too);
          // with no vendor namespace to skip to, the iterator gives up with -EINVAL
          if (nextNsData < 0) { err = 1; break; }
          const skip = 29 - bit;
          arg = nextNsData;
          nsRtap = false;
          nextNsData = -1;
          shifter >>>= skip;
          idx += skip;
          if (arg > length) { err = 1; break; }
          continue;
        }
      }
      const pad = arg & (align - 1);
      if (pad) arg += align - pad;
      if (bit === 30) {
        if (arg + size > length) { err = 1; break; }
        const vnslen = u16le(b, off + arg + 4);
        nextNsData = arg + size + vnslen;
        nsRtap = false; // no vendor namespace registered
        size += vnslen;
      }
      thisArg = arg;
      arg += size;
      if (arg > length) { err = 1; break; }
      field = idx;
      if (bit === 30) {
        resetOnExt = true;
        isRtapNs = false;
      } else if (bit === 29) {
        resetOnExt = true;
        nsRtap = true;
        isRtapNs = true;
      } else if (bit === 31) {
        bm++;
        shifter = u32le(b, off + 4 + 4 * bm);
        if (resetOnExt) idx = 0;
        else idx++;
        resetOnExt = false;
        continue;
      }
      shifter >>>= 1;
      idx++;
      if (bit === 29 || bit === 30 || !isRtapNs) continue;
    }
    const o = off + thisArg;
    switch (field) {
      case 0:
        ri.hasTsf = true;
        ri.tsfLo = u32le(b, o);
        ri.tsfHi = u32le(b, o + 4);
        break;
      case 1:
        haveRflags = true;
        rflags = b[o];
        if (rflags & 0x20) ri.datapad = true;
        ri.fcsLen = rflags & 0x10 ? 4 : 0;
        ri.badFcs = (rflags & 0x40) !== 0;
        break;
      case 2:
        ri.hasDataRate = true;
        ri.dataRate = b[o];
        break;
      case 3: {
        const freq = u16le(b, o);
        if (freq !== 0) setFrequency(ri, freq);
        // (with a plan, fields come in bit order and none before this one sets PHY info: still reset)
        if (planPos < 0) ri.resetPhyInfo();
        phyFromChannelFlags(ri, u16le(b, o + 2));
        if (isAd(freq)) ri.phy = PHY_11AD;
        break;
      }
      case 4:
        ri.phy = PHY_11_FHSS;
        break;
      case 5:
        ri.hasSignalDbm = true;
        ri.signalDbm = i8(b[o]);
        break;
      case 6:
        ri.hasNoiseDbm = true;
        ri.noiseDbm = i8(b[o]);
        break;
      case 18: {
        const xf = u32le(b, o);
        const m = xf & (CHAN_ALLTURBO | CHAN_HT20 | CHAN_HT40U | CHAN_HT40D);
        if (m === (CHAN_A | CHAN_HT20) || m === (CHAN_A | CHAN_HT40D) || m === (CHAN_A | CHAN_HT40U) ||
            m === (CHAN_G | CHAN_HT20) || m === (CHAN_G | CHAN_HT40U) || m === (CHAN_G | CHAN_HT40D)) ri.phy = PHY_11N;
        else if ((xf & CHAN_ALLTURBO) === CHAN_ST) ri.phy = PHY_11A;
        else phyFromChannelFlags(ri, xf);
        const freq = u16le(b, o + 4);
        if (freq !== 0) {
          ri.hasFrequency = true;
          ri.frequency = freq;
          if (isAd(freq)) ri.phy = PHY_11AD;
        }
        ri.hasChannel = true;
        ri.channel = b[o + 6];
        break;
      }
      case 19: {
        const known = b[o];
        const fl = b[o + 1];
        if (known !== 0 && ri.phy !== PHY_11AD) {
          ri.phy = PHY_11N;
          ri.resetHt();
        }
        if (known & 0x02) { ri.hasMcs = true; ri.mcs = b[o + 2]; }
        if (known & 0x01) { ri.hasBandwidth = true; ri.bandwidth = fl & 0x03; }
        if (known & 0x04) { ri.hasShortGi = true; ri.shortGi = (fl & 0x04) !== 0; }
        if (known & 0x08) { ri.hasGreenfield = true; ri.greenfield = (fl & 0x08) !== 0; }
        if (known & 0x10) { ri.hasFec = true; }
        if (known & 0x20) { ri.hasStbcStreams = true; ri.stbcStreams = (fl & 0x60) >> 5; }
        if (known & 0x40) { ri.hasNess = true; ri.ness = ((known & 0x80) >> 6) | ((fl & 0x80) >> 7); }
        break;
      }
      case 21: {
        const known = u16le(b, o);
        if (known !== 0) ri.phy = PHY_11AC;
        const vf = b[o + 2];
        if (known & 0x0001) { ri.vhtHasStbc = true; ri.vhtStbc = (vf & 0x01) !== 0; }
        if (known & 0x0004) { ri.vhtHasShortGi = true; ri.vhtShortGi = (vf & 0x04) !== 0; }
        if (known & 0x0040) { ri.vhtHasBandwidth = true; ri.vhtBandwidth = b[o + 3] & 0x1f; }
        for (let u = 0; u < 4; u++) {
          const mn = b[o + 4 + u];
          ri.vhtNss[u] = mn & 0x0f;
          ri.vhtMcs[u] = (mn & 0xf0) >> 4;
          if (ri.vhtNss[u]) ri.phy = PHY_11AC;
        }
        break;
      }
      case 23:
        parseHe(b, o, ri);
        break;
      case 26:
        ri.zeroLengthPsdu = true;
        break;
      case 33: // U-SIG TLV: bandwidth (common bits 15-17, known bit 1); not in Wireshark 4.0
        if (tlvLen >= 4 && u32le(b, o) & 0x00000002) {
          ri.ehtKnown |= EHT_BW;
          ri.ehtBw = (u32le(b, o) >>> 15) & 0x07;
        }
        break;
      case 34: // EHT TLV: GI from data[0], MCS/NSS from the first user-info word
        parseEht(b, o, tlvLen, ri);
        break;
      default:
        break;
    }
  }
  if (err) res.malformed = true; // ei_radiotap_data_past_header
  if (ri.zeroLengthPsdu) {
    postRadiotap(ri, haveRflags, rflags);
    res.wlanOffset = -1;
    return;
  }
  postRadiotap(ri, haveRflags, rflags);
}

function postRadiotap(ri: RadioInfo, haveRflags: boolean, rflags: number): void {
  if (ri.hasDataRate) {
    if (ri.phy === PHY_UNKNOWN) {
      if (rateIsDsss(ri.dataRate)) ri.phy = PHY_11B;
      else if (rateIsOfdm(ri.dataRate) && ri.hasFrequency) ri.phy = ri.frequency <= 2484 ? PHY_11G : PHY_11A;
    } else if (ri.phy === PHY_11G && rateIsDsss(ri.dataRate)) {
      ri.phy = PHY_11B;
    }
  }
  if (ri.phy === PHY_11B) {
    ri.hasShortPreamble = haveRflags;
    ri.shortPreamble = haveRflags && (rflags & 0x02) !== 0;
  } else if (ri.phy === PHY_11N) {
    if (!ri.hasShortGi && haveRflags) {
      ri.hasShortGi = true;
      ri.shortGi = (rflags & 0x80) !== 0;
    }
  }
}

/** PPI (linktype 192): 802.11-Common (2), 802.11n MAC (3) and MAC+PHY (4) fields. */
export function parsePpi(b: Uint8Array, off: number, capLen: number, origLen: number, ri: RadioInfo, res: HeaderResult): number {
  ri.reset();
  res.wlanOffset = -1;
  res.malformed = false;
  res.aborted = false;
  if (capLen < 8) {
    res.aborted = true;
    res.malformed = origLen < 8;
    return 0;
  }
  const hlen = u16le(b, off + 2);
  const dlt = u32le(b, off + 4);
  if (hlen < 8 || hlen > capLen) {
    res.aborted = true;
    res.malformed = hlen > origLen || hlen < 8;
    return dlt;
  }
  ri.present = true;
  let o = 8;
  while (o + 4 <= hlen) {
    const type = u16le(b, off + o);
    const flen = u16le(b, off + o + 2);
    const d = off + o + 4;
    if (o + 4 + flen > hlen) break;
    if (type === 2 && flen >= 20) {
      // 802.11-Common
      ri.hasTsf = true;
      ri.tsfLo = u32le(b, d);
      ri.tsfHi = u32le(b, d + 4);
      const flags = u16le(b, d + 8);
      if (flags & 0x0001) ri.fcsLen = 4;
      else ri.fcsLen = 0;
      if (flags & 0x0004) ri.badFcs = true;
      const rate = u16le(b, d + 10);
      if (rate !== 0) {
        ri.hasDataRate = true;
        ri.dataRate = rate;
      }
      const freq = u16le(b, d + 12);
      if (freq !== 0) setFrequency(ri, freq);
      const cflags = u16le(b, d + 14);
      phyFromChannelFlags(ri, cflags);
      if (ri.phy === PHY_11G && ri.hasDataRate && rateIsDsss(ri.dataRate)) ri.phy = PHY_11B;
      const sig = i8(b[d + 18]);
      const noise = i8(b[d + 19]);
      if (sig !== -128) {
        ri.hasSignalDbm = true;
        ri.signalDbm = sig;
      }
      if (noise !== -128) {
        ri.hasNoiseDbm = true;
        ri.noiseDbm = noise;
      }
    } else if ((type === 4 && flen >= 48) || (type === 3 && flen >= 12)) {
      const nflags = u32le(b, d);
      ri.phy = PHY_11N;
      ri.hasBandwidth = true;
      ri.bandwidth = nflags & 0x02 ? BW_40 : BW_20;
      ri.hasShortGi = true;
      ri.shortGi = (nflags & 0x04) !== 0;
      ri.hasGreenfield = true;
      ri.greenfield = (nflags & 0x01) !== 0;
      if (type === 4) {
        // Wireshark's PPI dissector reports "number of spatial streams" as extension streams (Ness).
        ri.hasNess = true;
        ri.ness = b[d + 10];
        const mcs = b[d + 9];
        if (mcs !== 255) {
          ri.hasMcs = true;
          ri.mcs = mcs;
        }
      }
    }
    o += 4 + flen;
  }
  res.wlanOffset = hlen;
  return dlt;
}

/** Prism (linktype 119) or AVS header. */
export function parsePrism(b: Uint8Array, off: number, capLen: number, origLen: number, ri: RadioInfo, res: HeaderResult): void {
  ri.reset();
  res.wlanOffset = -1;
  res.malformed = false;
  res.aborted = false;
  if (capLen < 4) {
    res.aborted = true;
    res.malformed = origLen < 4;
    return;
  }
  const magic = u32be(b, off);
  if (magic === 0x80211000 || magic === 0x80211001) {
    parseAvs(b, off, capLen, origLen, ri, res);
    return;
  }
  if (capLen < 144) {
    res.aborted = true;
    res.malformed = origLen < 144;
    return;
  }
  ri.present = true;
  let le = true;
  let msglen = u32le(b, off + 4);
  if (msglen > 0xffff) {
    le = false;
    msglen = u32be(b, off + 4);
  }
  const rd = le ? u32le : u32be;
  for (let i = 0; i < 10; i++) {
    const o = off + 24 + i * 12;
    const did = rd(b, o);
    const data = rd(b, o + 8);
    switch (did) {
      case 0x00020044: case 0x00002041:
        ri.hasTsf = true; ri.tsfLo = data; ri.tsfHi = 0; break;
      case 0x00030044: case 0x00003041:
        ri.hasChannel = true; ri.channel = data; break;
      case 0x00040044: case 0x00004041:
        ri.hasSignalDbm = true; ri.signalDbm = data | 0; break;
      case 0x00080044: case 0x00008041:
        ri.hasDataRate = true; ri.dataRate = data; break;
      default: break;
    }
  }
  res.wlanOffset = 144;
}

/** AVS capture header v1/v2 (big-endian, 64/72 bytes). */
export function parseAvs(b: Uint8Array, off: number, capLen: number, origLen: number, ri: RadioInfo, res: HeaderResult): void {
  ri.reset();
  res.wlanOffset = -1;
  res.malformed = false;
  res.aborted = false;
  if (capLen < 8) {
    res.aborted = true;
    res.malformed = origLen < 8;
    return;
  }
  const hlen = u32be(b, off + 4);
  if (hlen < 64 || hlen > capLen) {
    res.aborted = true;
    res.malformed = hlen > origLen;
    return;
  }
  ri.present = true;
  ri.hasTsf = true;
  ri.tsfHi = u32be(b, off + 8);
  ri.tsfLo = u32be(b, off + 12);
  const phytype = u32be(b, off + 24);
  switch (phytype) {
    case 1: ri.phy = PHY_11_FHSS; break;
    case 2: ri.phy = PHY_11_DSSS; break;
    case 4: case 5: ri.phy = PHY_11B; break;
    case 6: case 7: ri.phy = PHY_11G; break;
    case 8: ri.phy = PHY_11A; break;
    default: break;
  }
  const channel = u32be(b, off + 28);
  if (channel !== 0) {
    ri.hasChannel = true;
    ri.channel = channel;
  }
  const rate = u32be(b, off + 32); // 100 kb/s
  if (rate !== 0) {
    ri.hasDataRate = true;
    ri.dataRate = Math.floor(rate / 5);
  }
  const ssiType = u32be(b, off + 44);
  if (ssiType === 1) {
    ri.hasSignalDbm = true;
    ri.signalDbm = u32be(b, off + 48) | 0;
  }
  res.wlanOffset = hlen;
}
