import { readFileSync } from 'node:fs';
import {
  connect, credsAuthenticator, headers as natsHeaders, nanos, type NatsConnection, type NodeConnectionOptions,
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
  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly log: Logger,
  ) {}

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

  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishAck> {
    let h;
    if (options.headers) {
      h = natsHeaders();
      for (const [k, v] of Object.entries(options.headers)) h.set(k, v);
    }
    try {
      const ack = await this.js.publish(subject, data, { msgID: options.msgId, headers: h });
      return { seq: ack.seq, duplicate: ack.duplicate, stream: ack.stream };
    } catch (cause) {
      throw new PcapflowError('PCAPFLOW_TRANSPORT', `publish to ${subject} failed: ${(cause as Error).message}`, {
        cause, hint: 'check that a stream in the topology captures this subject and the server is reachable',
      });
    }
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
    const handler = (async () => {
      let handledSinceYield = 0;
      for (;;) {
        if (head < queue.length) {
          if (nc.isClosed()) break; // nothing could be acked any more: the server redelivers after ack_wait
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
    return new JetStreamKv(bucket, kv);
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

class JetStreamKv implements KvStore {
  constructor(readonly bucket: string, private readonly kv: KV) {}
  async get(key: string) {
    const e = await this.kv.get(key);
    if (!e || e.operation !== 'PUT') return undefined;
    return { value: e.value, revision: e.revision };
  }
  put(key: string, value: Uint8Array) { return this.kv.put(key, value); }
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
