// Turns captured packets into typed records on the plugin's outputs. One processor per source
// actor; `beginCapture` starts a new capture (file, live session), resetting per-capture decoder
// state (A-MPDU detection, tcp/udp stream numbering, reassembly) exactly like a new tshark run.

import type { ActorContext, Counter } from '@pcapflow/core';
import { isWifiLinktype } from '../capture/linktypes';
import { getMacResolver, type MacResolver } from '../oui';
import { WifiDecoder } from '../wifi/decoder';
import type { WifiRecord } from '../wifi/record';
import { dropDetail, FrameRecordBuilder, recordProjection, type DetailGroup } from '../wifi/pack';
import { WiredDecoder } from '../wired/decoder';
import { LINKTYPE } from '../wired/decode';
import { toWiredRecord, type WiredRecord } from '../wired/record';
import type { WiredFrame } from '../wired/types';

/** Link types the wired decoder understands. */
const WIRED_LINKTYPES = new Set<number>([
  LINKTYPE.NULL, LINKTYPE.ETHERNET, LINKTYPE.RAW, LINKTYPE.LOOP, LINKTYPE.LINUX_SLL, LINKTYPE.IPV4, LINKTYPE.IPV6,
  LINKTYPE.LINUX_SLL2, 12, 14,
]);

export function isWiredLinktype(lt: number): boolean {
  return WIRED_LINKTYPES.has(lt);
}

/** Fields of `WifiRecord` that a frame record has only with the matching `detail:` group (resolved, ssid_hex, vendor_ies). */
type DetailField = 'ra_resolved' | 'ta_resolved' | 'da_resolved' | 'bssid_resolved' | 'ssid_hex' | 'ssids_hex' | 'vendor_ies';

/** A Wi-Fi frame record as published on the `frames` output. */
export interface FrameRecord extends Omit<WifiRecord, DetailField>, Partial<Pick<WifiRecord, DetailField>> {
  /** 1-based frame number within its capture (file or live session). */
  frame: number;
  /** Capture the frame came from: file name (directory/file sources), interface (live), input (tshark-ek). */
  capture: string;
  /** Source address is locally administered (randomised MAC); null without SA. */
  sa_local: boolean | null;
  /** Raw frame bytes (link-layer header included), only with `keep_raw: true`. */
  raw?: Uint8Array;
}

/** A wired packet record as published on the `wired` output. */
export interface PacketRecord extends WiredRecord {
  capture: string;
  /** Subject-friendly class: "dns" when the packet carries DNS, else tcp/udp/icmp/icmpv6, or "other". */
  kind: 'dns' | 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'other';
  raw?: Uint8Array;
}

/** Every field a wired record can have, in record order (`raw` only with keepRaw). */
export const WIRED_FIELDS: readonly string[] = Object.freeze([
  'frame', 'ts', 'len', 'cap_len', 'src_mac', 'dst_mac', 'vlan_ids', 'mpls_labels', 'ip_version', 'ip_src', 'ip_dst', 'ip_proto',
  'l4', 'src_port', 'dst_port', 'flow_key', 'tcp_stream', 'udp_stream', 'dns', 'malformed', 'capture', 'kind', 'raw',
]);

/**
 * The wired fields `fields` lists, in record order (each once), or a message naming the first
 * problem: an unknown field, or `raw` without keepRaw (the twin of selectFrameFields).
 */
export function selectWiredFields(fields: readonly string[], keepRaw: boolean): readonly string[] | string {
  for (const f of fields) {
    if (f === 'raw' && !keepRaw) return 'field "raw" needs keep_raw: true';
    if (!WIRED_FIELDS.includes(f)) return `unknown wired field "${f}"; the fields are: ${WIRED_FIELDS.join(', ')}`;
  }
  return WIRED_FIELDS.filter((f) => fields.includes(f));
}

/** Field selection per output (tshark's `-e`): absent = every field. */
export interface FieldSelection {
  frames?: readonly string[];
  wired?: readonly string[];
}

export interface ProcessorOptions {
  wifi: boolean;
  wired: boolean;
  keepRaw: boolean;
  malformed: 'emit' | 'skip';
  /** Optional frame record fields (none: the basic record). */
  detail?: readonly DetailGroup[];
  /** Only these fields on the records (validated by the plugin's config schema; unknown ones throw here). */
  fields?: FieldSelection;
}

/** The counters every source exposes (also returned by `health()`). */
export const COUNTER_NAMES = [
  'frames_read', 'decoded', 'malformed', 'unsupported_linktype', 'emitted_frames', 'emitted_wired',
  'skipped_malformed', 'kernel_drops', 'truncated_records', 'capture_errors', 'files_done',
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];

export class Counters {
  private readonly fixed = new Map<string, Counter>();
  private readonly linktypes = new Map<number, Counter>();
  constructor(private readonly ctx: Pick<ActorContext, 'counter'>) {
    for (const n of COUNTER_NAMES) this.fixed.set(n, ctx.counter(n));
  }
  get(name: CounterName): Counter {
    return this.fixed.get(name)!;
  }
  linktype(lt: number): Counter {
    let c = this.linktypes.get(lt);
    if (!c) { c = this.ctx.counter(`linktype_${lt}`); this.linktypes.set(lt, c); }
    return c;
  }
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, c] of this.fixed) out[k] = c.value;
    for (const [lt, c] of this.linktypes) out[`linktype_${lt}`] = c.value;
    return out;
  }
}

export type Emit = (output: 'frames' | 'wired', record: Record<string, unknown>) => void;

export class PacketProcessor {
  private readonly wifiDec = new WifiDecoder();
  private wiredDec = new WiredDecoder();
  private readonly resolver: MacResolver = getMacResolver();
  private capture = '';
  private frameNo = 0;
  private lastLinktype = -1;
  private lastLinktypeCounter?: Counter;
  private readonly cFrames: Counter;
  private readonly cDecoded: Counter;
  private readonly cMalformed: Counter;
  private readonly cUnsupported: Counter;
  private readonly cEmitFrames: Counter;
  private readonly cEmitWired: Counter;
  private readonly cSkipped: Counter;
  /** Frame records, made with their msgpack form attached (the runtime's pre-packed fast path). */
  private readonly frames: FrameRecordBuilder;
  /** With a field selection: the selected fields of a record built elsewhere (wired records, tshark-ek input). */
  private readonly pickFrame: ((r: Record<string, unknown>) => Record<string, unknown>) | undefined;
  private readonly pickWired: ((r: Record<string, unknown>) => Record<string, unknown>) | undefined;
  /** Records emitted since the last `takeEmitted()` (the source awaits `ctx.ready()` every ~1000). */
  emittedSinceReady = 0;

  constructor(private readonly emit: Emit, readonly counters: Counters, private readonly opts: ProcessorOptions) {
    this.cFrames = counters.get('frames_read');
    this.cDecoded = counters.get('decoded');
    this.cMalformed = counters.get('malformed');
    this.cUnsupported = counters.get('unsupported_linktype');
    this.cEmitFrames = counters.get('emitted_frames');
    this.cEmitWired = counters.get('emitted_wired');
    this.cSkipped = counters.get('skipped_malformed');
    this.frames = new FrameRecordBuilder(opts.detail ?? [], opts.keepRaw, this.resolver, opts.fields?.frames);
    // records without data rate and duration (a field selection): the decoder skips computing them
    this.wifiDec.computeRates = this.frames.keys.includes('data_rate_mbps') || this.frames.keys.includes('duration_us');
    // the builder has checked and ordered the frame selection: its keys are the selected fields
    if (opts.fields?.frames !== undefined) this.pickFrame = recordProjection(this.frames.keys);
    const wiredFields = opts.fields?.wired;
    if (wiredFields !== undefined) {
      const keys = selectWiredFields(wiredFields, opts.keepRaw);
      if (typeof keys === 'string') throw new Error(keys);
      this.pickWired = recordProjection(keys);
    }
  }

  /** Start a new capture: frame numbers restart at 1, decoder state is fresh. */
  beginCapture(name: string): this {
    this.capture = name;
    this.frameNo = 0;
    this.wifiDec.resetState();
    this.wiredDec = new WiredDecoder();
    return this;
  }

  /**
   * Decode one packet `buf[off .. off+capLen)`. With `emit = false` the packet is decoded (so
   * stateful decoders see it) but nothing is published: used to skip frames already published
   * before a restart.
   */
  packet(buf: Uint8Array, off: number, capLen: number, origLen: number, linktype: number, tsSec: number, tsNsec: number, emit = true): void {
    const frame = ++this.frameNo;
    if (emit) {
      this.cFrames.inc();
      if (linktype !== this.lastLinktype) { this.lastLinktype = linktype; this.lastLinktypeCounter = this.counters.linktype(linktype); }
      this.lastLinktypeCounter!.inc();
    }
    if (isWifiLinktype(linktype)) {
      if (!this.opts.wifi) return;
      const fr = this.wifiDec.decode(buf, off, capLen, origLen, linktype, tsSec, tsNsec);
      if (!emit) return;
      this.cDecoded.inc();
      if (fr.malformed) {
        this.cMalformed.inc();
        if (this.opts.malformed === 'skip') { this.cSkipped.inc(); return; }
      }
      this.emit('frames', this.frames.build(fr, frame, this.capture, this.opts.keepRaw ? buf.slice(off, off + capLen) : undefined));
      this.cEmitFrames.inc();
      this.emittedSinceReady++;
      return;
    }
    if (isWiredLinktype(linktype)) {
      if (!this.opts.wired) return;
      const data = off === 0 && capLen === buf.length ? buf : buf.subarray(off, off + capLen);
      const f = this.wiredDec.decode({ linktype, tsSec, tsNsec, capLen, origLen, data });
      if (!emit) return;
      this.cDecoded.inc();
      if (f.malformed) {
        this.cMalformed.inc();
        if (this.opts.malformed === 'skip') { this.cSkipped.inc(); return; }
      }
      this.emitWired(f, data);
      return;
    }
    if (emit) this.cUnsupported.inc();
  }

  private emitWired(f: WiredFrame, data: Uint8Array): void {
    const rec = toWiredRecord(f) as PacketRecord;
    rec.capture = this.capture;
    rec.kind = rec.dns ? 'dns' : rec.l4 ?? 'other';
    if (this.opts.keepRaw) rec.raw = data.slice();
    this.emit('wired', this.pickWired ? this.pickWired(rec as unknown as Record<string, unknown>) : rec as unknown as Record<string, unknown>);
    this.cEmitWired.inc();
    this.emittedSinceReady++;
    // 802.11 carried inside GRE (e.g. Aruba mirroring) is decoded as Wi-Fi too.
    if (this.opts.wifi) {
      for (const inner of f.wlan) {
        const fr = this.wifiDec.decode(inner, 0, inner.length, inner.length, 105, f.tsSec, f.tsNsec);
        if (fr.malformed) {
          this.cMalformed.inc();
          if (this.opts.malformed === 'skip') { this.cSkipped.inc(); continue; }
        }
        this.emit('frames', this.frames.build(fr, f.frameNumber, this.capture, this.opts.keepRaw ? inner.slice() : undefined));
        this.cEmitFrames.inc();
        this.emittedSinceReady++;
      }
    }
  }

  /** Emit an already-typed record (tshark-ek source). */
  emitRecord(output: 'frames' | 'wired', rec: Record<string, unknown>): void {
    if (output === 'frames') dropDetail(rec, this.opts.detail ?? []);
    const pick = output === 'frames' ? this.pickFrame : this.pickWired;
    this.emit(output, pick ? pick(rec) : rec);
    (output === 'frames' ? this.cEmitFrames : this.cEmitWired).inc();
    this.emittedSinceReady++;
  }
}
