/**
 * Classifying errors from node-postgres and PGlite. Both surface the server's SQLSTATE as `code`;
 * socket failures surface as Node errno codes (ECONNREFUSED ...) or bare messages from pg.
 *
 * - connection:  the same write may succeed later (server down, restarting, overloaded) → RetryableError
 * - data:        the row(s) are at fault (bad value, constraint) → bisect the batch, reject rows
 * - schema:      the table changed under us (dropped table/column) → re-read the table, retry once
 * - fatal:       anything else (auth, bad config, our bug) → PcapflowError, not retried
 */
export type ErrorClass = 'connection' | 'data' | 'schema' | 'fatal';

const RETRYABLE_ERRNO = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH',
  'ENETDOWN', 'EAI_AGAIN', 'ENOTFOUND', 'ENOENT' /* unix socket not there yet */,
]);

const RETRYABLE_SQLSTATE = new Set([
  '57P01', // admin_shutdown (server stopping)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up / recovery)
  '57014', // query_canceled (statement_timeout)
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '55006', // object_in_use
]);

/** 42xxx codes that mean "this value does not fit its column", i.e. a data problem. */
const DATA_42 = new Set(['42804' /* datatype_mismatch */, '42846' /* cannot_coerce */, '42P18' /* indeterminate_datatype */]);

/** 42xxx codes that mean the table is not what we cached. */
const SCHEMA_42 = new Set(['42P01' /* undefined_table */, '42703' /* undefined_column */, '42P10' /* no unique constraint for ON CONFLICT */]);

export function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function classifyError(e: unknown): ErrorClass {
  const code = sqlState(e);
  if (code) {
    if (RETRYABLE_ERRNO.has(code)) return 'connection';
    if (/^[0-9A-Z]{5}$/.test(code)) {
      const cls = code.slice(0, 2);
      if (cls === '08' || cls === '53' || cls === '58' || RETRYABLE_SQLSTATE.has(code)) return 'connection';
      if (cls === '22' || cls === '23' || cls === '21' || cls === '54' || DATA_42.has(code)) return 'data';
      if (SCHEMA_42.has(code)) return 'schema';
      return 'fatal';
    }
  }
  const msg = e instanceof Error ? e.message : String(e);
  // node-postgres reports a dropped socket without a code.
  if (/Connection terminated|not queryable|timeout exceeded when trying to connect|Connection ended|socket hang up|read ECONNRESET|connect ECONNREFUSED/i.test(msg)) {
    return 'connection';
  }
  return 'fatal';
}
