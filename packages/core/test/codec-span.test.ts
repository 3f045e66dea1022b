import { pack } from 'msgpackr';
import {
  decodeBatch, encodeBatch, PackedBatchBuilder, PACKED_END, PACKED_KEYS, PACKED_SLAB, PACKED_START, PACKED_VALUES,
} from '../src/codec';

// Records in packed form: the values are plain msgpack (msgpackr's own `pack` of each value, the
// reference), one after another; the keys array is shared. Expected objects are built here, not by
// the code under test.
const keys = Object.freeze(['n', 'name', 'ok']) as readonly string[];
const objects = Array.from({ length: 23 }, (_, i) => ({ n: i * 977, name: 'x'.repeat(i % 11), ok: i % 3 === 0 }));
const valueBytes = objects.map((o) => Buffer.concat(keys.map((k) => pack((o as Record<string, unknown>)[k]))));

const withValues = () => objects.map((o, i) => ({ ...o, [PACKED_KEYS]: keys, [PACKED_VALUES]: Uint8Array.from(valueBytes[i]!) }));

/** The same records as spans of one slab, which starts `slabOffset` bytes into its ArrayBuffer, with `gap` bytes between records. */
function withSpans(slabOffset: number, gap: number) {
  const total = valueBytes.reduce((s, b) => s + b.length + gap, 0);
  const slab = new Uint8Array(new ArrayBuffer(slabOffset + total + 8), slabOffset, total);
  slab.fill(0xee); // bytes outside every span: a copy that reads past a span's end shows them
  let at = 0;
  return objects.map((o, i) => {
    const b = valueBytes[i]!;
    slab.set(b, at);
    const r = { ...o, [PACKED_KEYS]: keys, [PACKED_SLAB]: slab, [PACKED_START]: at, [PACKED_END]: at + b.length };
    at += b.length + gap;
    return r;
  });
}

function built(records: object[]): Uint8Array {
  const b = new PackedBatchBuilder(64); // small: the buffer grows while records are added
  for (const r of records) expect(b.add(r)).toBe(true);
  return Uint8Array.from(b.finish());
}

describe('packed records as spans of a shared buffer (PACKED_SLAB)', () => {
  const reference = built(withValues());

  test('the reference decodes to the records', () => {
    expect(decodeBatch(reference)).toEqual(objects);
  });

  // slab offsets 0 and 4: word-aligned (copied by words where a span starts aligned); 1, 2, 3: by bytes
  test.each([
    [0, 0], [0, 1], [0, 3], [4, 2], [1, 0], [2, 5], [3, 1],
  ])('built from spans (slab at +%i, %i bytes between records): the same bytes as from PACKED_VALUES', (offset, gap) => {
    const bytes = built(withSpans(offset, gap));
    expect(Buffer.from(bytes).equals(Buffer.from(reference))).toBe(true);
    expect(decodeBatch(bytes)).toEqual(objects);
  });

  test('encodeBatch gives the same message for either form', () => {
    const fromValues = encodeBatch(withValues());
    expect(Buffer.from(encodeBatch(withSpans(1, 2))).equals(Buffer.from(fromValues))).toBe(true);
    expect(decodeBatch(fromValues)).toEqual(objects);
  });

  test('a record with neither form is refused by the builder, and encodeBatch packs its properties', () => {
    const plain = objects.map((o) => ({ ...o }));
    expect(new PackedBatchBuilder().add(plain[0]!)).toBe(false);
    expect(decodeBatch(encodeBatch(plain))).toEqual(objects);
  });
});
