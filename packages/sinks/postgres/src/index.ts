/**
 * @pcapflow/sink-postgres — the PostgreSQL sink plugin (default export) and the writer library it
 * wraps (PostgresWriter: batched idempotent upserts/inserts on a server or embedded PGlite).
 */
import { plugin } from './plugin';

export default plugin;
export { plugin, configSchema } from './plugin';
export type { PostgresSinkConfig } from './plugin';
export * from './writer';
