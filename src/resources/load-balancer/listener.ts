/**
 * Listeners: a protocol and a port of a load balancer (unique per load balancer), and the
 * pool they send to, of the same load balancer and protocol.
 */
import { checkMutable } from './mutable.js';
import { NimbusError, invalid } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type {
  L7Policy,
  LbProtocol,
  Listener,
  ListenerInput,
  ListenerProtocol,
  ListenerUpdate,
  LoadBalancer,
  Pool,
  StoredCertificate,
} from '../../core/model/index.js';
import { LISTENER_LIMITS, MAX_LISTENER_CERTIFICATES, checkPort, poolProtocolOf, type ListenerLimit } from '../../core/model/index.js';
import { checkName, checkQuota, now, resolve, saveDelete, saveNew, saveUpdate, write, type Ctx } from '../context.js';
import { listenerProtocolOf } from './rules.js';

/** The listener's limits: what the input gives (checked against Octavia's bounds), else what it had, else the defaults. */
function listenerLimits(input: Partial<Record<ListenerLimit, number>>, had: Partial<Record<ListenerLimit, number>>): Record<ListenerLimit, number> {
  const out = {} as Record<ListenerLimit, number>;
  for (const [k, spec] of Object.entries(LISTENER_LIMITS) as [ListenerLimit, (typeof LISTENER_LIMITS)[ListenerLimit]][]) {
    const v = input[k] ?? had[k] ?? spec.default;
    if (!Number.isInteger(v) || v < spec.min || v > spec.max) throw invalid(`${k}: '${v}' must be a whole number from ${spec.min} to ${spec.max}`);
    out[k] = v;
  }
  return out;
}

export function listListeners(ctx: Ctx, loadBalancerId?: string): Listener[] {
  return ctx.store.list<Listener>('listener', loadBalancerId ? { parentId: loadBalancerId } : { projectId: ctx.projectId });
}

function poolFor(ctx: Ctx, lb: LoadBalancer, ref: string | null | undefined, listenerProtocol: ListenerProtocol): string | null {
  if (ref === undefined || ref === null || ref === '') return null;
  const protocol: LbProtocol = poolProtocolOf(listenerProtocol);
  const pool = resolve<Pool>(ctx, 'pool', ref, 'defaultPool');
  if (pool.loadBalancerId !== lb.id) {
    throw new NimbusError('InvalidPool.ProtocolMismatch', `pool '${pool.name}' belongs to another load balancer than '${lb.name}'`);
  }
  if (pool.protocol !== protocol) {
    throw new NimbusError(
      'InvalidPool.ProtocolMismatch',
      `listener protocol ${listenerProtocol} and pool '${pool.name}' protocol ${pool.protocol} are not compatible`,
    );
  }
  return pool.id;
}

/**
 * A TERMINATED_HTTPS listener's certificates (Octavia's default and SNI containers): the
 * default one is required, and the SNI ones are distinct from it and each other. Other
 * protocols take none.
 */
function certificatesFor(
  ctx: Ctx,
  protocol: ListenerProtocol,
  input: { certificate?: string; sniCertificates?: string[] },
  had: { certificateId?: string | null; sniCertificateIds?: string[] },
): { certificateId: string | null; sniCertificateIds: string[] } {
  if (protocol !== 'TERMINATED_HTTPS') {
    if (input.certificate !== undefined) throw invalid(`certificate: a ${protocol} listener takes no certificate; TERMINATED_HTTPS ends TLS`);
    if (input.sniCertificates?.length) throw invalid(`sniCertificates: a ${protocol} listener takes no certificate; TERMINATED_HTTPS ends TLS`);
    return { certificateId: null, sniCertificateIds: [] };
  }
  const one = (ref: string, field: string) => resolve<StoredCertificate>(ctx, 'certificate', ref, field).id;
  const certificateId = input.certificate !== undefined ? one(input.certificate, 'certificate') : (had.certificateId ?? null);
  if (!certificateId) throw invalid('certificate: a TERMINATED_HTTPS listener needs a certificate (nimbus cert import, or cert create --self-signed)');
  const sni = input.sniCertificates !== undefined ? input.sniCertificates.map((r) => one(r, 'sniCertificates')) : (had.sniCertificateIds ?? []);
  const all = [certificateId, ...sni];
  const twice = all.find((id, i) => all.indexOf(id) !== i);
  if (twice) throw invalid(`sniCertificates: certificate '${ctx.store.get<StoredCertificate>(twice, 'certificate')?.name ?? twice}' is named twice`);
  if (all.length > MAX_LISTENER_CERTIFICATES)
    throw invalid(`sniCertificates: ${all.length} certificates; a listener holds at most ${MAX_LISTENER_CERTIFICATES}`);
  return { certificateId, sniCertificateIds: sni };
}

export function createListener(ctx: Ctx, input: ListenerInput): Listener {
  return write(ctx, () => {
    const name = checkName(ctx, 'listener', input.name);
    const lb = resolve<LoadBalancer>(ctx, 'loadBalancer', input.loadBalancer, 'loadBalancer');
    checkMutable(ctx, lb.id);
    checkQuota(ctx, 'listenersPerLoadBalancer', listListeners(ctx, lb.id).length, `listeners on load balancer '${lb.name}'`);
    const protocol = listenerProtocolOf(input.protocol, 'protocol');
    checkPort(input.port);
    const clash = listListeners(ctx, lb.id).find((l) => l.port === input.port);
    if (clash) throw new NimbusError('DuplicateListener', `port ${input.port} of load balancer '${lb.name}' is already used by listener '${clash.name}'`);
    const listener: Listener = {
      id: newId('listener'),
      name,
      projectId: ctx.projectId,
      loadBalancerId: lb.id,
      protocol,
      port: input.port,
      defaultPoolId: poolFor(ctx, lb, input.defaultPool, protocol),
      ...certificatesFor(ctx, protocol, input, {}),
      ...listenerLimits(input, {}),
      createdAt: now(),
    };
    saveNew(ctx, 'listener', listener, lb.id);
    return listener;
  });
}

export const getListener = (ctx: Ctx, ref: string) => resolve<Listener>(ctx, 'listener', ref);

export function updateListener(ctx: Ctx, ref: string, input: ListenerUpdate): Listener {
  return write(ctx, () => {
    const l = getListener(ctx, ref);
    checkMutable(ctx, l.loadBalancerId);
    if (input.name !== undefined) l.name = checkName(ctx, 'listener', input.name, l.id);
    if (input.defaultPool !== undefined)
      l.defaultPoolId = poolFor(ctx, ctx.store.get<LoadBalancer>(l.loadBalancerId, 'loadBalancer')!, input.defaultPool, l.protocol);
    if (input.certificate !== undefined || input.sniCertificates !== undefined) Object.assign(l, certificatesFor(ctx, l.protocol, input, l));
    Object.assign(l, listenerLimits(input, l));
    saveUpdate(ctx, 'listener', l);
    return l;
  });
}

export function deleteListener(ctx: Ctx, ref: string): Listener {
  return write(ctx, () => {
    const l = getListener(ctx, ref);
    checkMutable(ctx, l.loadBalancerId);
    // Its L7 policies go with it (as AWS's rules go with their listener).
    for (const p of ctx.store.list<L7Policy>('l7Policy', { parentId: l.id })) saveDelete(ctx, 'l7Policy', p);
    saveDelete(ctx, 'listener', l);
    return l;
  });
}
