import type { ActorContext, Counter } from '../plugin';
import { silentLogger } from '../runtime/logging';

/** What a plugin's actor did through a context made by `testActorContext`. */
export interface TestActorContext {
  ctx: ActorContext;
  /** A counter's value (0 when the actor never made it). */
  count(name: string): number;
  /** Records given to `emit` (and `forward`), in order. */
  emitted: Array<{ output: string; record: Record<string, unknown> }>;
  /** Records given to `deadLetter` (copied), with the error's message. */
  deadLetters: Array<{ records: Record<string, unknown>[]; error: string }>;
  /** Aborts `ctx.signal`. */
  abort: AbortController;
}

/**
 * An ActorContext for driving an actor directly through `start`, `handle` and `handleMany`, as the
 * runtime calls them, without a transport: a test then decides exactly which messages (with which
 * sequences and delivery counts) arrive in which groups. Counters, emitted records and dead letters
 * are kept for the test to read; `flush` and `ready` resolve at once; `kv` (unless given), `publishRaw`
 * and `serve` do nothing useful unless replaced through `overrides` (e.g. by a function that throws,
 * to check the actor never calls them).
 */
export function testActorContext(o: {
  instance?: string;
  outputs?: string[];
  partition?: { index: number; count: number };
  overrides?: Partial<ActorContext>;
} = {}): TestActorContext {
  const counters = new Map<string, Counter>();
  const emitted: TestActorContext['emitted'] = [];
  const deadLetters: TestActorContext['deadLetters'] = [];
  const abort = new AbortController();
  const ctx: ActorContext = {
    instance: o.instance ?? 'actor',
    partition: o.partition ?? { index: 0, count: 1 },
    log: silentLogger(),
    signal: abort.signal,
    outputs: o.outputs ?? [],
    emit: (output, record) => { emitted.push({ output, record }); },
    forward: (output, record) => { emitted.push({ output, record: record as Record<string, unknown> }); },
    ready: async () => undefined,
    flush: async () => undefined,
    kv: async (bucket) => { throw new Error(`testActorContext: no KV bucket ${bucket} (give overrides.kv)`); },
    counter(name) {
      let c = counters.get(name);
      if (!c) {
        const box = { value: 0, inc(k = 1) { box.value += k; } };
        counters.set(name, (c = box));
      }
      return c;
    },
    async deadLetter(records, error) {
      deadLetters.push({ records: records.map((r) => ({ ...r })), error: error instanceof Error ? error.message : String(error) });
    },
    publishRaw: async () => undefined,
    serve: () => undefined,
    ...o.overrides,
  };
  return { ctx, count: (name) => counters.get(name)?.value ?? 0, emitted, deadLetters, abort };
}
