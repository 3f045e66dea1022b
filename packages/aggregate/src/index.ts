/**
 * @pcapflow/aggregate — the stream-ops plugin (default export) and the engine behind it.
 *
 *   plugin            split / filter / project / aggregate, configured in YAML (see README.md)
 *   engine            Aggregator, windows, aggregates, routes and projections (pure, no I/O)
 *   expressions       compileExpression / compilePredicate (EXPRESSIONS.md)
 *   queries           the pull-query protocol and client (also used by `pcapflow query`)
 */
import { plugin } from './plugin';

export default plugin;
export { plugin, configSchema } from './plugin';
export type { AggregatePluginConfig, AggregateConfig, SplitConfig, FilterConfig, ProjectConfig } from './plugin';

// Engine
export {
  Aggregator, AggregationSpecError, AGGREGATES, aggregateFactory, CountDistinctAcc, DEFAULT_COLLECT_MAX, DEFAULT_EXACT_DISTINCT_LIMIT,
  DEFAULT_HISTOGRAM_MAX, normalizeWindow, parseDuration, windowStarts, WindowSpecError, HyperLogLog, HLL_PRECISION, HLL_REGISTERS,
  HLL_STANDARD_ERROR, hash64, hash32, hashLo, canonicalKey, encodeGroupKey, encodeKeyPart, decodeKey, compileRoutes, compileProjection,
  compileFilter, OpsSpecError,
} from './engine';
export type {
  AggregationSpec, AggregateColumn, AddResult, Change, GroupSnapshot, AggregatorSnapshot, AggregatorMetrics, EngineOptions, Accumulator,
  AggregateFactory, AggregateName, AggregateOptions, WindowSpec, NormalizedWindow, Duration, RouteSpec, RouteOptions, ProjectionSpec,
} from './engine';

// Expressions
export { compileExpression, compilePredicate, ExpressionError, formatTimestamp, truncateTimestamp, toMillis } from './expr';
export type { CompiledExpr, CompiledPredicate, Rec, SourcePosition } from './expr';

// Config helpers, state, queries
export { parseAggregate, toAggregationSpec, specIssues } from './runtime/aggspec';
export type { AggregateOpConfig, AggregateConfigValue } from './runtime/aggspec';
export { AggregateActor, stateBucket } from './runtime/aggregate-actor';
export { TableStore, AppliedSeqs } from './runtime/state';
export {
  runQuery, changeRecord, querySubject, parseTimeBound, compareRows, DEFAULT_QUERY_LIMIT,
} from './query/query';
export type { TableQuery, QueryRequest, QueryReply } from './query/query';
export { queryTable, queryHttp, formatRows, type Requester, type TableQueryResult } from './query/client';
export { serveHttp, queryLocal } from './query/http';
