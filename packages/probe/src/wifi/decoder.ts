// 802.11 frame decoder reproducing the fields tshark 4.0.17 emits for the pcapflow Wi-Fi
// schema (see shared/tools/tshark-reference.sh). Design for speed: one WifiDecoder owns a
// reusable scratch `WifiFrame` that holds numbers and byte offsets into the packet buffer; no
// strings or objects are created while decoding. `toRecord()` / `formatEkWifi()` materialise.
//
// Exceptions are emulated, not thrown: `need(end)` tells whether Wireshark could read up to
// `end`; if not, dissection stops like a tvb exception would, and the frame is flagged
// malformed when the read went past the reported (not just the captured) length — the
// difference between tshark's "Malformed Packet" and "Packet size limited during capture".

import { RadioInfo, AggregateState, computeRadio, RadioResult } from './radio';
import { HeaderResult, parseRadiotap, parsePpi, parsePrism, parseAvs } from './phy-headers';

export const MAX_LIST = 64;

/** Reusable per-frame scratch. Offsets are absolute indexes into `buf`; -1 = field absent. */
export class WifiFrame {
  buf: Uint8Array = new Uint8Array(0);
  linktype = 0;
  tsSec = 0;
  tsNsec = 0;
  capLen = 0;
  origLen = 0;
  malformed = false;
  /** Dissection stopped early (exception emulation). */
  truncated = false;
  // radio
  hasRadio = false;
  hasChannel = false;
  channel = 0;
  hasFrequency = false;
  frequency = 0;
  hasSignal = false;
  signalDbm = 0;
  hasNoise = false;
  noiseDbm = 0;
  hasDuration = false;
  radioDuration = 0;
  dataRate = 0;
  phy = 0;
  fcsPresent = false;
  badFcs = false;
  // 802.11 header
  hasFc = false;
  fc = 0;
  fcType = 0;
  fcSubtype = 0;
  typeSubtype = 0;
  fcFlags = 0;
  hasDurationId = false;
  durationId = 0;
  hasSeq = false;
  seq = 0;
  frag = 0;
  ra = -1;
  da = -1;
  ta = -1;
  sa = -1;
  bssid = -1;
  staa = -1;
  // elements
  ssidCount = 0;
  ssidOff = new Int32Array(MAX_LIST);
  ssidLen = new Int32Array(MAX_LIST);
  vendorCount = 0;
  vendorOui = new Int32Array(MAX_LIST);
  vendorType = new Int32Array(MAX_LIST); // -1 when the element has no type byte
  vdataCount = 0;
  vdataOff = new Int32Array(MAX_LIST);
  vdataLen = new Int32Array(MAX_LIST);
  countryCount = 0;
  countryOff = new Int32Array(MAX_LIST);
  wpsCount = 0;
  wpsOff = new Int32Array(MAX_LIST);
  wpsLen = new Int32Array(MAX_LIST);
  dsChannel = -1;
  rsnCount = 0;

  reset(): void {
    this.malformed = this.truncated = false;
    this.hasRadio = this.hasChannel = this.hasFrequency = this.hasSignal = this.hasNoise = this.hasDuration = false;
    this.dataRate = 0;
    this.phy = 0;
    this.fcsPresent = this.badFcs = false;
    this.hasFc = this.hasDurationId = this.hasSeq = false;
    this.fcFlags = 0;
    this.ra = this.da = this.ta = this.sa = this.bssid = this.staa = -1;
    this.ssidCount = this.vendorCount = this.vdataCount = this.countryCount = this.wpsCount = this.rsnCount = 0;
    this.dsChannel = -1;
  }
}

export interface WifiCounters {
  frames: number;
  malformed: number;
  truncated: number;
  notWifi: number;
}

export function newWifiCounters(): WifiCounters {
  return { frames: 0, malformed: 0, truncated: 0, notWifi: 0 };
}

const OUI_MICROSOFT = 0x0050f2;
/** Vendor OUIs Wireshark 4.0 dissects specifically (no generic wlan.tag.vendor.data). */
const HANDLED_OUIS = new Set<number>([
  OUI_MICROSOFT, // WPA/WME/WPS
  0x000fac, // RSN
  0x00904c, // Epigram (pre-11n HT)
  0x506f9a, // Wi-Fi Alliance
  0x004096, // Cisco Aironet
  0x005043, // Marvell
  0x00037f, // Atheros
  0x000b86, // Aruba
  0x0019fd, // Nintendo
  0x5c5b35, // Mist
  0x000ce6, // Meru
  0x00a0f8, // Zebra/Extreme
  0x001977, // Aerohive
]);

// mgmt subtype → length of fixed parameters before the tagged parameters (-1 = no IE parsing)
const MGMT_FIXED = [4, 6, 10, 6, 0, 12, -1, -1, 12, -1, 2, 6, 2, -1, -1, -1];

const ABORT = -1;

export class WifiDecoder {
  readonly frame = new WifiFrame();
  readonly counters: WifiCounters;
  private readonly ri = new RadioInfo();
  private readonly hres = new HeaderResult();
  private readonly agg = new AggregateState();
  private readonly rres: RadioResult = { duration: -1, dataRate: 0 };
  // exception emulation bounds for the current 802.11 tvb
  private capEnd = 0;
  private repEnd = 0;
  /**
   * Compute the data rate and duration (and the A-MPDU state they need). Off for a record that
   * has neither field (a field selection without them): about a sixth of the decode time, saved.
   */
  computeRates = true;

  /**
   * @param strict rethrow internal errors instead of counting the frame as malformed (tests/fuzzing:
   *   any exception is a decoder bug, since bad packet bytes are handled without throwing).
   */
  constructor(counters?: WifiCounters, private readonly strict = false) {
    this.counters = counters ?? newWifiCounters();
  }

  /** Start of a new capture: resets cross-frame state (A-MPDU detection). */
  resetState(): void {
    this.agg.reset();
  }

  /**
   * Decode the packet `buf[off .. off+capLen)` (reported length `origLen`). Returns the scratch
   * frame (valid until the next call). Never throws on packet contents.
   */
  decode(buf: Uint8Array, off: number, capLen: number, origLen: number, linktype: number, tsSec = 0, tsNsec = 0): WifiFrame {
    const fr = this.frame;
    fr.reset();
    fr.buf = buf;
    fr.linktype = linktype;
    fr.tsSec = tsSec;
    fr.tsNsec = tsNsec;
    fr.capLen = capLen;
    fr.origLen = origLen;
    this.counters.frames++;
    try {
      this.decodeInner(buf, off, capLen, origLen, linktype);
    } catch (e) {
      // Defensive: a decoder bug must not kill the pipeline; count the frame as malformed.
      if (this.strict) throw e;
      fr.malformed = true;
    }
    if (fr.malformed) this.counters.malformed++;
    if (fr.truncated) this.counters.truncated++;
    return fr;
  }

  private decodeInner(buf: Uint8Array, off: number, capLen: number, origLen: number, linktype: number): void {
    const fr = this.frame;
    const ri = this.ri;
    const hr = this.hres;
    let wlanOff = 0;
    let addFcs = false;
    let radio = true;
    switch (linktype) {
      case 105:
        radio = false;
        ri.reset();
        break;
      case 127:
        parseRadiotap(buf, off, capLen, origLen, ri, hr);
        break;
      case 119:
        parsePrism(buf, off, capLen, origLen, ri, hr);
        break;
      case 163:
        parseAvs(buf, off, capLen, origLen, ri, hr);
        break;
      case 192: {
        const dlt = parsePpi(buf, off, capLen, origLen, ri, hr);
        addFcs = true; // wiretap leaves the 802.11 pseudo-header FCS length at 0 for PPI
        if (hr.wlanOffset >= 0 && dlt !== 105) {
          this.counters.notWifi++;
          return;
        }
        break;
      }
      default:
        this.counters.notWifi++;
        return;
    }
    if (radio) {
      if (hr.malformed) fr.malformed = true;
      if (hr.aborted) fr.truncated = true;
      if (hr.wlanOffset < 0) return;
      wlanOff = hr.wlanOffset;
    }
    const wCap = capLen - wlanOff;
    let wRep = origLen - wlanOff;
    if (radio && ri.present) {
      fr.hasRadio = true;
      // wlan_radio
      if (this.computeRates) {
        computeRadio(ri, wRep, addFcs, this.agg, this.rres);
        fr.dataRate = this.rres.dataRate;
        if (this.rres.duration >= 0) {
          fr.hasDuration = true;
          fr.radioDuration = this.rres.duration;
        }
      }
      fr.phy = ri.phy;
      fr.hasChannel = ri.hasChannel;
      fr.channel = ri.channel;
      fr.hasFrequency = ri.hasFrequency;
      fr.frequency = ri.frequency;
      fr.hasSignal = ri.hasSignalDbm;
      fr.signalDbm = ri.signalDbm;
      fr.hasNoise = ri.hasNoiseDbm;
      fr.noiseDbm = ri.noiseDbm;
      fr.badFcs = ri.badFcs;
    }
    // FCS handling: the 802.11 tvb excludes a trailing FCS.
    if (ri.fcsLen === 4 && radio) {
      fr.fcsPresent = true;
      if (wRep >= 4) wRep -= 4;
    }
    const start = off + wlanOff;
    this.capEnd = start + Math.max(0, Math.min(wCap, wRep));
    this.repEnd = start + wRep;
    this.dissect80211(buf, start, radio && ri.datapad);
  }

  /** Can Wireshark read up to absolute offset `end`? If not, stop and classify. */
  private need(end: number, tagEnd = Number.MAX_SAFE_INTEGER): boolean {
    if (end <= this.capEnd && end <= tagEnd) return true;
    const fr = this.frame;
    fr.truncated = true;
    if (end > tagEnd || end > this.repEnd) fr.malformed = true;
    return false;
  }

  private dissect80211(b: Uint8Array, s: number, datapad: boolean): void {
    const fr = this.frame;
    if (!this.need(s + 2)) return;
    const fc = b[s] | (b[s + 1] << 8);
    const type = (fc >> 2) & 3;
    const subtype = (fc >> 4) & 0xf;
    const flags = fc >> 8;
    if (type === 2 && (subtype & 8)) {
      // Wireshark reads the QoS control field before adding any header field
      const qosOff = (flags & 3) === 3 ? 30 : 24;
      if (!this.need(s + qosOff + 2)) return;
    }
    fr.hasFc = true;
    fr.fc = fc;
    fr.fcType = type;
    fr.fcSubtype = subtype;
    fr.fcFlags = flags;
    let ts = (type << 4) | subtype;
    if (ts === 0x16) ts = 0x160 + ((fc >> 8) & 0x0f); // control frame extension (DMG)
    fr.typeSubtype = ts;
    if (!this.need(s + 4)) return;
    fr.hasDurationId = true;
    fr.durationId = b[s + 2] | (b[s + 3] << 8);
    if (type === 3 && subtype === 1) return; // S1G beacon etc.: no RA
    if (!this.need(s + 10)) return;
    fr.ra = s + 4;
    const ds = flags & 3;
    switch (type) {
      case 0: {
        if (!this.need(s + 24)) return;
        fr.da = s + 4;
        fr.ta = s + 10;
        fr.sa = s + 10;
        fr.bssid = s + 16;
        fr.hasSeq = true;
        const sc = b[s + 22] | (b[s + 23] << 8);
        fr.seq = sc >> 4;
        fr.frag = sc & 0xf;
        let hdr = 24;
        if (flags & 0x80) hdr += 4; // +HTC
        if (flags & 0x40) return; // protected: body not parsed
        let o = s + hdr;
        if (subtype === 13 || subtype === 14) {
          this.action(b, o);
          return;
        }
        const fixed = MGMT_FIXED[subtype];
        if (fixed < 0) return;
        if (subtype === 11) {
          // Authentication: SAE/FILS bodies are not plain elements
          if (!this.need(o + 6)) return;
          const alg = b[o] | (b[o + 1] << 8);
          if (alg === 3 || alg === 4 || alg === 5 || alg === 6) return;
        }
        if (!this.need(o + fixed)) return;
        o += fixed;
        this.parseElements(b, o, this.repEnd);
        return;
      }
      case 1:
        switch (subtype) {
          case 14: // CF-End: RA + BSSID
            if (!this.need(s + 16)) return;
            fr.bssid = s + 10;
            return;
          case 4: case 5: case 6: case 8: case 9: case 11: case 15:
            if (!this.need(s + 16)) return;
            fr.ta = s + 10;
            if (subtype === 8 || subtype === 9) this.need(s + 20); // BAR/BA control + SSC
            else if (subtype === 5) this.need(s + 17); // sounding dialog token
            return;
          case 10:
            if (!this.need(s + 16)) return;
            fr.bssid = s + 4;
            fr.ta = s + 10;
            return;
          default:
            return;
        }
      case 2: {
        const hdr = ds === 3 ? 30 : 24;
        if (!this.need(s + hdr)) return;
        fr.hasSeq = true;
        const sc = b[s + 22] | (b[s + 23] << 8);
        fr.seq = sc >> 4;
        fr.frag = sc & 0xf;
        fr.ta = s + 10;
        switch (ds) {
          case 0:
            fr.da = s + 4; fr.sa = s + 10; fr.bssid = s + 16;
            break;
          case 1: // ToDS
            fr.bssid = s + 4; fr.sa = s + 10; fr.da = s + 16; fr.staa = s + 10;
            break;
          case 2: // FromDS
            fr.da = s + 4; fr.bssid = s + 10; fr.sa = s + 16; fr.staa = s + 4;
            break;
          default:
            fr.da = s + 16; fr.sa = s + 24;
            break;
        }
        // EAPOL-Key frames carry elements (RSN IE, KDEs) that tshark reports as wlan.tag.*
        if ((subtype & 4) === 0 && (flags & 0x40) === 0) {
          let body = hdr;
          if (subtype & 8) {
            body += 2;
            if (flags & 0x80) body += 4;
          }
          if (datapad) body = (body + 3) & ~3;
          const amsdu = (subtype & 8) !== 0 && (b[s + hdr] & 0x80) !== 0;
          if (!amsdu) {
            // LLC needs 3 bytes (8 with SNAP); upper layers are not decoded here
            if (!this.need(s + body + 3)) return;
            if (b[s + body] === 0xaa && b[s + body + 1] === 0xaa && !this.need(s + body + 8)) return;
          }
          this.eapol(b, s + body);
        }
        return;
      }
      default:
        return;
    }
  }

  /** Action frames whose bodies end in elements (Radio Measurement, Spectrum Management). */
  private action(b: Uint8Array, o: number): void {
    if (!this.need(o + 2)) return;
    const cat = b[o];
    const act = b[o + 1];
    let fixed = -1;
    if (cat === 5) fixed = [3, 1, 3, 12, 1, 1][act] ?? -1;
    else if (cat === 0) fixed = act <= 3 ? 1 : act === 4 ? 0 : -1;
    if (fixed < 0) return;
    if (!this.need(o + 2 + fixed)) return;
    this.parseElements(b, o + 2 + fixed, this.repEnd);
  }

  private eapol(b: Uint8Array, o: number): void {
    const end = this.capEnd;
    if (o + 8 > end) return;
    if (b[o] !== 0xaa || b[o + 1] !== 0xaa || b[o + 2] !== 0x03 || b[o + 3] !== 0 || b[o + 4] !== 0 || b[o + 5] !== 0 ||
        b[o + 6] !== 0x88 || b[o + 7] !== 0x8e) return;
    const e = o + 8;
    if (!this.need(e + 4)) return;
    if (b[e + 1] !== 3) return; // EAPOL-Key
    const desc = b[e + 4];
    if (desc !== 2 && desc !== 254) return;
    if (!this.need(e + 99)) return;
    const keyInfo = (b[e + 5] << 8) | b[e + 6];
    const kdLen = (b[e + 97] << 8) | b[e + 98];
    const kd = e + 99;
    if (kdLen === 0) return;
    if (desc === 2 && (keyInfo & 0x1000)) return; // encrypted key data
    this.parseElements(b, kd, Math.min(kd + kdLen, this.repEnd));
  }

  private parseElements(b: Uint8Array, o: number, end: number): void {
    const fr = this.frame;
    let remaining = end - o;
    while (remaining > 0) {
      if (!this.need(o + 2)) return;
      const tag = b[o];
      const len = b[o + 1];
      if (tag === 255 && !this.need(o + 3)) return;
      const v = o + 2;
      const tEnd = v + len;
      if (len > this.repEnd - v) fr.malformed = true; // "Tag Length is longer than remaining payload"
      // tvb_new_subset_length() for the element body throws unless it is fully captured
      if (!this.need(tEnd)) return;
      if (this.element(b, tag, v, len, tEnd) === ABORT) return;
      o += len + 2;
      remaining -= len + 2;
    }
  }

  /** One element; returns ABORT when an emulated exception stopped dissection. */
  private element(b: Uint8Array, tag: number, v: number, len: number, tEnd: number): number {
    const fr = this.frame;
    switch (tag) {
      case 0: // SSID
        if (len > 32) fr.malformed = true;
        if (!this.need(tEnd, tEnd)) return ABORT;
        if (fr.ssidCount < MAX_LIST) {
          fr.ssidOff[fr.ssidCount] = v;
          fr.ssidLen[fr.ssidCount++] = len;
        }
        return 0;
      case 42: // ERP
        if (len !== 1) fr.malformed = true;
        return 0;
      case 45: // HT capabilities
        if (len !== 26) fr.malformed = true;
        return 0;
      case 1: // supported rates
      case 50: // extended supported rates
        if (len === 0) { fr.malformed = true; return 0; }
        if (!this.need(tEnd, tEnd)) return ABORT;
        return 0;
      case 3: // DS parameter set
        if (len !== 1) { fr.malformed = true; return 0; }
        if (!this.need(tEnd, tEnd)) return ABORT;
        fr.dsChannel = b[v];
        return 0;
      case 5: // TIM
        if (len < 4) { fr.malformed = true; return 0; }
        if (!this.need(tEnd, tEnd)) return ABORT;
        return 0;
      case 7: // Country
        if (len < 3) { fr.malformed = true; return 0; }
        if (!this.need(v + 2, tEnd)) return ABORT;
        if (fr.countryCount < MAX_LIST) fr.countryOff[fr.countryCount++] = v;
        if (!this.need(v + 3, tEnd)) return ABORT;
        for (let o = 3; o + 3 <= len; o += 3) if (!this.need(v + o + 3, tEnd)) return ABORT;
        return 0;
      case 48:
        return this.rsn(b, v, tEnd);
      case 221:
        return this.vendor(b, v, len, tEnd);
      default:
        return 0;
    }
  }

  private rsn(b: Uint8Array, v: number, tEnd: number): number {
    const fr = this.frame;
    fr.rsnCount++;
    let o = v;
    if (!this.need(o + 2, tEnd)) return ABORT;
    o += 2;
    if (o >= tEnd) return 0;
    if (!this.need(o + 4, tEnd)) return ABORT;
    o += 4;
    if (o >= tEnd) return 0;
    for (let pass = 0; pass < 2; pass++) {
      if (!this.need(o + 2, tEnd)) return ABORT;
      let cnt = b[o] | (b[o + 1] << 8);
      o += 2;
      if (o + cnt * 4 > tEnd) {
        fr.malformed = true; // "... Suite Count too large"
        cnt = Math.floor((tEnd - o) / 4);
      }
      if (!this.need(o + cnt * 4, tEnd)) return ABORT;
      o += cnt * 4;
      if (o >= tEnd) return 0;
    }
    // RSN capabilities
    if (!this.need(o + 2, tEnd)) return ABORT;
    o += 2;
    if (o >= tEnd) return 0;
    if (!this.need(o + 2, tEnd)) return ABORT;
    const pmkids = b[o] | (b[o + 1] << 8);
    o += 2;
    if (!this.need(o + pmkids * 16, tEnd)) return ABORT;
    o += pmkids * 16;
    if (o >= tEnd) return 0;
    if (!this.need(o + 4, tEnd)) return ABORT;
    return 0;
  }

  private vendor(b: Uint8Array, v: number, len: number, tEnd: number): number {
    const fr = this.frame;
    if (len < 3) {
      fr.malformed = true;
      return 0;
    }
    if (!this.need(v + 3, tEnd)) return ABORT;
    const oui = (b[v] << 16) | (b[v + 1] << 8) | b[v + 2];
    const idx = fr.vendorCount;
    if (idx < MAX_LIST) {
      fr.vendorOui[idx] = oui;
      fr.vendorType[idx] = -1;
      fr.vendorCount++;
    }
    // the OUI type byte is read unconditionally: a 3-byte element overruns it
    if (!this.need(v + 4, tEnd)) return ABORT;
    if (idx < MAX_LIST) fr.vendorType[idx] = b[v + 3];
    if (!HANDLED_OUIS.has(oui)) {
      if (!this.need(tEnd, tEnd)) return ABORT;
      if (fr.vdataCount < MAX_LIST) {
        fr.vdataOff[fr.vdataCount] = v + 3;
        fr.vdataLen[fr.vdataCount++] = len - 3;
      }
      return 0;
    }
    if (oui === OUI_MICROSOFT && b[v + 3] === 4) return this.wps(b, v + 4, tEnd);
    if (oui === OUI_MICROSOFT && b[v + 3] === 1) return this.wpaIe(b, v + 4, tEnd);
    return 0;
  }

  /** Microsoft WPA IE: version, multicast suite, unicast and AKM lists (reads beyond the element throw). */
  private wpaIe(b: Uint8Array, o: number, tEnd: number): number {
    if (!this.need(o + 2, tEnd)) return ABORT;
    o += 2;
    if (o >= tEnd) return 0;
    if (!this.need(o + 4, tEnd)) return ABORT;
    o += 4;
    for (let pass = 0; pass < 2; pass++) {
      if (o >= tEnd) return 0;
      if (!this.need(o + 2, tEnd)) return ABORT;
      const cnt = b[o] | (b[o + 1] << 8);
      o += 2;
      if (!this.need(o + cnt * 4, tEnd)) return ABORT;
      o += cnt * 4;
    }
    return 0;
  }

  private wps(b: Uint8Array, o: number, tEnd: number): number {
    const fr = this.frame;
    let size = tEnd - o;
    while (size >= 4) {
      if (!this.need(o + 4, tEnd)) return ABORT;
      const t = (b[o] << 8) | b[o + 1];
      const l = (b[o + 2] << 8) | b[o + 3];
      if (t === 0x1011) {
        if (!this.need(o + 4 + l, tEnd)) return ABORT;
        if (fr.wpsCount < MAX_LIST) {
          fr.wpsOff[fr.wpsCount] = o + 4;
          fr.wpsLen[fr.wpsCount++] = l;
        }
      }
      o += l + 4;
      size -= l + 4;
    }
    return 0;
  }
}
