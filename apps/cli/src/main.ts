import { Command, CommanderError, Option } from 'commander';
import { EXIT } from './exit-codes';
import { extraCommands, type Wrap } from './extra';

// Each command loads its modules when it runs (dynamic import), so that e.g. `pcapflow decode`
// starts without the runtime, the NATS client or the plugin loader. The runtime version is read
// from the runtime package's manifest for the same reason.
const RUNTIME_VERSION: string = require('@pcapflow/core/package.json').version;

const logLevel = () => new Option('--log-level <level>', 'log level (logs are JSON lines on stderr)').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info');

/**
 * The program with every command; with `command`, only that command when it is one of the
 * commands contributed by packages (their registration loads the contributing package).
 */
export async function buildProgram(command?: string): Promise<{ program: Command; result: { code: number } }> {
  const result = { code: EXIT.OK as number };
  const program = new Command('pcapflow')
    .description('Packet captures to live, queryable analytics: plugins as actors over NATS JetStream, composed in YAML')
    .version(RUNTIME_VERSION, '-V, --version')
    .showHelpAfterError()
    .exitOverride()
    .addHelpText('after', `
Exit codes: 0 ok; 1 invalid input (topology, config, capture, query); 2 usage error; 3 runtime failure.
Docs: the README of the project; \`pcapflow plugins --describe NAME\` for one plugin.`);
  const wrap: Wrap = (fn) => async (...a) => { result.code = await fn(...a); };

  program.command('run')
    .description('run the instances of a topology (only those placed on --host when given)')
    .argument('<topology>', 'topology YAML file')
    .option('--host <name>', 'run only the instances placed on this host')
    .option('--check-records', 'check records against the shapes plugins declare, at every plugin boundary')
    .option('--exit-when-done', 'exit 0 once sources are finished and every queue is drained (file replays)')
    .option('--http <[host:]port>', 'serve GET /health and /metrics')
    .addOption(logLevel())
    .action(wrap(async (file: string, o) => (await import('./commands/run.js')).runCommand(file, { host: o.host, logLevel: o.logLevel, checkRecords: o.checkRecords, exitWhenDone: o.exitWhenDone, http: o.http })));

  program.command('validate')
    .description('check a topology: YAML, keys, plugin versions, each plugin\'s config; exit 0 when valid, 1 when not')
    .argument('<topology>', 'topology YAML file')
    .action(wrap(async (file: string) => (await import('./commands/validate.js')).validateCommand(file)));

  program.command('plugins')
    .description('list installed pcapflow plugins, or describe one (generated from its declaration)')
    .option('--describe <name>', 'print the docs of one plugin (package name or local path)')
    .option('--json', 'machine-readable output')
    .action(wrap(async (o) => (await import('./commands/plugins.js')).pluginsCommand(o)));

  program.command('schema')
    .description('print the JSON Schema of topology files, with installed plugins\' configs (for editor completion)')
    .action(wrap(async () => (await import('./commands/plugins.js')).schemaCommand()));

  program.command('graph')
    .description('print the dataflow of a topology')
    .argument('<topology>', 'topology YAML file')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'dot', 'mermaid']).default('text'))
    .action(wrap(async (file: string, o) => (await import('./commands/graph.js')).graphCommand(file, o.format)));

  program.command('init-plugin')
    .description('scaffold a plugin package whose test passes')
    .argument('<name>', 'npm package name of the new plugin')
    .option('--dir <dir>', 'directory to create (default: the name)')
    .action(wrap(async (name: string, o) => (await import('./commands/init-plugin.js')).initPluginCommand(name, o)));

  const extras = extraCommands.some((x) => x.names.includes(command as string)) ? extraCommands.filter((x) => x.names.includes(command as string)) : extraCommands;
  for (const x of extras) await x.register(program, wrap);
  return { program, result };
}

export async function main(argv: string[]): Promise<number> {
  try {
    // argv[2] is the command: the root program has no options that take a value.
    const { program, result } = await buildProgram(argv[2]);
    await program.parseAsync(argv);
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
      return EXIT.USAGE;
    }
    return (await import('./errors.js')).reportError(e);
  }
}
