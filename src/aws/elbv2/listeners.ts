/**
 * Listeners and their rules. CreateListener binds the target group it forwards to: the group
 * becomes a pool of that load balancer (its targets members, its check a health monitor).
 * Its default rule forwards to one target group; other rules are L7 policies (rules.ts).
 */
import { NimbusError } from '../../core/errors.js';
import type { Listener, LoadBalancer } from '../../core/model/index.js';
import { saveUpdate, write, type Ctx } from '../../resources/context.js';
import * as elb from '../../resources/load-balancer/service.js';
import { AwsError } from '../codec.js';
import {
  addTags,
  getLb,
  getListener,
  getTg,
  groupOfPool,
  idOf,
  lbArn,
  lbType,
  listenerArn,
  required,
  tgArn,
  type Handler,
  type In,
  type Out,
  type TargetGroup,
  freshName,
  attr,
  setAttr,
} from './kit.js';
import { certificateArn } from '../kit.js';
import { certificateIdOf } from '../../resources/certificate/service.js';
import { memberInput, monitorOf, poolSettings } from './target-groups.js';

function actionsOut(ctx: Ctx, region: string, l: Listener): Out[] {
  const tg = groupOfPool(ctx, l.defaultPoolId);
  return tg
    ? [
        {
          Type: 'forward',
          TargetGroupArn: tgArn(ctx, region, tg),
          ForwardConfig: { TargetGroups: [{ TargetGroupArn: tgArn(ctx, region, tg), Weight: 1 }], TargetGroupStickinessConfig: { Enabled: false } },
        },
      ]
    : [];
}

/** A listener's protocol as ELBv2 names it: HTTPS for Octavia's TERMINATED_HTTPS. */
const awsProtocol = (l: Listener) => (l.protocol === 'TERMINATED_HTTPS' ? 'HTTPS' : l.protocol);
/** ELBv2's default security policy; Nimbus keeps the one given and serves TLS 1.2 and 1.3 with its engine's ciphers whatever it is. */
const DEFAULT_SSL_POLICY = 'ELBSecurityPolicy-2016-08';

function listenerOut(ctx: Ctx, region: string, l: Listener): Out {
  const lb = ctx.store.get<LoadBalancer>(l.loadBalancerId, 'loadBalancer')!;
  const https = l.protocol === 'TERMINATED_HTTPS';
  return {
    ListenerArn: listenerArn(ctx, region, lb, l),
    LoadBalancerArn: lbArn(ctx, region, lb),
    Port: l.port,
    Protocol: awsProtocol(l),
    DefaultActions: actionsOut(ctx, region, l),
    // As DescribeListeners answers: the default certificate only (DescribeListenerCertificates lists the others).
    ...(https
      ? { Certificates: [{ CertificateArn: certificateArn(ctx, region, l.certificateId!) }], SslPolicy: attr(ctx, l.id, 'sslPolicy') ?? DEFAULT_SSL_POLICY }
      : {}),
  };
}

/** The certificates of a `Certificates` list (ACM ARNs, or Nimbus names or ids), as the listener service takes them. */
function certificatesIn(list: unknown): string[] {
  return ((list ?? []) as In[]).map((c) => {
    if (!c?.CertificateArn) throw new AwsError('ValidationError', 'Certificates: each needs a CertificateArn');
    return idOf(c.CertificateArn);
  });
}

/** Makes a target group the pool of `lb` (the first listener that forwards to it). */
function bind(ctx: Ctx, tg: TargetGroup, lb: LoadBalancer): TargetGroup {
  if (tg.loadBalancerId === lb.id && tg.poolId) return tg;
  if (tg.loadBalancerId)
    throw new NimbusError('TargetGroup.InUse', `target group '${tg.name}' is bound to another load balancer (a Nimbus pool belongs to one load balancer)`);
  if (tg.vpcId && tg.vpcId !== lb.vpcId)
    throw new AwsError('ValidationError', `Target group '${tg.name}' is in VPC ${tg.vpcId}, not in the load balancer's VPC ${lb.vpcId}`);
  const s = poolSettings(tg);
  const pool = elb.createPool(ctx, {
    name: tg.name,
    loadBalancer: lb.id,
    protocol: tg.protocol,
    algorithm: s.algorithm,
    persistence: s.persistence,
    ...(s.cookieName ? { cookieName: s.cookieName } : {}),
  });
  for (const t of tg.targets) elb.createMember(ctx, memberInput(pool.id, t));
  if (tg.health.enabled) elb.createHealthMonitor(ctx, { pool: pool.id, ...monitorOf(tg.health) });
  const bound = { ...tg, poolId: pool.id, loadBalancerId: lb.id };
  saveUpdate(ctx, 'targetGroup', bound);
  return bound;
}

function forwardTarget(actions: In[]): string {
  const fwd = actions.find((a) => a.Type === 'forward');
  const arn = fwd?.TargetGroupArn ?? (fwd?.ForwardConfig?.TargetGroups as In[] | undefined)?.[0]?.TargetGroupArn;
  if (!arn) throw new AwsError('ValidationError', 'DefaultActions: one forward action with a TargetGroupArn is required (Nimbus serves forward actions only)');
  if (actions.length > 1 || ((fwd?.ForwardConfig?.TargetGroups as In[] | undefined)?.length ?? 0) > 1)
    throw new AwsError('ValidationError', 'DefaultActions: Nimbus forwards to one target group per listener');
  return String(arn);
}

/** Binds a target group to `lb` for a listener or rule of `protocol` (a pool of that load balancer). */
export function bindGroup(ctx: Ctx, tg: TargetGroup, lb: LoadBalancer, protocol: string): TargetGroup {
  checkProtocols(ctx, lb, protocol, tg);
  return bind(ctx, tg, lb);
}

/** ELBv2's protocols per type: HTTP on application load balancers, TCP on network ones, matching the target group's. */
function checkProtocols(ctx: Ctx, lb: LoadBalancer, protocol: string, tg: TargetGroup): void {
  const type = lbType(ctx, lb);
  const allowed = type === 'network' ? ['TCP'] : ['HTTP', 'HTTPS'];
  if (!allowed.includes(protocol))
    throw new AwsError('ValidationError', `Protocol '${protocol}' is not one Nimbus serves on ${type} load balancers (${allowed.join(', ')})`);
  // An HTTPS listener ends TLS and sends HTTP to its targets.
  if (tg.protocol !== (protocol === 'HTTPS' ? 'HTTP' : protocol))
    throw new AwsError(
      'IncompatibleProtocols',
      `The listener's protocol '${protocol}' and target group '${tg.name}''s protocol '${tg.protocol}' are incompatible`,
    );
}

/** A Nimbus name for a listener (names are per project, ports per load balancer). */
function listenerName(ctx: Ctx, lb: LoadBalancer, protocol: string, port: number): string {
  const base = `${lb.name}-${protocol.toLowerCase()}-${port}`.slice(0, 60);
  return ctx.store.byName('listener', ctx.projectId, base)
    ? freshName(
        elb.listListeners(ctx).map((l) => l.name),
        base.slice(0, 56),
      )
    : base;
}

export const LISTENERS: Record<string, Handler> = {
  CreateListener: (ctx, input, region) => {
    const lb = getLb(ctx, required(input, 'LoadBalancerArn'));
    const protocol = String(input.Protocol ?? (lbType(ctx, lb) === 'network' ? 'TCP' : 'HTTP')).toUpperCase();
    const port = Number(required(input, 'Port'));
    if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new AwsError('ValidationError', `Port '${String(input.Port)}' must be from 1 to 65535`);
    if (elb.listListeners(ctx, lb.id).some((l) => l.port === port))
      throw new AwsError('DuplicateListener', `A listener already exists on port ${port} of '${lb.name}'`);
    const certs = certificatesIn(input.Certificates);
    if (protocol === 'HTTPS' && certs.length !== 1)
      throw new AwsError('ValidationError', 'Certificates: an HTTPS listener takes exactly one default certificate (AddListenerCertificates adds more)');
    if (protocol !== 'HTTPS' && certs.length > 0) throw new AwsError('ValidationError', `Certificates: a ${protocol} listener takes none`);
    const l = write(ctx, () => {
      const group = getTg(ctx, forwardTarget((input.DefaultActions ?? []) as In[]));
      checkProtocols(ctx, lb, protocol, group);
      const tg = bind(ctx, group, lb);
      const made = elb.createListener(ctx, {
        name: listenerName(ctx, lb, protocol, port),
        loadBalancer: lb.id,
        protocol,
        port,
        defaultPool: tg.poolId!,
        ...(certs.length ? { certificate: certs[0] } : {}),
      });
      if (protocol === 'HTTPS' && input.SslPolicy) setAttr(ctx, made.id, 'sslPolicy', String(input.SslPolicy));
      addTags(ctx, [made.id], (input.Tags ?? []) as In[]);
      return made;
    });
    return { Listeners: [listenerOut(ctx, region, l)] };
  },
  DescribeListeners: (ctx, input, region) => {
    const arns = ((input.ListenerArns ?? []) as string[]).map(idOf);
    const lb = input.LoadBalancerArn ? getLb(ctx, input.LoadBalancerArn) : null;
    if (!lb && arns.length === 0) throw new AwsError('ValidationError', 'LoadBalancerArn or ListenerArns is required');
    const all = elb.listListeners(ctx, lb?.id);
    for (const a of arns) if (!all.some((l) => l.id === a)) throw new AwsError('ListenerNotFound', `One or more listeners not found: '${a}'`);
    return { Listeners: all.filter((l) => arns.length === 0 || arns.includes(l.id)).map((l) => listenerOut(ctx, region, l)) };
  },
  ModifyListener: (ctx, input, region) => {
    const l = getListener(ctx, required(input, 'ListenerArn'));
    const lb = ctx.store.get<LoadBalancer>(l.loadBalancerId, 'loadBalancer')!;
    if (input.Port !== undefined && Number(input.Port) !== l.port)
      throw new AwsError('ValidationError', `Port: Nimbus keeps a listener's port (${l.port}); create another listener`);
    if (input.Protocol !== undefined && String(input.Protocol).toUpperCase() !== awsProtocol(l))
      throw new AwsError('ValidationError', `Protocol: Nimbus keeps a listener's protocol (${awsProtocol(l)})`);
    const certs = certificatesIn(input.Certificates);
    if (certs.length > 1) throw new AwsError('ValidationError', 'Certificates: one default certificate (AddListenerCertificates adds more)');
    const next = write(ctx, () => {
      let out = l;
      if (certs.length) out = elb.updateListener(ctx, l.id, { certificate: certs[0] });
      if (input.SslPolicy !== undefined) {
        if (l.protocol !== 'TERMINATED_HTTPS') throw new AwsError('ValidationError', `SslPolicy: a ${awsProtocol(l)} listener has none`);
        setAttr(ctx, l.id, 'sslPolicy', String(input.SslPolicy));
      }
      if (!input.DefaultActions?.length) return out;
      const group = getTg(ctx, forwardTarget(input.DefaultActions as In[]));
      checkProtocols(ctx, lb, awsProtocol(l), group);
      const tg = bind(ctx, group, lb);
      return elb.updateListener(ctx, l.id, { defaultPool: tg.poolId });
    });
    return { Listeners: [listenerOut(ctx, region, next)] };
  },
  DeleteListener: (ctx, input) => {
    elb.deleteListener(ctx, getListener(ctx, required(input, 'ListenerArn')).id);
    return {};
  },
  // The certificates besides the default one: Octavia's SNI containers.
  AddListenerCertificates: (ctx, input, region) => {
    const l = getListener(ctx, required(input, 'ListenerArn'));
    const add = certificatesIn(input.Certificates).map((ref) => certificateIdOf(ctx, ref));
    const next = elb.updateListener(ctx, l.id, {
      sniCertificates: [...new Set([...(l.sniCertificateIds ?? []), ...add.filter((id) => id !== l.certificateId)])],
    });
    return { Certificates: (next.sniCertificateIds ?? []).map((id) => ({ CertificateArn: certificateArn(ctx, region, id), IsDefault: false })) };
  },
  RemoveListenerCertificates: (ctx, input) => {
    const l = getListener(ctx, required(input, 'ListenerArn'));
    const drop = new Set(certificatesIn(input.Certificates).map((ref) => certificateIdOf(ctx, ref)));
    if (l.certificateId && drop.has(l.certificateId))
      throw new AwsError('OperationNotPermitted', 'The default certificate cannot be removed; ModifyListener sets another');
    elb.updateListener(ctx, l.id, { sniCertificates: (l.sniCertificateIds ?? []).filter((id) => !drop.has(id)) });
    return {};
  },
  DescribeListenerCertificates: (ctx, input, region) => {
    const l = getListener(ctx, required(input, 'ListenerArn'));
    const all = l.certificateId ? [{ id: l.certificateId, IsDefault: true }, ...(l.sniCertificateIds ?? []).map((id) => ({ id, IsDefault: false }))] : [];
    return { Certificates: all.map((c) => ({ CertificateArn: certificateArn(ctx, region, c.id), IsDefault: c.IsDefault })) };
  },
  DescribeListenerAttributes: (ctx, input) => {
    const l = getListener(ctx, required(input, 'ListenerArn'));
    // AWS's one listener attribute (TCP's idle timeout), as AWS sets it; Nimbus's is the listener's own timeout.
    return { Attributes: l.protocol === 'TCP' ? [{ Key: 'tcp.idle_timeout.seconds', Value: '350' }] : [] };
  },
};
