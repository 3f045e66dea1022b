// The record fields an op reads, from its expressions, so the runtime can decode only those
// (Actor.inputFields): a split reading type_subtype need not build 30 fields per frame.
import { compileExpression } from '../expr';

/** Same alias syntax as the engine's group keys: "expr AS name". */
const AS_RE = /^([\s\S]*?)\s+AS\s+(`(?:[^`]|``)+`|[A-Za-z_$][A-Za-z0-9_$]*)\s*$/i;

/**
 * Top-level fields read by these expressions (a dotted name also as written, for tshark-style
 * flat names), or undefined when one does not compile (the op reports that error itself).
 */
export function fieldsRead(expressions: ReadonlyArray<string | undefined>): string[] | undefined {
  const out = new Set<string>();
  for (const src of expressions) {
    if (src === undefined || src.trim() === '' || src.trim() === '*') continue;
    try {
      const e = compileExpression(AS_RE.exec(src)?.[1] ?? src);
      for (const f of e.roots) out.add(f);
      for (const f of e.fields) out.add(f);
    } catch {
      try {
        const e = compileExpression(src);
        for (const f of e.roots) out.add(f);
        for (const f of e.fields) out.add(f);
      } catch {
        return undefined;
      }
    }
  }
  return [...out];
}
