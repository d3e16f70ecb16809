/**
 * `nimbus ping` and `nimbus trace`: ping through the data plane (exit 0 reachable, 1 not),
 * trace as the analyzer's hop-by-hop explanation.
 */
import type { TraceProtocol } from '../core/model/index.js';
import type { Command } from 'commander';
import { ApiError } from '../client/client.js';
import { act, int, lower, structured } from './shared.js';

export function analyzerCommands(program: Command): void {
  program
    .command('ping')
    .description('ping an address from a server (exit 0 when it answers, 1 when not)')
    .argument('<server>', 'source server (name or id)')
    .argument('<ip>', 'destination address')
    .option('-c, --count <n>', 'echo requests to send', int('count'), 3)
    .action(
      act(null, async (c, server: string, ip: string, o: { count: number }, cmd: Command) => {
        const r = await c.ping({ server, destination: ip, count: o.count });
        if (!(await structured(cmd, r))) process.stdout.write(r.output);
        if (!r.reachable) process.exitCode = 1;
      }),
    );
  program
    .command('trace')
    .description('explain, hop by hop, whether traffic from a server reaches an address (exit 0 reachable, 1 not)')
    .argument('<source>', 'source server or load balancer (name or id; a load balancer traces from its VIP)')
    .argument('<destination>', 'an address, a server or a load balancer (name or id), with :port for tcp')
    .option('--protocol <proto>', 'icmp, tcp or udp (tcp when a port is given)', lower)
    .option('--port <n>', 'destination port (tcp, udp)', int('port'))
    .option('--probe', 'also send a real probe and say whether it agrees (linux data plane)')
    .option('--source-ip <ip>', "the source address the packets carry (the server's own by default; the VPC drops any other)")
    .action(
      act(null, async (c, server: string, destination: string, o: { protocol?: string; port?: number; probe?: boolean; sourceIp?: string }, cmd: Command) => {
        let ip = destination;
        let port = o.port;
        const m = /^(.+):(\d+)$/.exec(destination);
        if (m) {
          ip = m[1];
          port = Number(m[2]);
        }
        const protocol = o.protocol ?? (port !== undefined ? 'tcp' : 'icmp');
        if (!['icmp', 'tcp', 'udp'].includes(protocol)) throw new ApiError('InvalidParameterValue', `protocol: '${protocol}' must be icmp, tcp or udp`, 0);
        const r = await c.trace({ server, destination: ip, protocol: protocol as TraceProtocol, port, probe: o.probe, sourceIp: o.sourceIp });
        if (!(await structured(cmd, r))) {
          process.stdout.write(r.text);
          if (r.probe) {
            process.stdout.write(
              `probe: ${r.probe.reachable ? 'reachable' : 'unreachable'} (${r.probe.agrees ? 'agrees with' : 'DISAGREES with'} the analyzer)\n`,
            );
          }
        }
        if (!r.reachable) process.exitCode = 1;
      }),
    );
}
