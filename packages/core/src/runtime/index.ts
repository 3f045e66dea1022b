/** Runtime internals for the CLI and tests. Plugins must not import this (lint enforces it). */
export { Runtime, resolveTopology, placedOn, createTransport, DLQ_PREFIX, DLQ_STREAM } from './runtime';
export type { ResolvedTopology, ResolvedInstance, RuntimeOptions } from './runtime';
export { loadPlugin, listInstalledPlugins } from './registry';
export type { LoadedPlugin, InstalledPlugin } from './registry';
export { RUNTIME_VERSION } from './version';
export { createLogger, silentLogger, type LogLevel } from './logging';
export { topologySchema } from '../topology/schema';
export type { Topology } from '../topology/schema';
export { parseTopology, loadTopologyFile, formatIssues, type TopologyIssue } from '../topology/load';
export { EmbeddedTransport } from '../transport/embedded';
export { JetStreamTransport } from '../transport/jetstream';
export type { Transport, TransportMessage, StreamSpec, ConsumerSpec } from '../transport/types';
export { encodeBatch, decodeBatch } from '../codec';
export { compileSubjectTemplate, subjectMatches, partitionFilters } from '../subject';
export { topologyJsonSchema, describePlugin } from './docs';
