/**
 * From a load balancer's resources to the engine's plain configuration. Members are
 * addressed where the data plane puts them (their private IP from inside the VPC on
 * linux; their workload's loopback address on virtual, admitted only when the analyzer
 * says the load balancer reaches them), and a stopped server's member takes no traffic.
 */
import type { EngineConfig, PolicyConfig } from '../../lb/config.js';
import type { HealthMonitor, Listener, LoadBalancer, Member, Pool, Refusal, Server } from '../../core/model/index.js';
import { LISTENER_LIMITS } from '../../core/model/index.js';
import type { Store } from '../../store/db.js';
import type { Topology } from '../../net/topology.js';
import { trace } from '../../net/trace.js';
import { policiesOf as orderedPolicies } from './l7-policy.js';
import { servedPem } from '../certificate/service.js';
import type { StoredCertificate } from '../../core/model/index.js';

export interface MemberAdmission {
  /** Why a member takes no traffic whatever its health, or null. */
  refusal: Refusal | null;
}

/** A listener's L7 policies in order, each with its rules (a listener without any: nothing). */
function policiesOf(store: Store, l: Listener): { policies?: PolicyConfig[] } {
  if (l.protocol === 'TCP') return {};
  const list = orderedPolicies(store, l.id);
  if (list.length === 0) return {};
  return {
    policies: list.map((p) => ({
      id: p.id,
      action: p.action,
      ...(p.redirectPoolId ? { poolId: p.redirectPoolId } : {}),
      ...(p.redirectUrl ? { url: p.redirectUrl } : {}),
      ...(p.redirectPrefix ? { prefix: p.redirectPrefix } : {}),
      ...(p.redirectHttpCode ? { code: p.redirectHttpCode } : {}),
      ...(p.fixedResponse ? { fixed: { status: p.fixedResponse.statusCode, contentType: p.fixedResponse.contentType, body: p.fixedResponse.body } } : {}),
      rules: p.rules.map((r) => ({ type: r.type, compare: r.compareType, key: r.key, value: r.value, invert: r.invert })),
    })),
  };
}

/** A TERMINATED_HTTPS listener's certificates, its default one first (one whose key cannot be opened is left out). */
function tlsOf(store: Store, l: Listener): { tls?: NonNullable<EngineConfig['listeners'][number]['tls']> } {
  if (l.protocol !== 'TERMINATED_HTTPS') return {};
  const certificates = [l.certificateId, ...(l.sniCertificateIds ?? [])].flatMap((id) => {
    const c = id ? store.get<StoredCertificate>(id, 'certificate') : undefined;
    const pem = c ? servedPem(c) : null;
    return pem ? [{ id: c!.id, ...pem }] : [];
  });
  return { tls: { certificates } };
}

export function engineConfig(
  store: Store,
  lb: LoadBalancer,
  plane: 'virtual' | 'linux' | 'ovn',
  /** The compiled topology, asked for only when a member's admission needs the analyzer (virtual plane). */
  topology: () => Topology,
  /** Why a server's workload cannot stay up, or null. */
  workloadFailure: (serverId: string) => string | null = () => null,
): { config: EngineConfig; admission: Map<string, MemberAdmission> } {
  const listeners = store.list<Listener>('listener', { parentId: lb.id });
  const pools = store.list<Pool>('pool', { parentId: lb.id });
  const admission = new Map<string, MemberAdmission>();
  const config: EngineConfig = {
    listeners: listeners.map((l) => ({
      ...policiesOf(store, l),
      ...tlsOf(store, l),
      id: l.id,
      protocol: l.protocol === 'TCP' ? ('TCP' as const) : ('HTTP' as const),
      port: l.port,
      poolId: l.defaultPoolId,
      bind: plane !== 'virtual' ? [lb.vip] : [],
      connectionLimit: l.connectionLimit ?? LISTENER_LIMITS.connectionLimit.default,
      timeouts: {
        clientData: l.timeoutClientData ?? LISTENER_LIMITS.timeoutClientData.default,
        memberConnect: l.timeoutMemberConnect ?? LISTENER_LIMITS.timeoutMemberConnect.default,
        memberData: l.timeoutMemberData ?? LISTENER_LIMITS.timeoutMemberData.default,
        httpRequest: l.timeoutHttpRequest ?? LISTENER_LIMITS.timeoutHttpRequest.default,
        tcpInspect: l.timeoutTcpInspect ?? LISTENER_LIMITS.timeoutTcpInspect.default,
      },
    })),
    pools: pools.map((p) => {
      const hm = store.list<HealthMonitor>('healthMonitor', { parentId: p.id })[0];
      const members = store.list<Member>('member', { parentId: p.id });
      return {
        id: p.id,
        algorithm: p.algorithm,
        persistence: p.sessionPersistence as EngineConfig['pools'][number]['persistence'],
        ...(p.timeoutMemberConnect != null || p.timeoutMemberData != null
          ? {
              timeouts: {
                ...(p.timeoutMemberConnect != null ? { memberConnect: p.timeoutMemberConnect } : {}),
                ...(p.timeoutMemberData != null ? { memberData: p.timeoutMemberData } : {}),
              },
            }
          : {}),
        health: hm
          ? {
              type: hm.type,
              delayMs: hm.delay * 1000,
              timeoutMs: hm.timeout * 1000,
              rise: hm.maxRetries,
              fall: hm.maxRetriesDown,
              urlPath: hm.urlPath,
              expectedCodes: hm.expectedCodes,
            }
          : null,
        members: members.map((m) => {
          const server = m.serverId ? store.get<Server>(m.serverId, 'server') : undefined;
          let refusal: Refusal | null = null;
          if (!m.adminStateUp) refusal = { code: 'ADMIN_DOWN', message: 'admin down' };
          else if (server && server.status !== 'running') refusal = { code: 'SERVER_STOPPED', message: `server ${server.name} is stopped` };
          else if (server && workloadFailure(server.id)) refusal = { code: 'WORKLOAD_DOWN', message: `server ${server.name}: ${workloadFailure(server.id)}` };
          else if (plane === 'virtual') {
            const r = trace(topology(), { sourceServerId: lb.id, destination: m.address, protocol: 'tcp', port: m.port });
            if (!r.reachable) {
              const b = r.blockedBy;
              refusal = { code: 'UNREACHABLE', message: `unreachable from the load balancer: ${b?.kind} ${b?.resourceName}: ${b?.reason}` };
            }
          }
          admission.set(m.id, { refusal });
          const host = plane === 'virtual' && server ? server.loopbackIp : m.address;
          const gone = refusal && refusal.code !== 'ADMIN_DOWN' ? { gone: refusal.message } : {};
          return { id: m.id, host, port: m.port, weight: m.weight, enabled: refusal === null, ...gone };
        }),
      };
    }),
  };
  return { config, admission };
}
