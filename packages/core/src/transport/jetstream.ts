import { readFileSync } from 'node:fs';
import {
  connect, createInbox, credsAuthenticator, headers as natsHeaders, nanos, PermissionViolationError,
  type Msg, type MsgHdrs, type NatsConnection, type NodeConnectionOptions, type Subscription as NatsSubscription,
} from '@nats-io/transport-node';
import {
  AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType,
  type JetStreamClient, type JetStreamManager, type JsMsg,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { errorMessage, PcapflowError } from '../errors';
import type { Logger } from '../logger';
import { createLogger } from '../runtime/logging';
import type { KvStore } from '../plugin';
import type {
  ConsumerSpec, ConsumerState, PublishAck, PublishOptions, StreamSpec, Subscription, Transport, TransportMessage,
} from './types';

export interface NatsTransportOptions {
  servers: string[];
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  credentials?: string;
  tls?: { ca?: string; cert?: string; key?: string; handshakeFirst?: boolean };
  /** Where transport warnings go when a consumer brings no logger of its own (default: warn level on stderr). */
  log?: Logger;
}

/** Messages handled back to back before the handler loop yields to I/O. */
const YIELD_EVERY = 8;

export class JetStreamTransport implements Transport {
  readonly kind = 'nats' as const;
  private readonly acked: AckedPublisher;
  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly log: Logger,
  ) {
    this.acked = new AckedPublisher(nc);
  }

  static async connect(options: NatsTransportOptions): Promise<JetStreamTransport> {
    const opts: NodeConnectionOptions = {
      servers: options.servers,
      name: options.name ?? 'pcapflow',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // Otherwise nats.js builds an Error (with a stack trace) per request and publish, for context
      // should it time out: a large share of the CPU of a KV-heavy actor. Errors keep their message.
      noAsyncTraces: true,
    };
    if (options.user !== undefined) { opts.user = options.user; opts.pass = options.pass; }
    if (options.token !== undefined) opts.token = options.token;
    if (options.credentials) {
      try { opts.authenticator = credsAuthenticator(readFileSync(options.credentials)); }
      catch (cause) {
        throw new PcapflowError('PCAPFLOW_TRANSPORT', `cannot read NATS credentials file ${options.credentials}`, { cause, hint: 'check transport.credentials in the topology' });
      }
    }
    if (options.tls) {
      opts.tls = { caFile: options.tls.ca, certFile: options.tls.cert, keyFile: options.tls.key, handshakeFirst: options.tls.handshakeFirst };
    }
    let nc: NatsConnection;
    try { nc = await connect(opts); }
    catch (cause) {
      throw new PcapflowError('PCAPFLOW_TRANSPORT', `cannot connect to NATS at ${options.servers.join(', ')}: ${(cause as Error).message}`, {
        cause, hint: 'start nats-server with JetStream (nats-server -js) or use `transport: embedded`',
      });
    }
    let jsm: JetStreamManager;
    try { jsm = await jetstreamManager(nc); }
    catch (cause) {
      await nc.close();
      throw new PcapflowError('PCAPFLOW_TRANSPORT', 'the NATS server does not have JetStream enabled', { cause, hint: 'run nats-server with -js' });
    }
    return new JetStreamTransport(nc, jetstream(nc), jsm, options.log ?? createLogger('warn', { component: 'transport' }));
  }

  async ensureStream(spec: StreamSpec): Promise<void> {
    const cfg = {
      name: spec.name,
      subjects: spec.subjects,
      retention: spec.retention === 'workqueue' ? RetentionPolicy.Workqueue : spec.retention === 'interest' ? RetentionPolicy.Interest : RetentionPolicy.Limits,
      storage: spec.storage === 'memory' ? StorageType.Memory : StorageType.File,
      max_age: spec.maxAgeMs ? nanos(spec.maxAgeMs) : 0,
      max_bytes: spec.maxBytes ?? -1,
      max_msgs: spec.maxMsgs ?? -1,
      duplicate_window: nanos(spec.duplicateWindowMs),
      num_replicas: spec.replicas,
    };
    try {
      const info = await this.jsm.streams.info(spec.name).catch(() => undefined);
      if (!info) await this.jsm.streams.add(cfg);
      else {
        // Storage and retention cannot change in place; everything else is updated.
        const { storage: _s, retention: _r, ...rest } = cfg;
        await this.jsm.streams.update(spec.name, { ...info.config, ...rest });
      }
    } catch (cause) {
      throw new PcapflowError('PCAPFLOW_TRANSPORT', `cannot create or update stream ${spec.name}: ${(cause as Error).message}`, {
        cause, hint: 'stream subjects must not overlap another stream\'s; storage/retention of an existing stream cannot change',
      });
    }
  }

  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishAck> {
    let h: MsgHdrs | undefined;
    if (options.headers) {
      h = natsHeaders();
      for (const [k, v] of Object.entries(options.headers)) h.set(k, v);
    }
    // set after the caller's headers, as nats.js does: the dedupe id wins
    if (options.msgId) (h ??= natsHeaders()).set('Nats-Msg-Id', options.msgId);
    return this.acked.publish(subject, data, h);
  }

  async consume(spec: ConsumerSpec, onMessage: (msg: TransportMessage) => Promise<void>, onGroup?: (msgs: TransportMessage[]) => Promise<void>): Promise<Subscription> {
    const config = {
      durable_name: spec.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: spec.filterSubject,
      max_ack_pending: spec.maxAckPending,
      ack_wait: nanos(spec.ackWaitMs),
      // The runtime counts deliveries and dead-letters itself; the server must keep redelivering.
      max_deliver: -1,
    };
    const existing = await this.jsm.consumers.info(spec.stream, spec.durable).catch(() => undefined);
    if (existing && existing.config.filter_subject !== spec.filterSubject) {
      // Silently reusing it would read the old subjects; silently recreating it would lose its position.
      throw new PcapflowError('PCAPFLOW_TRANSPORT',
        `durable consumer ${spec.durable} on stream ${spec.stream} filters "${existing.config.filter_subject}" but the topology now asks for "${spec.filterSubject}"`, {
          hint: `delete it (nats consumer rm ${spec.stream} ${spec.durable}) to start over on the new subjects, or give the instance a new name`,
        });
    }
    if (!existing) await this.jsm.consumers.add(spec.stream, config);
    else if (existing.config.max_ack_pending !== spec.maxAckPending || existing.config.ack_wait !== config.ack_wait) {
      await this.jsm.consumers.update(spec.stream, spec.durable, { max_ack_pending: config.max_ack_pending, ack_wait: config.ack_wait });
    }
    const consumer = await this.js.consumers.get(spec.stream, spec.durable);
    const log = spec.log ?? this.log;
    const nc = this.nc;
    // Finite pulls rather than an endless consume(): on stop no new pull is issued and the
    // messages of the open one are still handled and acked (drain), so nothing is left waiting
    // out ack_wait. (Handing them back with nak would bounce them into the open pull.)
    //
    // Pulls feed a local queue and the next pull is issued as soon as the previous one closes, so
    // its round trip and the server's read overlap with the handler working through the queue.
    // One pull is open at a time: the server serves open pulls round robin, which would interleave
    // them and break per-key order. The queue holds less than two pulls' worth (the server bounds
    // unacked messages by max_ack_pending anyway).
    const batch = Math.min(spec.maxAckPending, 64);
    const queue: JsMsg[] = [];
    let head = 0;
    let stopping = false;
    let pullsDone = false;
    let handlerDone = false;
    let wakeHandler: (() => void) | undefined;
    let wakePuller: (() => void) | undefined;
    const signalHandler = () => { const w = wakeHandler; wakeHandler = undefined; w?.(); };
    const signalPuller = () => { const w = wakePuller; wakePuller = undefined; w?.(); };
    const queued = () => queue.length - head;

    const puller = (async () => {
      while (!stopping && !handlerDone && !nc.isClosed()) {
        if (queued() >= batch) { await new Promise<void>((r) => { wakePuller = r; }); continue; }
        let received = 0;
        try {
          const pull = await consumer.fetch({ max_messages: batch, expires: 1000 });
          // Moved to the queue as they arrive, so the pull closes as soon as it is complete.
          for await (const m of pull) { queue.push(m); received++; signalHandler(); }
        } catch (e) {
          if (nc.isClosed()) break;
          // A pull that got everything it asked for is complete whatever its iterator says.
          if (received >= batch) continue;
          if (stopping) break;
          // A pull can fail (missed heartbeats, a server restart): pull again. Unacked messages of a
          // failed pull are redelivered after ack_wait; the consumer itself keeps its position.
          log.warn({ err: errorMessage(e), stream: spec.stream, durable: spec.durable }, 'pull failed; pulling again');
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      pullsDone = true;
      signalHandler();
    })();

    const acks = new AckBatcher();
    const maxGroup = onGroup ? Math.max(1, spec.maxGroup ?? 1) : 1;
    const lingerMs = maxGroup > 1 ? spec.lingerMs ?? 0 : 0;
    // the puller stops at `batch` waiting: a group larger than that does not come by waiting
    const lingerTarget = Math.min(maxGroup, batch);
    /** While lingering: when the first message waiting arrived (the wait is counted from it). */
    let lingerFrom = 0;
    const handler = (async () => {
      let handledSinceYield = 0;
      for (;;) {
        if (head < queue.length) {
          if (nc.isClosed()) break; // nothing could be acked any more: the server redelivers after ack_wait
          if (lingerMs > 0 && queued() < lingerTarget && !stopping && !pullsDone) {
            // a partial group: more may be on the way; wait for them up to lingerMs in all
            const now = performance.now();
            if (lingerFrom === 0) lingerFrom = now;
            const left = lingerFrom + lingerMs - now;
            if (left > 0) {
              await new Promise<void>((r) => {
                const t = setTimeout(() => { wakeHandler = undefined; r(); }, left);
                wakeHandler = () => { clearTimeout(t); r(); };
              });
              continue;
            }
          }
          lingerFrom = 0;
          if (maxGroup > 1 && queued() > 1) {
            // What piled up while the last handler ran goes over as one unit (in order).
            const n = Math.min(queued(), maxGroup);
            const group: TransportMessage[] = [];
            for (let i = 0; i < n; i++) { group.push(new JsTransportMessage(queue[head]!, spec.stream, acks)); queue[head++] = undefined as never; }
            if (head === queue.length) { queue.length = 0; head = 0; }
            if (queued() < batch) signalPuller();
            try { await onGroup!(group); }
            catch (e) {
              if (nc.isClosed()) break;
              log.warn({ err: errorMessage(e), stream: spec.stream, durable: spec.durable, seq: group[0]!.seq }, 'message handling failed; it is redelivered after ack_wait');
            }
            handledSinceYield = 0;
            await new Promise((r) => setImmediate(r));
            continue;
          }
          const m = queue[head]!;
          queue[head++] = undefined as never;
          if (head === queue.length) { queue.length = 0; head = 0; }
          if (queued() < batch) signalPuller();
          try { await onMessage(new JsTransportMessage(m, spec.stream, acks)); }
          catch (e) {
            if (nc.isClosed()) break;
            log.warn({ err: errorMessage(e), stream: spec.stream, durable: spec.durable, seq: m.seq }, 'message handling failed; it is redelivered after ack_wait');
          }
          // Handlers that never wait on I/O would run the whole queue in one go: let socket reads and
          // writes (this process's publishes, their acks) through now and then.
          if (++handledSinceYield >= YIELD_EVERY) { handledSinceYield = 0; await new Promise((r) => setImmediate(r)); }
          continue;
        }
        if (pullsDone) break;
        await new Promise<void>((r) => { wakeHandler = r; });
      }
      acks.send();
      handlerDone = true;
      signalPuller();
    })();

    return {
      stop: async () => {
        stopping = true;
        signalPuller();
        signalHandler(); // cuts a linger short
        await puller;
        await handler;
        // Acks and naks are plain publishes: make sure they reached the server before we go.
        await nc.flush().catch(() => undefined);
      },
    };
  }

  async consumerState(stream: string, durable: string): Promise<ConsumerState | undefined> {
    const info = await this.jsm.consumers.info(stream, durable).catch(() => undefined);
    if (!info) return undefined;
    return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
  }

  async kv(bucket: string, options: { history?: number; ttlMs?: number } = {}): Promise<KvStore> {
    const kvm = new Kvm(this.js);
    const kv = await kvm.create(bucket, { history: options.history ?? 1, ttl: options.ttlMs ?? 0 });
    return new JetStreamKv(bucket, kv, this.acked);
  }

  serve(subject: string, handler: (data: Uint8Array) => Promise<Uint8Array>) {
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        handler(msg.data).then((reply) => msg.respond(reply), (e) => msg.respond(new TextEncoder().encode(JSON.stringify({ error: String(e?.message ?? e) }))));
      },
    });
    return { stop: () => sub.unsubscribe() };
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const reply = await this.nc.request(subject, data, { timeout: timeoutMs });
    return reply.data;
  }

  subscribe(subject: string, fn: (subject: string, data: Uint8Array) => void) {
    const sub = this.nc.subscribe(subject, { callback: (err, msg) => { if (!err) fn(msg.subject, msg.data); } });
    return { stop: () => sub.unsubscribe() };
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => this.nc.close());
  }
}

/** What nats.js waits for a JetStream API answer by default (jetstream() without a timeout): a publish's ack. */
const ACK_TIMEOUT_MS = 5000;
/** How often unanswered publishes are checked for their timeout (so a publish fails 5 to 5.25 s after it was sent). */
const ACK_SWEEP_MS = 250;

interface PendingAck {
  resolve(ack: PublishAck): void;
  reject(e: PcapflowError): void;
  subject: string;
  /** a KV put: its bucket and key (for the error message) */
  kv?: { bucket: string; key: string };
  deadline: number;
}

const ackDecoder = new TextDecoder();

/**
 * JetStream publishes (and KV puts, which are publishes to `$KV.<bucket>.<key>`) with their acks.
 * A JetStream publish is a core publish with a reply subject, to which the server answers with a
 * PubAck (`{stream, seq, duplicate?}` or `{error: {code, err_code, description}}`), or a
 * no-responders status when no stream captures the subject. nats.js's request() costs a timer, a
 * promise race and an Error built per call (RequestOne.cancel() makes one even on success), a large
 * share of the CPU of a KV-heavy actor. Here: one wildcard inbox subscription per connection, a
 * counter per publish, a map of waiting publishes and one timer sweeping them for timeouts. Failures
 * behave as through nats.js (no responders, API errors, timeouts, publish permission violations,
 * closed or draining connection) and come out as PCAPFLOW_TRANSPORT errors.
 */
class AckedPublisher {
  private readonly pending = new Map<number, PendingAck>();
  private prefix = '';
  private sub?: NatsSubscription;
  private next = 0;
  private sweeper?: NodeJS.Timeout;
  private readonly acks = new PubAckReader();

  constructor(private readonly nc: NatsConnection) {
    void nc.closed().then(() => this.failAll('connection closed'));
    void this.watchPermissions();
  }

  publish(subject: string, data: Uint8Array, headers?: MsgHdrs, kv?: PendingAck['kv']): Promise<PublishAck> {
    return new Promise<PublishAck>((resolve, reject) => {
      const p: PendingAck = { resolve, reject, subject, kv, deadline: 0 };
      // nats.js refuses requests while draining (the replies could not be received any more)
      if (this.nc.isDraining()) { reject(failure(p, 'connection draining')); return; }
      const token = ++this.next;
      try {
        if (!this.sub) this.subscribe();
        this.pending.set(token, p);
        this.nc.publish(subject, data, { reply: this.prefix + token, headers });
      } catch (cause) {
        this.pending.delete(token);
        reject(failure(p, errorMessage(cause), cause));
        return;
      }
      p.deadline = performance.now() + ACK_TIMEOUT_MS;
      this.sweeper ??= setInterval(() => this.sweep(), ACK_SWEEP_MS).unref();
    });
  }

  /** A publish with no reply subject, in order with the acked ones (one connection). */
  send(subject: string, data: Uint8Array): void {
    try {
      if (this.nc.isDraining() || this.nc.isClosed()) throw new Error('connection closed or draining');
      this.nc.publish(subject, data);
    } catch (cause) {
      throw new PcapflowError('PCAPFLOW_TRANSPORT', `publish to ${subject} failed: ${errorMessage(cause)}`, {
        cause, hint: 'check that the NATS server is reachable',
      });
    }
  }

  private subscribe(): void {
    const prefix = `${createInbox()}.`;
    const sub = this.nc.subscribe(`${prefix}*`, {
      callback: (err, m) => {
        if (err) {
          // the inbox subscription itself failed (e.g. a permission violation): nothing waiting can
          // be answered any more; the next publish subscribes again
          if (this.sub === sub) this.sub = undefined;
          this.failAll(err.message, err);
          return;
        }
        // the token is the decimal number after the prefix
        const subject = m.subject;
        let token = 0;
        for (let i = prefix.length; i < subject.length; i++) {
          const d = subject.charCodeAt(i) - 48;
          if (d < 0 || d > 9) return;
          token = token * 10 + d;
        }
        this.settle(token, m);
      },
    });
    this.prefix = prefix;
    this.sub = sub;
  }

  private settle(token: number, m: Msg): void {
    const p = this.pending.get(token);
    if (!p) return;
    this.pending.delete(token);
    const data = m.data;
    if (data.length === 0) {
      p.reject(m.headers?.code === 503
        ? failure(p, p.kv ? 'no responders (the bucket\'s stream does not exist)' : `no stream captures subject ${p.subject} (no responders)`)
        : failure(p, 'invalid ack response (empty)'));
      return;
    }
    const ack = this.acks.read(data);
    if (ack) { p.resolve(ack); return; }
    let v: { stream?: unknown; seq?: unknown; duplicate?: unknown; error?: { code?: number; err_code?: number; description?: string } };
    try { v = JSON.parse(ackDecoder.decode(data)) as typeof v; }
    catch (cause) { p.reject(failure(p, 'invalid ack response (not JSON)', cause)); return; }
    if (v.error) {
      p.reject(failure(p, v.error.description ?? `JetStream error ${v.error.code ?? ''}`, undefined, { status: v.error.code, errCode: v.error.err_code }));
      return;
    }
    if (typeof v.stream !== 'string' || v.stream === '' || typeof v.seq !== 'number') { p.reject(failure(p, 'invalid ack response')); return; }
    p.resolve({ stream: v.stream, seq: v.seq, duplicate: v.duplicate === true });
  }

  private sweep(): void {
    const now = performance.now();
    // insertion order is deadline order
    for (const [token, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(token);
      p.reject(failure(p, `timeout: no acknowledgement within ${ACK_TIMEOUT_MS} ms`));
    }
    if (this.pending.size === 0 && this.sweeper) { clearInterval(this.sweeper); this.sweeper = undefined; }
  }

  private failAll(reason: string, cause?: unknown): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(failure(p, reason, cause));
  }

  /** A publish the server refuses for permissions is answered by an -ERR, not on the reply subject. */
  private async watchPermissions(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type !== 'error' || !(s.error instanceof PermissionViolationError) || s.error.operation !== 'publish') continue;
      const denied = s.error;
      for (const [token, p] of this.pending) {
        if (p.subject !== denied.subject) continue;
        this.pending.delete(token);
        p.reject(failure(p, denied.message, denied));
        break;
      }
    }
  }
}

const te = new TextEncoder();
const ACK_HEAD = te.encode('{"stream":"');
const ACK_SEQ = te.encode('"seq"');
const ACK_DUP = te.encode('"duplicate"');
const ACK_TRUE = te.encode('true');
const ACK_FALSE = te.encode('false');
const EMPTY = new Uint8Array(0);

/**
 * The usual PubAck, `{"stream":"<name>", "seq":<n>}` with an optional `"duplicate": true|false`, as
 * the server writes it, read without decoding and JSON.parse (once per publish). Anything else (an
 * error, other fields or another order, escapes, a long number) gives undefined: JSON.parse reads it.
 * (Exported for its tests only.)
 */
export class PubAckReader {
  private stream = '';
  private streamBytes: Uint8Array = EMPTY;
  private b: Uint8Array = EMPTY;
  private i = 0;

  read(b: Uint8Array): PublishAck | undefined {
    this.b = b;
    this.i = 0;
    const ack = this.parse(b);
    this.b = EMPTY; // not holding on to the socket's read buffer
    return ack;
  }

  private parse(b: Uint8Array): PublishAck | undefined {
    if (!this.lit(ACK_HEAD)) return undefined;
    const nameStart = this.i;
    for (; this.i < b.length; this.i++) {
      const c = b[this.i]!;
      if (c === 0x22) break; // closing quote
      if (c === 0x5c || c < 0x21 || c > 0x7e) return undefined; // escapes, non-ASCII: JSON.parse
    }
    const nameEnd = this.i++;
    if (nameEnd === nameStart || this.i > b.length) return undefined;
    if (!this.sym(0x2c) || !this.lit(ACK_SEQ) || !this.sym(0x3a)) return undefined;
    this.ws();
    const digits = this.i;
    let seq = 0;
    for (; this.i < b.length; this.i++) {
      const d = b[this.i]! - 48;
      if (d < 0 || d > 9) break;
      seq = seq * 10 + d;
    }
    if (this.i === digits || this.i - digits > 15) return undefined; // above 15 digits seq may not be exact
    let duplicate = false;
    if (this.sym(0x2c)) {
      if (!this.lit(ACK_DUP) || !this.sym(0x3a)) return undefined;
      this.ws();
      if (this.lit(ACK_TRUE)) duplicate = true;
      else if (!this.lit(ACK_FALSE)) return undefined;
    }
    if (!this.sym(0x7d)) return undefined;
    this.ws();
    if (this.i !== b.length) return undefined;
    // acks of one stream name the same stream: keep its string
    const n = nameEnd - nameStart;
    let same = n === this.streamBytes.length;
    for (let j = 0; same && j < n; j++) same = b[nameStart + j] === this.streamBytes[j];
    if (!same) {
      this.streamBytes = b.slice(nameStart, nameEnd);
      this.stream = String.fromCharCode(...this.streamBytes);
    }
    return { stream: this.stream, seq, duplicate };
  }

  private ws(): void {
    const b = this.b;
    while (this.i < b.length && (b[this.i] === 0x20 || b[this.i] === 0x09 || b[this.i] === 0x0a || b[this.i] === 0x0d)) this.i++;
  }

  /** whitespace, then the byte c */
  private sym(c: number): boolean {
    this.ws();
    if (this.b[this.i] !== c) return false;
    this.i++;
    return true;
  }

  /** whitespace, then the bytes p */
  private lit(p: Uint8Array): boolean {
    this.ws();
    const b = this.b;
    if (this.i + p.length > b.length) return false;
    for (let j = 0; j < p.length; j++) if (b[this.i + j] !== p[j]) return false;
    this.i += p.length;
    return true;
  }
}

function failure(p: PendingAck, reason: string, cause?: unknown, details?: Record<string, unknown>): PcapflowError {
  return p.kv
    ? new PcapflowError('PCAPFLOW_TRANSPORT', `put of key ${p.kv.key} to KV bucket ${p.kv.bucket} failed: ${reason}`, {
      cause, details, hint: 'check that the NATS server is reachable and that JetStream has storage left for the bucket',
    })
    : new PcapflowError('PCAPFLOW_TRANSPORT', `publish to ${p.subject} failed: ${reason}`, {
      cause, details, hint: 'check that a stream in the topology captures this subject and the server is reachable',
    });
}

/** A pulled message as the runtime sees it; headers are converted only when asked for. */
class JsTransportMessage implements TransportMessage {
  private hdrs?: Record<string, string>;
  constructor(private readonly m: JsMsg, readonly stream: string, private readonly acks: AckBatcher) {}
  get subject() { return this.m.subject; }
  get data() { return this.m.data; }
  get seq() { return this.m.seq; }
  get deliveryCount() { return this.m.info.deliveryCount; }
  get headers() { return (this.hdrs ??= headersToObject(this.m.headers)); }
  ack() { this.acks.ack(this.m); }
  nak(delayMs: number) { this.m.nak(delayMs); }
  term() { this.m.term(); }
  working() { this.m.working(); }
}

/**
 * Acks are plain publishes, and each one would leave in its own socket write: the handler awaits
 * between messages, and the client flushes its buffer at every turn. Acks of the messages handled
 * in one turn of the event loop go out together instead. They leave at the latest when the handler
 * loop yields to I/O, long before ack_wait; on stop they are sent before the final flush.
 */
class AckBatcher {
  private pending: JsMsg[] = [];
  private scheduled?: NodeJS.Immediate;
  ack(m: JsMsg): void {
    this.pending.push(m);
    this.scheduled ??= setImmediate(() => this.send());
  }
  send(): void {
    if (this.scheduled) { clearImmediate(this.scheduled); this.scheduled = undefined; }
    const batch = this.pending;
    this.pending = [];
    for (const m of batch) {
      try { m.ack(); } catch { /* connection gone: the server redelivers after ack_wait */ }
    }
  }
}

function headersToObject(h: { keys(): string[]; get(k: string): string } | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const k of h.keys()) out[k] = h.get(k);
  return out;
}

// nats.js's rule for keys (validateKey in @nats-io/kv)
const KV_KEY_RE = /^[-/=.\w]+$/;

function checkKey(key: string): void {
  if (key.startsWith('.') || key.endsWith('.') || !KV_KEY_RE.test(key)) {
    throw new PcapflowError('PCAPFLOW_TRANSPORT', `invalid KV key: ${key}`, { hint: 'KV keys are dot-separated tokens of letters, digits and - / _ =' });
  }
}

class JetStreamKv implements KvStore {
  /** `$KV.<bucket>.`: where puts go (a bucket we create: no JS API prefix, no mirror) */
  private readonly putPrefix: string;
  constructor(readonly bucket: string, private readonly kv: KV, private readonly acked: AckedPublisher) {
    this.putPrefix = `$KV.${bucket}.`;
  }
  async get(key: string) {
    const e = await this.kv.get(key);
    if (!e || e.operation !== 'PUT') return undefined;
    return { value: e.value, revision: e.revision };
  }
  /** As kv.put(key, value) (no expected revision), through the cheaper acked publish. */
  put(key: string, value: Uint8Array) {
    return this.publish(key, value, undefined);
  }
  /** A put with Nats-Expected-Last-Sequence: the stream refuses it unless its last message has that sequence. */
  putIfLast(key: string, value: Uint8Array, lastRevision: number) {
    const h = natsHeaders();
    h.set('Nats-Expected-Last-Sequence', String(lastRevision));
    return this.publish(key, value, h);
  }
  /** A plain publish with no reply subject: the server stores it and answers nothing. */
  putUnacked(key: string, value: Uint8Array) {
    checkKey(key);
    this.acked.send(this.putPrefix + key, value);
  }
  private async publish(key: string, value: Uint8Array, headers: MsgHdrs | undefined): Promise<number> {
    checkKey(key);
    return (await this.acked.publish(this.putPrefix + key, value, headers, { bucket: this.bucket, key })).seq;
  }
  async delete(key: string) { await this.kv.delete(key); }
  async *keys(filter?: string) {
    const it = await this.kv.keys(filter ?? '>');
    for await (const k of it) yield k;
  }
  async *watch(filter?: string, signal?: AbortSignal) {
    const it = await this.kv.watch({ key: filter ?? '>', include: 'updates' as never });
    const onAbort = () => it.stop();
    signal?.addEventListener('abort', onAbort);
    try {
      for await (const e of it) {
        yield e.operation === 'PUT'
          ? { key: e.key, value: e.value, revision: e.revision, op: 'put' as const }
          : { key: e.key, revision: e.revision, op: 'del' as const };
      }
    } finally { signal?.removeEventListener('abort', onAbort); }
  }
}
