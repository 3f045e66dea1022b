import { readFileSync } from 'node:fs';
import {
  connect, credsAuthenticator, headers as natsHeaders, nanos, type NatsConnection, type NodeConnectionOptions,
} from '@nats-io/transport-node';
import {
  AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType,
  type JetStreamClient, type JetStreamManager, type ConsumerMessages,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { PcapflowError } from '../errors';
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
}

export class JetStreamTransport implements Transport {
  readonly kind = 'nats' as const;
  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  static async connect(options: NatsTransportOptions): Promise<JetStreamTransport> {
    const opts: NodeConnectionOptions = {
      servers: options.servers,
      name: options.name ?? 'pcapflow',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
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
    return new JetStreamTransport(nc, jetstream(nc), jsm);
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

  async consume(spec: ConsumerSpec, onMessage: (msg: TransportMessage) => Promise<void>): Promise<Subscription> {
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
    // Finite pulls rather than an endless consume(): on stop, the messages of the current pull
    // are still handled and acked (drain) and no new pull is issued, so nothing is left waiting
    // out ack_wait. (Handing them back with nak would bounce them into this same open pull.)
    const batch = Math.min(spec.maxAckPending, 64);
    let stopping = false;
    let pull: ConsumerMessages | undefined;
    const loop = (async () => {
      while (!stopping && !this.nc.isClosed()) {
        try {
          pull = await consumer.fetch({ max_messages: batch, expires: 1000 });
          for await (const m of pull) {
            await onMessage({
              subject: m.subject,
              data: m.data,
              headers: headersToObject(m.headers),
              stream: spec.stream,
              seq: m.seq,
              deliveryCount: m.info.deliveryCount,
              ack: () => m.ack(),
              nak: (delayMs) => m.nak(delayMs),
              term: () => m.term(),
              working: () => m.working(),
            });
          }
        } catch (e) {
          // A pull can fail (missed heartbeats, a server restart): pull again. Unacked messages of a
          // failed pull are redelivered after ack_wait; the consumer itself keeps its position.
          if (stopping || this.nc.isClosed()) break;
          process.stderr.write(`pcapflow: pull on consumer ${spec.durable} failed (${(e as Error)?.message ?? e}); pulling again\n`);
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    })();
    return {
      stop: async () => {
        stopping = true;
        await loop;
        // Acks and naks are plain publishes: make sure they reached the server before we go.
        await this.nc.flush().catch(() => undefined);
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
