import { PcapflowError } from '../errors';
import type { KvStore } from '../plugin';
import { subjectMatches } from '../subject';
import type {
  ConsumerSpec, ConsumerState, PublishAck, PublishOptions, StreamSpec, Subscription, Transport, TransportMessage,
} from './types';

/**
 * The in-process twin of JetStream: streams are arrays, consumers keep an ack floor, a pending
 * set bounded by maxAckPending, redelivery timers and delivery counts; publishes deduplicate by
 * message id within the stream's window. Same semantics, no server.
 */
interface StoredMsg { seq: number; subject: string; data: Uint8Array; headers: Record<string, string>; time: number }

class EmbeddedStream {
  readonly messages: StoredMsg[] = [];
  firstSeq = 1;
  lastSeq = 0;
  readonly dedupe = new Map<string, { seq: number; time: number }>();
  readonly consumers = new Map<string, EmbeddedConsumer>();
  constructor(public spec: StreamSpec) {}

  append(subject: string, data: Uint8Array, headers: Record<string, string>, msgId?: string): PublishAck {
    const now = Date.now();
    if (msgId !== undefined) {
      const seen = this.dedupe.get(msgId);
      if (seen && now - seen.time < this.spec.duplicateWindowMs) return { seq: seen.seq, duplicate: true, stream: this.spec.name };
    }
    const seq = ++this.lastSeq;
    this.messages.push({ seq, subject, data, headers, time: now });
    if (msgId !== undefined) this.dedupe.set(msgId, { seq, time: now });
    if (this.dedupe.size > 100_000) this.pruneDedupe(now);
    for (const c of this.consumers.values()) c.wake();
    return { seq, duplicate: false, stream: this.spec.name };
  }

  private pruneDedupe(now: number): void {
    for (const [id, v] of this.dedupe) if (now - v.time >= this.spec.duplicateWindowMs) this.dedupe.delete(id);
  }

  get(seq: number): StoredMsg | undefined {
    return this.messages[seq - this.firstSeq];
  }

  /** Work-queue / interest retention: drop the prefix every consumer has acked. */
  trim(): void {
    if (this.spec.retention === 'limits' || this.consumers.size === 0) return;
    let floor = Infinity;
    for (const c of this.consumers.values()) floor = Math.min(floor, c.ackFloor);
    const drop = Math.min(floor - this.firstSeq + 1, this.messages.length);
    if (drop > 1024) { this.messages.splice(0, drop); this.firstSeq += drop; }
  }
}

class EmbeddedConsumer {
  /** Next stream sequence to look at for new deliveries. */
  cursor = 1;
  /** Every sequence <= ackFloor is acked. */
  ackFloor = 0;
  readonly acked = new Set<number>();
  readonly pending = new Map<number, { deliveries: number; timer?: NodeJS.Timeout }>();
  readonly redeliverQueue: number[] = [];
  readonly deliveries = new Map<number, number>();
  redelivered = 0;
  private waiter?: () => void;
  active = false;

  constructor(public spec: ConsumerSpec, private stream: EmbeddedStream) {}

  wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  waitForWork(): Promise<void> {
    return new Promise((resolve) => { this.waiter = resolve; });
  }

  /** The next message to deliver, or undefined when nothing is deliverable now. */
  next(): { msg: StoredMsg; deliveries: number } | undefined {
    if (this.pending.size >= this.spec.maxAckPending && this.redeliverQueue.length === 0) return undefined;
    while (this.redeliverQueue.length) {
      const seq = this.redeliverQueue.shift()!;
      const p = this.pending.get(seq);
      const msg = this.stream.get(seq);
      if (!p || !msg) continue;
      p.deliveries++;
      this.redelivered++;
      return { msg, deliveries: p.deliveries };
    }
    while (this.cursor <= this.stream.lastSeq) {
      const seq = this.cursor++;
      const msg = this.stream.get(seq);
      if (!msg || this.acked.has(seq)) continue;
      if (!subjectMatches(this.spec.filterSubject, msg.subject)) { this.markAcked(seq); continue; }
      this.pending.set(seq, { deliveries: 1 });
      return { msg, deliveries: 1 };
    }
    return undefined;
  }

  armAckWait(seq: number): void {
    const p = this.pending.get(seq);
    if (!p) return;
    clearTimeout(p.timer);
    p.timer = setTimeout(() => this.redeliver(seq), this.spec.ackWaitMs);
    p.timer.unref?.();
  }

  redeliver(seq: number): void {
    const p = this.pending.get(seq);
    if (!p) return;
    clearTimeout(p.timer);
    if (p.deliveries >= this.spec.maxDeliver) {
      // JetStream stops redelivering after max_deliver; the message stays unacked forever.
      this.pending.delete(seq);
      this.markAcked(seq);
      return;
    }
    this.redeliverQueue.push(seq);
    this.wake();
  }

  markAcked(seq: number): void {
    const p = this.pending.get(seq);
    if (p) { clearTimeout(p.timer); this.pending.delete(seq); }
    this.acked.add(seq);
    while (this.acked.has(this.ackFloor + 1)) { this.acked.delete(this.ackFloor + 1); this.ackFloor++; }
    this.stream.trim();
    this.wake();
  }

  state(): ConsumerState {
    let pending = 0;
    for (let s = this.cursor; s <= this.stream.lastSeq; s++) {
      const m = this.stream.get(s);
      if (m && subjectMatches(this.spec.filterSubject, m.subject)) pending++;
    }
    return { pending, ackPending: this.pending.size, redelivered: this.redelivered };
  }
}

class EmbeddedKv implements KvStore {
  private readonly data = new Map<string, { value: Uint8Array; revision: number }>();
  private revision = 0;
  private readonly watchers = new Set<(e: { key: string; value?: Uint8Array; revision: number; op: 'put' | 'del' }) => void>();
  constructor(readonly bucket: string) {}

  async get(key: string) { return this.data.get(key); }
  async put(key: string, value: Uint8Array) {
    const revision = ++this.revision;
    this.data.set(key, { value, revision });
    for (const w of this.watchers) w({ key, value, revision, op: 'put' });
    return revision;
  }
  async putIfLast(key: string, value: Uint8Array, lastRevision: number) {
    if (this.revision !== lastRevision) {
      throw new PcapflowError('PCAPFLOW_TRANSPORT', `KV bucket ${this.bucket}: put of ${key} refused: last revision is ${this.revision}, expected ${lastRevision}`, {
        hint: 'another writer changed the bucket, or an earlier write failed: read the state again',
      });
    }
    return this.put(key, value);
  }
  putUnacked(key: string, value: Uint8Array) { void this.put(key, value); }
  async delete(key: string) {
    const revision = ++this.revision;
    this.data.delete(key);
    for (const w of this.watchers) w({ key, revision, op: 'del' });
  }
  async *keys(filter?: string) {
    for (const k of [...this.data.keys()]) if (!filter || subjectMatches(filter, k)) yield k;
  }
  async *watch(filter?: string, signal?: AbortSignal) {
    const queue: Array<{ key: string; value?: Uint8Array; revision: number; op: 'put' | 'del' }> = [];
    let wake: (() => void) | undefined;
    const w = (e: (typeof queue)[number]) => {
      if (!filter || subjectMatches(filter, e.key)) { queue.push(e); wake?.(); }
    };
    this.watchers.add(w);
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      while (!signal?.aborted) {
        if (queue.length) { yield queue.shift()!; continue; }
        await new Promise<void>((r) => { wake = r; });
        wake = undefined;
      }
    } finally {
      this.watchers.delete(w);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

export class EmbeddedTransport implements Transport {
  readonly kind = 'embedded' as const;
  private readonly streams = new Map<string, EmbeddedStream>();
  private readonly buckets = new Map<string, EmbeddedKv>();
  private readonly services = new Map<string, (data: Uint8Array) => Promise<Uint8Array>>();
  private readonly subscribers = new Set<{ filter: string; fn: (subject: string, data: Uint8Array) => void }>();
  private closed = false;

  async ensureStream(spec: StreamSpec): Promise<void> {
    const existing = this.streams.get(spec.name);
    if (existing) { existing.spec = spec; return; }
    for (const s of this.streams.values()) {
      for (const a of s.spec.subjects) for (const b of spec.subjects) {
        if (subjectMatches(a, b.replace(/\*|>/g, 'x')) || subjectMatches(b, a.replace(/\*|>/g, 'x'))) {
          throw new PcapflowError('PCAPFLOW_TRANSPORT', `stream ${spec.name} subjects overlap with stream ${s.spec.name} (${b} / ${a})`, {
            hint: 'give each stream disjoint subjects',
          });
        }
      }
    }
    this.streams.set(spec.name, new EmbeddedStream(spec));
  }

  private streamFor(subject: string): EmbeddedStream | undefined {
    for (const s of this.streams.values()) if (s.spec.subjects.some((f) => subjectMatches(f, subject))) return s;
    return undefined;
  }

  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishAck> {
    if (this.closed) throw new PcapflowError('PCAPFLOW_TRANSPORT', 'transport is closed');
    for (const sub of this.subscribers) if (subjectMatches(sub.filter, subject)) sub.fn(subject, data);
    const stream = this.streamFor(subject);
    if (!stream) {
      throw new PcapflowError('PCAPFLOW_TRANSPORT', `no stream captures subject ${subject}`, {
        hint: 'add a stream whose subjects match this output to the topology\'s streams:',
      });
    }
    return stream.append(subject, data, options.headers ?? {}, options.msgId);
  }

  async consume(spec: ConsumerSpec, onMessage: (msg: TransportMessage) => Promise<void>): Promise<Subscription> {
    const stream = this.streams.get(spec.stream);
    if (!stream) throw new PcapflowError('PCAPFLOW_TRANSPORT', `stream ${spec.stream} does not exist`);
    let consumer = stream.consumers.get(spec.durable);
    if (!consumer) { consumer = new EmbeddedConsumer(spec, stream); stream.consumers.set(spec.durable, consumer); }
    else consumer.spec = spec;
    const c = consumer;
    if (c.active) throw new PcapflowError('PCAPFLOW_TRANSPORT', `consumer ${spec.durable} already has a subscriber`);
    c.active = true;
    // A restarted subscriber gets every unacked message again, as a JetStream durable would after ack wait.
    for (const seq of c.pending.keys()) if (!c.redeliverQueue.includes(seq)) c.redeliverQueue.push(seq);
    let stopping = false;
    const inFlight = new Set<Promise<void>>();
    const loop = (async () => {
      while (!stopping) {
        const next = c.next();
        if (!next) { await c.waitForWork(); continue; }
        const { msg, deliveries } = next;
        let settled = false;
        c.armAckWait(msg.seq);
        const tm: TransportMessage = {
          subject: msg.subject, data: msg.data, headers: msg.headers, stream: spec.stream, seq: msg.seq, deliveryCount: deliveries,
          ack: () => { if (!settled) { settled = true; c.markAcked(msg.seq); } },
          nak: (delayMs) => {
            if (settled) return; settled = true;
            const p = c.pending.get(msg.seq); if (!p) return;
            clearTimeout(p.timer);
            p.timer = setTimeout(() => c.redeliver(msg.seq), delayMs); p.timer.unref?.();
          },
          term: () => { if (!settled) { settled = true; c.markAcked(msg.seq); } },
          working: () => c.armAckWait(msg.seq),
        };
        const p = onMessage(tm).catch(() => undefined);
        inFlight.add(p);
        await p;
        inFlight.delete(p);
        // Yield to timers and I/O so a busy consumer cannot starve the rest of the process.
        if ((msg.seq & 63) === 0) await new Promise((r) => setImmediate(r));
      }
    })();
    return {
      stop: async () => {
        stopping = true;
        c.wake();
        await loop;
        c.active = false;
      },
    };
  }

  async consumerState(stream: string, durable: string): Promise<ConsumerState | undefined> {
    return this.streams.get(stream)?.consumers.get(durable)?.state();
  }

  async kv(bucket: string): Promise<KvStore> {
    let kv = this.buckets.get(bucket);
    if (!kv) { kv = new EmbeddedKv(bucket); this.buckets.set(bucket, kv); }
    return kv;
  }

  serve(subject: string, handler: (data: Uint8Array) => Promise<Uint8Array>) {
    this.services.set(subject, handler);
    return { stop: () => { this.services.delete(subject); } };
  }

  async request(subject: string, data: Uint8Array): Promise<Uint8Array> {
    const h = this.services.get(subject);
    if (!h) throw new PcapflowError('PCAPFLOW_TRANSPORT', `no responders on ${subject}`);
    return h(data);
  }

  subscribe(subject: string, fn: (subject: string, data: Uint8Array) => void) {
    const entry = { filter: subject, fn };
    this.subscribers.add(entry);
    return { stop: () => { this.subscribers.delete(entry); } };
  }

  async close(): Promise<void> { this.closed = true; }
}
