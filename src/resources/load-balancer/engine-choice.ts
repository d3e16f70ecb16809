/**
 * Which engine serves a listener (pure). On the linux data plane a TCP listener is nftables
 * rules in the load balancer's namespace (dataplane/linux/l4.ts), as LVS is in a real cloud,
 * when what it asks for is something the kernel path does; everything else runs on the
 * user-space engine (src/lb). `lb show` says which, and why.
 */
import type { ListenerConfig, PoolConfig } from '../../lb/config.js';

export type EngineName = 'kernel' | 'user-space';

export interface EngineChoice {
  engine: EngineName;
  reason: string;
}

export function chooseEngine(l: ListenerConfig, pool: PoolConfig | null, kernelPath: 'available' | string, l7: L7EngineName = 'builtin'): EngineChoice {
  const by = l7 === 'haproxy' ? 'HAProxy' : "Nimbus's engine";
  const user = (reason: string): EngineChoice => ({ engine: 'user-space', reason: `${by}: ${reason}` });
  if (l.protocol !== 'TCP') return user('HTTP is proxied in user space');
  if (kernelPath !== 'available') return user(kernelPath);
  if (pool?.algorithm === 'LEAST_CONNECTIONS') return user('LEAST_CONNECTIONS counts open connections, which the kernel path does not');
  if (pool?.persistence) return user(`${pool.persistence.type} persistence keeps a table with a timeout, which the kernel path does not`);
  if ((l.timeouts?.tcpInspect ?? 0) > 0) return user("timeout_tcp_inspect waits for the client's first bytes");
  if ((l.connectionLimit ?? -1) >= 0) return user('a connection limit is counted in user space');
  return { engine: 'kernel', reason: "nftables in the load balancer's namespace" };
}

/** The installation's layer-7 engine (`nimbus serve --l7-engine`): HAProxy, or Nimbus's own. */
export type L7EngineName = 'haproxy' | 'builtin';
export type L7EngineChoice = { engine: L7EngineName; reason: string };

/** Whether TCP listeners can take the kernel path, or why not. */
export function kernelPathOf(dataplane: 'linux' | 'virtual' | 'ovn', tcpEngine: 'kernel' | 'user-space'): 'available' | string {
  if (dataplane === 'ovn') return 'the ovn data plane has no kernel path yet (its TCP listeners run on the user-space engine)';
  if (dataplane !== 'linux') return 'the virtual data plane has no kernel path';
  return tcpEngine === 'user-space' ? 'the daemon runs with --tcp-engine user-space' : 'available';
}

/**
 * `auto` (the default) takes HAProxy wherever it is installed, on every data plane: the
 * installation Octavia's amphora stands for (HAProxy for layer 7; on the linux plane the
 * kernel for layer 4). Without HAProxy, Nimbus's own engine serves, and the reason says why. A
 * named engine must be there.
 */
export function chooseL7Engine(asked: 'auto' | L7EngineName, haproxyAt: string | null): L7EngineChoice {
  if (asked === 'builtin') return { engine: 'builtin', reason: "Nimbus's own engine (--l7-engine builtin)" };
  if (asked === 'haproxy') {
    if (!haproxyAt) throw new Error('--l7-engine haproxy: haproxy is not installed (apt-get install haproxy, or bash scripts/install-deps.sh as root)');
    return { engine: 'haproxy', reason: `HAProxy (${haproxyAt}, --l7-engine haproxy)` };
  }
  if (!haproxyAt)
    return { engine: 'builtin', reason: "Nimbus's own engine: haproxy is not installed (apt-get install haproxy, or bash scripts/install-deps.sh as root)" };
  return { engine: 'haproxy', reason: `HAProxy (${haproxyAt})` };
}
