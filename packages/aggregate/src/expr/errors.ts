/** Where in an expression's source text something happened. 1-based line and column; 0-based offset. */
export interface SourcePosition {
  /** 0-based UTF-16 offset into the expression source. */
  offset: number;
  /** 1-based line inside the expression (expressions may span lines in YAML block scalars). */
  line: number;
  /** 1-based column inside that line. */
  column: number;
}

/**
 * A syntax or compile error in an expression. `position` points into the expression text, so the
 * topology loader can add the YAML line/column of the scalar that holds it (the runtime maps this
 * to a PcapflowError with code PCAPFLOW_CONFIG_INVALID).
 */
export class ExpressionError extends Error {
  readonly position: SourcePosition;
  /** The whole expression text. */
  readonly source: string;
  /** The message without the position suffix. */
  readonly reason: string;
  /** The offending line with a caret under the position (for CLI output). */
  readonly excerpt: string;

  constructor(reason: string, source: string, offset: number) {
    const position = positionOf(source, offset);
    super(`${reason} (expression line ${position.line}, column ${position.column})`);
    this.name = 'ExpressionError';
    this.position = position;
    this.source = source;
    this.reason = reason;
    this.excerpt = excerpt(source, position);
  }
}

/** Compute line/column of `offset` in `source`. */
export function positionOf(source: string, offset: number): SourcePosition {
  const o = Math.max(0, Math.min(offset, source.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < o; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { offset: o, line, column: o - lineStart + 1 };
}

function excerpt(source: string, p: SourcePosition): string {
  const lines = source.split('\n');
  const text = lines[p.line - 1] ?? '';
  return `${text}\n${' '.repeat(p.column - 1)}^`;
}
