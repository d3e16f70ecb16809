/**
 * What every command group shares: the client built from the global options, the output
 * format, and a wrapper that turns a failure into `CODE: message` and exit code 1.
 */
import { Option, type Command } from 'commander';
import { ApiError, NimbusClient } from '../client/client.js';
import { fail, print, printDeleted, type Column, type Format } from './output.js';
import { Names } from './names.js';
import { waitIfAsked } from './wait.js';

export interface Globals {
  output: Format;
  project?: string;
  url?: string;
  /** `true`: a bare --token (project create's "issue a token for it"). */
  token?: string | true;
}

export function globals(cmd: Command): Globals {
  return cmd.optsWithGlobals() as Globals;
}

export function clientOf(cmd: Command): NimbusClient {
  const g = globals(cmd);
  const newProject = cmd.name() === 'create' && cmd.parent?.name() === 'project';
  if (g.token === true && !newProject) throw new ApiError('InvalidParameterValue', '--token needs a value (an API token)', 0);
  // A new project is named by the command itself: NIMBUS_PROJECT (the project to act in) does not apply to it.
  return new NimbusClient({ url: g.url, project: newProject ? '' : g.project, token: typeof g.token === 'string' ? g.token : undefined });
}

/**
 * Wraps an action: its result, if any, is printed with `columns`. The action declares the
 * types of commander's arguments itself (`never[]` accepts any parameter list).
 */
export function act<T>(columns: Column<T>[] | null, fn: (client: NimbusClient, ...args: never[]) => Promise<T | T[] | void>) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    try {
      const client = clientOf(cmd);
      const answered = await fn(client, ...(args as never[]));
      // With --wait, what is printed is the resource once the wait is over (not the row the change answered with).
      let out = answered;
      let late: unknown = null;
      try {
        out = ((await waitIfAsked(cmd, client, answered)) ?? answered) as typeof answered;
      } catch (err) {
        late = err; // the change was made: it is shown, then the wait's failure
      }
      // A resource deleted is not shown as if it were alive (its last row said ACTIVE, available).
      const verb = cmd.name() === 'revoke' ? 'revoked' : cmd.name() === 'delete' ? 'deleted' : cmd.name() === 'remove' ? 'removed' : null;
      if (out !== undefined && columns && verb) await printDeleted(out, globals(cmd).output, kindOf(cmd), verb);
      else if (out !== undefined && columns) await print(out as T, globals(cmd).output, columns, new Names(client));
      if (late) throw late;
    } catch (err) {
      fail(err);
    }
  };
}

/** The kind a command group acts on, as a person says it (`lb` → load balancer). */
function kindOf(cmd: Command): string {
  const group = cmd.parent;
  const names: Record<string, string> = {
    lb: 'load balancer',
    sg: 'security group',
    healthmonitor: 'health monitor',
    'route-table': 'route table',
    igw: 'internet gateway',
    eip: 'elastic IP',
    natgw: 'NAT gateway',
    host: 'internet host',
    rule: 'rule',
  };
  const name = group?.name() ?? '';
  return names[name] ?? name;
}

/** Prints `data` as JSON or YAML when -o asks for it; false for a table (the caller prints its own). */
export async function structured(cmd: Command, data: unknown): Promise<boolean> {
  const format = globals(cmd).output;
  if (format === 'table') return false;
  process.stdout.write(format === 'json' ? JSON.stringify(data, null, 2) + '\n' : (await import('yaml')).stringify(data));
  return true;
}

export const outputOption = () => new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table');

/**
 * Asks a yes/no question on the terminal; refuses (ApiError 'Aborted') on no, and without a
 * terminal (a script must say --yes).
 */
export async function confirm(question: string): Promise<void> {
  // Without a terminal the question cannot be asked: what it says is still shown, so a script's log tells what --yes would do.
  if (!process.stdin.isTTY) {
    const said = question.split('\n').slice(0, -1).join('\n');
    throw new ApiError('Aborted', `${said || question}\nNot asked without a terminal: give --yes`, 0);
  }
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`${question} [y/N] `);
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new ApiError('Aborted', 'nothing deleted', 0);
}

/** Enumerations accept any case: `--direction INGRESS` is `ingress`. */
export const lower = (v: string): string => v.toLowerCase();

/** Repeated options (`--security-group a --security-group b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`${name}: '${v}' is not a whole number`);
    return n;
  };
}
