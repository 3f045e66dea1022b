// `pcapflow query` and `pcapflow tail`, contributed to the CLI (apps/cli wires registerAggregateCommands).
// The CLI side may use the runtime to read the topology and connect with its transport:
// eslint-disable-next-line no-restricted-imports -- CLI commands (not plugin code) need the topology loader and transports
import { createTransport, decodeBatch, resolveTopology, type ResolvedInstance, type ResolvedTopology, type Transport } from '@pcapflow/core/runtime';
import { isPcapflowError } from '@pcapflow/core';
import { formatRows, queryHttp, queryTable, type TableQueryResult } from './query/client';
import { tableColumns } from './query/columns';
import { checkQuery, type TableQuery } from './query/query';
import type { AggregateOpConfig } from './runtime/aggspec';

/** The part of commander's Command these commands use (no dependency on commander itself). */
export interface CommandLike {
  command(name: string): CommandLike;
  description(d: string): CommandLike;
  argument(name: string, d?: string): CommandLike;
  option(flags: string, d?: string, def?: string): CommandLike;
  action(fn: (...args: never[]) => unknown): CommandLike;
}
type Wrap = <A extends unknown[]>(fn: (...a: A) => number | Promise<number>) => (...a: A) => Promise<void>;

export interface Io { out: NodeJS.WritableStream; err: NodeJS.WritableStream }
const EXIT_OK = 0, EXIT_INVALID = 1, EXIT_RUNTIME = 3;

interface TableInstance { instance: ResolvedInstance; table: string; http?: { host: string; port: number } }

function aggregateTables(t: ResolvedTopology): TableInstance[] {
  const out: TableInstance[] = [];
  for (const i of t.instances) {
    const c = i.config as { op?: string; table?: string; http?: { host: string; port: number } };
    if (c && c.op === 'aggregate' && typeof c.table === 'string') out.push({ instance: i, table: c.table, http: c.http });
  }
  return out;
}

function subjectFilter(template: string): string {
  return template.split('.').map((t) => (t.includes('{') ? '*' : t)).join('.');
}

/** A typed error as the CLI prints it (code, message, hint); the exit code: 1 for a query to fix, 3 otherwise. */
function reportError(e: unknown, io: Io): number {
  if (isPcapflowError(e)) {
    io.err.write(`pcapflow: ${e.code}: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
    return e.code === 'PCAPFLOW_QUERY' ? EXIT_INVALID : EXIT_RUNTIME;
  }
  io.err.write(`query failed: ${(e as Error).message}\n`);
  return EXIT_RUNTIME;
}

export interface QueryCommandOptions extends TableQuery { format?: 'table' | 'json'; http?: string; timeoutMs?: number }

export async function queryCommand(file: string, table: string, key: string | undefined, o: QueryCommandOptions, io: Io = { out: process.stdout, err: process.stderr }): Promise<number> {
  const format = o.format ?? 'table';
  if (format !== 'table' && format !== 'json') { io.err.write(`--format must be table or json\n`); return EXIT_INVALID; }
  const topo = resolveTopology({ file });
  const tables = aggregateTables(topo);
  const t = tables.find((x) => x.table === table);
  if (!t) {
    io.err.write(`no aggregate instance in ${file} has table "${table}" (tables: ${tables.map((x) => x.table).join(', ') || 'none'})\n`);
    return EXIT_INVALID;
  }
  const q: TableQuery = { ...(key !== undefined ? { key } : {}), ...(o.prefix !== undefined ? { prefix: o.prefix } : {}), ...(o.from !== undefined ? { from: o.from } : {}), ...(o.to !== undefined ? { to: o.to } : {}), ...(o.limit !== undefined ? { limit: Number(o.limit) } : {}) };
  // The config says what the table is: check the query here (the server checks it too) and learn its time columns.
  const columns = tableColumns(t.instance.config as AggregateOpConfig);
  let result: TableQueryResult;
  try {
    checkQuery(q, columns);
    const httpUrl = o.http ?? (topo.topology.transport === 'embedded' || !('nats' in (topo.topology.transport as object)) ? (t.http ? `http://${t.http.host === '0.0.0.0' ? '127.0.0.1' : t.http.host}:${t.http.port}` : undefined) : undefined);
    if (httpUrl) result = await queryHttp(httpUrl, table, q);
    else if (topo.topology.transport === 'embedded' || !('nats' in (topo.topology.transport as object))) {
      io.err.write(`table "${table}" lives inside the process running ${file} (embedded transport): a separate \`pcapflow query\` cannot reach it.\n` +
        `Use a NATS transport (transport: { nats: { servers: [...] } }) so queries go over request/reply, or add \`http: { port: 8089 }\` to the config of instance "${t.instance.name}" and run \`pcapflow query ${file} ${table}\` (or GET http://127.0.0.1:8089/tables/${table}).\n`);
      return EXIT_INVALID;
    } else {
      const transport = await createTransport(topo.topology);
      try {
        result = await queryTable(transport, table, q, { partitions: t.instance.spec.instances, timeoutMs: o.timeoutMs });
      } finally {
        await transport.close();
      }
    }
  } catch (e) {
    return reportError(e, io);
  }
  io.out.write(formatRows(result.rows, format, { timeColumns: columns.timeColumns }));
  if (format === 'table' && result.total > result.rows.length) io.err.write(`(${result.rows.length} of ${result.total} rows; use --limit)\n`);
  return EXIT_OK;
}

export interface TailCommandOptions { format?: 'table' | 'json'; count?: number; signal?: AbortSignal; transport?: Transport }

/** Print records on a table's changelog subject, a stream's subjects, or a subject, as they arrive. */
export async function tailCommand(file: string, target: string, o: TailCommandOptions, io: Io = { out: process.stdout, err: process.stderr }): Promise<number> {
  const topo = resolveTopology({ file });
  let filters: string[];
  const t = aggregateTables(topo).find((x) => x.table === target || x.instance.name === target);
  if (t) {
    const changes = t.instance.outputs.find((b) => b.port === 'changes');
    if (!changes) { io.err.write(`instance "${t.instance.name}" (table ${t.table}) has no \`changes\` output bound to a subject; bind one to tail it\n`); return EXIT_INVALID; }
    filters = [subjectFilter(changes.template.source)];
  } else {
    const stream = topo.streams.find((s) => s.name === target);
    if (stream) filters = stream.subjects;
    else if (/^[\w.*>-]+$/.test(target) && target.includes('.')) filters = [target];
    else {
      io.err.write(`"${target}" is neither a table, an instance, a stream nor a subject of ${file}\n`);
      return EXIT_INVALID;
    }
  }
  const embedded = topo.topology.transport === 'embedded' || !('nats' in (topo.topology.transport as object));
  if (embedded && !o.transport) {
    io.err.write(`${file} uses the embedded transport: its records never leave the running process. Use a NATS transport to tail ${target}.\n`);
    return EXIT_INVALID;
  }
  const transport = o.transport ?? (await createTransport(topo.topology));
  let n = 0;
  const done = new Promise<void>((resolve) => {
    const subs = filters.map((f) => transport.subscribe(f, (subject, data) => {
      let records: Record<string, unknown>[];
      try { records = decodeBatch(data); } catch { return; }
      for (const r of records) {
        if (o.count !== undefined && n >= o.count) break;
        n++;
        if ((o.format ?? 'json') === 'json') io.out.write(JSON.stringify({ $subject: subject, ...r }) + '\n');
        else io.out.write(`${subject}  ${Object.entries(r).filter(([k]) => k !== '_table').map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`).join(' ')}\n`);
      }
      if (o.count !== undefined && n >= o.count) finish();
    }));
    const finish = () => { for (const s of subs) s.stop(); resolve(); };
    o.signal?.addEventListener('abort', finish, { once: true });
    if (!o.signal) process.once('SIGINT', finish);
  });
  await done;
  if (!o.transport) await transport.close();
  return EXIT_OK;
}

/** Add `pcapflow query` and `pcapflow tail` to the CLI program (io: where they print; stdout/stderr by default). */
export function registerAggregateCommands(program: CommandLike, wrap: Wrap, io?: Io): void {
  program.command('query')
    .description('pull query a materialized table: by key, key prefix and window range (NATS request/reply, or the HTTP endpoint)')
    .argument('<topology>', 'topology YAML file')
    .argument('<table>', 'table name (config.table of an aggregate instance)')
    .argument('[key]', 'group values in group_by order separated by "," (\\, for a comma in a value; one group column: the whole text, e.g. a MAC), or a row\'s _key (see --format json)')
    .option('--prefix <prefix>', 'keys (or first group column values) starting with this')
    .option('--from <time>', 'windowed tables: windows ending after this time (epoch ms, or ISO 8601: UTC unless an offset is given)')
    .option('--to <time>', 'windowed tables: windows starting before this time (exclusive: the range is [from, to))')
    .option('--limit <n>', 'most rows (default 10000)')
    .option('--format <format>', 'table (times in ISO 8601 UTC) | json (JSON lines, times in epoch ms)', 'table')
    .option('--http <url>', 'ask this HTTP endpoint (http://host:port) instead of NATS')
    .action(wrap((file: string, table: string, key: string | undefined, o: { prefix?: string; from?: string; to?: string; limit?: string; format: 'table' | 'json'; http?: string }) =>
      queryCommand(file, table, key, { prefix: o.prefix, from: o.from, to: o.to, limit: o.limit !== undefined ? Number(o.limit) : undefined, format: o.format, http: o.http }, io)) as never);
  program.command('tail')
    .description('print changes of a table (its changelog) or records of a stream as they happen (push query)')
    .argument('<topology>', 'topology YAML file')
    .argument('<target>', 'table name, stream name or subject')
    .option('--format <format>', 'json (JSON lines) | table (one line per record)', 'json')
    .option('--count <n>', 'exit after n records')
    .action(wrap((file: string, target: string, o: { format: 'table' | 'json'; count?: string }) =>
      tailCommand(file, target, { format: o.format, count: o.count !== undefined ? Number(o.count) : undefined }, io)) as never);
}
