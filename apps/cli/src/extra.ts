import { Option, type Command } from 'commander';

export type Wrap = <A extends unknown[]>(fn: (...a: A) => number | Promise<number>) => (...a: A) => Promise<void>;

/** Commands contributed by one package: their names, and how to add them (may load the package). */
export interface ExtraCommands {
  names: string[];
  register(program: Command, wrap: Wrap): void | Promise<void>;
}

function registerDecode(program: Command, wrap: Wrap): void {
  program.command('decode')
    .description('decode a capture like tshark: -T ek lines with the reference fields, typed JSON records, or msgpack')
    .argument('<capture>', 'pcap/pcapng file, or - for stdin')
    .addOption(new Option('--format <format>', 'output format').choices(['ek', 'json', 'msgpack']).default('ek'))
    .addOption(new Option('--fields <set>', 'field set: Wi-Fi frames, DNS answers, or per-frame flows (the shapes of the tshark reference scripts)').choices(['wifi', 'dns', 'flows']).default('wifi'))
    // The decode entry alone: the package index would also load the plugin (@pcapflow/core, zod).
    .action(wrap(async (capture: string, o: { format: 'ek' | 'json' | 'msgpack'; fields: 'wifi' | 'dns' | 'flows' }) =>
      (await import('@pcapflow/probe/decode')).decodeCommand({ input: capture, format: o.format, fields: o.fields, out: process.stdout, err: process.stderr })));
}

/** Commands contributed by plugin packages shipped with the CLI (decode, query, tail). */
export const extraCommands: ExtraCommands[] = [
  { names: ['decode'], register: registerDecode },
  {
    names: ['query', 'tail'],
    register: async (program, wrap) => (await import('@pcapflow/aggregate/cli-commands')).registerAggregateCommands(program as never, wrap as never),
  },
];
