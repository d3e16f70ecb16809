/**
 * The IPv4 addresses sockets on this host are bound to, listening or not (from /proc/net/tcp;
 * empty where there is no such file). Addresses Nimbus hands out on the host's loopback (a
 * load balancer's public IP, an installation's workload range) skip them: another installation,
 * or a workload a killed daemon left running, holds them.
 */
import { readFileSync } from 'node:fs';

export function boundAddresses(): Set<number> {
  const out = new Set<number>();
  try {
    for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (!local) continue;
      // Little-endian hex: 0114007F is 127.0.20.1.
      const le = parseInt(local.slice(0, 8), 16);
      out.add((((le & 0xff) << 24) | (((le >>> 8) & 0xff) << 16) | (((le >>> 16) & 0xff) << 8) | (le >>> 24)) >>> 0);
    }
  } catch {
    // not Linux: nothing is known to be bound
  }
  return out;
}
