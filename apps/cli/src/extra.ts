import type { Command } from 'commander';

type Wrap = <A extends unknown[]>(fn: (...a: A) => number | Promise<number>) => (...a: A) => Promise<void>;

/** Commands contributed by plugin packages shipped with the CLI (decode, query, tail). */
export const extraCommands: Array<(program: Command, wrap: Wrap) => void> = [];
