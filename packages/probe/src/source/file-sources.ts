// `kind: file` (one file, a directory's files or a glob, read once) and `kind: directory`
// (rotating tcpdump -G/-W output, followed; progress remembered in a KV bucket).

import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { PcapflowError, errorMessage, type ActorContext, type KvStore } from '@pcapflow/core';
import { expandPath, IncrementalFile, listDirectory, Pacer, sleep, type DirEntry, type ReadHooks } from './files';
import type { Counters, PacketProcessor } from './processor';

export interface SourceEnv {
  ctx: ActorContext;
  counters: Counters;
  newProcessor(capture: string): PacketProcessor;
  /** Last problem worth showing in health(). */
  setProblem(detail: string | undefined): void;
}

function hooksFor(ctx: ActorContext, pacer?: Pacer): ReadHooks {
  return { signal: ctx.signal, ready: () => ctx.ready(), flush: () => ctx.flush(), pacer };
}

function finishFile(env: SourceEnv, f: IncrementalFile): void {
  const c = f.end();
  if (c.truncatedRecords) env.counters.get('truncated_records').inc(c.truncatedRecords);
  if (c.errors) {
    env.counters.get('capture_errors').inc(c.errors);
    const detail = `${f.path}: ${c.lastError ?? 'unreadable capture'}`;
    env.setProblem(detail);
    env.ctx.log.warn({ file: f.path, error: c.lastError, frames: f.packets }, 'capture file is not a valid pcap/pcapng (or is corrupt); frames read before the error were emitted');
  }
}

export interface FileSourceConfig { path: string | string[]; pace: 'full' | 'realtime' | number }

export async function runFileSource(env: SourceEnv, cfg: FileSourceConfig): Promise<void> {
  const { ctx } = env;
  const patterns = Array.isArray(cfg.path) ? cfg.path : [cfg.path];
  const files: string[] = [];
  for (const p of patterns) files.push(...(await expandPath(p)));
  if (files.length === 0) {
    throw new PcapflowError('PCAPFLOW_CAPTURE', `no capture file matches ${patterns.join(', ')}`, {
      hint: 'check source.path: a pcap/pcapng file, a directory, or a glob such as /data/*.pcap', details: { path: cfg.path },
    });
  }
  const pacer = cfg.pace === 'full' ? undefined : new Pacer(cfg.pace === 'realtime' ? 1 : cfg.pace);
  const hooks = hooksFor(ctx, pacer);
  for (const file of files) {
    if (ctx.signal.aborted) break;
    const name = path.basename(file);
    const f = new IncrementalFile(file, name);
    try {
      await f.readAvailable(env.newProcessor(name), hooks);
    } catch (e) {
      env.counters.get('capture_errors').inc();
      env.setProblem(`${file}: ${errorMessage(e)}`);
      ctx.log.warn({ file, err: errorMessage(e) }, 'cannot read capture file');
      continue;
    }
    if (ctx.signal.aborted) break;
    finishFile(env, f);
    env.counters.get('files_done').inc();
  }
  await ctx.flush();
}

export interface DirectorySourceConfig {
  path: string;
  pattern: string;
  follow: boolean;
  poll_interval: number;
  state_bucket?: string;
  pace?: 'full' | 'realtime' | number;
}

/** What the KV bucket remembers per file (JSON). */
export interface FileProgress {
  path: string;
  /** inode: a rotated-over name (tcpdump -W ring) is a new file. */
  ino: number;
  /** Frames published (a restart skips this many). */
  packets: number;
  bytes: number;
  done: boolean;
}

export function progressKey(file: string): string {
  return 'f_' + createHash('sha1').update(path.resolve(file)).digest('hex').slice(0, 24);
}

interface Tracked { file: IncrementalFile; proc: PacketProcessor; ino: number; key: string }

export async function runDirectorySource(env: SourceEnv, cfg: DirectorySourceConfig): Promise<void> {
  const { ctx } = env;
  const bucket = cfg.state_bucket ?? `probe_${ctx.instance}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const kv: KvStore = await ctx.kv(bucket);
  const known = new Map<string, FileProgress>();
  for await (const key of kv.keys()) {
    const e = await kv.get(key);
    if (!e) continue;
    try { const p = JSON.parse(Buffer.from(e.value).toString('utf8')) as FileProgress; known.set(p.path, p); } catch { /* foreign key: ignore */ }
  }
  const open = new Map<string, Tracked>();
  // one pacer for the whole directory: rotated files continue the same capture clock
  const pace = cfg.pace ?? 'full';
  const hooks = hooksFor(ctx, pace === 'full' ? undefined : new Pacer(pace === 'realtime' ? 1 : pace));
  const save = async (p: FileProgress) => { known.set(p.path, p); await kv.put(progressKey(p.path), Buffer.from(JSON.stringify(p))); };
  const checkpoint = async (t: Tracked, done: boolean) => {
    await ctx.flush(); // records first, then the offset: a crash in between re-emits, never loses
    await save({ path: t.file.path, ino: t.ino, packets: t.file.packets, bytes: t.file.offset, done });
  };
  let warnedMissing = false;

  while (!ctx.signal.aborted) {
    let list: DirEntry[];
    try {
      list = await listDirectory(cfg.path, cfg.pattern);
      warnedMissing = false;
    } catch (e) {
      if (!cfg.follow) {
        throw new PcapflowError('PCAPFLOW_CAPTURE', `cannot list capture directory ${cfg.path}: ${errorMessage(e)}`, { cause: e, hint: 'check source.path' });
      }
      if (!warnedMissing) ctx.log.warn({ dir: cfg.path, err: errorMessage(e) }, 'capture directory not readable yet; waiting');
      warnedMissing = true;
      env.setProblem(`cannot list ${cfg.path}: ${errorMessage(e)}`);
      await sleep(cfg.poll_interval, ctx.signal);
      continue;
    }
    const present = new Set(list.map((e) => e.path));
    for (let i = 0; i < list.length && !ctx.signal.aborted; i++) {
      const entry = list[i]!;
      const prev = known.get(entry.path);
      const sameFile = prev !== undefined && prev.ino === entry.stat.ino && entry.stat.size >= prev.bytes;
      if (sameFile && prev.done) continue;
      let t = open.get(entry.path);
      if (t && t.ino !== entry.stat.ino) { open.delete(entry.path); t = undefined; }
      if (!t) {
        const skip = sameFile ? prev.packets : 0;
        const file = new IncrementalFile(entry.path, entry.name, skip);
        t = { file, proc: env.newProcessor(entry.name), ino: entry.stat.ino, key: progressKey(entry.path) };
        open.set(entry.path, t);
      }
      let newBytes: number;
      try {
        newBytes = await t.file.readAvailable(t.proc, hooks);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') { open.delete(entry.path); continue; }
        throw e;
      }
      if (ctx.signal.aborted) break;
      const newest = i === list.length - 1;
      let complete = !cfg.follow || t.file.failed;
      if (!complete && !newest && newBytes === 0) complete = true; // a newer file exists and this one stopped growing
      if (complete) {
        finishFile(env, t.file);
        await checkpoint(t, true);
        env.counters.get('files_done').inc();
        open.delete(entry.path);
      } else if (newBytes > 0) {
        await checkpoint(t, false);
      }
    }
    // Files rotated away (tcpdump -W): forget them.
    for (const [p] of known) {
      if (!present.has(p) && !open.has(p)) { known.delete(p); await kv.delete(progressKey(p)).catch(() => undefined); }
    }
    for (const [p] of open) if (!present.has(p)) open.delete(p);
    if (!cfg.follow) break;
    await sleep(cfg.poll_interval, ctx.signal);
  }
  // Stopping: publish what was read and remember how far each open file got.
  for (const t of open.values()) await checkpoint(t, false);
  await ctx.flush();
}
