// The record fields an op reads, from its expressions, so the runtime can decode only those
// (Actor.inputFields): a split reading type_subtype need not build 30 fields per frame.
import { groupKeySource } from '../engine/table';
import { compileExpression } from '../expr';

/**
 * Top-level fields read by these expressions (a dotted name also as written, for tshark-style
 * flat names; a group key's "AS name" is no field), or undefined when one does not compile (the
 * op reports that error itself).
 */
export function fieldsRead(expressions: ReadonlyArray<string | undefined>): string[] | undefined {
  const out = new Set<string>();
  for (const src of expressions) {
    if (src === undefined || src.trim() === '' || src.trim() === '*') continue;
    try {
      const e = compileExpression(groupKeySource(src));
      for (const f of e.roots) out.add(f);
      for (const f of e.fields) out.add(f);
    } catch {
      return undefined;
    }
  }
  return [...out];
}
