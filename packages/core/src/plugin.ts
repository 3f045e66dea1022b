import type { z } from 'zod';
import type { Logger } from './logger';

/**
 * The plugin API. A plugin package exports exactly one declaration made with `definePlugin`
 * (as its default export or as `plugin`), and marks itself in package.json:
 *
 *   "pcapflow": { "plugin": true, "runtime": "^0.1.0" }
 *
 * Plugins import only from `@pcapflow/core` (this API) and `@pcapflow/core/testkit`.
 */

/** One named input or output port of a plugin. */
export interface PortSpec {
  name: string;
  description: string;
  /** Optional record shape, checked at the boundary when the runtime runs with --check-records. */
  record?: z.ZodType;
  /** Subject template used when the topology does not name one, e.g. "wifi.frames.{type_subtype}.p{sa%16}". */
  defaultSubject?: string;
}

export interface PluginDeclaration<S extends z.ZodType = z.ZodType> {
  /** npm package name, e.g. "@pcapflow/probe". */
  name: string;
  /** The package version (semver). */
  version: string;
  /** One line: what the plugin does. */
  summary: string;
  /** Longer description (markdown), shown by `pcapflow plugins --describe`. */
  description?: string;
  /** zod schema for `config:` in the topology; give fields `.describe()`, defaults and `.meta({ examples })`. */
  config: S;
  inputs: PortSpec[];
  outputs: PortSpec[];
  /**
   * Optional: ports whose names are chosen by the config (e.g. split routes).
   * Returns the output port names that this config will emit on.
   */
  dynamicOutputs?: (config: z.output<S>) => string[];
  /**
   * The top-level fields the records of an output carry under this config, or undefined when that
   * is not fixed (e.g. the probe with a `fields:` selection). The runtime then rejects, at load, an
   * output subject that names a field the records lack (it would render as "_" for every record).
   */
  outputFields?: (config: z.output<S>, port: string) => readonly string[] | undefined;
  /** Build one actor for one instance (or one partition of an instance). */
  create(ctx: ActorContext, config: z.output<S>): Actor | Promise<Actor>;
}

/** A batch of records delivered from one message of one input. */
export interface InputBatch {
  /** Input port name. */
  input: string;
  /** Subject the message was published on. */
  subject: string;
  records: readonly Record<string, unknown>[];
  /** Stream sequence of the message (monotonic per stream; use it to make state idempotent). */
  seq: number;
  /** Stream the message came from. */
  stream: string;
  /**
   * 1 on first delivery. Not a proof that no actor handled the message before: nats-server can hand
   * a message out again with a count of 1 when the pull it went to has lost its subscriber (a
   * killed process's last pull). Recognise repeats by `stream` and `seq`, whatever the count.
   */
  deliveryCount: number;
}

export interface HealthReport {
  ok: boolean;
  detail?: string;
  /** Counters and gauges the plugin wants to expose (frames read, malformed ...). */
  metrics?: Record<string, number>;
}

export interface Actor {
  /**
   * Called once before any input is delivered. A source (a plugin with no inputs) does its work
   * here: it emits records and returns when its input is exhausted or `ctx.signal` aborts.
   */
  start?(): Promise<void> | void;
  /** Handle one batch. Resolve when done; the runtime then publishes emitted records and acks. */
  handle?(batch: InputBatch): Promise<void> | void;
  /**
   * Optional: handle several messages of one input as one unit, so a per-message cost (a state
   * commit) is paid once for all of them. The NATS transport hands over the messages waiting in
   * the mailbox, first deliveries only; redeliveries always come one at a time through `handle`.
   * All or nothing: resolve when every batch is done (the runtime then publishes emitted records
   * and acks them all); a throw redelivers every one of them. Outputs of a group get message ids
   * of their own, so they are not deduplicated against a later redelivery of its messages: use it
   * when outputs are upserts or the actor skips input it already applied.
   */
  handleMany?(batches: InputBatch[]): Promise<void> | void;
  /**
   * Optional: the record fields this actor reads on input `port` (top-level names), or undefined
   * for all of them. The runtime may then decode only those fields: the records handed over hold
   * just them (absent ones stay absent). A record passed on unchanged (`forward`, `emit` of the
   * record object as it arrived, `deadLetter`) still carries every field, as it arrived. Do not
   * copy or change such a record to emit it: build the output record from the fields read.
   * Asked once after `create`.
   */
  inputFields?(port: string): readonly string[] | undefined;
  /** Called on shutdown after in-flight work is drained. */
  stop?(): Promise<void> | void;
  health?(): HealthReport;
}

/** A key/value bucket: JetStream KV on NATS, an in-process map on the embedded transport. */
export interface KvStore {
  readonly bucket: string;
  get(key: string): Promise<{ value: Uint8Array; revision: number } | undefined>;
  put(key: string, value: Uint8Array): Promise<number>;
  /**
   * Put only if the bucket's last write (a put or delete of any key) has revision `lastRevision`;
   * otherwise nothing is stored and the promise rejects (PCAPFLOW_TRANSPORT). Writes issued before it
   * are applied first, in order (one connection), so a guarded put sent right after N unawaited puts
   * is stored only if all N were: N writes and their commit point in one round trip.
   */
  putIfLast?(key: string, value: Uint8Array, lastRevision: number): Promise<number>;
  /**
   * A put sent without asking for an acknowledgement: nothing reports whether it was stored, except
   * a putIfLast sent after it that counts it (refused if it was not). For many writes confirmed by
   * one guarded put: the server sends one reply instead of one per write. Throws only for an
   * invalid key or a closed connection.
   */
  putUnacked?(key: string, value: Uint8Array): void;
  delete(key: string): Promise<void>;
  /** Keys, optionally filtered by a NATS subject-style filter ("a.b.>"). */
  keys(filter?: string): AsyncIterable<string>;
  /** Changes as they happen (after `keys`/`get` for the initial state). */
  watch(filter?: string, signal?: AbortSignal): AsyncIterable<{ key: string; value?: Uint8Array; revision: number; op: 'put' | 'del' }>;
}

export interface Counter { inc(n?: number): void; readonly value: number }

export interface ActorContext {
  /** Instance name from the topology. */
  readonly instance: string;
  /** This actor's partition: index in [0, count). Keys are split so no two partitions own one key. */
  readonly partition: { index: number; count: number };
  readonly log: Logger;
  /** Aborted when the runtime is stopping. */
  readonly signal: AbortSignal;
  /** Output port names configured for this instance. */
  readonly outputs: readonly string[];
  /**
   * Queue a record on an output port. Inside `handle`, records are published after the handler
   * resolves and before the input is acked (at-least-once, deduplicated by message id). In a
   * source, records are published in batches; `await flush()` to bound memory.
   */
  emit(output: string, record: Record<string, unknown>): void;
  /**
   * `emit` for a record of the batch being handled that goes on unchanged (split, filter, routing).
   * When a handler forwards every record of its input message, in order, to one output subject
   * and emits nothing else, the runtime publishes the input message's own bytes instead of
   * encoding the records again. The contract: a forwarded record is exactly as it arrived; a
   * record the handler changed (or built) goes through `emit` (with --check-records the runtime
   * verifies it and rejects the message otherwise). Outside `handle` it is `emit`.
   * Optional: older runtimes lack it; a plugin falls back to `emit` there.
   */
  forward?(output: string, record: Readonly<Record<string, unknown>>): void;
  /**
   * Resolves when the runtime can take more records (publishes in flight below its bound).
   * A source awaits it between batches so a fast capture never outruns the transport.
   */
  ready(): Promise<void>;
  /** Publish everything emitted so far and wait for the server's acknowledgement. */
  flush(): Promise<void>;
  /** Open (creating if needed) a key/value bucket. */
  kv(bucket: string, options?: { history?: number; ttlMs?: number }): Promise<KvStore>;
  counter(name: string): Counter;
  /**
   * Send records that can never be processed to this instance's dead-letter subject, with the
   * error. The rest of the batch carries on.
   */
  deadLetter(records: readonly Record<string, unknown>[], error: unknown): Promise<void>;
  /** Publish a raw payload on a subject (replies, side channels). */
  publishRaw(subject: string, data: Uint8Array): Promise<void>;
  /** Serve request/reply on a subject (pull queries). The handler's return value is the reply. */
  serve(subject: string, handler: (data: Uint8Array) => Promise<Uint8Array> | Uint8Array): void;
}

/** Declare a plugin. Returns the declaration unchanged but typed and frozen. */
export function definePlugin<S extends z.ZodType>(declaration: PluginDeclaration<S>): PluginDeclaration<S> {
  return Object.freeze({ ...declaration });
}
