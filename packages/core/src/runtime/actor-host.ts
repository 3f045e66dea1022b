import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { z } from 'zod';
import { decodeBatch, encodeBatch, PackedBatchBuilder } from '../codec';
import { ProjectedDecoder } from '../codec-projection';
import { errorMessage, PoisonError, PcapflowError } from '../errors';
import type { Logger } from '../logger';
import type { Actor, ActorContext, Counter, InputBatch, KvStore, PluginDeclaration } from '../plugin';
import { compileSubjectTemplate, partitionFilters, type SubjectTemplate } from '../subject';
import type { ConsumerOptions } from '../topology/schema';
import type { Subscription, Transport, TransportMessage } from '../transport/types';
import { memoizedRender } from './subject-memo';

export interface InputBinding {
  port: string;
  stream: string;
  filter: string;
  partitions?: number;
}

export interface OutputBinding {
  port: string;
  template: SubjectTemplate;
  batch: number;
}

export interface ActorHostOptions {
  instance: string;
  partition: { index: number; count: number };
  plugin: PluginDeclaration;
  config: unknown;
  inputs: InputBinding[];
  outputs: OutputBinding[];
  consumer: ConsumerOptions;
  deadLetterSubject: string;
  transport: Transport;
  log: Logger;
  checkRecords: boolean;
}

/** An output binding with its memoized subject render and its buffered records by subject. */
interface OutputState extends OutputBinding {
  render(record: Record<string, unknown>): string;
  pending: Map<string, Record<string, unknown>[]>;
}

class SimpleCounter implements Counter {
  value = 0;
  inc(n = 1) { this.value += n; }
}

/** Publishes in flight at once per actor (sources), bounding memory while keeping the pipe full. */
const MAX_PUBLISHES_IN_FLIGHT = 32;
/** Handled inputs whose outputs may be in flight at once (each is acked when its outputs are). */
const MAX_INPUTS_PUBLISHING = 8;
/**
 * A packed batch is published when it holds `batch` records or reaches this size, whichever
 * comes first: NATS refuses messages over max_payload (1 MiB by default), and a refused publish
 * would be retried forever.
 */
const MAX_PACKED_BATCH_BYTES = 768 * 1024;

/**
 * One actor (one partition of one plugin instance): its mailbox (durable consumers), its output
 * buffers, ack policy and supervision.
 */
export class ActorHost {
  readonly name: string;
  private actor?: Actor;
  private readonly abort = new AbortController();
  private readonly subs: Subscription[] = [];
  private readonly counters = new Map<string, SimpleCounter>();
  private readonly pending = new Map<string, Map<string, Record<string, unknown>[]>>();
  /** Source mode: per output and subject, a batch built from pre-packed records (codec PACKED_*). */
  private readonly pendingPacked = new Map<string, Map<string, PackedBatchBuilder>>();
  /** emitPacked's last output and its map in pendingPacked. */
  private packedOutput?: string;
  private packedBySubject?: Map<string, PackedBatchBuilder>;
  /** Average packed bytes per record, per output (sizes the next builder). */
  private readonly packedRecordBytes = new Map<string, number>();
  private emittedCounter?: SimpleCounter;
  private readonly inFlight = new Set<Promise<unknown>>();
  private publishError?: unknown;
  private readonly runId = randomBytes(6).toString('hex');
  private publishCounter = 0;
  private sourceTask?: Promise<void>;
  private sourceDone = false;
  private consecutiveFailures = 0;
  private restartStreak = 0;
  private restartPending?: Promise<void>;
  private stopped = false;
  private readonly outputsByPort = new Map<string, OutputState>();
  /** The output emitted to last: most emits go to the same port as the one before. */
  private lastOutput?: OutputState;
  private readonly inputSchemas = new Map<string, z.ZodType>();
  private readonly outputSchemas = new Map<string, z.ZodType>();
  private readonly services: Array<{ stop(): void }> = [];
  private readonly declaredOutputs: Set<string>;
  /** Per input port: a decoder of only the fields the actor reads (see Actor.inputFields). */
  private readonly projections = new Map<string, ProjectedDecoder>();
  /** Handled inputs whose outputs are being published (see publishThenAck). */
  private readonly outputsInFlight = new Set<Promise<void>>();
  private projectedCounter?: SimpleCounter;
  /** While a handler runs, emitted records belong to that message and are flushed before its ack. */
  private handling = false;
  /** Records given to `emit` (not `forward`) by the running handler: any rules out passing its input through. */
  private plainEmits = 0;
  /**
   * The running handler's input records while it forwards them in order, unchanged, all to one
   * subject (a split whose message holds one route's records): they are only counted, no list is
   * built, and flushFor publishes the message's own bytes. Anything else (another subject, a record
   * out of order, a plain emit, a flush) ends the run: its records become that subject's list, as
   * if listed all along. Undefined when there is no run.
   */
  private run?: readonly Record<string, unknown>[];
  private runOutput?: OutputState;
  private runSubject = '';
  private runLength = 0;

  constructor(private readonly o: ActorHostOptions) {
    this.name = o.partition.count > 1 ? `${o.instance}[${o.partition.index}]` : o.instance;
    for (const out of o.outputs) {
      const state: OutputState = { ...out, render: memoizedRender(out.template), pending: new Map() };
      this.outputsByPort.set(out.port, state);
      this.pending.set(out.port, state.pending);
    }
    this.declaredOutputs = new Set([...o.plugin.outputs.map((p) => p.name), ...(o.plugin.dynamicOutputs?.(o.config as never) ?? [])]);
    for (const p of o.plugin.inputs) if (p.record) this.inputSchemas.set(p.name, p.record);
    for (const p of o.plugin.outputs) if (p.record) this.outputSchemas.set(p.name, p.record);
  }

  /** When a source's start() began (epoch ms; 0 for a consumer). */
  sourceStartedAt = 0;
  /** When the last input was handled and acked, or a source finished (epoch ms; 0: not yet). */
  lastDoneAt = 0;

  /** Durable consumers this actor reads (for idle detection and `pcapflow graph`). */
  readonly consumers: Array<{ stream: string; durable: string }> = [];
  /** A handler or a publish is running. */
  get busy(): boolean { return this.handling || this.inFlight.size > 0 || this.outputsInFlight.size > 0; }

  get isSource(): boolean { return this.o.inputs.length === 0; }
  get finished(): boolean { return this.isSource ? this.sourceDone && this.inFlight.size === 0 : false; }

  counter(name: string): Counter {
    let c = this.counters.get(name);
    if (!c) { c = new SimpleCounter(); this.counters.set(name, c); }
    return c;
  }

  metrics(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, c] of this.counters) out[k] = c.value;
    return out;
  }

  health() {
    const h = this.actor?.health?.();
    return { name: this.name, ok: h?.ok ?? !this.publishError, detail: h?.detail, metrics: { ...this.metrics(), ...(h?.metrics ?? {}) } };
  }

  private context(): ActorContext {
    const o = this.o;
    return {
      instance: o.instance,
      partition: o.partition,
      log: o.log,
      signal: this.abort.signal,
      outputs: o.outputs.map((x) => x.port),
      emit: (output, record) => { this.plainEmits++; this.emit(output, record); },
      forward: (output, record) => this.emit(output, record as Record<string, unknown>),
      flush: () => this.flush(),
      ready: () => this.backpressure(),
      kv: (bucket, options) => o.transport.kv(bucket, options) as Promise<KvStore>,
      counter: (name) => this.counter(name),
      deadLetter: (records, error) => this.deadLetterRecords(records, error, {}),
      publishRaw: async (subject, data) => { await o.transport.publish(subject, data); },
      serve: (subject, handler) => { this.services.push(o.transport.serve(subject, async (d) => handler(d))); },
    };
  }

  // The per-record path: kept to a few property reads and one map lookup per record.
  private emit(output: string, record: Record<string, unknown>): void {
    let binding = this.lastOutput;
    if (binding === undefined || binding.port !== output) {
      binding = this.outputsByPort.get(output);
      if (binding === undefined) { this.emitUnbound(output); return; }
      this.lastOutput = binding;
    }
    if (this.o.checkRecords) this.checkRecord(this.outputSchemas.get(output), record, `output ${output}`);
    const subject = binding.render(record);
    (this.emittedCounter ??= this.counter('emitted') as SimpleCounter).value++;
    if (this.run !== undefined) {
      if (this.plainEmits === 0 && record === this.run[this.runLength]) {
        if (this.runLength === 0) { this.runOutput = binding; this.runSubject = subject; }
        if (binding === this.runOutput && subject === this.runSubject) { this.runLength++; return; }
      }
      this.endRun();
    }
    // Sources: records that carry their msgpack form are appended to the subject's message now.
    if (!this.handling && PackedBatchBuilder.packedForm(record) && this.emitPacked(output, binding.batch, subject, record)) return;
    const bySubject = binding.pending;
    let list = bySubject.get(subject);
    if (list === undefined) list = this.newList(output, subject, bySubject);
    list.push(record);
    // Sources publish full batches right away; handlers publish after they resolve.
    if (!this.handling && list.length >= binding.batch) {
      bySubject.delete(subject);
      this.publishAsync(subject, list);
    }
  }

  /** The forwarded run so far becomes its subject's list (see `run`). */
  private endRun(): void {
    const run = this.run;
    this.run = undefined;
    if (run === undefined || this.runLength === 0) return;
    const out = this.runOutput!;
    let list = out.pending.get(this.runSubject);
    if (list === undefined) list = this.newList(out.port, this.runSubject, out.pending);
    for (let i = 0; i < this.runLength; i++) list.push(run[i]!);
  }

  /** The running handler may forward `records` (its input, in order) as a run. */
  private beginRun(records: readonly Record<string, unknown>[] | undefined): void {
    // --check-records compares forwarded records with the message in flushFor: lists only
    this.run = this.o.checkRecords ? undefined : records;
    this.runOutput = undefined;
    this.runLength = 0;
  }

  private emitUnbound(output: string): void {
    // An output the topology leaves unbound is optional: its records go nowhere, counted.
    if (this.declaredOutputs.has(output)) { this.counter(`unbound_${output}`).inc(); return; }
    throw new PcapflowError('PCAPFLOW_CONFIG_INVALID', `${this.name} emitted on output "${output}", which ${this.o.plugin.name} does not declare`, {
      hint: 'a plugin bug: declare the port in the plugin\'s outputs',
    });
  }

  private newList(output: string, subject: string, bySubject: Map<string, Record<string, unknown>[]>): Record<string, unknown>[] {
    // keep per-subject order: a packed batch being built for this subject goes out first
    const pb = this.pendingPacked.get(output)?.get(subject);
    if (pb) { this.pendingPacked.get(output)!.delete(subject); this.publishPacked(output, subject, pb); }
    const list: Record<string, unknown>[] = [];
    bySubject.set(subject, list);
    return list;
  }

  private emitPacked(output: string, batch: number, subject: string, record: Record<string, unknown>): boolean {
    // the last output's map (pendingPacked keeps each output's map once made): most emits go to one port
    let bySubject = output === this.packedOutput ? this.packedBySubject : this.pendingPacked.get(output);
    if (!bySubject) { bySubject = new Map(); this.pendingPacked.set(output, bySubject); }
    this.packedOutput = output;
    this.packedBySubject = bySubject;
    let pb = bySubject.get(subject);
    if (!pb) {
      const list = this.pending.get(output)?.get(subject);
      if (list) { this.pending.get(output)!.delete(subject); if (list.length) this.publishAsync(subject, list); }
      pb = new PackedBatchBuilder(Math.min(MAX_PACKED_BATCH_BYTES + 4096, Math.ceil((this.packedRecordBytes.get(output) ?? 256) * batch * 1.1) + 1024));
      bySubject.set(subject, pb);
    }
    if (!pb.add(record)) {
      if (pb.count === 0) return false;
      bySubject.delete(subject);
      this.publishPacked(output, subject, pb);
      return this.emitPacked(output, batch, subject, record);
    }
    if (pb.count >= batch || pb.size >= MAX_PACKED_BATCH_BYTES) {
      bySubject.delete(subject);
      this.publishPacked(output, subject, pb);
    }
    return true;
  }

  private publishPacked(output: string, subject: string, pb: PackedBatchBuilder): void {
    if (pb.count === 0) return;
    const data = pb.finish();
    this.packedRecordBytes.set(output, data.length / pb.count);
    // nats.js copies a payload into its outbound buffer before sending it: once acked, the message
    // buffer can take a later batch. The embedded transport keeps the bytes: never reused there.
    this.publishData(subject, data, this.o.transport.kind === 'nats' ? () => pb.release() : undefined);
  }

  private checkRecord(schema: z.ZodType | undefined, record: unknown, where: string): void {
    if (!schema) return;
    const r = schema.safeParse(record);
    if (!r.success) {
      throw new PoisonError(`record on ${where} of ${this.name} does not match its declared shape: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
  }

  private publishAsync(subject: string, records: Record<string, unknown>[]): void {
    this.publishData(subject, encodeBatch(records));
  }

  private publishData(subject: string, data: Uint8Array, acked?: () => void): void {
    const msgId = `${this.o.instance}.${this.o.partition.index}.${this.runId}.${++this.publishCounter}`;
    const p = this.publishWithRetry(subject, data, msgId)
      .then(acked, (e: unknown) => { this.publishError = e; })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Publishing retries with the same message id, so a retry after a lost ack never duplicates. */
  private async publishWithRetry(subject: string, data: Uint8Array, msgId: string, headers?: Record<string, string>): Promise<void> {
    let delay = 100;
    for (let attempt = 1; ; attempt++) {
      try {
        const ack = await this.o.transport.publish(subject, data, { msgId, headers });
        if (ack.duplicate) this.counter('duplicates_suppressed').inc();
        return;
      } catch (e) {
        if (this.stopped && attempt > 3) throw e;
        if (attempt === 1 || attempt % 10 === 0) this.o.log.warn({ err: errorMessage(e), subject, attempt }, 'publish failed, retrying');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  /** Publish buffered records; in a source, also wait for earlier batches, bounding memory. */
  async flush(): Promise<void> {
    this.endRun();
    for (const [, bySubject] of this.pending) {
      for (const [subject, list] of bySubject) { if (list.length) this.publishAsync(subject, list); }
      bySubject.clear();
    }
    for (const [output, bySubject] of this.pendingPacked) {
      for (const [subject, pb] of bySubject) this.publishPacked(output, subject, pb);
      bySubject.clear();
    }
    while (this.inFlight.size) await Promise.race(this.inFlight);
    if (this.publishError) { const e = this.publishError; this.publishError = undefined; throw e; }
  }

  /** Drop buffered records (the maps stay: each output holds its own). */
  private clearPending(): void {
    this.run = undefined;
    for (const bySubject of this.pending.values()) bySubject.clear();
  }

  /** Wait while too many publishes are in flight (called by sources through flush or emit batches). */
  async backpressure(): Promise<void> {
    while (this.inFlight.size >= MAX_PUBLISHES_IN_FLIGHT) await Promise.race(this.inFlight);
  }

  /**
   * Outputs of one input message, published with ids derived from it, so a redelivery is deduplicated.
   * A subject that got exactly the message's records, forwarded unchanged in order, gets the
   * message's own bytes (they decode to those records; encoding them again is the costly part of
   * a split or filter). Its id is the one the encoded batch would have had, so dedupe holds.
   */
  private async flushFor(msg: TransportMessage, decoded: readonly Record<string, unknown>[] | undefined, idBase = `${this.o.instance}.${msg.stream}.${msg.seq}`): Promise<void> {
    const jobs: Promise<void>[] = [];
    const run = this.run;
    if (run !== undefined) {
      const out = this.runOutput;
      if (out !== undefined && this.runLength === run.length && run === decoded && this.plainEmits === 0 && run.length <= out.batch) {
        // every record forwarded, in order, to one subject (and nothing else emitted): the message as it came
        const published = this.publishWithRetry(this.runSubject, msg.data, `${idBase}.${out.port}.${this.runSubject}.0`);
        this.counter('passed_through').inc();
        this.clearPending(); // (ends the run; nothing else is pending)
        await published;
        return;
      }
      this.endRun();
    }
    const whole = this.plainEmits === 0 ? decoded : undefined;
    const passes = (list: Record<string, unknown>[], batch: number) =>
      whole !== undefined && list.length === whole.length && list.length <= batch && sameRecords(list, whole);
    // before anything is published: a message is either handled whole or rejected
    if (whole !== undefined && this.o.checkRecords) {
      try {
        for (const [output, bySubject] of this.pending) {
          for (const list of bySubject.values()) if (passes(list, this.outputsByPort.get(output)!.batch)) this.checkForwarded(msg, list, output);
        }
      } catch (e) {
        this.clearPending(); // nothing of a rejected message is published, nor left for the next one
        throw e;
      }
    }
    for (const [output, bySubject] of this.pending) {
      for (const [subject, list] of bySubject) {
        const batch = this.outputsByPort.get(output)!.batch;
        if (passes(list, batch)) {
          this.counter('passed_through').inc();
          jobs.push(this.publishWithRetry(subject, msg.data, `${idBase}.${output}.${subject}.0`));
          continue;
        }
        for (let i = 0, chunk = 0; i < list.length; i += batch, chunk++) {
          const msgId = `${idBase}.${output}.${subject}.${chunk}`;
          jobs.push(this.publishWithRetry(subject, encodeBatch(list.slice(i, i + batch)), msgId));
        }
      }
    }
    this.clearPending();
    await Promise.all(jobs);
  }

  /** --check-records: a forwarded record must be the record as it arrived (the contract of `forward`). */
  private checkForwarded(msg: TransportMessage, list: readonly Record<string, unknown>[], output: string): void {
    const arrived = decodeBatch(msg.data);
    for (let i = 0; i < list.length; i++) {
      if (!isDeepStrictEqual(list[i], arrived[i])) {
        throw new PoisonError(`${this.name} forwarded a changed record on output ${output} (record ${i} of the message): a changed record must be emitted with ctx.emit, not ctx.forward`);
      }
    }
  }

  private async createActor(): Promise<void> {
    this.actor = await this.o.plugin.create(this.context(), this.o.config);
    this.planProjections();
  }

  /** Inputs whose records the actor reads only some fields of: decode just those (and what output subjects need). */
  private planProjections(): void {
    this.projections.clear();
    const actor = this.actor;
    // --check-records validates whole records against their declared shapes: decode them whole
    if (!actor?.inputFields || this.o.checkRecords) return;
    const subjectFields: string[] = [];
    for (const out of this.o.outputs) for (const f of out.template.fields) subjectFields.push(f, f.split('.')[0]!);
    for (const input of this.o.inputs) {
      const wanted = actor.inputFields(input.port);
      if (wanted) this.projections.set(input.port, new ProjectedDecoder([...wanted, ...subjectFields]));
    }
  }

  async start(): Promise<void> {
    await this.createActor();
    await this.actor!.start?.call(this.actor);
    for (const input of this.o.inputs) {
      const filters = partitionFilters(input.filter, input.partitions ?? 1, this.o.partition.index, this.o.partition.count);
      for (let i = 0; i < filters.length; i++) {
        const durable = durableName(this.o.instance, input.port, filters.length > 1 || this.o.partition.count > 1 ? `${this.o.partition.index}_${i}` : '');
        const sub = await this.o.transport.consume({
          stream: input.stream,
          durable,
          filterSubject: filters[i]!,
          maxAckPending: this.o.consumer.max_ack_pending,
          ackWaitMs: this.o.consumer.ack_wait,
          maxDeliver: this.o.consumer.max_deliver,
          log: this.o.log,
          // an actor that handles messages as a group gets what waits in its mailbox at once
          ...(this.actor!.handleMany ? { maxGroup: this.o.consumer.max_ack_pending, lingerMs: this.o.consumer.linger } : {}),
        }, (msg) => this.onMessage(input.port, msg), (msgs) => this.onGroup(input.port, msgs));
        this.consumers.push({ stream: input.stream, durable });
        this.subs.push(sub);
      }
    }
  }

  /** Run a source's start() under supervision: a throw restarts it with backoff. */
  startSource(): void {
    const run = async () => {
      this.sourceStartedAt = Date.now();
      let delay = 500;
      while (!this.abort.signal.aborted) {
        try {
          await this.createActor();
          await this.actor!.start?.call(this.actor);
          await this.flush();
          break;
        } catch (e) {
          if (this.abort.signal.aborted) break;
          this.counter('restarts').inc();
          this.o.log.error({ err: errorMessage(e), code: (e as PcapflowError).code, delayMs: delay }, 'source actor failed; restarting');
          await this.actor?.stop?.call(this.actor)?.catch?.(() => undefined);
          await sleep(delay, this.abort.signal);
          delay = Math.min(delay * 2, 30_000);
        }
      }
      this.sourceDone = true;
      this.lastDoneAt = Date.now();
      this.o.log.info({ emitted: this.counter('emitted').value }, 'source finished');
    };
    this.sourceTask = run();
  }

  /** Decode a received message and check its records; undefined when it was dead-lettered instead. */
  private async accept(port: string, msg: TransportMessage): Promise<{ decoded: Record<string, unknown>[]; records: Record<string, unknown>[] } | undefined> {
    this.counter('received').inc();
    const c = this.o.consumer;
    if (msg.deliveryCount > c.max_deliver) {
      // Delivered more often than allowed without an ack: the handler crashed or hung on it.
      await this.deadLetterMessage(msg, new Error(`not acknowledged after ${c.max_deliver} deliveries (handler crashed or exceeded ack_wait)`));
      msg.term();
      return undefined;
    }
    let decoded: Record<string, unknown>[];
    try {
      const projected = this.projections.get(port)?.decode(msg.data);
      if (projected) (this.projectedCounter ??= this.counter('decoded_projected') as SimpleCounter).value++;
      decoded = projected ?? decodeBatch(msg.data);
    }
    catch (e) {
      await this.deadLetterMessage(msg, new PoisonError(`undecodable message: ${errorMessage(e)}`));
      msg.term();
      return undefined;
    }
    let records = decoded;
    if (this.o.checkRecords && this.inputSchemas.has(port)) {
      const good: Record<string, unknown>[] = [];
      const bad: Record<string, unknown>[] = [];
      for (const r of records) { try { this.checkRecord(this.inputSchemas.get(port), r, `input ${port}`); good.push(r); } catch { bad.push(r); } }
      if (bad.length) await this.deadLetterRecords(bad, new PoisonError(`records on input ${port} do not match its declared shape`), { msg });
      records = good;
    }
    return { decoded, records };
  }

  /**
   * Several waiting messages for an actor with handleMany: one handler call, one flush, then every
   * ack. First deliveries only: a group with a redelivery goes one message at a time, so a message
   * that keeps failing fails alone (and is dead-lettered alone).
   */
  private async onGroup(port: string, msgs: TransportMessage[]): Promise<void> {
    if (this.restartPending) await this.restartPending;
    if (!this.actor?.handleMany || msgs.some((m) => m.deliveryCount > 1)) {
      for (const m of msgs) await this.onMessage(port, m);
      return;
    }
    const taken: TransportMessage[] = [];
    const batches: InputBatch[] = [];
    let recordsIn = 0;
    for (const msg of msgs) {
      const a = await this.accept(port, msg);
      if (!a) continue;
      taken.push(msg);
      batches.push({ input: port, subject: msg.subject, records: a.records, seq: msg.seq, stream: msg.stream, deliveryCount: msg.deliveryCount });
      recordsIn += a.records.length;
    }
    if (!taken.length) return;
    const c = this.o.consumer;
    const keepAlive = setInterval(() => { for (const m of taken) m.working(); }, Math.max(1000, c.ack_wait / 2));
    this.handling = true;
    this.plainEmits = 0;
    this.beginRun(undefined);
    const failed = (e: unknown) => {
      // all of them come again, one at a time (poison or not: which message it was is unknown)
      const delay = c.backoff[0] ?? 1000;
      this.o.log.warn({ err: errorMessage(e), subject: taken[0]!.subject, seqs: `${taken[0]!.seq}-${taken[taken.length - 1]!.seq}`, messages: taken.length, retryInMs: delay }, 'group handler failed; its messages will be redelivered');
      for (const m of taken) m.nak(delay);
      if (++this.consecutiveFailures >= 3) this.restartActor(e);
    };
    try {
      await this.actor.handleMany.call(this.actor, batches);
      this.handling = false;
    } catch (e) {
      clearInterval(keepAlive);
      this.handlerFailed();
      failed(e);
      return;
    }
    const first = taken[0]!;
    await this.publishThenAck(this.flushFor(first, undefined, `${this.o.instance}.${first.stream}.${first.seq}-${taken[taken.length - 1]!.seq}.g`), () => {
      clearInterval(keepAlive);
      for (const m of taken) m.ack();
      this.counter('handled_groups').inc();
      this.handledOk(taken.length, recordsIn);
    }, (e) => {
      clearInterval(keepAlive);
      this.counter('failed').inc();
      failed(e);
    });
  }

  /**
   * Outputs of a handled input are being published: the input is acked once they are acked, while
   * the next input is already handled (its outputs go out after these, on the same connection, so
   * per-subject order holds). Up to MAX_INPUTS_PUBLISHING at a time; waiting for each one's
   * publish acknowledgement in turn would leave a split idle half of the time.
   */
  private async publishThenAck(published: Promise<void>, ok: () => void, failed: (e: unknown) => void | Promise<void>): Promise<void> {
    const done: Promise<void> = published.then(ok, failed)
      .catch((e: unknown) => { this.o.log.error({ err: errorMessage(e) }, 'could not settle a handled message'); })
      .finally(() => { this.outputsInFlight.delete(done); });
    this.outputsInFlight.add(done);
    while (this.outputsInFlight.size >= MAX_INPUTS_PUBLISHING) await Promise.race(this.outputsInFlight);
  }

  private async onMessage(port: string, msg: TransportMessage): Promise<void> {
    if (this.restartPending) await this.restartPending;
    const accepted = await this.accept(port, msg);
    if (!accepted) return;
    const { decoded, records } = accepted;
    const c = this.o.consumer;
    const keepAlive = setInterval(() => msg.working(), Math.max(1000, c.ack_wait / 2));
    const failed = async (e: unknown) => {
      // By code, not instanceof: a plugin may bundle its own copy of @pcapflow/core.
      const poison = (e as PcapflowError | undefined)?.code === 'PCAPFLOW_POISON';
      if (poison || msg.deliveryCount >= c.max_deliver) {
        await this.deadLetterMessage(msg, e);
        msg.term();
      } else {
        const delay = c.backoff[Math.min(msg.deliveryCount - 1, c.backoff.length - 1)] ?? 1000;
        this.o.log.warn({ err: errorMessage(e), subject: msg.subject, seq: msg.seq, delivery: msg.deliveryCount, retryInMs: delay }, 'handler failed; will redeliver');
        msg.nak(delay);
        if (++this.consecutiveFailures >= 3) this.restartActor(e);
      }
    };
    this.handling = true;
    this.plainEmits = 0;
    this.beginRun(decoded);
    try {
      await this.actor!.handle?.call(this.actor, { input: port, subject: msg.subject, records, seq: msg.seq, stream: msg.stream, deliveryCount: msg.deliveryCount });
      this.handling = false;
    } catch (e) {
      this.handlerFailed();
      try { await failed(e); } finally { clearInterval(keepAlive); }
      return;
    }
    await this.publishThenAck(this.flushFor(msg, decoded), () => {
      clearInterval(keepAlive);
      msg.ack();
      this.handledOk(1, records.length);
    }, async (e) => {
      // a record forwarded changed (--check-records), or its outputs could not be published
      this.counter('failed').inc();
      try { await failed(e); } finally { clearInterval(keepAlive); }
    });
  }

  /** After inputs were handled, their outputs published and the inputs acked. */
  private handledOk(messages: number, records: number): void {
    this.counter('handled').inc(messages);
    this.counter('records_in').inc(records);
    this.consecutiveFailures = 0;
    this.restartStreak = 0;
    this.lastDoneAt = Date.now();
  }

  /** A handler threw: drop what it emitted (nothing of a failed attempt is published). */
  private handlerFailed(): void {
    this.handling = false;
    this.clearPending();
    this.counter('failed').inc();
  }

  /** Supervisor: repeated failures rebuild the actor (fresh state from its stores) after a backoff. */
  private restartActor(cause: unknown): void {
    if (this.restartPending) return;
    this.counter('restarts').inc();
    // Backoff grows while restarts follow each other without a success in between.
    const delay = Math.min(250 * 2 ** Math.min(this.restartStreak++, 7), 30_000);
    this.o.log.error({ err: errorMessage(cause), delayMs: delay }, 'actor keeps failing; restarting it');
    this.restartPending = (async () => {
      try { await this.actor?.stop?.call(this.actor); } catch { /* a failing actor may fail to stop too */ }
      await sleep(delay, this.abort.signal);
      try { await this.createActor(); await this.actor!.start?.call(this.actor); } catch (e) { this.o.log.error({ err: errorMessage(e) }, 'actor restart failed'); }
      this.consecutiveFailures = 0;
      this.restartPending = undefined;
    })();
  }

  private async deadLetterMessage(msg: TransportMessage, error: unknown): Promise<void> {
    this.counter('dead_lettered').inc();
    this.o.log.error({ err: errorMessage(error), subject: msg.subject, seq: msg.seq, deliveries: msg.deliveryCount, deadLetter: this.o.deadLetterSubject }, 'message dead-lettered');
    await this.publishWithRetry(this.o.deadLetterSubject, msg.data, `dlq.${this.o.instance}.${msg.stream}.${msg.seq}`, dlqHeaders(this.o.instance, error, msg));
  }

  private async deadLetterRecords(records: readonly Record<string, unknown>[], error: unknown, at: { msg?: TransportMessage }): Promise<void> {
    if (!records.length) return;
    this.counter('dead_lettered_records').inc(records.length);
    this.o.log.warn({ err: errorMessage(error), records: records.length, deadLetter: this.o.deadLetterSubject }, 'records dead-lettered');
    const id = at.msg ? `dlqr.${this.o.instance}.${at.msg.stream}.${at.msg.seq}.${++this.publishCounter}` : `dlqr.${this.o.instance}.${this.runId}.${++this.publishCounter}`;
    await this.publishWithRetry(this.o.deadLetterSubject, encodeBatch(records), id, dlqHeaders(this.o.instance, error, at.msg));
  }

  /** Stop fetching, let in-flight work finish and ack, then stop the actor. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await Promise.all(this.subs.map((s) => s.stop()));
    // handled inputs still publishing their outputs: ack them (or hand them back) before going
    while (this.outputsInFlight.size) await Promise.race(this.outputsInFlight);
    if (this.sourceTask) await this.sourceTask;
    try { await this.flush(); } catch (e) { this.o.log.error({ err: errorMessage(e) }, 'could not publish buffered records on stop'); }
    for (const s of this.services) s.stop();
    try { await this.actor?.stop?.call(this.actor); } catch (e) { this.o.log.error({ err: errorMessage(e) }, 'actor stop failed'); }
  }
}

/** The same record objects in the same order. */
function sameRecords(a: readonly object[], b: readonly object[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function dlqHeaders(instance: string, error: unknown, msg?: TransportMessage): Record<string, string> {
  const h: Record<string, string> = {
    'Pcapflow-Error': errorMessage(error).slice(0, 1000).replace(/[\r\n]+/g, ' '),
    'Pcapflow-Instance': instance,
  };
  const code = (error as PcapflowError | undefined)?.code;
  if (typeof code === 'string') h['Pcapflow-Error-Code'] = code;
  if (msg) {
    h['Pcapflow-Original-Subject'] = msg.subject;
    h['Pcapflow-Original-Stream'] = msg.stream;
    h['Pcapflow-Original-Seq'] = String(msg.seq);
    h['Pcapflow-Deliveries'] = String(msg.deliveryCount);
  }
  return h;
}

export function durableName(instance: string, port: string, suffix: string): string {
  return [instance, port, suffix].filter(Boolean).join('_').replace(/[^A-Za-z0-9_-]/g, '_');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

export { compileSubjectTemplate };
