/**
 * Topology files: `nimbus plan`, `apply`, `destroy`, `export` and `schema topology`. The CLI
 * reads the file and shows what the daemon answers (docs/topology-file.md).
 *
 * `plan` exits 0 when nothing would change and 2 when something would (as `terraform plan
 * -detailed-exitcode`), 1 on a problem.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import { ApiError, type NimbusClient, type TopologyProgress } from '../client/client.js';
import type { TopologyPlan, TopologyStep } from '../core/model/index.js';
import { clientOf, globals, structured } from './shared.js';
import { fail } from './output.js';
import { converged, settledAll, waitIfAsked, waitable } from './wait.js';

const MARK: Record<TopologyStep['action'], string> = { create: '+', update: '~', replace: '-/+', delete: '-', adopt: '=' };
const PAST: Record<TopologyStep['action'], string> = { create: 'created', update: 'updated', replace: 'replaced', delete: 'deleted', adopt: 'adopted' };
const KIND: Record<string, string> = {
  vpc: 'vpc',
  subnet: 'subnet',
  routeTable: 'route table',
  networkAcl: 'network ACL',
  internetGateway: 'internet gateway',
  elasticIp: 'elastic IP',
  natGateway: 'NAT gateway',
  flowLog: 'flow log',
  securityGroup: 'security group',
  rules: 'rules of group',
  server: 'server',
  peering: 'peering',
  route: 'route',
  loadBalancer: 'load balancer',
  pool: 'pool',
  healthMonitor: 'health monitor of pool',
  member: 'member',
  listener: 'listener',
  l7Policy: 'L7 policy',
};

/** What the file is called when it has no `name:` (its file name without the extension). */
function fileName(path: string): string {
  return basename(path, extname(path));
}

function readFile(path: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new ApiError('InvalidParameterValue', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 0);
  }
}

function stepLine(s: TopologyStep): string {
  const what = `${MARK[s.action].padStart(3)} ${s.action.padEnd(7)} ${`${KIND[s.kind] ?? s.kind} ${s.name}`.padEnd(40)}`;
  return `${what} ${s.why}${s.path ? `  (${s.path})` : ''}`;
}

/** Whether a plan changes the network (adoptions only record that the file owns what exists as it says). */
export function changesNetwork(plan: TopologyPlan): boolean {
  return plan.steps.some((s) => s.action !== 'adopt');
}

export function planText(plan: TopologyPlan): string {
  if (plan.steps.length === 0) return `No changes: the project matches ${plan.name}.\n`;
  if (!changesNetwork(plan))
    return `${plan.steps.map(stepLine).join('\n')}\n\nNo changes: the project matches ${plan.name}. ${plan.steps.length} resources that exist as the file says become the file's own when it is applied.\n`;
  const count = (a: TopologyStep['action']) => plan.steps.filter((s) => s.action === a).length;
  const summary = `Plan: ${count('create')} to create, ${count('update')} to update, ${count('replace')} to replace, ${count('delete')} to delete, ${count('adopt')} to adopt.`;
  return `${plan.steps.map(stepLine).join('\n')}\n\n${summary}\n`;
}

/** A refusal of the file: every problem on a line of its own, with the file's name and the line. */
function failFile(err: unknown, file: string): void {
  if (err instanceof ApiError && err.problems?.length) {
    process.stderr.write(`${err.code}: ${file} has ${err.problems.length} problem${err.problems.length > 1 ? 's' : ''}; nothing was changed\n`);
    for (const p of err.problems) process.stderr.write(`  ${file}${p.line ? `:${p.line}` : ''}: ${p.message}\n`);
    process.exitCode = 1;
    return;
  }
  fail(err);
}

/** Runs apply or destroy, printing each step as it is done; ends with the load balancers' addresses. */
async function run(cmd: Command, go: (c: NimbusClient, onLine: (l: TopologyProgress) => void) => Promise<void>): Promise<void> {
  const c = clientOf(cmd);
  const json = globals(cmd).output !== 'table';
  const tty = process.stderr.isTTY && !json;
  let outcome: TopologyProgress | null = null;
  const events: TopologyProgress[] = [];
  await go(c, (l) => {
    events.push(l);
    if (l.type !== 'step') {
      outcome = l;
      return;
    }
    if (json) return;
    const done = PAST[l.step.action];
    const line = `[${String(l.done).padStart(String(l.total).length)}/${l.total}] ${done.padEnd(8)} ${KIND[l.step.kind] ?? l.step.kind} ${l.step.name}`;
    if (tty) {
      const width = 20;
      const filled = Math.round((l.done / l.total) * width);
      process.stderr.write(`\r\x1b[K`);
      process.stdout.write(`${line}\n`);
      if (l.done < l.total) process.stderr.write(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${l.done}/${l.total}`);
    } else {
      process.stdout.write(`${line}\n`);
    }
  });
  if (json) await structured(cmd, events);
  const end = outcome as TopologyProgress | null;
  if (!end) throw new ApiError('InternalError', 'the daemon ended the answer without an outcome', 0);
  if (end.type === 'error') throw new ApiError(end.code, end.message, 0);
  if (end.type === 'done' && !json) {
    if (end.steps === 0) process.stdout.write('Nothing to do.\n');
    for (const lb of end.loadBalancers) process.stdout.write(`load balancer ${lb.name}: vip ${lb.vip}${lb.publicIp ? `, public ${lb.publicIp}` : ''}\n`);
    for (const e of end.elasticIps ?? []) process.stdout.write(`elastic IP ${e.name}: ${e.publicIp}${e.privateIp ? ` -> ${e.privateIp}` : ''}\n`);
  }
  await waitIfAsked(cmd, c, null);
}

export function topologyCommands(program: Command): void {
  program
    .command('plan')
    .description('show what applying a topology file would change, and why; changes nothing (exit 0: no change to the network, 2: changes)')
    .requiredOption('-f, --file <path>', "the topology file ('-': standard input)")
    .action(async (o: { file: string }, cmd: Command) => {
      try {
        const plan = await clientOf(cmd).topology.plan(readFile(o.file), fileName(o.file));
        if (!(await structured(cmd, plan))) process.stdout.write(planText(plan));
        process.exitCode = changesNetwork(plan) ? 2 : 0;
      } catch (err) {
        failFile(err, o.file);
      }
    });

  const apply = program
    .command('apply')
    .description('make the project match a topology file: create, update, replace and delete what the plan says, with progress')
    .requiredOption('-f, --file <path>', "the topology file ('-': standard input)")
    .action(async (o: { file: string }, cmd: Command) => {
      try {
        const text = readFile(o.file);
        await run(cmd, (c, onLine) => c.topology.apply(text, fileName(o.file), onLine));
      } catch (err) {
        failFile(err, o.file);
      }
    });
  waitable(apply, settledAll);

  const destroy = program
    .command('destroy')
    .description('delete everything a topology file owns (what it created or adopted)')
    .option('-f, --file <path>', "the topology file (its 'name:', or its file name, says which)")
    .option('--name <name>', 'the name of the file instead')
    .action(async (o: { file?: string; name?: string }, cmd: Command) => {
      try {
        let name = o.name;
        if (!name && o.file) {
          const { parse } = await import('yaml');
          const doc = parse(readFile(o.file)) as { name?: unknown } | null;
          name = typeof doc?.name === 'string' ? doc.name : fileName(o.file);
        }
        if (!name) throw new ApiError('InvalidParameterValue', 'give -f FILE or --name NAME', 0);
        await run(cmd, (c, onLine) => c.topology.destroy(name, onLine));
      } catch (err) {
        fail(err);
      }
    });
  waitable(destroy, converged);

  program
    .command('export')
    .description("write the project's state as a topology file that applies back to the same state")
    .option('--name <name>', "the file's name: key")
    .option('-f, --file <path>', 'write it here instead of standard output')
    .action(async (o: { name?: string; file?: string }, cmd: Command) => {
      try {
        const doc = await clientOf(cmd).topology.export(o.name);
        const format = globals(cmd).output;
        const text = format === 'json' ? JSON.stringify(doc, null, 2) + '\n' : (await import('yaml')).stringify(doc, { lineWidth: 0 });
        if (o.file) writeFileSync(o.file, text);
        else process.stdout.write(text);
      } catch (err) {
        fail(err);
      }
    });

  program
    .command('schema')
    .description("print a JSON Schema (editors validate and complete files with it): 'topology'")
    .argument('<what>', "'topology'")
    .action(async (what: string) => {
      try {
        if (what !== 'topology') throw new ApiError('InvalidParameterValue', `schema: '${what}' is not one; the one there is: topology`, 0);
        const { TopologyFile } = await import('../core/model/topology.js');
        process.stdout.write(JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...TopologyFile }, null, 2) + '\n');
      } catch (err) {
        fail(err);
      }
    });
}
