/**
 * `nimbus serve` (the daemon) and `nimbus status`.
 */
import { Option, type Command } from 'commander';
import { act, collect, int, structured } from './shared.js';
import type { DataplaneChoice } from '../dataplane/choose.js';

export function daemonCommands(program: Command): void {
  program
    .command('serve')
    .description('run the daemon: the API, the data plane, workloads and load balancers (data in ~/.nimbus or --data)')
    .option('--port <n>', 'port to listen on', int('port'), 7700)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--data <dir>', 'data directory (SQLite database and logs)', process.env.NIMBUS_DATA)
    .addOption(
      new Option('--dataplane <kind>', 'linux (real kernel objects, root), ovn (OVN across chassis, root), virtual, or auto')
        .choices(['auto', 'linux', 'ovn', 'virtual'])
        .default('auto'),
    )
    .option('--chassis <n>', 'ovn plane: simulated chassis to start on this machine when there is none yet', int('chassis'), 1)
    .option(
      '--join-hosts',
      'ovn plane: let other hosts join as chassis (nimbus chassis join): links the underlay (198.18.0.0/16) to this host, turns IPv4 forwarding on, forwards only Geneve and the southbound into it',
    )
    .option('--prefix <p>', 'prefix of kernel object names (2-4 letters), one per installation')
    .option('--allow-host <name>', 'a host name requests may name besides the loopback ones (repeatable)', collect)
    .addOption(
      new Option('--tcp-engine <engine>', 'TCP listeners on the linux plane: kernel (nftables, where the listener allows) or user-space')
        .choices(['kernel', 'user-space'])
        .default('kernel'),
    )
    .addOption(
      new Option(
        '--l7-engine <engine>',
        "HTTP and user-space TCP listeners: haproxy (one HAProxy per load balancer), builtin (Nimbus's own), or auto (HAProxy where installed)",
      )
        .choices(['auto', 'haproxy', 'builtin'])
        .default('auto'),
    )
    .action(
      async (o: {
        port: number;
        host: string;
        data?: string;
        dataplane: DataplaneChoice;
        prefix?: string;
        chassis: number;
        joinHosts?: boolean;
        allowHost?: string[];
        tcpEngine: 'kernel' | 'user-space';
        l7Engine: 'auto' | 'haproxy' | 'builtin';
      }) => {
        try {
          // The daemon's code (Fastify, SQLite, the data plane) is loaded only by this command.
          const { startDaemon } = await import('../daemon.js');
          if (!['127.0.0.1', 'localhost', '::1'].includes(o.host)) {
            process.stderr.write(
              `warning: listening on ${o.host}, beyond this machine: every request needs a token, but traffic is plain HTTP (put TLS in front)\n`,
            );
          }
          const d = await startDaemon({
            port: o.port,
            host: o.host,
            dataDir: o.data,
            dataplane: o.dataplane,
            prefix: o.prefix,
            chassis: o.chassis,
            joinHosts: o.joinHosts,
            allowHosts: o.allowHost,
            tcpEngine: o.tcpEngine,
            l7Engine: o.l7Engine,
          });
          const st = d.dataplane.status();
          process.stdout.write(`nimbus listening on ${d.url} (data plane: ${st.kind}; ${st.reason}; layer 7: ${d.loadBalancers.l7.reason})\n`);
          // As Jupyter does: the console's address with a one-time login token (`nimbus console` gives another).
          process.stdout.write(`console: ${d.consoleUrl()}\n`);
          const stop = async () => {
            await d.close();
            process.exit(0);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          // A data plane that cannot start (its packages, another installation's hold on the host) ends the daemon, saying why.
          d.ready.catch(async (err: Error & { code?: string }) => {
            process.stderr.write(`${err.code ?? 'Error'}: the data plane could not start: ${err.message}\n`);
            // Nothing else started: the API stops answering (close() would wait for the first pass, which never comes).
            await d.app.close().catch(() => undefined);
            process.exit(1);
          });
        } catch (err) {
          const e = err as { code?: string; message: string };
          process.stderr.write(`${e.code ?? 'Error'}: ${e.message}\n`);
          process.exit(1);
        }
      },
    );
  program
    .command('console')
    .description("print the web console's address with a one-time login token (for your token's project, or every project with the admin's)")
    .action(
      act(null, async (c, _o: unknown, cmd: Command) => {
        const r = await c.request<{ url: string }>('POST', '/v1/console/logins', {});
        if (!(await structured(cmd, r))) process.stdout.write(`${r.url}\n`);
      }),
    );
  program
    .command('status')
    .description('show the daemon and its data plane')
    .action(
      act(null, async (c, _o: unknown, cmd: Command) => {
        const s = await c.status();
        if (await structured(cmd, s)) return;
        const lines = [
          `daemon     ${c.url} (version ${s.version})`,
          `dataplane  ${s.dataplane.kind}: ${s.dataplane.reason}`,
          `converged  ${s.dataplane.converged ? 'yes' : 'no'}`,
          ...s.dataplane.errors.map((e) => `error      ${e.resourceId}: ${e.message}`),
          ...s.notes.map((n) => `note       ${n}`),
        ];
        process.stdout.write(lines.join('\n') + '\n');
      }),
    );
}
