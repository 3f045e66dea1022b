import type { Logger } from '../logger';
import type { KvStore } from '../plugin';

export interface StreamSpec {
  name: string;
  subjects: string[];
  retention: 'limits' | 'interest' | 'workqueue';
  storage: 'file' | 'memory';
  maxAgeMs?: number;
  maxBytes?: number;
  maxMsgs?: number;
  duplicateWindowMs: number;
  replicas: number;
}

export interface ConsumerSpec {
  stream: string;
  /** Durable consumer name: survives restarts, so a restarted actor resumes where it left off. */
  durable: string;
  filterSubject: string;
  /** Unacked messages allowed in flight: the backpressure bound. */
  maxAckPending: number;
  ackWaitMs: number;
  /** Deliveries before a message is dead-lettered. */
  maxDeliver: number;
  /** Where the transport reports trouble with this consumer (failed pulls) as warnings. */
  log?: Logger;
  /** With `onGroup`: hand at most this many waiting messages over at once (default 1: never group). */
  maxGroup?: number;
  /** With maxGroup: while fewer than maxGroup messages wait, wait up to this long (ms) for more before handing them over. */
  lingerMs?: number;
}

export interface PublishOptions {
  /** Deduplication id (Nats-Msg-Id). */
  msgId?: string;
  headers?: Record<string, string>;
}

export interface PublishAck { seq: number; duplicate: boolean; stream: string }

export interface TransportMessage {
  subject: string;
  data: Uint8Array;
  headers: Record<string, string>;
  stream: string;
  seq: number;
  deliveryCount: number;
  ack(): void;
  /** Redeliver after a delay. */
  nak(delayMs: number): void;
  /** Never redeliver. */
  term(): void;
  /** Tell the server the work is still in progress (resets ack wait). */
  working(): void;
}

export interface Subscription {
  /** Stop fetching; messages already handed out may still be acked. */
  stop(): Promise<void>;
}

export interface ConsumerState { pending: number; ackPending: number; redelivered: number }

export interface Transport {
  readonly kind: 'nats' | 'embedded';
  ensureStream(spec: StreamSpec): Promise<void>;
  publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<PublishAck>;
  /**
   * Pull messages for a durable consumer, at most `maxAckPending` unacked at once, and hand each
   * to `onMessage` (awaited, one at a time per subscription so per-key order holds). With
   * `onGroup` and `spec.maxGroup` > 1, a transport may instead hand several messages that are
   * already waiting, in order, to `onGroup` (the embedded transport never does).
   */
  consume(spec: ConsumerSpec, onMessage: (msg: TransportMessage) => Promise<void>, onGroup?: (msgs: TransportMessage[]) => Promise<void>): Promise<Subscription>;
  consumerState(stream: string, durable: string): Promise<ConsumerState | undefined>;
  kv(bucket: string, options?: { history?: number; ttlMs?: number }): Promise<KvStore>;
  /** Core request/reply (no persistence): pull queries. */
  serve(subject: string, handler: (data: Uint8Array) => Promise<Uint8Array>): { stop(): void };
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** Ephemeral subscription to live messages (push queries / tail). */
  subscribe(subject: string, onMessage: (subject: string, data: Uint8Array) => void): { stop(): void };
  close(): Promise<void>;
}
