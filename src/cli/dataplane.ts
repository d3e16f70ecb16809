/**
 * `nimbus exec` and `nimbus dataplane plan|sync|clean`.
 */
import type { Command } from 'commander';
import { ApiError } from '../client/client.js';
import type { PlanStep } from '../client/client.js';
import { act, structured } from './shared.js';
import { fail } from './output.js';

function stepLines(steps: PlanStep[]): string {
  if (steps.length === 0) return 'nothing to change: the machine matches the desired state\n';
  return (
    steps.map((s) => `${s.ns}: ${s.object} ${s.action === 'created' ? 'to create' : s.action === 'deleted' ? 'to delete' : 'to update'}`).join('\n') + '\n'
  );
}

export function dataplaneCommands(program: Command): void {
  program
    .command('exec')
    .description("run a command inside a server's network namespace (linux data plane): nimbus exec SERVER -- CMD ARGS...")
    .argument('<server>', 'server (name or id)')
    .argument('<command...>', 'the command and its arguments, after --')
    .action(
      act(null, async (c, server: string, argv: string[]) => {
        const r = await c.exec(server, argv);
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
        process.exitCode = r.code;
      }),
    );
  const dp = program.command('dataplane').description('the data plane that makes the network real');
  dp.command('plan')
    .description('print what the data plane would change now (changes nothing)')
    .action(
      act(null, async (c, _o: unknown, cmd: Command) => {
        const { steps } = await c.dataplane.plan();
        if (!(await structured(cmd, steps))) process.stdout.write(stepLines(steps));
      }),
    );
  dp.command('sync')
    .description('converge now and print what changed')
    .action(
      act(null, async (c, _o: unknown, cmd: Command) => {
        const r = await c.dataplane.sync();
        if (await structured(cmd, r)) return;
        process.stdout.write(r.steps.length ? r.steps.map((s) => `${s.ns}: ${s.object} ${s.action}`).join('\n') + '\n' : 'nothing changed\n');
        for (const e of r.errors) process.stderr.write(`error: ${e.resourceId}: ${e.message}\n`);
        process.stdout.write(`${r.steps.length} steps in ${Math.round(r.ms)} ms\n`);
        if (r.errors.length) process.exitCode = 1;
      }),
    );
  dp.command('clean')
    .description('remove every namespace (and so every link) this installation owns; stop the daemon first, or it builds them again')
    .option('--data <dir>', 'data directory of the installation', process.env.NIMBUS_DATA)
    .option('--prefix <p>', 'name prefix to clean instead of the installation one')
    .action(async (o: { data?: string; prefix?: string }) => {
      try {
        const { defaultDataDir } = await import('../daemon.js');
        const { recordedPrefix } = await import('../dataplane/choose.js');
        const { cleanNamespaces } = await import('../dataplane/linux/clean.js');
        const dir = o.data ?? defaultDataDir();
        const prefix = o.prefix ?? recordedPrefix(dir);
        if (!prefix) throw new ApiError('InvalidParameterValue', `no data plane prefix is recorded in ${dir}; give --data of the installation or --prefix`, 0);
        const removed = await cleanNamespaces(prefix);
        process.stdout.write(
          removed.length
            ? `removed ${removed.length} namespaces with prefix '${prefix}':\n${removed.join('\n')}\n`
            : `nothing to remove: no namespace has prefix '${prefix}'\n`,
        );
      } catch (err) {
        fail(err);
      }
    });
}
