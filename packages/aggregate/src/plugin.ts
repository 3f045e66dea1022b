// The @pcapflow/aggregate plugin declaration: split / filter / project / aggregate, one op per instance.
import { definePlugin, type Actor, type ActorContext } from '@pcapflow/core';
import { z } from 'zod';
import { compileExpression, compilePredicate, ExpressionError } from './expr';
import { parseDuration } from './engine';
import { AggregateSyntaxError, argOffset, DEFAULT_MAX_ROWS, parseAggregate, specIssues, type AggregateOpConfig } from './runtime/aggspec';
import { createSplitActor, createFilterActor, createProjectActor } from './runtime/stream-ops';
import { createAggregateActor } from './runtime/aggregate-actor';

const { version } = require('../package.json') as { version: string };

type Ctx = z.core.$RefinementCtx;

/** Compile an expression at config time; a syntax error becomes a zod issue on `path` naming the column in the expression. */
function checkExpr(ctx: Ctx, src: string | undefined, path: (string | number)[], predicate = false, offset = 0): void {
  if (src === undefined) return;
  try {
    if (predicate) compilePredicate(src);
    else compileExpression(src.replace(/\s+AS\s+(`(?:[^`]|``)+`|[A-Za-z_$][A-Za-z0-9_$]*)\s*$/i, ''));
  } catch (e) {
    if (e instanceof ExpressionError) {
      const column = e.position.column + (e.position.line === 1 ? offset : 0);
      const what = offset ? 'aggregate' : 'expression';
      ctx.addIssue({ code: 'custom', path, message: `${e.reason} at column ${column}${e.position.line > 1 ? ` of line ${e.position.line}` : ''} of the ${what}: ${e.source.split('\n')[e.position.line - 1]}` });
    } else ctx.addIssue({ code: 'custom', path, message: (e as Error).message });
  }
}

const duration = z.union([z.number().nonnegative(), z.string().min(1)])
  .superRefine((v, c) => { try { parseDuration(v); } catch (e) { c.addIssue({ code: 'custom', message: (e as Error).message }); } })
  .describe('a duration: milliseconds, or text like "500ms", "30s", "5m", "1h", "1d", "1h30m"');

const expr = z.string().min(1).describe('an expression (see EXPRESSIONS.md)');

const route = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/).describe('route name = the output port the matching records go to'),
  where: expr.optional().describe('predicate; omit for a catch-all route').meta({ examples: ['type_subtype == 4', "subtype_name = 'probe_req'"] }),
});

const splitOp = z.strictObject({
  op: z.literal('split'),
  routes: z.array(route).min(1).describe('routes in order; each names an output port'),
  mode: z.enum(['first', 'all']).default('first').describe('"first": a record goes to the first matching route; "all": to every matching route'),
  otherwise: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/).optional().describe('output port for records matching no route (default: dropped, counted)'),
}).superRefine((c, ctx) => {
  const seen = new Set<string>();
  c.routes.forEach((r, i) => {
    if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'name'], message: `duplicate route "${r.name}"` });
    seen.add(r.name);
    checkExpr(ctx, r.where, ['routes', i, 'where'], true);
  });
}).describe('split a stream into several by predicates (e.g. 802.11 subtypes)');

const filterOp = z.strictObject({
  op: z.literal('filter'),
  where: expr.describe('records for which this is true go to `out`'),
}).superRefine((c, ctx) => checkExpr(ctx, c.where, ['where'], true)).describe('keep the records matching a predicate');

const projectOp = z.strictObject({
  op: z.literal('project'),
  select: z.union([z.literal('*'), z.record(z.string(), expr)]).default('*')
    .describe("'*' keeps every field; a map output field → expression computes fields")
    .meta({ examples: ['*', { device: "coalesce(device_name, sa_resolved, sa)", day: "TIMESTAMPTOSTRING(ts, 'yyyy-MM-dd')" }] }),
  compute: z.record(z.string(), expr).optional().describe("extra computed fields added to the selected ones (handy with select: '*')"),
  rename: z.record(z.string(), z.string()).optional().describe('old field name → new name (after select/compute)'),
  drop: z.array(z.string()).optional().describe('fields removed at the end'),
  where: expr.optional().describe('only records matching this are projected and emitted'),
}).superRefine((c, ctx) => {
  if (c.select !== '*') for (const [k, v] of Object.entries(c.select)) checkExpr(ctx, v, ['select', k]);
  for (const [k, v] of Object.entries(c.compute ?? {})) checkExpr(ctx, v, ['compute', k]);
  checkExpr(ctx, c.where, ['where'], true);
}).describe('project, rename, compute and drop fields');

const aggregateColumn = z.union([
  z.string().min(1).meta({ examples: ['COUNT(*)', 'MIN(signal_dbm)', 'COLLECT_SET(ssid, max=100)', 'COUNT_DISTINCT(da)', 'EARLIEST(ts)', 'WINDOWSTART'] }),
  z.strictObject({
    fn: z.string().min(1).describe('COUNT, SUM, MIN, MAX, AVG, COLLECT_SET, COLLECT_LIST, COUNT_DISTINCT, HISTOGRAM, EARLIEST, LATEST, EARLIEST_BY_OFFSET, LATEST_BY_OFFSET, WINDOWSTART, WINDOWEND'),
    arg: z.string().optional().describe('argument expression'),
    options: z.strictObject({
      max: z.number().int().positive().optional(),
      exactLimit: z.number().int().positive().optional(),
      ignoreNulls: z.boolean().optional(),
    }).optional(),
  }),
]).describe('"FN(arg[, option=value…])" or {fn, arg, options}');

const windowSchema = z.strictObject({
  type: z.enum(['none', 'tumbling', 'hopping', 'session']).default('none').describe('none = running totals; tumbling/hopping (size, advance) or session (gap)'),
  size: duration.optional().describe('tumbling/hopping window length'),
  advance: duration.optional().describe('hopping: distance between window starts'),
  gap: duration.optional().describe('session: inactivity gap that ends a session'),
  grace: duration.optional().describe('how long after a window end late records are still accepted (default 0)'),
  retention: duration.optional().describe('how long closed windows stay in the table (and queryable) after closing (default 0)'),
  ttl: duration.optional().describe('window none: evict a key not updated for this long (event time)'),
  idle_close: duration.optional().describe('advance stream time with the wall clock after this much input idleness, so final results do not wait for the next record'),
  time: z.enum(['event', 'ingest']).optional().describe('event time (the `timestamp` expression) or ingest (arrival) time'),
  timestamp: expr.optional().describe('event time expression (epoch ms, ISO text or Date)').meta({ examples: ['ts', 'frame_time'] }),
});

const aggregateOp = z.strictObject({
  op: z.literal('aggregate'),
  table: z.string().regex(/^[A-Za-z0-9_-]+$/, 'table names use letters, digits, _ and -').describe('materialized table name (KV bucket pcapflow_table_<table>, query subject pcapflow.query.<table>)'),
  group_by: z.union([expr, z.array(expr)]).default([]).transform((v) => (Array.isArray(v) ? v : [v]))
    .describe('group key expressions; "expr AS name" names the column').meta({ examples: [['subtype_name', "TIMESTAMPTOSTRING(ts, 'yyyy-MM-dd') AS day"]] }),
  window: windowSchema.optional(),
  time: z.enum(['event', 'ingest']).optional().describe('event (default when timestamp is given) or ingest time'),
  timestamp: expr.optional().describe('event time expression (same as window.timestamp)'),
  aggregates: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), aggregateColumn).describe('output column → aggregate'),
  where: expr.optional().describe('only matching records are aggregated'),
  emit: z.enum(['changes', 'final']).default('changes').describe('"changes": every changed row; "final": one row per window when it closes'),
  debounce: duration.optional().describe('with emit changes: emit one key at most once per this wall-clock time'),
  late: z.enum(['dead_letter', 'drop', 'emit']).default('dead_letter').describe('records later than the grace period: dead-lettered, dropped (counted) or emitted on the `late` output'),
  ttl: duration.optional().describe('shorthand for window.ttl'),
  retention: duration.optional().describe('shorthand for window.retention'),
  state: z.strictObject({
    bucket: z.string().regex(/^[A-Za-z0-9_-]+$/).optional().describe('KV bucket (default pcapflow_table_<table>, plus _p<i> per partition when partitioned)'),
    dedupe_window: duration.default('10m').describe('how long (in run time) applied input sequences are remembered to recognise redeliveries; must exceed ack_wait × retries'),
    dedupe_max: z.number().int().positive().default(200_000).describe('most remembered applied-sequence ranges per stream (consecutive sequences share one range; only gaps add ranges)'),
    replay_epochs: z.number().int().nonnegative().default(1024).describe('on start, re-emit rows committed in the last N epochs, about the last N commits (their changes may not have been published before a crash); each start skips 16 epochs (fences)'),
    persist: z.boolean().default(true).describe('false = in-memory only (state is lost on restart)'),
    max_rows: z.number().int().positive().optional().describe(`running totals (window none): most rows held in memory per partition (default ${DEFAULT_MAX_ROWS}); the least recently updated beyond it live in KV only and are read back when their key returns, so memory stays flat however many keys come`),
  }).prefault({}).describe('state persistence and exactly-once settings'),
  http: z.strictObject({
    port: z.number().int().min(0).max(65535).describe('port of the pull-query HTTP endpoint (0 = any free port)'),
    host: z.string().default('127.0.0.1').describe('interface to bind'),
  }).optional().describe('serve GET /tables/<table>?key=&prefix=&from=&to= from this process'),
  query: z.boolean().default(true).describe('serve pull queries on NATS subject pcapflow.query.<table>.<partition>'),
}).superRefine((c, ctx) => {
  // Every expression on its own first, so that all syntax errors are reported with their columns.
  let bad = 0;
  const check = (src: string | undefined, path: (string | number)[], predicate = false, offset = 0): void => {
    if (src === undefined) return;
    const issues: string[] = [];
    checkExpr({ addIssue: (i: { message?: string }) => issues.push(i.message ?? '') } as unknown as Ctx, src, path, predicate, offset);
    for (const message of issues) ctx.addIssue({ code: 'custom', path, message });
    bad += issues.length;
  };
  c.group_by.forEach((g, i) => check(g, ['group_by', i]));
  check(c.where, ['where'], true);
  check(c.timestamp, ['timestamp']);
  check(c.window?.timestamp, ['window', 'timestamp']);
  for (const [name, v] of Object.entries(c.aggregates)) {
    let col;
    try {
      col = parseAggregate(name, v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['aggregates', name], message: e instanceof AggregateSyntaxError ? `${e.message} (at column ${e.column} of the aggregate)` : (e as Error).message });
      bad++;
      continue;
    }
    if (col.arg !== undefined) check(col.arg, ['aggregates', name], false, typeof v === 'string' ? argOffset(v) : 0);
  }
  if (c.state.max_rows !== undefined && (c.window?.type ?? 'none') !== 'none') {
    ctx.addIssue({ code: 'custom', path: ['state', 'max_rows'], message: 'max_rows bounds running totals (window: none); a windowed table is bounded by its retention instead' });
  }
  if (c.state.max_rows !== undefined && !c.state.persist) {
    ctx.addIssue({ code: 'custom', path: ['state', 'max_rows'], message: 'max_rows keeps the rows beyond it in KV: it needs persist: true' });
  }
  if (bad) return;
  for (const i of specIssues(c as unknown as AggregateOpConfig)) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
}).describe('windowed GROUP BY aggregation into a materialized, queryable table with a changelog');

export const configSchema = z.discriminatedUnion('op', [splitOp, filterOp, projectOp, aggregateOp])
  .describe('op: split | filter | project | aggregate');

export type AggregatePluginConfig = z.output<typeof configSchema>;
export type SplitConfig = z.output<typeof splitOp>;
export type FilterConfig = z.output<typeof filterOp>;
export type ProjectConfig = z.output<typeof projectOp>;
export type AggregateConfig = z.output<typeof aggregateOp>;

export const plugin = definePlugin({
  name: '@pcapflow/aggregate',
  version,
  summary: 'Stream ops: split, filter, project, and windowed aggregation into queryable KV tables',
  description: [
    'One op per instance (`config.op`):',
    '- **split**: routes records to outputs named by `routes[].name` (and `otherwise`).',
    '- **filter**: `where` → `out`. **project**: select/compute/rename/drop → `out`.',
    '- **aggregate**: GROUP BY + window + aggregates into table `table` (JetStream KV, exactly-once across restarts);',
    '  every changed row goes to `changes`; late records to `late` or the dead-letter subject.',
    'Pull queries: NATS `pcapflow.query.<table>.<partition>`, `pcapflow query`, optional HTTP. Push: `pcapflow tail`.',
  ].join('\n'),
  config: configSchema,
  inputs: [{ name: 'in', description: 'records to process' }],
  outputs: [
    { name: 'out', description: 'filter/project: the resulting records' },
    { name: 'changes', description: 'aggregate: changelog, one record per changed row (group columns, window_start/window_end, aggregates, _key, _final, _deleted)' },
    { name: 'late', description: 'aggregate with late: emit: records later than the grace period' },
  ],
  dynamicOutputs: (c) => (c.op === 'split' ? [...c.routes.map((r) => r.name), ...(c.otherwise ? [c.otherwise] : [])] : []),
  create(ctx: ActorContext, config): Actor | Promise<Actor> {
    switch (config.op) {
      case 'split': return createSplitActor(ctx, config);
      case 'filter': return createFilterActor(ctx, config);
      case 'project': return createProjectActor(ctx, config);
      case 'aggregate': return createAggregateActor(ctx, config);
    }
  },
});
