/**
 * The pcapflow expression language: predicates, group keys and computed fields, compiled once to
 * closures (no eval). See EXPRESSIONS.md for the grammar, operators, functions and null rules.
 */
export { compileExpression, compilePredicate, likeToRegExp } from './compile';
export type { CompiledExpr, CompiledPredicate, CompileOptions, Rec } from './compile';
export { ExpressionError, positionOf } from './errors';
export type { SourcePosition } from './errors';
export { parse } from './parser';
export type { Node, PathSegment, BinaryOp, CastType } from './ast';
export { pathToString } from './ast';
export { FUNCTIONS } from './functions';
export type { FunctionDef } from './functions';
export { toBool, toNumber, toText, toMillis, compare, equals } from './values';
export { formatTimestamp, truncateTimestamp } from './timefmt';
