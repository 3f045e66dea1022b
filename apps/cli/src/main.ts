import { Command, CommanderError, Option } from 'commander';
import { RUNTIME_VERSION } from '@pcapflow/core/runtime';
import { graphCommand } from './commands/graph';
import { initPluginCommand } from './commands/init-plugin';
import { pluginsCommand, schemaCommand } from './commands/plugins';
import { runCommand } from './commands/run';
import { validateCommand } from './commands/validate';
import { reportError } from './errors';
import { EXIT } from './exit-codes';
import { extraCommands } from './extra';

const logLevel = () => new Option('--log-level <level>', 'log level (logs are JSON lines on stderr)').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info');

export function buildProgram(): { program: Command; result: { code: number } } {
  const result = { code: EXIT.OK as number };
  const program = new Command('pcapflow')
    .description('Packet captures to live, queryable analytics: plugins as actors over NATS JetStream, composed in YAML')
    .version(RUNTIME_VERSION, '-V, --version')
    .showHelpAfterError()
    .exitOverride()
    .addHelpText('after', `
Exit codes: 0 ok; 1 invalid input (topology, config, capture, query); 2 usage error; 3 runtime failure.
Docs: the README of the project; \`pcapflow plugins --describe NAME\` for one plugin.`);
  const wrap = <A extends unknown[]>(fn: (...a: A) => number | Promise<number>) => async (...a: A) => { result.code = await fn(...a); };

  program.command('run')
    .description('run the instances of a topology (only those placed on --host when given)')
    .argument('<topology>', 'topology YAML file')
    .option('--host <name>', 'run only the instances placed on this host')
    .option('--check-records', 'check records against the shapes plugins declare, at every plugin boundary')
    .option('--exit-when-done', 'exit 0 once sources are finished and every queue is drained (file replays)')
    .option('--http <[host:]port>', 'serve GET /health and /metrics')
    .addOption(logLevel())
    .action(wrap((file: string, o) => runCommand(file, { host: o.host, logLevel: o.logLevel, checkRecords: o.checkRecords, exitWhenDone: o.exitWhenDone, http: o.http })));

  program.command('validate')
    .description('check a topology: YAML, keys, plugin versions, each plugin\'s config; exit 0 when valid, 1 when not')
    .argument('<topology>', 'topology YAML file')
    .action(wrap((file: string) => validateCommand(file)));

  program.command('plugins')
    .description('list installed pcapflow plugins, or describe one (generated from its declaration)')
    .option('--describe <name>', 'print the docs of one plugin (package name or local path)')
    .option('--json', 'machine-readable output')
    .action(wrap((o) => pluginsCommand(o)));

  program.command('schema')
    .description('print the JSON Schema of topology files, with installed plugins\' configs (for editor completion)')
    .action(wrap(() => schemaCommand()));

  program.command('graph')
    .description('print the dataflow of a topology')
    .argument('<topology>', 'topology YAML file')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'dot', 'mermaid']).default('text'))
    .action(wrap((file: string, o) => graphCommand(file, o.format)));

  program.command('init-plugin')
    .description('scaffold a plugin package whose test passes')
    .argument('<name>', 'npm package name of the new plugin')
    .option('--dir <dir>', 'directory to create (default: the name)')
    .action(wrap((name: string, o) => initPluginCommand(name, o)));

  for (const add of extraCommands) add(program, wrap);
  return { program, result };
}

export async function main(argv: string[]): Promise<number> {
  const { program, result } = buildProgram();
  try {
    await program.parseAsync(argv);
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
      return EXIT.USAGE;
    }
    return reportError(e);
  }
}
