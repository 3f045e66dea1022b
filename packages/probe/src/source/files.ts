// File helpers for the file and directory sources: a small glob (Node 20 has no fs.glob), an
// incremental capture-file reader that can resume (skip the frames already published) and keep
// reading a file that is still being written, and real-time / N x pacing.

import { promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import { CaptureStreamReader, newReaderCounters, type ReaderCounters } from '../capture/reader';
import type { PacketProcessor } from './processor';

/** Read size per fs.read; ~1000-1500 typical Wi-Fi frames, so `ready()` is awaited about that often. */
export const CHUNK_BYTES = 256 * 1024;

const GLOB_CHARS = /[*?[{]/;

export function hasGlob(p: string): boolean {
  return GLOB_CHARS.test(p);
}

/** Glob (one path segment, or a whole path when `**` is used) to a RegExp: `*`, `?`, `[...]`, `{a,b}`, `**`. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let inClass = false;
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (inClass) { re += c === '\\' ? '\\\\' : c; if (c === ']') inClass = false; continue; }
    switch (c) {
      case '*':
        if (glob[i + 1] === '*') {
          // "**/" matches zero or more directories
          i++;
          if (glob[i + 1] === '/') { i++; re += '(?:.*/)?'; } else re += '.*';
        } else re += '[^/]*';
        break;
      case '?': re += '[^/]'; break;
      case '[': inClass = true; re += glob[i + 1] === '!' ? (i++, '[^') : '['; break;
      case '{': braces++; re += '(?:'; break;
      case '}': if (braces) { braces--; re += ')'; } else re += '\\}'; break;
      case ',': re += braces ? '|' : ','; break;
      default: re += /[\\^$.|+()]/.test(c) ? '\\' + c : c;
    }
  }
  return new RegExp('^' + re + '$');
}

export const DEFAULT_CAPTURE_PATTERN = '*.{pcap,pcapng,cap}';

/**
 * Expand a file source path: a file, a directory (its capture files), or a glob
 * (`/data/*.pcap`, `/data/**\/day-*.pcapng`). Sorted by path; missing → empty list.
 */
export async function expandPath(p: string): Promise<string[]> {
  if (!hasGlob(p)) {
    const st = await fsp.stat(p).catch(() => undefined);
    if (!st) return [];
    if (st.isDirectory()) return listDirectory(p, DEFAULT_CAPTURE_PATTERN).then((l) => l.map((e) => e.path));
    return [p];
  }
  const abs = path.resolve(p);
  const segs = abs.split('/');
  const first = segs.findIndex((s) => hasGlob(s));
  const base = segs.slice(0, first).join('/') || '/';
  const rest = segs.slice(first).join('/');
  const re = globToRegExp(rest);
  const recursive = rest.includes('/') || rest.includes('**');
  const out: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) { if (recursive) await walk(full, r); continue; }
      if (re.test(r)) out.push(full);
    }
  };
  await walk(base, '');
  return out.sort();
}

export interface DirEntry { path: string; name: string; stat: Stats }

/** Files in `dir` whose name matches `pattern`, oldest first (mtime, then name: tcpdump -G names sort by time). */
export async function listDirectory(dir: string, pattern: string): Promise<DirEntry[]> {
  const re = globToRegExp(pattern);
  const names = await fsp.readdir(dir);
  const out: DirEntry[] = [];
  for (const name of names) {
    if (!re.test(name)) continue;
    const full = path.join(dir, name);
    const stat = await fsp.stat(full).catch(() => undefined);
    if (stat?.isFile()) out.push({ path: full, name, stat });
  }
  return out.sort((a, b) => a.stat.mtimeMs - b.stat.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Replays frames at their capture pace (factor 1 = real time, 10 = ten times faster). */
export class Pacer {
  private t0 = -1;
  private wall0 = 0;
  constructor(private readonly factor: number) {}
  /** Milliseconds to wait before the frame with this timestamp is due (0 when late). */
  delayFor(tsSec: number, tsNsec: number): number {
    const t = tsSec * 1000 + tsNsec / 1e6;
    const now = performance.now();
    if (this.t0 < 0) { this.t0 = t; this.wall0 = now; return 0; }
    const due = this.wall0 + (t - this.t0) / this.factor;
    return due > now ? due - now : 0;
  }
}

export interface ReadHooks {
  signal: AbortSignal;
  /** Awaited about every 1000 emitted records (ctx.ready). */
  ready(): Promise<void>;
  /** Awaited before sleeping for pacing (publish what is buffered, for low latency). */
  flush(): Promise<void>;
  pacer?: Pacer;
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects: stopping is not an error). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => { clearTimeout(t); resolve(); };
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A capture file read incrementally: `readAvailable()` reads whatever was appended since the last
 * call (a partial record at the end is kept for the next call). Frames 1..`skip` are decoded but
 * not emitted (they were published before a restart).
 */
export class IncrementalFile {
  readonly counters: ReaderCounters = newReaderCounters();
  private readonly reader = new CaptureStreamReader(this.counters);
  /** Bytes read so far. */
  offset = 0;
  /** Frames seen so far (emitted or skipped). */
  packets = 0;
  ended = false;

  constructor(readonly path: string, readonly name: string, private readonly skip = 0) {}

  /** True after a fatal format error (not a capture, corrupt record): nothing more is read. */
  get failed(): boolean {
    return this.reader.failed && !this.ended;
  }

  /** Read to the current end of file. Returns the number of new bytes. */
  async readAvailable(proc: PacketProcessor, hooks: ReadHooks): Promise<number> {
    if (this.ended || this.reader.failed) return 0;
    const fh = await fsp.open(this.path, 'r');
    let total = 0;
    const readAt = (pos: number) => {
      const read = fh.read(Buffer.allocUnsafe(CHUNK_BYTES), 0, CHUNK_BYTES, pos); // fresh: packet views must stay valid
      read.catch(() => undefined); // (a read ahead that fails while a chunk is decoded is not unhandled: it is awaited next)
      return read;
    };
    // After a full chunk the next one is read while this one is decoded (reads run on libuv's
    // thread pool; waiting for each in turn left the decoding thread idle).
    let ahead: ReturnType<typeof readAt> | undefined;
    try {
      for (;;) {
        if (hooks.signal.aborted) break;
        const { bytesRead, buffer } = await (ahead ?? readAt(this.offset));
        ahead = undefined;
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        total += bytesRead;
        if (bytesRead === CHUNK_BYTES) ahead = readAt(this.offset);
        const chunk = buffer.subarray(0, bytesRead);
        if (hooks.pacer) await this.pushPaced(chunk, proc, hooks, hooks.pacer);
        else {
          this.reader.pushRaw(chunk, (p, b) => {
            const n = ++this.packets;
            proc.packet(b, p.pktOff, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec, n > this.skip);
          });
        }
        if (proc.emittedSinceReady >= 1000) { proc.emittedSinceReady = 0; await hooks.ready(); }
        if (this.reader.failed) break;
      }
    } finally {
      if (ahead) await ahead.catch(() => undefined); // (not closed under a read in progress)
      await fh.close();
    }
    return total;
  }

  private async pushPaced(chunk: Uint8Array, proc: PacketProcessor, hooks: ReadHooks, pacer: Pacer): Promise<void> {
    for (const p of this.reader.push(chunk)) {
      const n = ++this.packets;
      const emit = n > this.skip;
      if (emit) {
        const d = pacer.delayFor(p.tsSec, p.tsNsec);
        if (d >= 1) { await hooks.flush(); await sleep(d, hooks.signal); }
        if (hooks.signal.aborted) { this.packets--; return; }
      }
      proc.packet(p.data, 0, p.capLen, p.origLen, p.linktype, p.tsSec, p.tsNsec, emit);
      if (proc.emittedSinceReady >= 1000) { proc.emittedSinceReady = 0; await hooks.ready(); }
    }
  }

  /** The file is complete: account for a record cut short at its end. */
  end(): ReaderCounters {
    if (!this.ended) { this.reader.end(); this.ended = true; }
    return this.counters;
  }
}
