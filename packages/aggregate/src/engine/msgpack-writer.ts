/**
 * A small msgpack writer for the commit path: every changed row of a table is written to KV once
 * per commit, and building a GroupSnapshot object per row and handing it to msgpackr cost several
 * microseconds per row (object shapes, record lookups, garbage). This writes the bytes core's
 * encodeValue gives for such an object, straight from the accumulators, so that core's decodeValue
 * reads back the very same objects: the persisted format does not change.
 *
 * encodeValue is msgpackr with `useRecords`: an object is a *record* — on first use in a message
 * its definition `d4 72 <id>` + the array of its keys, then its values in key order; a later object
 * of the same keys in the same message is `<id>` + values (ids 0x40..0x7f, assigned per message).
 * Plain msgpack maps would decode as Map objects there, so objects are only ever written as records
 * (`record()`). Because ids share the bytes 0x40..0x7f with positive fixints, integers 64..127 are
 * written as uint8, as msgpackr does.
 */
export class MsgpackWriter {
  buf: Buffer;
  pos = 0;
  /** where the current message starts (0 unless beginAfter) */
  private start = 0;
  private view: DataView;
  /** this message's number (record shapes remember the message their id was assigned in) */
  private message = 0;
  private nextId = 0x40;

  constructor(private readonly initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Start a new message (the bytes written so far are discarded; record ids start over). */
  reset(): void {
    this.pos = 0;
    this.start = 0;
    this.message = ++messageCounter;
    this.nextId = 0x40;
  }

  /**
   * Start a new message after the bytes written so far, which are never written again: each
   * message is then taken as a view (`take`), without a copy of its own. A full buffer is not
   * grown but replaced (the message so far moves to a new one of initialBytes or more), so the
   * views stay valid, and a kept view holds on to one buffer of about initialBytes, as a
   * pooled Buffer.allocUnsafe holds its pool slab. Use either reset() or this on one writer.
   */
  beginAfter(): void {
    this.start = this.pos;
    this.message = ++messageCounter;
    this.nextId = 0x40;
  }

  /** The message begun by beginAfter, as a view of the writer's buffer (see beginAfter). */
  take(): Uint8Array {
    return this.buf.subarray(this.start, this.pos);
  }

  /** Drop what was written since beginAfter (nothing was taken) and begin the message again. */
  discard(): void {
    this.pos = this.start;
    // the shapes defined in the dropped bytes must be defined again
    this.message = ++messageCounter;
    this.nextId = 0x40;
  }

  /** A standalone copy of the message: it may be kept (e.g. by an in-process KV) while the writer goes on. */
  copy(): Uint8Array {
    const s = this.start;
    const n = this.pos - s;
    const out = Buffer.allocUnsafe(n);
    const b = this.buf;
    // rows are a few hundred bytes: a loop beats Buffer.copy's argument checks and native call
    if (n <= 1024) for (let i = 0; i < n; i++) out[i] = b[s + i];
    else out.set(b.subarray(s, s + n));
    return out;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    // only the current message moves: bytes before `start` belong to messages already taken
    const used = this.pos - this.start;
    let size = this.start > 0 ? this.initialBytes : this.buf.length * 2;
    while (size < used + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
    this.pos = used;
    this.start = 0;
  }

  nil(): void {
    this.ensure(1);
    this.buf[this.pos++] = 0xc0;
  }

  bool(b: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = b ? 0xc3 : 0xc2;
  }

  /** A number: the smallest int format for 32-bit integers, float64 for everything else (exact for every double). */
  number(n: number): void {
    this.ensure(9);
    const b = this.buf;
    let p = this.pos;
    if (n >>> 0 === n) {
      if (n < 0x40) b[p++] = n;
      else if (n < 0x100) { b[p++] = 0xcc; b[p++] = n; }
      else if (n < 0x10000) { b[p++] = 0xcd; b[p++] = n >>> 8; b[p++] = n & 0xff; }
      else { b[p++] = 0xce; this.view.setUint32(p, n); p += 4; }
    } else if (n >> 0 === n) {
      if (n >= -0x20) b[p++] = n & 0xff;
      else if (n >= -0x80) { b[p++] = 0xd0; b[p++] = n & 0xff; }
      else if (n >= -0x8000) { b[p++] = 0xd1; b[p++] = (n >> 8) & 0xff; b[p++] = n & 0xff; }
      else { b[p++] = 0xd2; this.view.setInt32(p, n); p += 4; }
    } else {
      b[p++] = 0xcb;
      this.view.setFloat64(p, n);
      p += 8;
    }
    this.pos = p;
  }

  str(s: string): void {
    const n = s.length;
    if (n < 0x20) {
      // short text (keys, names, SSIDs) in one pass, copied while checked; non-ASCII text starts over below
      this.ensure(n + 1);
      const b = this.buf;
      const p0 = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p0 + i] = c;
      }
      if (i === n) {
        b[p0 - 1] = 0xa0 | n;
        this.pos = p0 + n;
        return;
      }
    }
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    const bytes = ascii ? n : Buffer.byteLength(s, 'utf8');
    this.ensure(bytes + 5);
    const b = this.buf;
    let p = this.pos;
    if (bytes < 0x20) b[p++] = 0xa0 | bytes;
    else if (bytes < 0x100) { b[p++] = 0xd9; b[p++] = bytes; }
    else if (bytes < 0x10000) { b[p++] = 0xda; b[p++] = bytes >>> 8; b[p++] = bytes & 0xff; }
    else { b[p++] = 0xdb; this.view.setUint32(p, bytes); p += 4; }
    if (ascii && n < 64) for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    else p += b.write(s, p, bytes, ascii ? 'latin1' : 'utf8');
    this.pos = p;
  }

  arrayHeader(n: number): void {
    this.ensure(5);
    const b = this.buf;
    if (n < 0x10) b[this.pos++] = 0x90 | n;
    else if (n < 0x10000) { b[this.pos++] = 0xdc; b[this.pos++] = n >>> 8; b[this.pos++] = n & 0xff; }
    else { b[this.pos++] = 0xdd; this.view.setUint32(this.pos, n); this.pos += 4; }
  }

  /**
   * Start an object of this shape: its values follow, one per key in the shape's order. False when
   * the message has no record id left (more than 64 shapes in one message): the caller falls back.
   */
  record(shape: RecordShape): boolean {
    if (shape.message === this.message) {
      this.ensure(1);
      this.buf[this.pos++] = shape.id;
      return true;
    }
    if (this.nextId > 0x7f) return false;
    const def = shape.definition;
    this.ensure(3 + def.length);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0xd4;
    b[p++] = 0x72;
    b[p++] = this.nextId;
    // definitions are a few bytes: a loop beats TypedArray.set here
    for (let i = 0; i < def.length; i++) b[p++] = def[i];
    this.pos = p;
    shape.id = this.nextId++;
    shape.message = this.message;
    return true;
  }

  /**
   * A value that is a string, number, boolean, null, or an array of such values (nested arrays too);
   * undefined at the top is written as null (as snapshots map it). Anything else (an object, a
   * Date, a bigint, undefined inside an array) returns false, the position wherever it got to: the
   * caller then encodes the whole message with the general encoder.
   */
  value(v: unknown): boolean {
    switch (typeof v) {
      case 'string':
        this.str(v);
        return true;
      case 'number':
        this.number(v);
        return true;
      case 'boolean':
        this.bool(v);
        return true;
      case 'undefined':
        this.nil();
        return true;
      case 'object':
        if (v === null) {
          this.nil();
          return true;
        }
        if (!Array.isArray(v)) return false;
        this.arrayHeader(v.length);
        for (let i = 0; i < v.length; i++) if (v[i] === undefined || !this.value(v[i])) return false;
        return true;
      default:
        return false;
    }
  }
}

/** Unique across writers: a shape's id is valid only in the message it was assigned in. */
let messageCounter = 0;

/** The keys of an object written as a msgpackr record (see MsgpackWriter.record). */
export class RecordShape {
  /** the msgpack array of the keys (the definition after `d4 72 <id>`) */
  readonly definition: Uint8Array;
  /** id in the message `message` */
  id = 0;
  message = -1;

  constructor(readonly keys: readonly string[]) {
    let bytes = 1;
    for (const k of keys) bytes += 5 + Buffer.byteLength(k, 'utf8');
    const w = new MsgpackWriter(bytes);
    w.arrayHeader(keys.length);
    for (const k of keys) w.str(k);
    this.definition = w.copy();
  }
}
