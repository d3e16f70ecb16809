/**
 * The class behind "quotas AWS has and Nimbus did not": every quota kind, one by one, binds a
 * project token at its limit with its code (AWS's where it has one), and a refusal changes
 * nothing. A kind added to QUOTA_KINDS without a case here fails the first test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryCloud, refuses } from '../../test/helpers/cloud.js';
import { QUOTA_CODES, QUOTA_KINDS, DEFAULT_QUOTAS, type QuotaKind } from '../core/model/quotas.js';
import type { ErrorCode } from '../core/errors.js';
import type { Ctx } from './context.js';
import { updateProject } from './project/service.js';
import { createVpc } from './vpc/service.js';
import { createSubnet } from './subnet/service.js';
import { createServer } from './server/service.js';
import { addRule, createSecurityGroup } from './security-group/service.js';
import { addRoute } from './route-table/service.js';
import { createPeering } from './peering/service.js';
import { createLoadBalancer } from './load-balancer/load-balancer.js';
import { createListener } from './load-balancer/listener.js';
import { createPool } from './load-balancer/pool.js';
import { allocateElasticIp, createInternetGateway, createNatGateway } from './edge/service.js';
import { addAclRule, createNetworkAcl } from './network-acl/service.js';
import { createFlowLog } from './flow-log/service.js';
import { importCertificate, selfSign } from './certificate/service.js';

const lab = await selfSign(['quota.example'], 30);

/** Per kind: what the project needs first, and one more of the kind (called with n = 0, 1, ...). */
const CASES: Record<QuotaKind, { setup?: (ctx: Ctx) => void; one: (ctx: Ctx, n: number) => unknown }> = {
  vpcs: { one: (ctx, n) => createVpc(ctx, { name: `v${n}`, cidr: `10.${n}.0.0/16` }) },
  subnetsPerVpc: {
    setup: (ctx) => createVpc(ctx, { name: 'v', cidr: '10.0.0.0/16' }),
    one: (ctx, n) => createSubnet(ctx, { name: `s${n}`, vpc: 'v', cidr: `10.0.${n}.0/24` }),
  },
  servers: {
    setup: (ctx) => (createVpc(ctx, { name: 'v', cidr: '10.0.0.0/16' }), createSubnet(ctx, { name: 's', vpc: 'v', cidr: '10.0.0.0/24' })),
    one: (ctx, n) => createServer(ctx, { name: `e${n}`, subnet: 's' }),
  },
  securityGroups: { one: (ctx, n) => createSecurityGroup(ctx, { name: `g${n}` }) },
  inboundRulesPerGroup: {
    setup: (ctx) => createSecurityGroup(ctx, { name: 'g' }),
    one: (ctx, n) => addRule(ctx, 'g', { direction: 'ingress', protocol: 'tcp', ports: `${n + 1}`, remote: '0.0.0.0/0' }),
  },
  outboundRulesPerGroup: {
    // The group's default egress rule counts: the setup removes nothing, so one fewer fits.
    setup: (ctx) => createSecurityGroup(ctx, { name: 'g' }),
    one: (ctx, n) => addRule(ctx, 'g', { direction: 'egress', protocol: 'udp', ports: `${n + 1}`, remote: '0.0.0.0/0' }),
  },
  routesPerTable: {
    setup: (ctx) => {
      createVpc(ctx, { name: 'v', cidr: '10.0.0.0/16' });
      createVpc(ctx, { name: 'w', cidr: '10.1.0.0/16' });
      createPeering(ctx, { name: 'p', vpc: 'v', peerVpc: 'w' });
    },
    one: (ctx, n) => addRoute(ctx, { vpc: 'v', destination: `172.16.${n}.0/24`, target: 'p' }),
  },
  peeringsPerVpc: {
    setup: (ctx) => {
      createVpc(ctx, { name: 'hub', cidr: '10.0.0.0/16' });
      for (const n of [0, 1, 2, 3, 99]) createVpc(ctx, { name: `spoke${n}`, cidr: `10.${n + 1}.0.0/16` });
    },
    one: (ctx, n) => createPeering(ctx, { name: `p${n}`, vpc: 'hub', peerVpc: `spoke${n}` }),
  },
  loadBalancers: {
    setup: (ctx) => (createVpc(ctx, { name: 'v', cidr: '10.0.0.0/16' }), createSubnet(ctx, { name: 's', vpc: 'v', cidr: '10.0.0.0/24' })),
    one: (ctx, n) => createLoadBalancer(ctx, { name: `lb${n}`, subnet: 's' }),
  },
  listenersPerLoadBalancer: {
    setup: (ctx) => {
      createVpc(ctx, { name: 'v', cidr: '10.0.0.0/16' });
      createSubnet(ctx, { name: 's', vpc: 'v', cidr: '10.0.0.0/24' });
      createLoadBalancer(ctx, { name: 'lb', subnet: 's' });
      createPool(ctx, { name: 'p', loadBalancer: 'lb', protocol: 'http', algorithm: 'round_robin' });
    },
    one: (ctx, n) => createListener(ctx, { name: `l${n}`, loadBalancer: 'lb', protocol: 'http', port: 1000 + n, defaultPool: 'p' }),
  },
  internetGateways: { one: (ctx, n) => createInternetGateway(ctx, { name: `igw${n}` }) },
  elasticIps: { one: (ctx, n) => allocateElasticIp(ctx, { name: `eip${n}` }) },
  // The default ACL is not counted: each VPC has one besides the quota's.
  networkAclsPerVpc: {
    setup: (ctx) => createVpc(ctx, { name: 'v', cidr: '10.0.0.0/16' }),
    one: (ctx, n) => createNetworkAcl(ctx, { name: `acl${n}`, vpc: 'v' }),
  },
  rulesPerNetworkAcl: {
    setup: (ctx) => (createVpc(ctx, { name: 'v', cidr: '10.0.0.0/16' }), createNetworkAcl(ctx, { name: 'acl', vpc: 'v' })),
    one: (ctx, n) => addAclRule(ctx, 'acl', { number: n + 1, direction: 'ingress', action: 'allow', protocol: 'tcp', ports: `${n + 1}`, cidr: '0.0.0.0/0' }),
  },
  flowLogsPerResource: {
    setup: (ctx) => createVpc(ctx, { name: 'v', cidr: '10.0.0.0/16' }),
    one: (ctx, n) => createFlowLog(ctx, { name: `f${n}`, vpc: 'v', trafficType: ['ALL', 'ACCEPT', 'REJECT'][n % 3] }),
  },
  certificates: { one: (ctx, n) => importCertificate(ctx, { name: `c${n}`, certificatePem: lab.certPem, privateKeyPem: lab.keyPem }) },
  natGateways: {
    setup: (ctx) => {
      createVpc(ctx, { name: 'v', cidr: '10.0.0.0/16' });
      createSubnet(ctx, { name: 's', vpc: 'v', cidr: '10.0.0.0/24' });
      createInternetGateway(ctx, { name: 'igw', vpc: 'v' });
    },
    // Each gateway takes an elastic IP: the admin allocates them, unbound by the project's quota of those.
    one: (ctx, n) => {
      allocateElasticIp({ ...ctx, admin: true }, { name: `nat-eip${n}` });
      return createNatGateway(ctx, { name: `nat${n}`, subnet: 's', elasticIp: `nat-eip${n}` });
    },
  },
};

test('every quota kind has a case here', () => {
  assert.deepEqual(Object.keys(CASES).sort(), [...QUOTA_KINDS].sort());
});

for (const kind of QUOTA_KINDS) {
  test(`quota ${kind} (default ${DEFAULT_QUOTAS[kind]}) binds a project token with ${QUOTA_CODES[kind] ?? 'QuotaExceeded'}`, () => {
    const cloud = memoryCloud();
    const admin = cloud.other('p');
    const ctx = { ...admin, admin: false };
    const limit = 3;
    updateProject(admin, 'p', { quotas: { [kind]: limit } });
    CASES[kind].setup?.(admin);
    let made = 0;
    for (; made < limit + 1; made++) {
      try {
        CASES[kind].one(ctx, made);
      } catch (err) {
        assert.equal((err as { code: string }).code, QUOTA_CODES[kind] ?? 'QuotaExceeded', (err as Error).message);
        break;
      }
    }
    assert.ok(made <= limit, `${made} made with a quota of ${limit}`);
    assert.ok(made >= limit - 1, `only ${made} made with a quota of ${limit}`);
    refuses(() => CASES[kind].one(ctx, 99), (QUOTA_CODES[kind] ?? 'QuotaExceeded') as ErrorCode, `quota of ${kind} is ${limit}`);
  });
}
