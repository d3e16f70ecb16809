/**
 * The reference lab's part 1 through AWS's EC2 SDK, in two steps (the servers, then the
 * peering and its routes), and its part 2 through the ELBv2 SDK, for the AWS endpoint's tests
 * on both data planes.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  CreateRouteCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  AcceptVpcPeeringConnectionCommand,
  CreateVpcPeeringConnectionCommand,
  DescribeRouteTablesCommand,
  RunInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
  type ElasticLoadBalancingV2Client,
  type LoadBalancer,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { NimbusClient } from '../../src/client/client.js';
import type { Server } from '../../src/core/model/index.js';
import { checkPart2, waitUp, LISTEN_PORT } from './lab.js';

export const tag = (name: string, type: string) => [{ ResourceType: type as 'vpc', Tags: [{ Key: 'Name', Value: name }] }];

/** Two VPCs, a subnet and a web server in each: ecs-a with a `nimbus:app` tag, ecs-b with UserData. */
export async function awsPart1(ec2: EC2Client): Promise<{ vpcA: string; vpcB: string; ecsA: Instance }> {
  const a = await ec2.send(new CreateVpcCommand({ CidrBlock: '192.168.6.0/24', TagSpecifications: tag('vpc-a', 'vpc') }));
  const b = await ec2.send(new CreateVpcCommand({ CidrBlock: '192.168.5.0/24', TagSpecifications: tag('vpc-b', 'vpc') }));
  assert.equal(a.Vpc?.State, 'available');
  const sa = await ec2.send(new CreateSubnetCommand({ VpcId: a.Vpc!.VpcId, CidrBlock: '192.168.6.0/25', TagSpecifications: tag('sub-a', 'subnet') }));
  const sb = await ec2.send(new CreateSubnetCommand({ VpcId: b.Vpc!.VpcId, CidrBlock: '192.168.5.0/24', TagSpecifications: tag('sub-b', 'subnet') }));
  const app = [
    {
      ResourceType: 'instance' as const,
      Tags: [
        { Key: 'Name', Value: 'ecs-a' },
        { Key: 'nimbus:app', Value: 'web' },
      ],
    },
  ];
  const run = (subnet: string, ip: string, more: object) =>
    ec2.send(new RunInstancesCommand({ ImageId: 'ami-0abcdef1234567890', MinCount: 1, MaxCount: 1, SubnetId: subnet, PrivateIpAddress: ip, ...more }));
  const ia = await run(sa.Subnet!.SubnetId!, '192.168.6.76', { TagSpecifications: app });
  await run(sb.Subnet!.SubnetId!, '192.168.5.130', {
    UserData: Buffer.from('#!/bin/sh\nnimbus:app=web\n').toString('base64'),
    TagSpecifications: tag('ecs-b', 'instance'),
  });
  return { vpcA: a.Vpc!.VpcId!, vpcB: b.Vpc!.VpcId!, ecsA: ia.Instances![0] };
}

/** The peering and a route each way on the main route tables (found by filters); the peering's status code. */
export async function awsPeer(ec2: EC2Client, vpcA: string, vpcB: string): Promise<string | undefined> {
  const pcx = await ec2.send(
    new CreateVpcPeeringConnectionCommand({ VpcId: vpcA, PeerVpcId: vpcB, TagSpecifications: tag('pcx-ab', 'vpc-peering-connection') }),
  );
  // Through the AWS endpoint a request waits for the accepter, also within one account.
  assert.equal(pcx.VpcPeeringConnection?.Status?.Code, 'pending-acceptance');
  const accepted = await ec2.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx.VpcPeeringConnection!.VpcPeeringConnectionId }));
  for (const [vpc, dst] of [
    [vpcA, '192.168.5.0/24'],
    [vpcB, '192.168.6.0/25'],
  ]) {
    const filters = [
      { Name: 'vpc-id', Values: [vpc] },
      { Name: 'association.main', Values: ['true'] },
    ];
    const rt = await ec2.send(new DescribeRouteTablesCommand({ Filters: filters }));
    assert.equal(rt.RouteTables?.length, 1);
    const route = {
      RouteTableId: rt.RouteTables![0].RouteTableId,
      DestinationCidrBlock: dst,
      VpcPeeringConnectionId: pcx.VpcPeeringConnection!.VpcPeeringConnectionId,
    };
    await ec2.send(new CreateRouteCommand(route));
  }
  return accepted.VpcPeeringConnection?.Status?.Code;
}

/**
 * Part 2 on the servers of part 1: an internet-facing load balancer in sub-b, a target group
 * with a health check and lb_cookie stickiness, both servers registered, an HTTP listener;
 * checked by real HTTP through the public IP (cookie session, round robin, logs per server).
 */
export async function awsPart2(client: NimbusClient, elb: ElasticLoadBalancingV2Client): Promise<{ lb: LoadBalancer; tg: TargetGroup; ecsB: Server }> {
  const ecsA = await client.servers.get('ecs-a');
  const subB = await client.subnets.get('sub-b');
  const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'elb', Subnets: [subB.id], Scheme: 'internet-facing', Type: 'application' })))
    .LoadBalancers![0];
  assert.match(lb.DNSName ?? '', /^127\.0\.1\.\d+$/, 'internet-facing: a public IP');
  const tg = (
    await elb.send(
      new CreateTargetGroupCommand({
        Name: 'web',
        Protocol: 'HTTP',
        Port: 8080,
        VpcId: subB.vpcId,
        HealthCheckPath: '/',
        HealthCheckIntervalSeconds: 5,
        HealthCheckTimeoutSeconds: 2,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 2,
      }),
    )
  ).TargetGroups![0];
  await elb.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: tg.TargetGroupArn,
      Attributes: [
        { Key: 'stickiness.enabled', Value: 'true' },
        { Key: 'stickiness.type', Value: 'lb_cookie' },
      ],
    }),
  );
  const ecsB = await client.servers.get('ecs-b');
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: ecsA.id }, { Id: ecsB.id }] }));
  const unused = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }));
  assert.deepEqual(new Set(unused.TargetHealthDescriptions?.map((d) => d.TargetHealth?.State)), new Set(['unused']), 'no listener forwards to it yet');
  const listener = (
    await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancerArn,
        Protocol: 'HTTP',
        Port: LISTEN_PORT,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }],
      }),
    )
  ).Listeners![0];
  assert.equal(listener.DefaultActions?.[0].TargetGroupArn, tg.TargetGroupArn);
  // Nimbus made the pool, members and monitor the AWS calls describe.
  const pool = await client.pools.get('web');
  assert.deepEqual([pool.algorithm, pool.sessionPersistence?.type], ['ROUND_ROBIN', 'HTTP_COOKIE']);
  assert.equal((await client.members.list({ pool: 'web' })).length, 2);
  for (const s of ['ecs-a', 'ecs-b']) {
    for (let i = 0; i < 100 && !(await client.serverLogs(s)).output.includes('listening'); i++) await new Promise((r) => setTimeout(r, 100));
  }
  let states: (string | undefined)[] = [];
  for (let i = 0; i < 100; i++) {
    states = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }))).TargetHealthDescriptions!.map(
      (d) => d.TargetHealth?.State,
    );
    if (states.every((x) => x === 'healthy')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(states, ['healthy', 'healthy']);
  await waitUp(`http://${lb.DNSName}:${LISTEN_PORT}/`);
  await checkPart2(client, `http://${lb.DNSName}:${LISTEN_PORT}`, 'aws');
  return { lb, tg, ecsB };
}

/** Debian's aws CLI, by its path (a bare `aws` may be another version). */
export const AWS_CLI = '/usr/bin/aws';

/** A reason to skip, or false when Debian's aws CLI is there (installed here first, as root: scripts/install-clients.sh). */
export const skipAwsCli: string | false = (() => {
  if (!existsSync(AWS_CLI) && process.getuid?.() === 0)
    spawnSync('bash', [fileURLToPath(new URL('../../scripts/install-clients.sh', import.meta.url))], { encoding: 'utf8', timeout: 600_000 });
  return existsSync(AWS_CLI) ? false : `${AWS_CLI} is not installed (as root: scripts/install-clients.sh, or apt-get install awscli)`;
})();

/** `aws ARGS --output text` against `url` with `env` (the keys), its stdout trimmed; throws on a non-zero exit. */
export async function awsCli(url: string, env: Record<string, string>, args: string[]): Promise<string> {
  const { runCollect } = await import('./daemon.js');
  const r = await runCollect(AWS_CLI, ['--endpoint-url', url, ...args, '--output', 'text'], {
    PATH: process.env.PATH ?? '',
    HOME: '/nonexistent',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    ...env,
  });
  if (r.code !== 0) throw new Error(`aws ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** AWS's error code of a refused call (the SDK's error name). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { name: string }).name;
  }
  throw new Error('the call was not refused');
}
