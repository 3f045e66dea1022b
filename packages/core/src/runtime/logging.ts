import pino from 'pino';
import type { Logger } from '../logger';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** Structured JSON logs on stderr, so stdout stays free for data (decode, query, tail). */
export function createLogger(level: LogLevel = 'info', bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { ...bindings } }, pino.destination({ fd: 2, sync: true })) as unknown as Logger;
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' }) as unknown as Logger;
}
