/**
 * `nimbus exec` and `nimbus dataplane plan|sync|clean`.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { ApiError } from '../client/client.js';
import type { Chassis, PlanStep } from '../client/client.js';
import { table, type Column } from './output.js';
import { act, clientOf, globals, int, structured } from './shared.js';
import { attach } from '../client/attach.js';
import { Frame, FrameReader, frame } from '../core/exec-frames.js';
import { fail } from './output.js';

/** A local command's refusal: its code when it has one of Nimbus's, and the message naming the value at fault. */
function refuse(err: unknown): void {
  const e = err as { code?: string; message: string };
  process.stderr.write(`${e.code && /^[A-Z][a-z]/.test(e.code) ? e.code : 'Error'}: ${e.message}\n`);
  process.exitCode = 1;
}

/** A host's script (chassis join, leave): printed for the person to read first, or run as root with --run. */
async function printOrRun(script: string, run: boolean | undefined, what: string): Promise<void> {
  if (!run) return void process.stdout.write(script);
  if (process.getuid?.() !== 0) throw new Error(`--run: ${what} needs root (run it as root, or print the script and read it first)`);
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('sh', ['-e'], { input: script, stdio: ['pipe', 'inherit', 'inherit'] });
  process.exitCode = r.status ?? 1;
}

const CHASSIS: Column<Chassis>[] = [
  { header: 'NAME', value: (c) => c.name },
  { header: 'STATE', value: (c) => c.state },
  { header: 'ENCAP IP', value: (c) => c.encapIp },
  { header: 'SERVERS', value: (c) => (c.servers.length ? c.servers.join(',') : '-') },
  { header: 'LAST HEARTBEAT', value: (c) => c.lastHeartbeat ?? '-' },
  { header: 'WHERE', value: (c) => (c.local ? 'this machine' : (c.hostname ?? '?')) },
];

function stepLines(steps: PlanStep[]): string {
  if (steps.length === 0) return 'nothing to change: the machine matches the desired state\n';
  return (
    steps.map((s) => `${s.ns}: ${s.object} ${s.action === 'created' ? 'to create' : s.action === 'deleted' ? 'to delete' : 'to update'}`).join('\n') + '\n'
  );
}

export function dataplaneCommands(program: Command): void {
  program
    .command('exec')
    .description('run a command inside a server (linux data plane), like docker exec: nimbus exec [-it] SERVER -- CMD ARGS...')
    .argument('<server>', 'server (name or id)')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('-i, --interactive', 'pass stdin from a terminal too (piped stdin is always passed)')
    .option('-t, --tty', 'run it on a terminal (for shells and full-screen programs)')
    .option('--timeout <seconds>', 'kill it after this long (no limit by default)', int('timeout'))
    .action(async (server: string, argv: string[], o: { interactive?: boolean; tty?: boolean; timeout?: number }, cmd: Command) => {
      await runAttached(cmd, server, argv, o);
    });
  program
    .command('ssh')
    .alias('shell')
    .description('an interactive shell inside a server (nimbus exec -it SERVER -- bash)')
    .argument('<server>', 'server (name or id)')
    .action(async (server: string, _o: unknown, cmd: Command) => {
      await runAttached(cmd, server, ['sh', '-c', 'if command -v bash >/dev/null; then exec bash; else exec sh; fi'], { interactive: true, tty: true });
    });
  const chassis = program.command('chassis').description('the chassis of the ovn data plane (admin): the hosts servers run on');
  chassis
    .command('list')
    .description('list the chassis, their state, tunnel address, servers and last heartbeat')
    .action(
      act(null, async (c, _o: unknown, cmd: Command) => {
        const list = await c.chassis.list();
        if (!(await structured(cmd, list))) process.stdout.write(table(list, CHASSIS));
      }),
    );
  chassis
    .command('show')
    .description('show a chassis')
    .argument('<name>', 'chassis name')
    .action(
      act(null, async (c, name: string, _o: unknown, cmd: Command) => {
        const one = await c.chassis.get(name);
        if (!(await structured(cmd, one))) process.stdout.write(table([one], CHASSIS));
      }),
    );
  chassis
    .command('add')
    .description('start a simulated chassis on this machine: its namespace, Open vSwitch and ovn-controller')
    .argument('<name>', 'chassis name (lowercase letters, digits, -)')
    .action(
      act(null, async (c, name: string, _o: unknown, cmd: Command) => {
        const one = await c.chassis.add(name);
        if (!(await structured(cmd, one))) process.stdout.write(table([one], CHASSIS));
      }),
    );
  chassis
    .command('remove')
    .description("stop a simulated chassis and remove it, or forget a joined host's once it has left (refused while servers are on it)")
    .argument('<name>', 'chassis name')
    .action(
      act(null, async (c, name: string, _o: unknown, cmd: Command) => {
        const one = await c.chassis.remove(name);
        if (!(await structured(cmd, one))) process.stdout.write(`chassis ${one.name} removed\n`);
      }),
    );
  chassis
    .command('join')
    .description(
      "print (or, as root, run with --run) what this host needs to join the cloud as a chassis: packages, OVN's settings, ovn-controller, the chassis agent",
    )
    .argument('<name>', 'this chassis name (lowercase letters, digits, -)')
    .requiredOption(
      '--central <tcp:IP:PORT>',
      "the central's southbound database as this host reaches it: tcp:198.18.0.1:6642 for a central run with --join-hosts (nimbus status there says so)",
    )
    .requiredOption('--encap-ip <IP[/LEN]>', "this host's tunnel address; with --datapath netdev its prefix length too")
    .option('--via <IP>', "the central's machine, through which its underlay (198.18.0.0/16) is routed (it runs nimbus serve --join-hosts)")
    .option('--run-dir <dir>', "run Open vSwitch, ovn-controller and the agent from this folder (no systemd); default: the packages' services")
    .option('--datapath <kind>', 'system (the kernel module) or netdev (userspace, for a host without the module)', 'system')
    .option('--uplink <interface>', 'with --datapath netdev: the interface that carries the tunnels')
    .option('--prefix <p>', "the name prefix of the agent's namespaces", 'nimbus')
    .option('--run', 'run it now (as root) instead of printing it')
    .action(
      async (
        name: string,
        o: { central: string; encapIp: string; via?: string; runDir?: string; datapath: string; uplink?: string; prefix: string; run?: boolean },
      ) => {
        try {
          const { joinScript } = await import('../dataplane/ovn/join.js');
          const [ip, len] = o.encapIp.split('/');
          if (o.datapath !== 'system' && o.datapath !== 'netdev') throw new Error(`--datapath: '${o.datapath}' is not system or netdev`);
          if (o.datapath === 'netdev' && (!o.uplink || len === undefined))
            throw new Error('--datapath netdev needs --uplink INTERFACE and --encap-ip IP/LEN (the tunnel address moves onto a netdev bridge)');
          const script = joinScript({
            name,
            central: o.central,
            encapIp: ip,
            via: o.via ?? null,
            runDir: o.runDir ?? null,
            netdev: o.datapath === 'netdev' ? { uplink: o.uplink!, prefixLength: Number(len) } : null,
            agent: { node: process.execPath, cli: process.argv[1], prefix: o.prefix },
          });
          await printOrRun(script, o.run, 'joining');
        } catch (err) {
          refuse(err);
        }
      },
    );
  chassis
    .command('leave')
    .description("print (or, as root, run with --run) what this host runs to leave the cloud: its agent and ovn-controller stop, its servers' namespaces go")
    .argument('<name>', 'this chassis name')
    .option('--run-dir <dir>', 'the folder nimbus chassis join --run-dir ran the processes from')
    .option('--prefix <p>', "the name prefix of the agent's namespaces", 'nimbus')
    .option('--run', 'run it now (as root) instead of printing it')
    .action(async (name: string, o: { runDir?: string; prefix: string; run?: boolean }) => {
      try {
        const { leaveScript } = await import('../dataplane/ovn/join.js');
        const script = leaveScript({ name, runDir: o.runDir ?? null, prefix: o.prefix });
        await printOrRun(script, o.run, 'leaving');
      } catch (err) {
        refuse(err);
      }
    });
  chassis
    .command('agent')
    .description("run a joined host's chassis agent: plugs the servers the southbound places on this chassis, every 2 s (as root)")
    .requiredOption('--name <name>', 'this chassis name')
    .requiredOption('--central <tcp:IP:PORT>', "the central's southbound database")
    .option('--prefix <p>', "the name prefix of the agent's namespaces", 'nimbus')
    .option('--ovs-db <remote>', "this host's Open_vSwitch database (default: ovs-vsctl's)")
    .option('--once', 'one pass, what it did printed; exit 1 on an error')
    .action(async (o: { name: string; central: string; prefix: string; ovsDb?: string; once?: boolean }) => {
      try {
        const { ChassisAgent } = await import('../dataplane/ovn/chassis-agent.js');
        const { checkHost } = await import('../dataplane/ovn/join.js');
        checkHost(o);
        const agent = new ChassisAgent({ name: o.name, sb: o.central, prefix: o.prefix, ovsDb: o.ovsDb ?? null });
        const say = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
        if (o.once) {
          const r = await agent.pass();
          for (const p of r.plugged) say(`plugged ${p}`);
          for (const x of r.removed) say(`removed ${x}`);
          for (const e of r.errors) say(`error: ${e}`);
          if (r.errors.length) process.exitCode = 1;
          return;
        }
        const stop = new AbortController();
        for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
        say(`chassis agent of ${o.name}: plugging the servers ${o.central} places here`);
        await agent.run(say, stop.signal);
      } catch (err) {
        refuse(err);
      }
    });
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
    .description(
      "remove every namespace (and so every link) this installation owns, and the virtual plane's loopback guard; stop the daemon first, or it builds them again",
    )
    .option('--data <dir>', 'data directory of the installation', process.env.NIMBUS_DATA)
    .option('--prefix <p>', 'name prefix to clean instead of the installation one')
    .action(async (o: { data?: string; prefix?: string }) => {
      try {
        const { defaultDataDir } = await import('../daemon.js');
        const { recordedPrefix } = await import('../dataplane/choose.js');
        const { cleanNamespaces } = await import('../dataplane/linux/clean.js');
        const dir = o.data ?? defaultDataDir();
        const prefix = o.prefix ?? recordedPrefix(dir);
        // The virtual plane's loopback guard, which a killed daemon leaves behind.
        const { cleanGuard } = await import('../dataplane/virtual/guard.js');
        const table = await cleanGuard(dir);
        if (table) process.stdout.write(`removed nft table inet ${table}\n`);
        // What a killed daemon's supervisor left running (load balancers' workers and agents, workloads): the
        // supervisor's own records, each process group whose leader is still the process recorded.
        const { existsSync, rmSync, readdirSync } = await import('node:fs');
        if (existsSync(join(dir, 'run'))) {
          const { Supervisor } = await import('../workloads/supervisor.js');
          const left = new Supervisor(join(dir, 'run'));
          const ended = left.reapUnclaimed();
          left.stopAll();
          if (ended) process.stdout.write(`ended ${ended} processes the daemon had left running\n`);
        }
        // The load balancers' workers' folders and the app host's under /var/lib/nimbus.
        const { installationFolders } = await import('../workloads/lb-dirs.js');
        const { stopHoldersOf } = await import('../workloads/haproxy.js');
        for (const f of installationFolders(dir)) {
          if (!existsSync(f)) continue;
          // A killed daemon's load balancers may still run from there: their socket holders and HAProxy end first (the holder would start HAProxy again).
          for (const sub of readdirSync(f)) stopHoldersOf(join(f, sub));
          rmSync(f, { recursive: true, force: true });
          process.stdout.write(`removed ${f}\n`);
        }
        if (!prefix) {
          if (existsSync(join(dir, 'nimbus.db'))) return void process.stdout.write(`nothing else to remove: ${dir} is a virtual-plane installation\n`);
          throw new ApiError('InvalidParameterValue', `${dir} is not a Nimbus data directory (no nimbus.db); give --data of the installation or --prefix`, 0);
        }
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

/**
 * Runs a command attached: output streams as it comes, stdin is passed (always when piped; from
 * a terminal with -i), -t puts the terminal in raw mode and gives the command one of the same
 * size. The exit code is the command's.
 */
async function runAttached(cmd: Command, server: string, argv: string[], o: { interactive?: boolean; tty?: boolean; timeout?: number }): Promise<void> {
  const g = globals(cmd);
  const tty = !!o.tty && process.stdin.isTTY === true;
  const withStdin = !process.stdin.isTTY || !!o.interactive;
  let socket;
  try {
    socket = await attach({
      url: (g.url ?? 'http://127.0.0.1:7700').replace(/\/$/, ''),
      project: g.project,
      token: clientOf(cmd).token,
      server,
      argv,
      tty,
      rows: tty ? process.stdout.rows : undefined,
      cols: tty ? process.stdout.columns : undefined,
      term: tty ? process.env.TERM : undefined,
      timeoutS: o.timeout,
    });
  } catch (err) {
    fail(err);
    return;
  }
  const s = socket;
  if (tty) process.stdin.setRawMode(true);
  const done = new Promise<void>((resolve) => {
    const reader = new FrameReader((kind, payload) => {
      if (kind === Frame.Stdout) process.stdout.write(payload);
      else if (kind === Frame.Stderr) process.stderr.write(payload);
      else if (kind === Frame.Exit) process.exitCode = Number(payload.toString()) || 0;
    });
    s.on('data', (d: Buffer) => reader.push(d));
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
  if (withStdin) {
    process.stdin.on('data', (d: Buffer) => {
      if (!s.write(frame(Frame.Stdin, d))) process.stdin.pause();
    });
    s.on('drain', () => process.stdin.resume());
    process.stdin.on('end', () => s.write(frame(Frame.StdinEnd)));
  } else {
    s.write(frame(Frame.StdinEnd));
  }
  await done;
  if (tty) process.stdin.setRawMode(false);
  process.stdin.pause();
  process.stdin.unref?.();
}
