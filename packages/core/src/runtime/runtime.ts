import path from 'node:path';
import { PcapflowError, errorMessage } from '../errors';
import type { Logger } from '../logger';
import { compileSubjectTemplate, filterCovers, subjectMatches } from '../subject';
import { loadTopologyFile, parseTopology, topologyError, TopologySource, type TopologyIssue } from '../topology/load';
import { consumerSchema, type InstanceSpec, type Topology } from '../topology/schema';
import { EmbeddedTransport } from '../transport/embedded';
import { JetStreamTransport } from '../transport/jetstream';
import type { StreamSpec, Transport } from '../transport/types';
import { ActorHost, type InputBinding, type OutputBinding } from './actor-host';
import { silentLogger } from './logging';
import { loadPlugin, type LoadedPlugin } from './registry';

export const DLQ_STREAM = 'PCAPFLOW_DLQ';
export const DLQ_PREFIX = 'pcapflow.dlq';
const DEFAULT_BATCH = 500;

export interface ResolvedInstance {
  name: string;
  spec: InstanceSpec;
  plugin: LoadedPlugin;
  config: unknown;
  inputs: InputBinding[];
  outputs: OutputBinding[];
  deadLetter: string;
}

export interface ResolvedTopology {
  file: string;
  source: TopologySource;
  topology: Topology;
  instances: ResolvedInstance[];
  streams: StreamSpec[];
}

/**
 * Load a topology and everything it names: plugins (with version checks), their configs
 * (validated by each plugin's schema), subject bindings against streams. All problems are
 * collected and reported together with file:line:column.
 */
export function resolveTopology(fileOrText: { file: string } | { text: string; file?: string; baseDir?: string }, env: NodeJS.ProcessEnv = process.env): ResolvedTopology {
  const { source, topology } = 'text' in fileOrText
    ? parseTopology(fileOrText.text, fileOrText.file ?? '<topology>', env)
    : loadTopologyFile(fileOrText.file, env);
  const file = source.file;
  const baseDir = 'baseDir' in fileOrText && fileOrText.baseDir ? fileOrText.baseDir : path.dirname(path.resolve(file));
  const issues: TopologyIssue[] = [];

  const streams: StreamSpec[] = Object.entries(topology.streams).map(([name, s]) => ({
    name, subjects: s.subjects, retention: s.retention, storage: s.storage, maxAgeMs: s.max_age, maxBytes: s.max_bytes,
    maxMsgs: s.max_msgs, duplicateWindowMs: s.duplicate_window, replicas: s.replicas,
  }));
  if (!streams.some((s) => s.subjects.some((x) => filterCovers(x, `${DLQ_PREFIX}.>`)))) {
    streams.push({ name: DLQ_STREAM, subjects: [`${DLQ_PREFIX}.>`], retention: 'limits', storage: 'file', duplicateWindowMs: 120_000, replicas: 1, maxAgeMs: 30 * 86_400_000 });
  }
  const streamFor = (filter: string) => streams.find((s) => s.subjects.some((x) => filterCovers(x, filter)));

  const instances: ResolvedInstance[] = [];
  for (const [name, spec] of Object.entries(topology.instances)) {
    const at = ['instances', name];
    let plugin: LoadedPlugin;
    try {
      const pos = source.position([...at, spec.version ? 'version' : 'use']);
      plugin = loadPlugin(spec.use, baseDir, { range: spec.version, where: `${file}:${pos.line}` });
    } catch (e) {
      issues.push(source.issue([...at, spec.version && (e as PcapflowError).code === 'PCAPFLOW_PLUGIN_VERSION_MISMATCH' ? 'version' : 'use'], errorMessage(e) + ((e as PcapflowError).hint ? ` (hint: ${(e as PcapflowError).hint})` : '')));
      continue;
    }
    const parsed = plugin.declaration.config.safeParse(spec.config ?? {});
    if (!parsed.success) { issues.push(...source.zodIssues(parsed.error, [...at, 'config'])); continue; }
    const config = parsed.data;

    const declaredIn = new Set(plugin.declaration.inputs.map((p) => p.name));
    const declaredOut = new Set([...plugin.declaration.outputs.map((p) => p.name), ...(plugin.declaration.dynamicOutputs?.(config) ?? [])]);
    const inputs: InputBinding[] = [];
    for (const [port, v] of Object.entries(spec.inputs)) {
      if (!declaredIn.has(port)) { issues.push(source.issue([...at, 'inputs', port], `${plugin.packageName} has no input "${port}" (inputs: ${[...declaredIn].join(', ') || 'none'})`)); continue; }
      const filter = typeof v === 'string' ? v : v.subject;
      const partitions = typeof v === 'string' ? undefined : v.partitions;
      if (filter.includes('{partition}') && !partitions) { issues.push(source.issue([...at, 'inputs', port], 'a subject with {partition} needs `partitions: N`')); continue; }
      const probe = filter.replace('{partition}', '0');
      const stream = streamFor(probe);
      if (!stream) { issues.push(source.issue([...at, 'inputs', port], `no stream captures ${filter}; add one under streams:`)); continue; }
      inputs.push({ port, stream: stream.name, filter, partitions });
    }
    if (spec.instances > 1) {
      for (const input of inputs) {
        if (!input.filter.includes('{partition}')) {
          issues.push(source.issue([...at, 'inputs', input.port], `instances: ${spec.instances} needs a partitioned input, e.g. "wifi.frames.*.p{partition}" with partitions: 16, so no two instances own one key`));
        } else if ((input.partitions ?? 1) < spec.instances) {
          issues.push(source.issue([...at, 'inputs', input.port], `partitions (${input.partitions}) must be at least instances (${spec.instances})`));
        }
      }
    }
    const outputs: OutputBinding[] = [];
    for (const [port, v] of Object.entries(spec.outputs)) {
      if (!declaredOut.has(port)) { issues.push(source.issue([...at, 'outputs', port], `${plugin.packageName} has no output "${port}" (outputs: ${[...declaredOut].join(', ') || 'none'})`)); continue; }
      const subject = typeof v === 'string' ? v : v.subject;
      let template;
      try { template = compileSubjectTemplate(subject); } catch (e) { issues.push(source.issue([...at, 'outputs', port], errorMessage(e))); continue; }
      const missing = fieldsMissing(template.fields, plugin.declaration.outputFields?.(config, port), port);
      if (missing) { issues.push(source.issue([...at, 'outputs', port, ...(typeof v === 'string' ? [] : ['subject'])], missing)); continue; }
      const probe = subject.replace(/\{[^}]*\}/g, 'x');
      if (!streams.some((s) => s.subjects.some((x) => subjectMatches(x, probe)))) {
        issues.push(source.issue([...at, 'outputs', port], `no stream captures ${subject}; add one under streams:`));
        continue;
      }
      outputs.push({ port, template, batch: (typeof v === 'string' ? undefined : v.batch) ?? DEFAULT_BATCH });
    }
    for (const p of plugin.declaration.outputs) {
      if (spec.outputs[p.name] || !p.defaultSubject) continue;
      const template = compileSubjectTemplate(p.defaultSubject);
      const missing = fieldsMissing(template.fields, plugin.declaration.outputFields?.(config, p.name), p.name);
      if (missing) { issues.push(source.issue([...at, 'config'], `${missing} (the default subject of "${p.name}" is ${p.defaultSubject}; bind the output with its own subject under outputs:)`)); continue; }
      outputs.push({ port: p.name, template, batch: DEFAULT_BATCH });
    }
    instances.push({ name, spec, plugin, config, inputs, outputs, deadLetter: spec.dead_letter ?? `${DLQ_PREFIX}.${name}` });
  }
  if (issues.length) throw topologyError(issues);
  return { file, source, topology, instances, streams };
}

/** What is wrong when a subject names fields the output's records do not carry (undefined: nothing). */
function fieldsMissing(subjectFields: readonly string[], carried: readonly string[] | undefined, port: string): string | undefined {
  if (!carried) return undefined;
  const have = new Set(carried);
  const missing = [...new Set(subjectFields.map((f) => f.split('.')[0]!))].filter((f) => !have.has(f));
  if (!missing.length) return undefined;
  return `the subject names ${missing.map((f) => `{${f}}`).join(', ')}, but under this config the records of "${port}" carry only ${carried.join(', ')}; add ${missing.join(', ')} to the plugin's field selection or change the subject`;
}

export async function createTransport(topology: Topology, log?: Logger): Promise<Transport> {
  const t = topology.transport;
  if (t === 'embedded' || !('nats' in t)) return new EmbeddedTransport();
  const n = t.nats;
  return JetStreamTransport.connect({
    servers: n.servers, name: n.name, user: n.user, pass: n.pass, token: n.token, credentials: n.credentials,
    tls: n.tls ? { ca: n.tls.ca, cert: n.tls.cert, key: n.tls.key, handshakeFirst: n.tls.handshake_first } : undefined,
    log,
  });
}

/** Which instances run on a host: all without --host; with it, those naming the host, "*", or one of its labels. */
export function placedOn(t: ResolvedTopology, host?: string): ResolvedInstance[] {
  if (!host) return t.instances;
  const labels = new Set(t.topology.hosts[host]?.labels ?? []);
  return t.instances.filter((i) => i.spec.hosts?.includes(host) || i.spec.hosts?.includes('*') || i.spec.labels?.some((l) => labels.has(l)));
}

export interface RuntimeOptions {
  host?: string;
  log?: Logger;
  checkRecords?: boolean;
  /** Use this transport instead of the topology's (tests, embedded runs sharing one transport). */
  transport?: Transport;
}

export class Runtime {
  private constructor(
    readonly topology: ResolvedTopology,
    readonly transport: Transport,
    readonly actors: ActorHost[],
    private readonly log: Logger,
    private readonly ownsTransport: boolean,
  ) {}

  static async start(topology: ResolvedTopology, options: RuntimeOptions = {}): Promise<Runtime> {
    const log = options.log ?? silentLogger();
    const transport = options.transport ?? (await createTransport(topology.topology, log));
    for (const s of topology.streams) await transport.ensureStream(s);
    const placed = placedOn(topology, options.host);
    if (options.host && placed.length === 0) log.warn({ host: options.host }, 'no instance is placed on this host');
    const defaults = topology.topology.defaults?.consumer ?? {};
    const actors: ActorHost[] = [];
    for (const inst of placed) {
      const consumer = consumerSchema.parse({ ...defaults, ...(inst.spec.consumer ?? {}) });
      for (let index = 0; index < inst.spec.instances; index++) {
        actors.push(new ActorHost({
          instance: inst.name, partition: { index, count: inst.spec.instances }, plugin: inst.plugin.declaration, config: inst.config,
          inputs: inst.inputs, outputs: inst.outputs, consumer, deadLetterSubject: inst.deadLetter, transport,
          log: log.child({ instance: inst.name, ...(inst.spec.instances > 1 ? { partition: index } : {}) }),
          checkRecords: options.checkRecords ?? false,
        }));
      }
    }
    const runtime = new Runtime(topology, transport, actors, log, !options.transport);
    // Consumers first, so nothing a source emits waits for its reader to exist.
    for (const a of actors) if (!a.isSource) await a.start();
    for (const a of actors) if (a.isSource) a.startSource();
    log.info({ host: options.host, actors: actors.map((a) => a.name), transport: transport.kind }, 'runtime started');
    return runtime;
  }

  health() {
    const actors = this.actors.map((a) => a.health());
    return { ok: actors.every((a) => a.ok), actors };
  }

  /**
   * True when every source placed here has finished and every consumer placed here has nothing
   * pending and nothing unacked.
   */
  async idle(): Promise<boolean> {
    for (const a of this.actors) if (a.isSource && !a.finished) return false;
    for (const a of this.actors) {
      for (const c of a.consumers) {
        const st = await this.transport.consumerState(c.stream, c.durable);
        if (st && (st.pending > 0 || st.ackPending > 0)) return false;
      }
      if (a.busy) return false;
    }
    return true;
  }

  /** Resolve once the pipeline placed here is idle twice in a row (sources done, queues drained). */
  async waitIdle(pollMs = 100, signal?: AbortSignal): Promise<void> {
    let streak = 0;
    while (!signal?.aborted) {
      streak = (await this.idle()) ? streak + 1 : 0;
      if (streak >= 3) return;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  async stop(): Promise<void> {
    this.log.info('draining');
    // Sources first, so downstream actors can take what they flushed.
    await Promise.all(this.actors.filter((a) => a.isSource).map((a) => a.stop()));
    await Promise.all(this.actors.filter((a) => !a.isSource).map((a) => a.stop()));
    if (this.ownsTransport) await this.transport.close();
    this.log.info('stopped');
  }
}
