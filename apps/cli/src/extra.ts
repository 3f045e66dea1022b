import { Option, type Command } from 'commander';
import { decodeCommand } from '@pcapflow/probe';
import { registerAggregateCommands } from '@pcapflow/aggregate/cli-commands';

type Wrap = <A extends unknown[]>(fn: (...a: A) => number | Promise<number>) => (...a: A) => Promise<void>;

function registerDecode(program: Command, wrap: Wrap): void {
  program.command('decode')
    .description('decode a capture like tshark: -T ek lines with the reference fields, typed JSON records, or msgpack')
    .argument('<capture>', 'pcap/pcapng file, or - for stdin')
    .addOption(new Option('--format <format>', 'output format').choices(['ek', 'json', 'msgpack']).default('ek'))
    .addOption(new Option('--fields <set>', 'field set: Wi-Fi frames, DNS answers, or per-frame flows (the shapes of the tshark reference scripts)').choices(['wifi', 'dns', 'flows']).default('wifi'))
    .action(wrap((capture: string, o: { format: 'ek' | 'json' | 'msgpack'; fields: 'wifi' | 'dns' | 'flows' }) =>
      decodeCommand({ input: capture, format: o.format, fields: o.fields, out: process.stdout, err: process.stderr })));
}

/** Commands contributed by plugin packages shipped with the CLI (decode, query, tail). */
export const extraCommands: Array<(program: Command, wrap: Wrap) => void> = [
  registerDecode,
  (program, wrap) => registerAggregateCommands(program as never, wrap as never),
];
