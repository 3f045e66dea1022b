// `decode --format ek` on two cores: the main thread reads and decodes (the decoder keeps state
// across frames, so it stays on one thread), a worker formats the ek lines and writes them to the
// output file descriptor. File chunks live in SharedArrayBuffers that both threads see; per chunk
// the main thread posts the decoded fields of its frames (numbers and offsets into the chunk, a
// transferred Float64Array), the worker answers when it is done with the chunk so the buffer can
// be read into again. Output order is the frame order: one worker handles the chunks in order.

import { writeSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { getMacResolver } from '../oui';
import { MAX_LIST, WifiFrame } from '../wifi/decoder';
import { EkSink, writeEkWifi } from './wifi';

const HEAD = 20;
/** Doubles one frame may need: the fixed part and every list at its longest. */
const FRAME_MAX = HEAD + 9 * MAX_LIST;
const FLUSH_BYTES = 256 << 10;

const HAS_FC = 1, HAS_CHANNEL = 2, HAS_SIGNAL = 4, HAS_DURATION = 8;

/** Append the fields writeEkWifi reads from `fr` to `rec` at `w`; returns the new end. */
function putFrame(fr: WifiFrame, rec: Float64Array, w: number): number {
  rec[w] = fr.tsSec;
  rec[w + 1] = fr.tsNsec;
  rec[w + 2] = fr.capLen;
  rec[w + 3] = (fr.hasFc ? HAS_FC : 0) | (fr.hasChannel ? HAS_CHANNEL : 0) | (fr.hasSignal ? HAS_SIGNAL : 0) | (fr.hasDuration ? HAS_DURATION : 0);
  rec[w + 4] = fr.fcType;
  rec[w + 5] = fr.typeSubtype;
  rec[w + 6] = fr.channel;
  rec[w + 7] = fr.signalDbm;
  rec[w + 8] = fr.radioDuration;
  rec[w + 9] = fr.ra;
  rec[w + 10] = fr.da;
  rec[w + 11] = fr.ta;
  rec[w + 12] = fr.sa;
  rec[w + 13] = fr.bssid;
  rec[w + 14] = fr.staa;
  rec[w + 15] = fr.ssidCount;
  rec[w + 16] = fr.vendorCount;
  rec[w + 17] = fr.vdataCount;
  rec[w + 18] = fr.countryCount;
  rec[w + 19] = fr.wpsCount;
  w += HEAD;
  for (let i = 0; i < fr.ssidCount; i++) { rec[w++] = fr.ssidOff[i]; rec[w++] = fr.ssidLen[i]; }
  for (let i = 0; i < fr.vendorCount; i++) { rec[w++] = fr.vendorOui[i]; rec[w++] = fr.vendorType[i]; }
  for (let i = 0; i < fr.vdataCount; i++) { rec[w++] = fr.vdataOff[i]; rec[w++] = fr.vdataLen[i]; }
  for (let i = 0; i < fr.countryCount; i++) rec[w++] = fr.countryOff[i];
  for (let i = 0; i < fr.wpsCount; i++) { rec[w++] = fr.wpsOff[i]; rec[w++] = fr.wpsLen[i]; }
  return w;
}

/** The inverse of putFrame, into the scratch frame `fr`; returns the position of the next frame. */
function getFrame(rec: Float64Array, r: number, fr: WifiFrame): number {
  fr.tsSec = rec[r];
  fr.tsNsec = rec[r + 1];
  fr.capLen = rec[r + 2];
  const flags = rec[r + 3];
  fr.hasFc = (flags & HAS_FC) !== 0;
  fr.hasChannel = (flags & HAS_CHANNEL) !== 0;
  fr.hasSignal = (flags & HAS_SIGNAL) !== 0;
  fr.hasDuration = (flags & HAS_DURATION) !== 0;
  fr.fcType = rec[r + 4];
  fr.typeSubtype = rec[r + 5];
  fr.channel = rec[r + 6];
  fr.signalDbm = rec[r + 7];
  fr.radioDuration = rec[r + 8];
  fr.ra = rec[r + 9];
  fr.da = rec[r + 10];
  fr.ta = rec[r + 11];
  fr.sa = rec[r + 12];
  fr.bssid = rec[r + 13];
  fr.staa = rec[r + 14];
  fr.ssidCount = rec[r + 15];
  fr.vendorCount = rec[r + 16];
  fr.vdataCount = rec[r + 17];
  fr.countryCount = rec[r + 18];
  fr.wpsCount = rec[r + 19];
  r += HEAD;
  for (let i = 0; i < fr.ssidCount; i++) { fr.ssidOff[i] = rec[r++]; fr.ssidLen[i] = rec[r++]; }
  for (let i = 0; i < fr.vendorCount; i++) { fr.vendorOui[i] = rec[r++]; fr.vendorType[i] = rec[r++]; }
  for (let i = 0; i < fr.vdataCount; i++) { fr.vdataOff[i] = rec[r++]; fr.vdataLen[i] = rec[r++]; }
  for (let i = 0; i < fr.countryCount; i++) fr.countryOff[i] = rec[r++];
  for (let i = 0; i < fr.wpsCount; i++) { fr.wpsOff[i] = rec[r++]; fr.wpsLen[i] = rec[r++]; }
  return r;
}

type ToWorker =
  | { t: 'buf'; id: number; sab: SharedArrayBuffer }
  | { t: 'batch'; id: number; rec: Float64Array; n: number }
  | { t: 'end' };
type FromWorker = { t: 'ack'; id: number; rec: Float64Array } | { t: 'done' };

function writeAllSync(fd: number, b: Uint8Array): void {
  for (let off = 0; off < b.length;) off += writeSync(fd, b, off, b.length - off);
}

/** The worker side: format the batches in order, write to `fd`. */
function workerMain(fd: number): void {
  const port = parentPort!;
  const bufs = new Map<number, Buffer>();
  const fr = new WifiFrame();
  const sink = new EkSink(2 * FLUSH_BYTES);
  const resolver = getMacResolver();
  const flush = () => { writeAllSync(fd, sink.buf.subarray(0, sink.pos)); sink.pos = 0; };
  port.on('message', (m: ToWorker) => {
    if (m.t === 'buf') {
      bufs.set(m.id, Buffer.from(m.sab));
    } else if (m.t === 'batch') {
      fr.buf = bufs.get(m.id)!;
      const rec = m.rec;
      let r = 0;
      for (let i = 0; i < m.n; i++) {
        r = getFrame(rec, r, fr);
        writeEkWifi(fr, sink, resolver);
        if (sink.pos >= FLUSH_BYTES) flush();
      }
      // A one-off buffer (a record larger than the carry room) is not kept.
      if (m.id < 0) bufs.delete(m.id);
      port.postMessage({ t: 'ack', id: m.id, rec } satisfies FromWorker, [rec.buffer as ArrayBuffer]);
    } else {
      flush();
      port.postMessage({ t: 'done' } satisfies FromWorker);
      port.close();
    }
  });
}

if (!isMainThread && (workerData as { pcapflowEk?: number } | undefined)?.pcapflowEk !== undefined) {
  workerMain((workerData as { pcapflowEk: number }).pcapflowEk);
}

/** True where the worker can be started (the compiled module; not when run from TypeScript sources). */
export function parallelEkAvailable(): boolean {
  return __filename.endsWith('.js');
}

/**
 * Main-thread side. `buffer()` makes shared chunk buffers; `frame()` records a decoded frame of
 * the current chunk; `chunkDone(buf)` hands the chunk's frames to the worker; `ready(buf)` waits
 * until the worker is done with a buffer; `end()` waits for the last line to be written.
 */
export class ParallelEk {
  private readonly worker: Worker;
  private readonly ids = new Map<ArrayBufferLike, number>();
  private nextId = 0;
  private oneOff = -1;
  private readonly acks = new Map<number, { promise: Promise<void>; resolve: () => void }>();
  private readonly pool: Float64Array[] = [];
  private rec: Float64Array;
  private w = 0;
  private n = 0;
  private failed?: Error;
  private done?: () => void;
  private readonly exited: Promise<void>;

  constructor(fd: number) {
    this.worker = new Worker(__filename, { workerData: { pcapflowEk: fd } });
    this.rec = new Float64Array(1 << 20);
    this.worker.on('message', (m: FromWorker) => {
      if (m.t === 'ack') {
        this.pool.push(m.rec);
        const a = this.acks.get(m.id);
        this.acks.delete(m.id);
        a?.resolve();
      } else this.done?.();
    });
    this.exited = new Promise<void>((resolve) => {
      this.worker.on('error', (e) => { this.failed = e; for (const a of this.acks.values()) a.resolve(); this.done?.(); resolve(); });
      this.worker.on('exit', () => resolve());
    });
  }

  get error(): Error | undefined {
    return this.failed;
  }

  /** A chunk buffer both threads see. */
  buffer(size: number): Buffer {
    const sab = new SharedArrayBuffer(size);
    const id = this.nextId++;
    this.ids.set(sab, id);
    this.worker.postMessage({ t: 'buf', id, sab } satisfies ToWorker);
    return Buffer.from(sab);
  }

  /** A shared copy of `parts` for a unit larger than the carry room (rare). */
  concat(parts: Uint8Array[]): Buffer {
    let len = 0;
    for (const p of parts) len += p.length;
    const sab = new SharedArrayBuffer(len);
    const b = Buffer.from(sab);
    let o = 0;
    for (const p of parts) { b.set(p, o); o += p.length; }
    const id = this.oneOff--;
    this.ids.set(sab, id);
    this.worker.postMessage({ t: 'buf', id, sab } satisfies ToWorker);
    return b;
  }

  frame(fr: WifiFrame): void {
    if (this.w + FRAME_MAX > this.rec.length) {
      const bigger = new Float64Array(Math.max(2 * this.rec.length, this.w + FRAME_MAX));
      bigger.set(this.rec.subarray(0, this.w));
      this.rec = bigger;
    }
    this.w = putFrame(fr, this.rec, this.w);
    this.n++;
  }

  /** The frames recorded since the last call all lie in `buf`: hand them to the worker. */
  chunkDone(buf: Uint8Array): void {
    const id = this.ids.get(buf.buffer)!;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => { resolve = r; });
    this.acks.set(id, { promise, resolve });
    const rec = this.rec;
    const len = rec.length; // 0 once transferred
    this.worker.postMessage({ t: 'batch', id, rec, n: this.n } satisfies ToWorker, [rec.buffer as ArrayBuffer]);
    this.rec = this.pool.pop() ?? new Float64Array(len);
    this.w = 0;
    this.n = 0;
    if (id < 0) this.ids.delete(buf.buffer);
  }

  /** Resolves once the worker no longer reads `buf`. */
  async ready(buf: Uint8Array): Promise<void> {
    const a = this.acks.get(this.ids.get(buf.buffer)!);
    if (a) await a.promise;
    if (this.failed) throw this.failed;
  }

  /** Waits until every line is written; then the worker exits. */
  async end(): Promise<void> {
    if (!this.failed) {
      const done = new Promise<void>((r) => { this.done = r; });
      this.worker.postMessage({ t: 'end' } satisfies ToWorker);
      await done;
    }
    await this.exited;
    if (this.failed) throw this.failed;
  }

  /** Stop the worker without waiting for output (an error on the main side). */
  async abort(): Promise<void> {
    await this.worker.terminate();
  }
}
