/**
 * Resource kinds and their prefixed ids (`vpc-0a1b2c3d4e5f6789`), as AWS writes them.
 */
import { randomBytes } from 'node:crypto';

export const KINDS = {
  project: 'proj',
  vpc: 'vpc',
  subnet: 'subnet',
  securityGroup: 'sg',
  securityGroupRule: 'sgr',
  server: 'ecs',
  routeTable: 'rtb',
  peering: 'pcx',
  loadBalancer: 'lb',
  listener: 'lsn',
  pool: 'pool',
  member: 'mbr',
  healthMonitor: 'hm',
  token: 'tok',
  topology: 'topo',
  targetGroup: 'tg',
  internetGateway: 'igw',
  elasticIp: 'eipalloc',
  natGateway: 'nat',
  internetHost: 'inet',
  networkAcl: 'acl',
  flowLog: 'fl',
  l7Policy: 'l7p',
  l7Rule: 'l7r',
  certificate: 'cert',
} as const;

export type Kind = keyof typeof KINDS;

/** An id of a resource of kind K; branded so a vpc id cannot be passed where a subnet id is expected. */
export type Id<K extends Kind> = string & { readonly __kind: K };

export function newId<K extends Kind>(kind: K): Id<K> {
  return `${KINDS[kind]}-${randomBytes(8).toString('hex')}` as Id<K>;
}

const ID_SHAPE = new Map((Object.keys(KINDS) as Kind[]).map((k) => [k, new RegExp(`^${KINDS[k]}-[0-9a-f]{16}$`)]));
const ANY_ID = new RegExp(`^(${Object.values(KINDS).join('|')})-[0-9a-f]{16}$`);

/** True when `value` has the shape of an id of `kind`. */
export function looksLikeId(kind: Kind, value: string): boolean {
  return ID_SHAPE.get(kind)!.test(value);
}

/** The kind of an id, by its prefix (null when it has none of ours). */
export function kindOfId(id: string): Kind | null {
  const prefix = id.slice(0, id.indexOf('-'));
  return (Object.keys(KINDS) as Kind[]).find((k) => KINDS[k] === prefix) ?? null;
}

/** True when `value` has the shape of an id of any kind. */
export function looksLikeAnyId(value: string): boolean {
  return ANY_ID.test(value);
}

/** Human names of kinds, for messages. */
export const KIND_LABEL: Record<Kind, string> = {
  project: 'project',
  vpc: 'VPC',
  subnet: 'subnet',
  securityGroup: 'security group',
  securityGroupRule: 'security group rule',
  server: 'server',
  routeTable: 'route table',
  peering: 'peering',
  loadBalancer: 'load balancer',
  listener: 'listener',
  pool: 'pool',
  member: 'member',
  healthMonitor: 'health monitor',
  token: 'token',
  topology: 'topology',
  targetGroup: 'target group',
  internetGateway: 'internet gateway',
  elasticIp: 'elastic IP',
  natGateway: 'NAT gateway',
  internetHost: 'internet host',
  networkAcl: 'network ACL',
  flowLog: 'flow log',
  l7Policy: 'L7 policy',
  l7Rule: 'L7 rule',
  certificate: 'certificate',
};
