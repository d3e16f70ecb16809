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

export function chooseEngine(l: ListenerConfig, pool: PoolConfig | null, kernelPath: 'available' | string): EngineChoice {
  const user = (reason: string): EngineChoice => ({ engine: 'user-space', reason });
  if (l.protocol !== 'TCP') return user('HTTP is proxied in user space');
  if (kernelPath !== 'available') return user(kernelPath);
  if (pool?.algorithm === 'LEAST_CONNECTIONS') return user('LEAST_CONNECTIONS counts open connections, which the kernel path does not');
  if (pool?.persistence) return user(`${pool.persistence.type} persistence keeps a table with a timeout, which the kernel path does not`);
  if ((l.timeouts?.tcpInspect ?? 0) > 0) return user("timeout_tcp_inspect waits for the client's first bytes");
  if ((l.connectionLimit ?? -1) >= 0) return user('a connection limit is counted in user space');
  return { engine: 'kernel', reason: "nftables in the load balancer's namespace" };
}
