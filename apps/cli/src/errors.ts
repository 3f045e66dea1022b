import { isPcapflowError } from '@pcapflow/core';
import { EXIT } from './exit-codes';

const INVALID_CODES = new Set([
  'PCAPFLOW_TOPOLOGY_INVALID', 'PCAPFLOW_TOPOLOGY_ENV', 'PCAPFLOW_TOPOLOGY_READ', 'PCAPFLOW_PLUGIN_NOT_FOUND',
  'PCAPFLOW_PLUGIN_INVALID', 'PCAPFLOW_PLUGIN_VERSION_MISMATCH', 'PCAPFLOW_PLUGIN_RUNTIME_MISMATCH',
  'PCAPFLOW_CONFIG_INVALID', 'PCAPFLOW_CAPTURE', 'PCAPFLOW_QUERY',
]);

/** Print an error for a person (code, message, hint) and choose the exit code. */
export function reportError(e: unknown): number {
  if (isPcapflowError(e)) {
    process.stderr.write(`pcapflow: ${e.code}: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
    return INVALID_CODES.has(e.code) ? EXIT.INVALID : EXIT.RUNTIME;
  }
  process.stderr.write(`pcapflow: ${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT.RUNTIME;
}
