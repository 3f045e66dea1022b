/**
 * Every failure pcapflow reports is a PcapflowError: a stable `code` (listed in the README's
 * error table), the underlying `cause`, and a `hint` that tells the user what to do.
 */
export type ErrorCode =
  | 'PCAPFLOW_TOPOLOGY_INVALID'
  | 'PCAPFLOW_TOPOLOGY_ENV'
  | 'PCAPFLOW_TOPOLOGY_READ'
  | 'PCAPFLOW_PLUGIN_NOT_FOUND'
  | 'PCAPFLOW_PLUGIN_INVALID'
  | 'PCAPFLOW_PLUGIN_VERSION_MISMATCH'
  | 'PCAPFLOW_PLUGIN_RUNTIME_MISMATCH'
  | 'PCAPFLOW_CONFIG_INVALID'
  | 'PCAPFLOW_TRANSPORT'
  | 'PCAPFLOW_RECORD_INVALID'
  | 'PCAPFLOW_RETRYABLE'
  | 'PCAPFLOW_POISON'
  | 'PCAPFLOW_CAPTURE'
  | 'PCAPFLOW_DEPENDENCY_MISSING'
  | 'PCAPFLOW_QUERY'
  | 'PCAPFLOW_SINK';

export interface PcapflowErrorOptions {
  cause?: unknown;
  /** What the user should do about it. */
  hint?: string;
  /** Structured details (file, line, path, expected, actual ...). */
  details?: Record<string, unknown>;
}

export class PcapflowError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;
  /** Whether retrying the same work later may succeed. */
  readonly retryable: boolean = false;

  constructor(code: ErrorCode, message: string, options: PcapflowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PcapflowError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  /** Message plus hint, as the CLI prints it. */
  describe(): string {
    return this.hint ? `${this.message}\n  hint: ${this.hint}` : this.message;
  }
}

/** Throw from a handler when the same record may succeed later (server down, lock timeout). */
export class RetryableError extends PcapflowError {
  override readonly retryable = true;
  constructor(message: string, options: PcapflowErrorOptions = {}) {
    super('PCAPFLOW_RETRYABLE', message, options);
    this.name = 'RetryableError';
  }
}

/** Throw from a handler when a record can never be processed: it goes to the dead-letter subject at once. */
export class PoisonError extends PcapflowError {
  constructor(message: string, options: PcapflowErrorOptions = {}) {
    super('PCAPFLOW_POISON', message, options);
    this.name = 'PoisonError';
  }
}

export function isPcapflowError(e: unknown): e is PcapflowError {
  return e instanceof PcapflowError;
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
