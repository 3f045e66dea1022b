/**
 * @pcapflow/core — the plugin API. Plugins import from here (and from `@pcapflow/core/testkit`
 * in their tests) and nothing else; the runtime itself lives behind `@pcapflow/core/runtime`.
 */
export { definePlugin } from './plugin';
export type {
  Actor, ActorContext, Counter, HealthReport, InputBatch, KvStore, PluginDeclaration, PortSpec,
} from './plugin';
export type { Logger } from './logger';
export {
  PcapflowError, PoisonError, RetryableError, isPcapflowError, errorMessage,
  type ErrorCode, type PcapflowErrorOptions,
} from './errors';
export { encodeValue, decodeValue } from './codec';
export { hashKey, partitionOf, subjectToken } from './subject';
export { parseDuration } from './topology/duration';
