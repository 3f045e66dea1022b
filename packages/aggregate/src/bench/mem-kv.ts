import type { KvStore } from '@pcapflow/core';

/**
 * An in-memory KvStore (as the embedded transport's, which a plugin may not import): the table
 * state's own work without a server, for engine-bench and the checkpoint-format tests.
 */
export class MemKv implements KvStore {
  readonly data = new Map<string, Uint8Array>();
  constructor(readonly bucket = 'mem') {}
  async get(key: string) { const v = this.data.get(key); return v ? { value: v, revision: 1 } : undefined; }
  async put(key: string, value: Uint8Array) { this.data.set(key, value); return 1; }
  async delete(key: string) { this.data.delete(key); }
  async *keys() { for (const k of [...this.data.keys()]) yield k; }
  async *watch(): AsyncIterable<{ key: string; revision: number; op: 'put' | 'del' }> { return; }
}
