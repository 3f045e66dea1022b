import { Packr, Unpackr } from 'msgpackr';

/**
 * Wire encoding: one message carries a batch of records packed with msgpackr records
 * (structures are embedded per message, so every message decodes on its own: no shared
 * structure registry to keep in sync between processes and hosts).
 */
const packr = new Packr({ useRecords: true });
const unpackr = new Unpackr({ useRecords: true });

/**
 * Pre-packed records (a fast path for high-rate sources). A record may carry, under these
 * registry symbols (so plugins need no import), its own encoding in msgpackr record form:
 *
 *   record[PACKED_KEYS]   a shared, frozen array of the record's keys (one array per record shape)
 *   record[PACKED_VALUES] the msgpack encoding of the values, in PACKED_KEYS order, concatenated
 *                         (integers 0x40..0x7f written as uint8, never as fixints: those bytes
 *                         are record references in msgpackr's record extension)
 *
 * Nested objects inside the values must be msgpackr records too (a plain msgpack map decodes to
 * a Map with useRecords): define them inline with the reserved id 0x7f (`d4 72 7f keys values`),
 * which the batch never assigns to a top-level shape.
 *
 * When every record of a batch has both, `encodeBatch` concatenates them (one `d4 72 id keys`
 * definition per shape and message, then `id values` per record) instead of walking the objects;
 * the result decodes exactly like `packr.pack(records)` would. Symbol-keyed properties are
 * invisible to msgpackr, JSON and Object.keys. A batch with any other record is packed normally.
 */
export const PACKED_KEYS: unique symbol = Symbol.for('pcapflow.packedKeys') as never;
export const PACKED_VALUES: unique symbol = Symbol.for('pcapflow.packedValues') as never;

/**
 * PACKED_VALUES as a span of a buffer shared by many records, for producers that write records
 * one after another into one buffer: no view object per record (a typed-array view costs more to
 * make than the whole record's bytes cost to copy). Instead of PACKED_VALUES:
 *
 *   record[PACKED_SLAB]   the buffer (a Uint8Array)
 *   record[PACKED_START]  the offset of the record's values in it
 *   record[PACKED_END]    the offset past them
 *
 * Everything that reads PACKED_VALUES here reads the span too (`packedValuesOf`). Code that knows
 * only PACKED_VALUES sees no packed form, and packs the record's properties (same result, slower).
 */
export const PACKED_SLAB: unique symbol = Symbol.for('pcapflow.packedSlab') as never;
export const PACKED_START: unique symbol = Symbol.for('pcapflow.packedStart') as never;
export const PACKED_END: unique symbol = Symbol.for('pcapflow.packedEnd') as never;

interface PackedRecord {
  [PACKED_KEYS]?: readonly string[];
  [PACKED_VALUES]?: Uint8Array;
  [PACKED_SLAB]?: Uint8Array;
  [PACKED_START]?: number;
  [PACKED_END]?: number;
}

/** The packed values of a record, PACKED_VALUES or its span of PACKED_SLAB (a view made here); undefined without. */
function packedValuesOf(r: PackedRecord): Uint8Array | undefined {
  const values = r[PACKED_VALUES];
  if (values !== undefined) return values;
  const slab = r[PACKED_SLAB];
  return slab === undefined ? undefined : slab.subarray(r[PACKED_START], r[PACKED_END]);
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** msgpack of each keys array, cached per array identity. */
const keysCache = new WeakMap<readonly string[], Uint8Array>();
const keysPackr = new Packr({ useRecords: false });

function packedKeys(keys: readonly string[]): Uint8Array {
  let b = keysCache.get(keys);
  if (!b) { b = Uint8Array.from(keysPackr.pack(keys)); keysCache.set(keys, b); }
  return b;
}

/** Up to 63 shapes per message (record ids 0x40..0x7e; 0x7f is for nested inline records); more falls back to msgpackr. */
function encodePacked(records: readonly object[]): Uint8Array | undefined {
  const n = records.length;
  let size = 5;
  let shapes: Array<readonly string[]> | undefined;
  let first: readonly string[] | undefined;
  for (let i = 0; i < n; i++) {
    const r = records[i] as PackedRecord;
    const keys = r[PACKED_KEYS];
    const values = packedValuesOf(r);
    if (keys === undefined || values === undefined) return undefined;
    size += 1 + values.length;
    if (keys === first) continue;
    if (first === undefined) { first = keys; shapes = [keys]; size += 2 + packedKeys(keys).length; continue; }
    if (!shapes!.includes(keys)) {
      if (shapes!.length >= 63) return undefined;
      shapes!.push(keys);
      size += 2 + packedKeys(keys).length;
    }
  }
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  out[pos++] = 0xdd; // array 32
  out.writeUInt32BE(n, pos);
  pos += 4;
  const ids = new Map<readonly string[], number>();
  for (let i = 0; i < n; i++) {
    const r = records[i] as PackedRecord;
    const keys = r[PACKED_KEYS]!;
    const values = packedValuesOf(r)!;
    let id = ids.get(keys);
    if (id === undefined) {
      id = 0x40 + ids.size;
      ids.set(keys, id);
      out[pos++] = 0xd4; // fixext 1
      out[pos++] = 0x72; // "r": record definition
      out[pos++] = id;
      const k = packedKeys(keys);
      out.set(k, pos);
      pos += k.length;
    } else {
      out[pos++] = id;
    }
    out.set(values, pos);
    pos += values.length;
  }
  return out.subarray(0, pos);
}

/**
 * Optional third part of a packed record (see PACKED_KEYS above), for producers that reuse the
 * buffer their PACKED_VALUES views (or PACKED_SLAB spans) point into:
 *
 *   record[PACKED_RELEASE] a `{ released: number }` shared by the records of one producer buffer
 *
 * `PackedBatchBuilder.add` counts a record there once it has copied its bytes, and removes the
 * record's PACKED_VALUES (or PACKED_SLAB), so nothing reads them afterwards (emitted again, the
 * record is packed from its properties). A producer that counted the records it wrote into a
 * buffer may overwrite the buffer once all of them are released; records kept anywhere else are
 * never released, so their bytes stay valid.
 */
const PACKED_RELEASE: unique symbol = Symbol.for('pcapflow.packedRelease') as never;

interface ReleasableRecord extends PackedRecord { [PACKED_RELEASE]?: { released: number } }

/** Message buffers given back by `PackedBatchBuilder.release`, for the next builders (bounded). */
const freeBuffers: Buffer[] = [];
const MAX_FREE_BUFFERS = 64;

/**
 * A batch message built record by record from pre-packed records (the runtime appends each one
 * at emit time, so the record object is garbage right away and publishing needs no encoding).
 * `add` returns false when the record has no packed form or the message has 63 shapes already.
 */
export class PackedBatchBuilder {
  private buf: Buffer;
  private pos = 5;
  private readonly ids = new Map<readonly string[], number>();
  private lastKeys?: readonly string[];
  private lastId = 0;
  /** A DataView of `buf` (made when first needed), and the last PACKED_SLAB as 32-bit words: span records are copied a word at a time. */
  private dv?: DataView;
  private slab?: Uint8Array;
  private slabWords: Int32Array<ArrayBufferLike> = new Int32Array(0);
  count = 0;

  constructor(sizeHint = 1 << 16) {
    const size = Math.max(64, sizeHint);
    // a released buffer when one is big enough: a fresh one per message is hundreds of kB of
    // external memory each, and V8 answers that churn with full garbage collections
    let buf: Buffer | undefined;
    for (let i = freeBuffers.length - 1; i >= 0; i--) {
      if (freeBuffers[i]!.length >= size) { buf = freeBuffers[i]!; freeBuffers[i] = freeBuffers[freeBuffers.length - 1]!; freeBuffers.pop(); break; }
    }
    this.buf = buf ?? Buffer.allocUnsafe((size + 0xffff) & ~0xffff); // (64 KiB steps: reusable for the next hint)
  }

  static packedForm(record: object): boolean {
    const r = record as PackedRecord;
    return (r[PACKED_VALUES] !== undefined || r[PACKED_SLAB] !== undefined) && r[PACKED_KEYS] !== undefined;
  }

  add(record: object): boolean {
    const r = record as ReleasableRecord;
    const keys = r[PACKED_KEYS];
    const values = r[PACKED_VALUES];
    const slab = values === undefined ? r[PACKED_SLAB] : undefined;
    if (keys === undefined || (values === undefined && slab === undefined)) return false;
    const start = slab === undefined ? 0 : r[PACKED_START]!;
    const n = slab === undefined ? values!.length : r[PACKED_END]! - start;
    let id = keys === this.lastKeys ? this.lastId : this.ids.get(keys);
    let def: Uint8Array | undefined;
    if (id === undefined) {
      if (this.ids.size >= 63) return false;
      id = 0x40 + this.ids.size;
      this.ids.set(keys, id);
      def = packedKeys(keys);
    }
    this.lastKeys = keys;
    this.lastId = id;
    // (+3 past the values: copySpan's last word)
    const need = this.pos + n + 6 + (def ? def.length : 0);
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
      this.dv = undefined;
    }
    const b = this.buf;
    if (def) {
      b[this.pos++] = 0xd4;
      b[this.pos++] = 0x72;
      b[this.pos++] = id;
      b.set(def, this.pos);
      this.pos += def.length;
    } else {
      b[this.pos++] = id;
    }
    if (slab !== undefined) this.copySpan(slab, start, n);
    // a byte loop only for the shortest: records vary in length, and a loop's mispredicted exit
    // costs more than `set` from about 16 bytes (measured: 20..64-byte records, 25-35 ns by set, 110-155 by loop)
    else if (n < 16) { let p = this.pos; for (let i = 0; i < n; i++) b[p++] = values![i]; }
    else b.set(values!, this.pos);
    this.pos += n;
    this.count++;
    const ticket = r[PACKED_RELEASE];
    if (ticket !== undefined) {
      if (slab === undefined) r[PACKED_VALUES] = undefined; else r[PACKED_SLAB] = undefined;
      ticket.released++;
    }
    return true;
  }

  /**
   * `slab[start .. start+n)` to `pos`, as 32-bit words when the span starts word-aligned (read
   * through an Int32Array of the slab, kept while the slab is the same): the last word may run
   * up to 3 bytes past the span, into bytes written over next (a byte loop for the tail costs
   * more, its exit mispredicted).
   */
  private copySpan(slab: Uint8Array, start: number, n: number): void {
    let p = this.pos;
    if (slab !== this.slab) {
      this.slab = slab;
      // (no words of a slab that does not start word-aligned: its spans are copied by bytes)
      this.slabWords = (slab.byteOffset & 3) === 0 ? new Int32Array(slab.buffer, slab.byteOffset, slab.length >> 2) : new Int32Array(0);
    }
    if ((start & 3) === 0) {
      const words = this.slabWords;
      const end = (start + n + 3) >> 2;
      if (end <= words.length) {
        const dv = this.dv ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
        // host order in, host order out: the bytes as they are
        for (let k = start >> 2; k < end; k++, p += 4) dv.setInt32(p, words[k]!, HOST_LITTLE_ENDIAN);
        return;
      }
    }
    const b = this.buf;
    for (let i = start, e = start + n; i < e; i++) b[p++] = slab[i]!;
  }

  /** Bytes so far. */
  get size(): number { return this.pos; }

  /** The finished message (the builder must not be used afterwards). */
  finish(): Uint8Array {
    this.buf[0] = 0xdd;
    this.buf.writeUInt32BE(this.count, 1);
    return this.buf.subarray(0, this.pos);
  }

  /**
   * The message bytes are referenced nowhere any more (the transport has copied them out, e.g.
   * nats.js into its outbound buffer, and the publish is acked): the next builder may reuse them.
   */
  release(): void {
    if (freeBuffers.length < MAX_FREE_BUFFERS) freeBuffers.push(this.buf);
    this.buf = Buffer.alloc(0);
    this.dv = undefined;
  }
}

export function encodeBatch(records: readonly object[]): Uint8Array {
  if (records.length && PackedBatchBuilder.packedForm(records[0]!)) {
    const b = encodePacked(records);
    if (b) return b;
  }
  // A record with a packed form may hold only some of its fields as properties (a projected
  // input record, see codec-projection.ts): its packed form is the whole record, so use that.
  let list = records;
  for (let i = 0; i < records.length; i++) {
    if (PackedBatchBuilder.packedForm(records[i]!)) { list = records.map(expandPacked); break; }
  }
  return packr.pack(list);
}

/** The whole record a packed form stands for (the record itself when it has none). */
export function expandPacked(record: object): object {
  const r = record as PackedRecord;
  const keys = r[PACKED_KEYS];
  const values = packedValuesOf(r);
  if (keys === undefined || values === undefined) return record;
  const k = packedKeys(keys);
  const msg = Buffer.allocUnsafe(4 + k.length + values.length);
  msg[0] = 0x91; // array of one
  msg[1] = 0xd4; msg[2] = 0x72; msg[3] = 0x40; // record definition, id 0x40
  msg.set(k, 4);
  msg.set(values, 4 + k.length);
  return (unpackr.unpack(msg) as object[])[0]!;
}

export function decodeBatch(data: Uint8Array): Record<string, unknown>[] {
  const value = unpackr.unpack(data);
  if (!Array.isArray(value)) throw new TypeError('message is not a pcapflow record batch (expected a msgpack array)');
  return value as Record<string, unknown>[];
}

/** Encode any value (KV state, replies). */
export function encodeValue(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function decodeValue<T = unknown>(data: Uint8Array): T {
  return unpackr.unpack(data) as T;
}
