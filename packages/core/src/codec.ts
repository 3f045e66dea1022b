import { Packr, Unpackr } from 'msgpackr';

/**
 * Wire encoding: one message carries a batch of records packed with msgpackr records
 * (structures are embedded per message, so every message decodes on its own: no shared
 * structure registry to keep in sync between processes and hosts).
 */
const packr = new Packr({ useRecords: true });
const unpackr = new Unpackr({ useRecords: true });

export function encodeBatch(records: readonly object[]): Uint8Array {
  return packr.pack(records);
}

export function decodeBatch(data: Uint8Array): Record<string, unknown>[] {
  const value = unpackr.unpack(data);
  if (!Array.isArray(value)) throw new TypeError('message is not a pcapflow record batch (expected a msgpack array)');
  return value as Record<string, unknown>[];
}

/** Encode any value (KV state, replies). */
export function encodeValue(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function decodeValue<T = unknown>(data: Uint8Array): T {
  return unpackr.unpack(data) as T;
}
