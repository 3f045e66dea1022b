// `pcapflow decode CAPTURE [--format ek|json|msgpack] [--fields wifi|dns|flows]`: a drop-in for
// the tshark field output of shared/tools/tshark-reference.sh / tshark-wired-reference.sh.
// A regular file is read in 4 MiB chunks, the next one read (by libuv's thread pool) while this one
// is decoded, each walked in place with the reader's PacketCursor; stdin and other non-files are
// streamed through CaptureStreamReader. Either way each packet reaches the encoder as
// (buffer, parser) without a per-packet object, and output is written in ~256 KiB chunks (waiting
// for 'drain' when the destination is slow).

import { createReadStream, fstatSync, promises as fsp, writeSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { isatty } from 'node:tty';
import type { Readable } from 'node:stream';
import {
  CaptureParser, CaptureStreamReader, detectCaptureFormat, newReaderCounters, packetAt, PacketCursor, STEP_NEED_MORE,
  type Packet, type ReaderCounters,
} from './capture/reader';
import { writeEkWifi, EkSink } from './ek/wifi';
import { ParallelEk, parallelEkAvailable } from './ek/parallel';
import { formatEkDns, formatEkFlows } from './ek/wired';
import { getMacResolver } from './oui';
import { WifiDecoder } from './wifi/decoder';
import { toRecord } from './wifi/record';
import { WiredDecoder } from './wired/decoder';
import { toWiredRecord } from './wired/record';

export type DecodeFormat = 'ek' | 'json' | 'msgpack';
export type DecodeFields = 'wifi' | 'dns' | 'flows';

export interface DecodeCommandOptions {
  /** Capture path, or '-' for stdin. */
  input: string;
  format: DecodeFormat;
  fields: DecodeFields;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Stream to read when input is '-' (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
}

/** Output is flushed in chunks of about this size (small enough to stay in cache while lines are written). */
const FLUSH_BYTES = 256 << 10;
const READ_CHUNK = 4 << 20;
/** Room before each file chunk for the start of a record the previous chunk cut (larger ones are concatenated). */
const CARRY_ROOM = 512 << 10;

/** Writes big chunks and respects backpressure. */
class Output {
  private failed?: Error;
  constructor(private readonly out: NodeJS.WritableStream) {
    out.on('error', (e: Error) => { this.failed = e; });
  }
  get error(): Error | undefined { return this.failed; }
  async write(chunk: Uint8Array | string): Promise<void> {
    if (this.failed) throw this.failed;
    if (chunk.length === 0) return;
    if (!this.out.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => { this.out.off('drain', done); this.out.off('error', done); this.out.off('close', done); resolve(); };
        this.out.on('drain', done);
        this.out.on('error', done);
        this.out.on('close', done);
      });
      if (this.failed) throw this.failed;
    }
  }
}

/**
 * When `out` is this process's stdout and fd 1 is a regular file or a non-terminal character
 * device (/dev/null), output is written with fs.writeSync straight from the encoder's buffer
 * (no stream machinery, no per-chunk buffers). Pipes and terminals keep the stream path.
 */
function syncStdoutFd(out: NodeJS.WritableStream): number | undefined {
  if (out !== process.stdout) return undefined;
  try {
    const st = fstatSync(1);
    if (st.isFile() || (st.isCharacterDevice() && !isatty(1))) return 1;
  } catch { /* no usable fd 1 */ }
  return undefined;
}

function writeAllSync(fd: number, b: Uint8Array): void {
  for (let off = 0; off < b.length;) off += writeSync(fd, b, off, b.length - off);
}

/** Per-packet encoder for one format/fields combination; `chunk()` hands out what is buffered. */
interface Encoder {
  /** The packet is `buf[p.pktOff .. +p.capLen)`. */
  packet(buf: Uint8Array, p: CaptureParser): void;
  pending(): number;
  chunk(): Uint8Array | string;
  /** Optional: write what is buffered to `fd` synchronously and reuse the buffer. */
  drainSync?(fd: number): void;
}

function wifiEk(): Encoder {
  const dec = new WifiDecoder();
  const sink = new EkSink(2 * FLUSH_BYTES);
  const resolver = getMacResolver();
  return {
    packet: (b, p) => writeEkWifi(dec.decode(b, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec), sink, resolver),
    pending: () => sink.pos,
    chunk: () => sink.take(),
    drainSync: (fd) => { writeAllSync(fd, sink.buf.subarray(0, sink.pos)); sink.pos = 0; },
  };
}

/** String-producing encoders (JSON lines, wired ek). */
function lines(fn: (p: Packet) => string | undefined): Encoder {
  let parts: string[] = [];
  let size = 0;
  return {
    packet(b, pp) {
      const s = fn(packetAt(pp, b));
      if (s === undefined) return;
      parts.push(s);
      size += s.length + 1;
    },
    pending: () => size,
    chunk() {
      if (!parts.length) return '';
      const s = parts.join('\n') + '\n';
      parts = [];
      size = 0;
      return s;
    },
  };
}

function msgpack(fn: (p: Packet) => object | undefined, packr: import('msgpackr').Packr): Encoder {
  let parts: Buffer[] = [];
  let size = 0;
  return {
    packet(b, pp) {
      const r = fn(packetAt(pp, b));
      if (r === undefined) return;
      const out = packr.pack(r);
      parts.push(out);
      size += out.length;
    },
    pending: () => size,
    chunk() {
      const out = Buffer.concat(parts, size);
      parts = [];
      size = 0;
      return out;
    },
  };
}

async function encoderFor(format: DecodeFormat, fields: DecodeFields): Promise<Encoder> {
  // msgpackr is loaded only for --format msgpack: the ek path starts without it.
  const packr = format === 'msgpack' ? new (await import('msgpackr')).Packr({ useRecords: false }) : undefined;
  if (fields === 'wifi') {
    if (format === 'ek') return wifiEk();
    const dec = new WifiDecoder();
    const resolver = getMacResolver();
    const rec = (p: Packet) => toRecord(dec.decode(p.data, 0, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec), resolver);
    return format === 'json' ? lines((p) => JSON.stringify(rec(p))) : msgpack(rec, packr!);
  }
  const dec = new WiredDecoder();
  if (format === 'ek') return lines(fields === 'dns' ? (p) => formatEkDns(dec.decode(p)) : (p) => formatEkFlows(dec.decode(p)));
  // json/msgpack: --fields flows = one record per packet, --fields dns = packets carrying DNS responses
  const rec = fields === 'dns'
    ? (p: Packet) => { const f = dec.decode(p); return f.dns.some((m) => m.response) ? toWiredRecord(f) : undefined; }
    : (p: Packet) => toWiredRecord(dec.decode(p));
  return format === 'json' ? lines((p) => { const r = rec(p); return r && JSON.stringify(r); }) : msgpack(rec, packr!);
}

/**
 * The ek worker pays only with a core to spare: on an idle 2-core machine 1M frames take ~0.9 s
 * instead of ~1.3 s, on a busy one it is slower (the two threads use ~25% more CPU in all).
 * PCAPFLOW_DECODE_WORKER=1 / =0 forces it on / off.
 */
function useEkWorker(): boolean {
  const env = process.env.PCAPFLOW_DECODE_WORKER;
  if (env === '0' || !parallelEkAvailable()) return false;
  if (env === '1') return true;
  const cores = availableParallelism();
  return cores >= 2 && loadavg()[0] <= cores - 1;
}

function isStream(x: Readable | fsp.FileHandle): x is Readable {
  return typeof (x as Readable).pipe === 'function';
}

async function openInput(opts: DecodeCommandOptions): Promise<Readable | fsp.FileHandle | string> {
  if (opts.input === '-') return (opts.stdin ?? process.stdin) as Readable;
  try {
    const st = await fsp.stat(opts.input);
    if (st.isDirectory()) return `${opts.input} is a directory, not a capture file`;
    const fh = await fsp.open(opts.input, 'r');
    if (st.isFile()) return fh;
    await fh.close();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `no such file: ${opts.input}`;
    if (code === 'EACCES') return `permission denied: ${opts.input}`;
    return `cannot read ${opts.input}: ${(e as Error).message}`;
  }
  return createReadStream(opts.input, { highWaterMark: READ_CHUNK });
}

/**
 * Decode a capture to stdout-like `out`. Returns the exit code: 0 ok (including a last record cut
 * short, reported on `err` like tshark), 1 unreadable input, not a capture, or a corrupt capture.
 */
export async function decodeCommand(opts: DecodeCommandOptions): Promise<number> {
  const fail = (msg: string): number => { opts.err.write(`pcapflow decode: ${msg}\n`); return 1; };
  if (!['ek', 'json', 'msgpack'].includes(opts.format)) return fail(`unknown --format ${opts.format} (ek, json or msgpack)`);
  if (!['wifi', 'dns', 'flows'].includes(opts.fields)) return fail(`unknown --fields ${opts.fields} (wifi, dns or flows)`);
  const input = await openInput(opts);
  if (typeof input === 'string') return fail(input);
  const name = opts.input === '-' ? 'stdin' : opts.input;
  const counters = newReaderCounters();
  if (!isStream(input)) {
    const syncFd = syncStdoutFd(opts.out);
    try {
      // Wi-Fi ek into a file or /dev/null: decode here, format and write in a worker (two cores).
      if (opts.format === 'ek' && opts.fields === 'wifi' && syncFd !== undefined && useEkWorker()) {
        const par = new ParallelEk(syncFd);
        const dec = new WifiDecoder();
        const enc: Encoder = {
          packet: (b, p) => par.frame(dec.decode(b, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec)),
          pending: () => 0,
          chunk: () => '',
        };
        return await decodeFile(input, name, enc, new Output(opts.out), counters, fail, opts.err, syncFd, par);
      }
      return await decodeFile(input, name, await encoderFor(opts.format, opts.fields), new Output(opts.out), counters, fail, opts.err, syncFd);
    } finally {
      await input.close();
    }
  }
  const reader = new CaptureStreamReader(counters);
  const enc = await encoderFor(opts.format, opts.fields);
  const out = new Output(opts.out);
  const onPacket = (p: CaptureParser, b: Uint8Array) => enc.packet(b, p);
  let sniffed = false;
  let head: Uint8Array | undefined;
  try {
    for await (const chunk of input) {
      const c = chunk as Buffer;
      if (!sniffed) {
        head = head ? Buffer.concat([head, c]) : c;
        if (head.length < 4) continue;
        sniffed = true;
        if (!detectCaptureFormat(head)) return fail(`${name} is not a pcap or pcapng capture`);
        reader.pushRaw(head, onPacket);
      } else {
        reader.pushRaw(c, onPacket);
      }
      if (enc.pending() >= FLUSH_BYTES) await out.write(enc.chunk());
      if (reader.failed) break;
    }
  } catch (e) {
    await out.write(enc.chunk()).catch(() => undefined);
    return fail(`cannot read ${name}: ${(e as Error).message}`);
  } finally {
    if (input !== process.stdin && input !== opts.stdin) input.destroy();
  }
  if (!sniffed) return fail(`${name} is empty or too short to be a capture`);
  reader.end();
  return finish(enc, out, counters, name, fail, opts.err);
}

async function finish(enc: Encoder, out: Output, counters: ReaderCounters, name: string, fail: (m: string) => number, err: NodeJS.WritableStream): Promise<number> {
  try {
    await out.write(enc.chunk());
  } catch (e) {
    return fail(`cannot write output: ${(e as Error).message}`);
  }
  if (counters.errors) return fail(`${name}: ${counters.lastError ?? 'corrupt capture'} (after ${counters.packets} frames)`);
  if (counters.truncatedRecords) err.write(`pcapflow decode: ${name}: the capture appears to have been cut short in the middle of a packet (after ${counters.packets} frames)\n`);
  return 0;
}

/**
 * A regular file: 4 MiB chunks into a ring of buffers, reading the next while decoding this one. A
 * unit (record or block) cut by the end of a chunk is carried into the room before the next
 * chunk's bytes. With `par`, frames go to the ek worker instead of `enc`.
 */
async function decodeFile(fh: fsp.FileHandle, name: string, enc: Encoder, out: Output, counters: ReaderCounters, fail: (m: string) => number, err: NodeJS.WritableStream, syncFd?: number, par?: ParallelEk): Promise<number> {
  const size = CARRY_ROOM + READ_CHUNK;
  // Two buffers: one decoded, one read into; a third when the worker still formats the previous chunk.
  const bufs = par ? [par.buffer(size), par.buffer(size), par.buffer(size)] : [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
  let filePos = 0;
  const read = (b: Buffer) => fh.read(b, CARRY_ROOM, READ_CHUNK, filePos).then((r) => { filePos += r.bytesRead; return r.bytesRead; });
  const cur = new PacketCursor(counters);
  const p = cur.parser;
  const drainSync = syncFd !== undefined ? enc.drainSync : undefined;
  let which = 0;
  let pending = read(bufs[0]);
  let carry: Uint8Array = new Uint8Array(0);
  let first = true;
  let ended = false;
  try {
    for (;;) {
      let n: number;
      try {
        n = await pending;
      } catch (e) {
        await out.write(enc.chunk()).catch(() => undefined);
        return fail(`cannot read ${name}: ${(e as Error).message}`);
      }
      const b = bufs[which];
      // Place the carried bytes before this chunk's (they live in the previous buffer).
      let buf: Uint8Array = b;
      let start = CARRY_ROOM - carry.length;
      if (carry.length <= CARRY_ROOM) b.set(carry, start);
      else {
        const parts = [carry, b.subarray(CARRY_ROOM, CARRY_ROOM + n)];
        buf = par ? par.concat(parts) : Buffer.concat(parts);
        start = 0;
      }
      const end = buf === b ? CARRY_ROOM + n : buf.length;
      if (first) {
        if (end - start < 4) return fail(`${name} is empty or too short to be a capture`);
        if (!detectCaptureFormat(buf.subarray(start, end))) return fail(`${name} is not a pcap or pcapng capture`);
        first = false;
      }
      if (n > 0) {
        which = (which + 1) % bufs.length;
        if (par) await par.ready(bufs[which]);
        pending = read(bufs[which]);
      }
      cur.reset(buf, start, end);
      while (cur.next()) {
        enc.packet(buf, p);
        if (enc.pending() >= FLUSH_BYTES) {
          if (drainSync) drainSync(syncFd!);
          else await out.write(enc.chunk());
        }
      }
      par?.chunkDone(buf);
      if (n === 0 || cur.stop !== STEP_NEED_MORE) break;
      carry = buf.subarray(cur.off, end);
    }
    if (par) {
      ended = true;
      await par.end();
    }
  } catch (e) {
    return fail(`cannot write output: ${(e as Error).message}`);
  } finally {
    await pending.catch(() => 0); // a read started before a fatal capture error or a write error
    if (par && !ended) await par.abort();
  }
  cur.endOfInput();
  return finish(enc, out, counters, name, fail, err);
}
