/**
 * The `nimbus` command: global options, then one command group per file.
 */
import { Command, Option } from 'commander';
import { networkCommands } from './network.js';
import { edgeCommands } from './edge.js';
import { aclCommands } from './acl.js';
import { flowLogCommands } from './flowlog.js';
import { accessCommands } from './access.js';
import { analyzerCommands } from './analyzer.js';
import { daemonCommands } from './daemon.js';
import { dataplaneCommands } from './dataplane.js';
import { lbCommands, serverLogsCommand } from './lb.js';
import { l7Commands } from './l7.js';
import { certCommands } from './cert.js';
import { outputOption } from './shared.js';
import { converged, lbActive, waitable } from './wait.js';
import { completionCommand } from './completion.js';
import { topologyCommands } from './topology.js';
import { VERSION } from '../version.js';

export function buildProgram(): Command {
  const program = new Command('nimbus')
    .description("Nimbus: a public cloud's network on one Linux machine, for real")
    .version(VERSION)
    .addOption(outputOption())
    .addOption(new Option('--project <ref>', 'project to act in (name or id)').env('NIMBUS_PROJECT'))
    .addOption(new Option('--url <url>', 'daemon address').env('NIMBUS_URL').default('http://127.0.0.1:7700'))
    // The value is optional so that `project create --name X --token` (issue a token) parses: a bare
    // --token anywhere else is refused by clientOf.
    .addOption(new Option('--token [token]', 'API token; by default the one the local daemon at --url recorded for you').env('NIMBUS_TOKEN'))
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .enablePositionalOptions(false);
  daemonCommands(program);
  // Projects and tokens first, as `nimbus --help` lists them.
  accessCommands(program);
  networkCommands(program);
  edgeCommands(program);
  aclCommands(program);
  flowLogCommands(program);
  analyzerCommands(program);
  dataplaneCommands(program);
  lbCommands(program);
  l7Commands(program);
  certCommands(program);
  serverLogsCommand(program);
  topologyCommands(program);
  // Let `-o json` be given after the subcommand too (`nimbus vpc list -o json`).
  const addOutput = (cmd: Command) => {
    for (const sub of cmd.commands) {
      if (sub.commands.length > 0) addOutput(sub);
      else if (!sub.options.some((o) => o.long === '--output')) sub.addOption(outputOption());
    }
  };
  addOutput(program);
  addWaits(program);
  checkMandatoryLast(program);
  completionCommand(program);
  return program;
}

/** Which commands start asynchronous work, and what --wait waits for. */
function addWaits(program: Command): void {
  const LB_PARTS = new Set(['lb', 'listener', 'pool', 'member', 'healthmonitor', 'l7policy']);
  const NETWORK = new Set(['vpc', 'subnet', 'server', 'sg', 'route-table', 'route', 'peering', 'rule', 'igw', 'eip', 'natgw', 'host']);
  const VERBS = new Set([
    'create',
    'update',
    'add',
    'delete',
    'remove',
    'start',
    'stop',
    'accept',
    'reject',
    'associate',
    'disassociate',
    'attach',
    'detach',
    'allocate',
    'move',
    'dns',
  ]);
  const walk = (cmd: Command) => {
    for (const sub of cmd.commands) {
      if (sub.commands.length > 0) walk(sub);
      else if (VERBS.has(sub.name()) && LB_PARTS.has(cmd.name()) && !(cmd.name() === 'lb' && sub.name() === 'delete')) waitable(sub, lbActive);
      else if (VERBS.has(sub.name()) && NETWORK.has(cmd.name())) waitable(sub, converged);
    }
  };
  walk(program);
  const sync = program.commands.find((c) => c.name() === 'dataplane')?.commands.find((c) => c.name() === 'sync');
  if (sync) waitable(sync, converged);
}

/**
 * Commander checks required options before unknown ones, so `--nme x` would be told that
 * `--name` is missing. Required options are checked here instead, after commander has refused
 * unknown options (with its "did you mean --name?").
 */
function checkMandatoryLast(program: Command): void {
  const mandatory = new Map<Command, Option[]>();
  const walk = (cmd: Command) => {
    const opts = cmd.options.filter((o) => o.mandatory);
    for (const o of opts) o.makeOptionMandatory(false);
    if (opts.length) mandatory.set(cmd, opts);
    cmd.commands.forEach(walk);
  };
  walk(program);
  program.hook('preAction', (_top, action) => {
    for (const o of mandatory.get(action) ?? []) {
      if (action.getOptionValue(o.attributeName()) === undefined) action.error(`error: required option '${o.flags}' not specified`);
    }
  });
}

/** `nimbus help vpc create` is `nimbus vpc create --help`. */
function helpArgs(argv: string[]): string[] {
  const [node, script, first, ...rest] = argv;
  return first === 'help' && rest.length > 0 ? [node, script, ...rest, '--help'] : argv;
}

// A reader that stops early (`nimbus ... | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

await buildProgram().parseAsync(helpArgs(process.argv));
