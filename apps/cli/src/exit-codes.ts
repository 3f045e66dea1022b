/** Exit codes (documented in the README). */
export const EXIT = {
  OK: 0,
  /** The input is invalid: topology, config, capture file, query. */
  INVALID: 1,
  /** Wrong usage: unknown command or option, missing argument. */
  USAGE: 2,
  /** The pipeline failed at run time: transport unreachable, a dependency missing. */
  RUNTIME: 3,
} as const;
