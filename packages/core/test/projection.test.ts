import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { decodeBatch, encodeBatch, expandPacked, PACKED_KEYS, PACKED_VALUES } from '../src/codec';
import { ProjectedDecoder } from '../src/codec-projection';

// Projected decoding must give, for the fields asked for, exactly what msgpackr's full decode gives,
// and every projected record must still stand for its whole record when it is sent on.

// (names that need escaping or shadow Object.prototype: the projector writes field names into code)
const NAMES = ['a', 'b', 'sa', 'ts', 'ssid', 'type_subtype', 'signal_dbm', 'x_1', 'toString', 'nested', 'isPrototypeOf', 'q"u\'o`t${e}\\n\u2028'];

const scalar = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 }),
  fc.constantFrom(0, 0x3f, 0x40, 0x41, 0x7e, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129, -(2 ** 15), -(2 ** 31) - 1),
  fc.double(),
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ minLength: 60, maxLength: 300 }),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 40 }),
  fc.date({ noInvalidDate: true }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, { weight: 40, arbitrary: scalar }, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.constantFrom(...NAMES), tie('v'), { maxKeys: 4 })),
})).v;
const record = fc.dictionary(fc.constantFrom(...NAMES), value, { maxKeys: NAMES.length });
const wanted = fc.subarray(NAMES);

function pick(r: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) if (Object.prototype.hasOwnProperty.call(r, f)) o[f] = r[f];
  return o;
}

/** Checks one projected batch against the full decode of the same bytes. */
function checkAgainstFull(bytes: Uint8Array, fields: readonly string[], projected: Record<string, unknown>[]): void {
  const full = decodeBatch(bytes);
  expect(projected.length).toBe(full.length);
  for (let i = 0; i < full.length; i++) {
    expect({ ...projected[i] }).toStrictEqual(pick(full[i]!, fields));
    expect(Object.keys(projected[i]!).every((k) => fields.includes(k))).toBe(true);
    expect(expandPacked(projected[i]!)).toEqual(full[i]);
  }
  // sent on (forwarded, dead-lettered): the whole records, whether encoded alone or with others
  expect(decodeBatch(encodeBatch(projected))).toEqual(full);
  expect(decodeBatch(encodeBatch([{ built: 1 }, ...projected]))).toEqual([{ built: 1 }, ...full]);
}

/**
 * A source's pre-packed form (as the probe writes it): values in key order, small integers
 * 0x40..0x7f as uint8, nested objects as inline records with id 0x7f.
 */
const plain = new Packr({ useRecords: false });
function packValue(v: unknown, out: number[]): void {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0x40 && v <= 0x7f) { out.push(0xcc, v); return; }
  if (Array.isArray(v)) {
    if (v.length > 15) throw new Error('test encoder: short arrays only');
    out.push(0x90 + v.length);
    for (const x of v) packValue(x, out);
    return;
  }
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && !(v instanceof Date)) {
    const keys = Object.keys(v);
    out.push(0xd4, 0x72, 0x7f, ...plain.pack(keys));
    for (const k of keys) packValue((v as Record<string, unknown>)[k], out);
    return;
  }
  out.push(...plain.pack(v));
}
const shapes = new Map<string, readonly string[]>();
function prePacked(r: Record<string, unknown>): object {
  const keys = Object.keys(r);
  const id = keys.join('\u0000');
  let shared = shapes.get(id);
  if (!shared) { shared = Object.freeze(keys); shapes.set(id, shared); }
  const bytes: number[] = [];
  for (const k of keys) packValue(r[k], bytes);
  return { ...r, [PACKED_KEYS]: shared, [PACKED_VALUES]: Uint8Array.from(bytes) };
}
/** Values the pre-packed form can carry (no bigints, dates or nested arrays of objects). */
const packableScalar = fc.oneof(
  // (the test encoder writes -0 as the integer 0)
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 }), fc.constantFrom(0x3f, 0x40, 0x7f, 0x80, -1, -33), fc.double().map((x) => (Object.is(x, -0) ? 0 : x)), fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 20 }),
);
const packableValue = fc.oneof(
  packableScalar,
  fc.array(packableScalar, { maxLength: 5 }),
  fc.dictionary(fc.constantFrom('oui', 'type', 'data'), packableScalar, { maxKeys: 3 }),
  fc.array(fc.dictionary(fc.constantFrom('oui', 'type', 'data'), packableScalar, { minKeys: 1, maxKeys: 3 }), { maxLength: 3 }),
);
const packableRecord = fc.dictionary(fc.constantFrom(...NAMES), packableValue, { minKeys: 1, maxKeys: NAMES.length });

describe('projected decoding', () => {
  test('equals the full decode on the fields asked for, for any batch msgpackr encodes (or declines it)', () => {
    let projectedBatches = 0;
    fc.assert(fc.property(fc.array(record, { minLength: 1, maxLength: 12 }), wanted, (records, fields) => {
      const bytes = encodeBatch(records);
      const projected = new ProjectedDecoder(fields).decode(bytes);
      if (projected === undefined) return; // declined: the runtime decodes it in full
      projectedBatches++;
      checkAgainstFull(bytes, fields, projected);
    }), { numRuns: 400 });
    // flat records are projectable: the property is not vacuous
    expect(projectedBatches).toBeGreaterThan(50);
  });

  test('a source\'s pre-packed batches (nested records inline, id 0x7f) are always projected, and equal', () => {
    fc.assert(fc.property(fc.array(packableRecord, { minLength: 1, maxLength: 20 }), wanted, (records, fields) => {
      const bytes = encodeBatch(records.map(prePacked));
      expect(decodeBatch(bytes)).toEqual(records);
      const projected = new ProjectedDecoder(fields).decode(bytes);
      expect(projected).toBeDefined();
      checkAgainstFull(bytes, fields, projected!);
    }), { numRuns: 200 });
  });

  test('a copy of a projected record is a plain record of its fields (it does not stand for the original)', () => {
    const bytes = encodeBatch([prePacked({ a: 1, b: 'x', sa: 'aa:bb' })]);
    const [r] = new ProjectedDecoder(['a']).decode(bytes)!;
    const copy = { ...r, extra: true };
    expect(decodeBatch(encodeBatch([copy]))).toEqual([{ a: 1, extra: true }]);
    expect(decodeBatch(encodeBatch([r!]))).toEqual([{ a: 1, b: 'x', sa: 'aa:bb' }]);
    expect(JSON.stringify(r)).toBe('{"a":1}');
  });

  test('declines what could not travel alone: nested shapes shared between records', () => {
    const records = [{ a: 1, nested: { x: 1, y: 'u' } }, { a: 2, nested: { x: 2, y: 'v' } }];
    const bytes = encodeBatch(records);
    // msgpackr defines the nested shape in the first record and refers to it from the second
    expect(new ProjectedDecoder(['a']).decode(bytes)).toBeUndefined();
    expect(new ProjectedDecoder(['a']).decode(encodeBatch([{ a: 1, b: 'x' }, { a: 2, b: 'y' }]))).toEqual([{ a: 1 }, { a: 2 }]);
  });

  test('repeated strings (the decoder\'s string cache) decode exactly, across records, batches and decoders', () => {
    // same length and last bytes with different beginnings (one cache slot), non-ASCII beginnings,
    // lengths around the longest cached string, and the empty string
    const tails = ['dd:ee:ff', '0123456789', 'ack', '', 'x'.repeat(40)];
    const heads = ['', 'aa:bb:cc:', 'ab:bb:cc:', 'é:bb:cc:', '\u0000', 'ÿ', 'probe_', 'z'.repeat(8), 'y'.repeat(9)];
    const pooled = fc.tuple(fc.constantFrom(...heads), fc.constantFrom(...tails)).map(([h, t]) => h + t);
    const rec = fc.record({ sa: pooled, ssid: pooled, a: fc.oneof(pooled, fc.integer()) }, { requiredKeys: ['sa'] });
    fc.assert(fc.property(fc.array(fc.array(rec, { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 4 }), fc.boolean(), (batches, prepacked) => {
      const decoders = [new ProjectedDecoder(['sa', 'ssid', 'a']), new ProjectedDecoder(['ssid'])];
      for (const records of batches) {
        const bytes = encodeBatch(prepacked ? records.map(prePacked) : records);
        for (const d of decoders) {
          const projected = d.decode(bytes);
          expect(projected).toBeDefined();
          checkAgainstFull(bytes, d === decoders[0] ? ['sa', 'ssid', 'a'] : ['ssid'], projected!);
        }
      }
    }), { numRuns: 200 });
  });

  test('shapes interleaved in one batch, their fields holding floats, integers, strings and null in turn, decode exactly', () => {
    // each shape makes records of a class of its own (see compileProjector): a field's first value
    // (a float, as a timestamp's) must not fix what later records of the shape may hold there
    const values = [1704067200254.825, 29, -81, 'ack', null, 0.5, 2 ** 40, 'aa:bb:cc:dd:ee:ff', -0.25, true];
    const records: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 40; i++) {
      const v = (k: number) => values[(i + k) % values.length];
      records.push(i % 3 === 0 ? { ts: v(0), type_subtype: v(1), sa: v(2) } : i % 3 === 1 ? { sa: v(3), ts: v(4) } : { ts: v(5), x_1: v(6), sa: v(7), ssid: v(8) });
    }
    for (const bytes of [encodeBatch(records), encodeBatch(records.map(prePacked))]) {
      for (const fields of [['ts'], ['ts', 'sa'], ['sa', 'ssid', 'type_subtype'], ['nested']]) {
        const projected = new ProjectedDecoder(fields).decode(bytes);
        expect(projected).toBeDefined();
        checkAgainstFull(bytes, fields, projected!);
        expect(projected!.map((r) => r.ts)).toEqual(records.map((r) => (fields.includes('ts') ? r.ts : undefined)));
      }
    }
  });

  test('field names that need escaping are read as they are (one projector per shape)', () => {
    const odd = NAMES[NAMES.length - 1]!;
    const records: Array<Record<string, unknown>> = [{ [odd]: 1, isPrototypeOf: 'c', toString: 2, a: 3 }, { a: 4, [odd]: 'v' }];
    const bytes = encodeBatch(records.map(prePacked));
    const projected = new ProjectedDecoder([odd, 'isPrototypeOf', 'toString']).decode(bytes)!;
    const expected: Array<Record<string, unknown>> = [{ [odd]: 1, isPrototypeOf: 'c', toString: 2 }, { [odd]: 'v' }];
    expect(projected.map((r) => ({ ...r }))).toEqual(expected);
    expect(Object.keys(projected[1]!)).toEqual([odd]);
  });

  test('truncated or corrupted batches never throw: declined, or decoded as msgpackr would', () => {
    fc.assert(fc.property(fc.array(packableRecord, { minLength: 1, maxLength: 6 }), fc.nat(), fc.nat(255), fc.boolean(), (records, at, byte, cut) => {
      const good = encodeBatch(records.map(prePacked));
      const bytes = Uint8Array.from(good);
      const i = at % bytes.length;
      let data: Uint8Array;
      if (cut) data = bytes.subarray(0, i);
      else { bytes[i] = byte; data = bytes; }
      const projected = new ProjectedDecoder(NAMES).decode(data);
      if (projected === undefined) return;
      // accepted: then msgpackr reads the same bytes to the same records
      expect(projected.map((r) => ({ ...r }))).toEqual(decodeBatch(data).map((r) => pick(r, NAMES)));
    }), { numRuns: 1000 });
  });
});
