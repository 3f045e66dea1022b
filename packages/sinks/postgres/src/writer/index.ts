/**
 * The PostgreSQL writer library the sink plugin wraps: batched idempotent upserts/inserts into
 * one table, on a PostgreSQL server (node-postgres) or embedded PGlite.
 */
export { PostgresWriter } from './writer';
export type { DeleteResult, PostgresWriterOptions, RejectedRow, TableSpec, WriteOptions, WriteResult } from './writer';
export type { SslMode, SslOptions } from './backend';
export { classifyError, type ErrorClass } from './errors';
export { quoteIdent, inferType } from './sql';
