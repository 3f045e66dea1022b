/**
 * The @pcapflow/aggregate engine: pure, synchronous, serialisable. No I/O: the plugin layer feeds
 * records, persists what `drainPersistRows()` hands out (written by `writeGroupState`, the bytes
 * encodeValue gives for `drainPersist()`'s snapshots) to KV and publishes `drainChanges()`/`closeUpTo()` rows.
 */
export { Aggregator, AggregationSpecError } from './table';
export type { AggregationSpec, AggregateColumn, AddResult, Change, GroupSnapshot, AggregatorSnapshot, AggregatorMetrics, EngineOptions, PersistRow } from './table';
export { MsgpackWriter, RecordShape } from './msgpack-writer';
export { AGGREGATES, aggregateFactory, CountDistinctAcc, DEFAULT_COLLECT_MAX, DEFAULT_EXACT_DISTINCT_LIMIT, DEFAULT_HISTOGRAM_MAX } from './aggregates';
export type { Accumulator, AggregateFactory, AggregateName, AggregateOptions } from './aggregates';
export { normalizeWindow, parseDuration, windowStarts, WindowSpecError } from './windows';
export type { WindowSpec, NormalizedWindow, Duration } from './windows';
export { HyperLogLog, HLL_PRECISION, HLL_REGISTERS, HLL_STANDARD_ERROR } from './hll';
export { hash64, hash32, hashLo, canonicalKey } from './hash';
export { encodeGroupKey, encodeKeyPart, decodeKey } from './keys';
export { compileRoutes, compileProjection, compileFilter, OpsSpecError } from './ops';
export type { RouteSpec, RouteOptions, ProjectionSpec } from './ops';
