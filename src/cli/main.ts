/**
 * The `nimbus` command: global options, then one command group per file.
 */
import { Command, Option } from 'commander';
import { networkCommands } from './network.js';
import { analyzerCommands } from './analyzer.js';
import { daemonCommands } from './daemon.js';
import { dataplaneCommands } from './dataplane.js';
import { lbCommands, serverLogsCommand } from './lb.js';
import { outputOption } from './shared.js';
import { VERSION } from '../daemon.js';

export function buildProgram(): Command {
  const program = new Command('nimbus')
    .description("Nimbus: a public cloud's network on one Linux machine, for real")
    .version(VERSION)
    .addOption(outputOption())
    .addOption(new Option('--project <ref>', 'project to act in (name or id)').env('NIMBUS_PROJECT'))
    .addOption(new Option('--url <url>', 'daemon address').env('NIMBUS_URL').default('http://127.0.0.1:7700'))
    .showHelpAfterError()
    .enablePositionalOptions(false);
  daemonCommands(program);
  networkCommands(program);
  analyzerCommands(program);
  dataplaneCommands(program);
  lbCommands(program);
  serverLogsCommand(program);
  // Let `-o json` be given after the subcommand too (`nimbus vpc list -o json`).
  const addOutput = (cmd: Command) => {
    for (const sub of cmd.commands) {
      if (sub.commands.length > 0) addOutput(sub);
      else if (!sub.options.some((o) => o.long === '--output')) sub.addOption(outputOption());
    }
  };
  addOutput(program);
  return program;
}

// A reader that stops early (`nimbus ... | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

await buildProgram().parseAsync(process.argv);
