/**
 * @pcapflow/core/testkit — run a topology snippet, feed records, read outputs; start a private
 * nats-server. Used by pcapflow's own plugins and published for third-party plugin authors.
 */
import { decodeBatch, encodeBatch } from '../codec';
import { Runtime, resolveTopology, type ResolvedTopology } from '../runtime/runtime';
import { subjectMatches } from '../subject';
import { EmbeddedTransport } from '../transport/embedded';
import { JetStreamTransport } from '../transport/jetstream';
import type { Transport } from '../transport/types';
import { createLogger, silentLogger } from '../runtime/logging';

export { startNatsServer, freePort, type NatsServerHandle } from './nats-server';
export { testActorContext, type TestActorContext } from './actor-context';

export interface TestPipeline {
  runtime: Runtime;
  transport: Transport;
  topology: ResolvedTopology;
  /** Publish records on a subject (one message per call). */
  feed(subject: string, records: Record<string, unknown>[], msgId?: string): Promise<void>;
  /** Collect records published on subjects matching `filter` (from now on). */
  collect(filter: string): Collected;
  /** Wait until sources are done and every consumer is drained. */
  drain(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface Collected {
  readonly records: Array<Record<string, unknown> & { $subject: string }>;
  /** Resolve when at least n records arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<Array<Record<string, unknown> & { $subject: string }>>;
  stop(): void;
}

export interface TestPipelineOptions {
  /** YAML text of the topology (transport is replaced by the test's). */
  yaml: string;
  /** Directory that local `use:` paths are relative to. */
  baseDir?: string;
  /** NATS URL to run on; embedded when absent. */
  natsUrl?: string;
  host?: string;
  checkRecords?: boolean;
  env?: NodeJS.ProcessEnv;
  logLevel?: 'silent' | 'info' | 'debug';
}

export async function startTestPipeline(o: TestPipelineOptions): Promise<TestPipeline> {
  const topology = resolveTopology({ text: o.yaml, file: 'test-topology.yaml', baseDir: o.baseDir ?? process.cwd() }, o.env ?? process.env);
  const transport: Transport = o.natsUrl ? await JetStreamTransport.connect({ servers: [o.natsUrl] }) : new EmbeddedTransport();
  const log = o.logLevel && o.logLevel !== 'silent' ? createLogger(o.logLevel) : silentLogger();
  const runtime = await Runtime.start(topology, { transport, host: o.host, checkRecords: o.checkRecords, log });
  const collectors: Collected[] = [];
  return {
    runtime, transport, topology,
    async feed(subject, records, msgId) { await transport.publish(subject, encodeBatch(records), { msgId }); },
    collect(filter) { const c = collect(transport, filter); collectors.push(c); return c; },
    drain: (timeoutMs = 30_000) => withTimeout(runtime.waitIdle(50), timeoutMs, 'pipeline did not drain'),
    async stop() { for (const c of collectors) c.stop(); await runtime.stop(); await transport.close(); },
  };
}

export function collect(transport: Transport, filter: string): Collected {
  const records: Array<Record<string, unknown> & { $subject: string }> = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const sub = transport.subscribe(filter, (subject, data) => {
    if (!subjectMatches(filter, subject)) return;
    try { for (const r of decodeBatch(data)) records.push({ ...r, $subject: subject }); } catch { return; }
    for (const w of [...waiters]) if (records.length >= w.n) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  });
  return {
    records,
    waitFor(n, timeoutMs = 30_000) {
      if (records.length >= n) return Promise.resolve(records);
      return withTimeout(new Promise<void>((resolve) => waiters.push({ n, resolve })), timeoutMs, `expected ${n} records on ${filter}, got ${records.length}`).then(() => records);
    },
    stop: () => sub.stop(),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => { t = setTimeout(() => reject(new Error(message)), ms); })]).finally(() => clearTimeout(t));
}
