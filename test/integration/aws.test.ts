/**
 * The AWS-compatible endpoint driven by AWS's own SDK (@aws-sdk/client-ec2): the reference
 * lab's part 1 built with EC2 calls, then checked through Nimbus's API (names, addresses,
 * the analyzer's verdict and a ping); AWS's error shapes and codes as the SDK reads them; the
 * signature checked; an operation not served named; `nimbus credentials aws`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  EC2Client,
  CreateVpcCommand,
  DescribeInstancesCommand,
  DescribeVpcsCommand,
  CreateSecurityGroupCommand,
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
  StopInstancesCommand,
  DescribeImagesCommand,
  DeleteVpcCommand,
  CreateTagsCommand,
  DescribeTagsCommand,
  StartInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  ElasticLoadBalancingV2Client,
  DescribeLoadBalancersCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
  CreateListenerCommand,
  DescribeTargetHealthCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DeleteTargetGroupCommand,
  DescribeRulesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { checkPart2, waitUp, LISTEN_PORT } from '../helpers/lab.js';
import { awsPart1, awsPeer, tag } from '../helpers/aws.js';
import { testDaemon, cli, type TestDaemon } from '../helpers/daemon.js';

let t: TestDaemon;
let ec2: EC2Client;
let key: { accessKeyId: string; secretAccessKey: string };

before(async () => {
  t = await testDaemon();
  key = await t.client.awsCredentials();
  ec2 = new EC2Client({ endpoint: t.daemon.url, region: 'us-east-1', credentials: key });
});
after(async () => {
  ec2?.destroy();
  await t?.close();
});

/** The error an SDK call ends with: its name (the code) and message. */
async function refusal(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error('the call succeeded');
}

test("the reference lab's part 1 through the EC2 SDK, seen by Nimbus and its analyzer", async () => {
  const { vpcA, vpcB, ecsA } = await awsPart1(ec2);
  assert.equal(ecsA.PrivateIpAddress, '192.168.6.76');
  assert.equal(ecsA.ImageId, 'ami-0abcdef1234567890');

  // Nimbus sees what the SDK made, by name.
  assert.deepEqual((await t.client.vpcs.list()).map((v) => v.name).sort(), ['vpc-a', 'vpc-b']);
  const servers = await t.client.servers.list();
  assert.deepEqual(servers.map((s) => [s.name, s.privateIp, s.app]).sort(), [
    ['ecs-a', '192.168.6.76', 'web'],
    ['ecs-b', '192.168.5.130', 'web'],
  ]);
  assert.equal((await t.client.trace({ server: 'ecs-a', destination: '192.168.5.130', protocol: 'icmp' })).reachable, false, 'no peering yet');

  assert.equal(await awsPeer(ec2, vpcA, vpcB), 'active', 'one project: active at once');
  const trace = await t.client.trace({ server: 'ecs-a', destination: '192.168.5.130', protocol: 'icmp' });
  assert.equal(trace.reachable, true, JSON.stringify(trace.blockedBy));
  assert.equal((await t.client.ping({ server: 'ecs-a', destination: '192.168.5.130', count: 1 })).reachable, true);

  // Describe with the SDK's filters and plural ids.
  const byName = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: ['ecs-*'] }] }));
  assert.equal(byName.Reservations?.flatMap((r) => r.Instances ?? []).length, 2);
  const one = await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcB] }));
  assert.deepEqual(
    one.Vpcs?.map((v) => [v.CidrBlock, v.Tags?.find((x) => x.Key === 'Name')?.Value]),
    [['192.168.5.0/24', 'vpc-b']],
  );
  const running = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }] }));
  assert.equal(running.Reservations?.length, 2);
  await ec2.send(new StopInstancesCommand({ InstanceIds: [ecsA.InstanceId!] }));
  const stopped = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [ecsA.InstanceId!] }));
  assert.equal(stopped.Reservations?.[0].Instances?.[0].State?.Name, 'stopped');
  assert.equal((await t.client.servers.get('ecs-a')).status, 'stopped');

  // A VPC still in use: AWS's DependencyViolation, as the SDK reads it.
  const dep = await refusal(ec2.send(new DeleteVpcCommand({ VpcId: vpcA })));
  assert.equal(dep.name, 'DependencyViolation');
  assert.match(dep.message, /sub-a/);
});

test("the reference lab's part 2 through the ELBv2 SDK: real traffic, cookie sessions and round robin", async () => {
  const elb = new ElasticLoadBalancingV2Client({ endpoint: t.daemon.url, region: 'us-east-1', credentials: key });
  try {
    const ecsA = await t.client.servers.get('ecs-a');
    await ec2.send(new StartInstancesCommand({ InstanceIds: [ecsA.id] }));
    const subB = await t.client.subnets.get('sub-b');
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
          HealthCheckIntervalSeconds: 2,
          HealthCheckTimeoutSeconds: 1,
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
    const ecsB = await t.client.servers.get('ecs-b');
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
    const pool = await t.client.pools.get('web');
    assert.deepEqual([pool.algorithm, pool.sessionPersistence?.type], ['ROUND_ROBIN', 'HTTP_COOKIE']);
    assert.equal((await t.client.members.list({ pool: 'web' })).length, 2);
    for (const s of ['ecs-a', 'ecs-b']) {
      for (let i = 0; i < 100 && !(await t.client.serverLogs(s)).output.includes('listening'); i++) await new Promise((r) => setTimeout(r, 100));
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
    await checkPart2(t.client, `http://${lb.DNSName}:${LISTEN_PORT}`, 'aws');
    assert.equal((await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners?.length, 1);

    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: ecsB.id }] }));
    assert.deepEqual(
      (await t.client.members.list({ pool: 'web' })).map((m) => m.serverId),
      [ecsA.id],
    );
    const inUse = await refusal(elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn })));
    assert.equal(inUse.name, 'ResourceInUseException', "AWS's ResourceInUse, as the SDK names it");
    const unknown = await refusal(elb.send(new DescribeLoadBalancersCommand({ Names: ['nope'] })));
    assert.equal(unknown.name, 'LoadBalancerNotFoundException', "the SDK names the model's error class for the code LoadBalancerNotFound");
  } finally {
    elb.destroy();
  }
});

test('security groups: CIDR and group rules in, described back, revoked', async () => {
  const g = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'web-sg', Description: 'web servers' }));
  const peer = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'lb-sg', Description: 'load balancers' }));
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: g.GroupId,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, IpRanges: [{ CidrIp: '10.0.0.0/16' }] },
        { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, UserIdGroupPairs: [{ GroupId: peer.GroupId }] },
      ],
    }),
  );
  const seen = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [g.GroupId!] }))).SecurityGroups![0];
  assert.deepEqual(
    seen.IpPermissions?.map((p) => [p.IpProtocol, p.FromPort, p.ToPort, p.IpRanges?.[0]?.CidrIp ?? p.UserIdGroupPairs?.[0]?.GroupId]),
    [
      ['tcp', 8080, 8080, '10.0.0.0/16'],
      ['tcp', 80, 80, peer.GroupId],
    ],
  );
  const sg = await t.client.securityGroups.get('web-sg');
  assert.equal(sg.rules.filter((r) => r.direction === 'ingress').length, 2, 'Nimbus has the rules');
  await ec2.send(
    new RevokeSecurityGroupIngressCommand({
      GroupId: g.GroupId,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, IpRanges: [{ CidrIp: '10.0.0.0/16' }] }],
    }),
  );
  assert.equal((await t.client.securityGroups.get('web-sg')).rules.filter((r) => r.direction === 'ingress').length, 1);
  const dup = await refusal(ec2.send(new CreateSecurityGroupCommand({ GroupName: 'web-sg', Description: 'again' })));
  assert.equal(dup.name, 'InvalidGroup.Duplicate');
  const none = await refusal(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-0000000000000000'] })));
  assert.equal(none.name, 'InvalidGroup.NotFound');
});

test('tags: Name renames; other tags are refused by name', async () => {
  const v = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }));
  await ec2.send(new CreateTagsCommand({ Resources: [v.Vpc!.VpcId!], Tags: [{ Key: 'Name', Value: 'renamed' }] }));
  assert.equal((await t.client.vpcs.get(v.Vpc!.VpcId!)).name, 'renamed');
  const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [v.Vpc!.VpcId!] }] }));
  assert.deepEqual(
    tags.Tags?.map((x) => [x.Key, x.Value, x.ResourceType]),
    [['Name', 'renamed', 'vpc']],
  );
  const other = await refusal(ec2.send(new CreateTagsCommand({ Resources: [v.Vpc!.VpcId!], Tags: [{ Key: 'team', Value: 'x' }] })));
  assert.equal(other.name, 'InvalidParameterValue');
  assert.match(other.message, /team/);
});

test('errors in AWS shapes: bad input, unknown ids, a bad signature, an unknown key, an operation not served', async () => {
  const range = await refusal(ec2.send(new CreateVpcCommand({ CidrBlock: '8.8.0.0/16' })));
  assert.equal(range.name, 'InvalidVpc.Range');
  assert.equal(range.status, 400);
  const gone = await refusal(ec2.send(new DescribeVpcsCommand({ VpcIds: ['vpc-0000000000000000'] })));
  assert.equal(gone.name, 'InvalidVpcID.NotFound');
  const gone2 = await refusal(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0000000000000000'] })));
  assert.equal(gone2.name, 'InvalidInstanceID.NotFound');

  const forged = new EC2Client({
    endpoint: t.daemon.url,
    region: 'us-east-1',
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: 'not-the-secret' },
  });
  const bad = await refusal(forged.send(new DescribeVpcsCommand({})));
  forged.destroy();
  assert.equal(bad.name, 'AuthFailure');
  assert.match(bad.message, /signature/);
  const stranger = new EC2Client({ endpoint: t.daemon.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' } });
  const unknown = await refusal(stranger.send(new DescribeVpcsCommand({})));
  stranger.destroy();
  assert.equal(unknown.name, 'AuthFailure');

  const notServed = await refusal(ec2.send(new DescribeImagesCommand({})));
  assert.equal(notServed.name, 'InvalidAction');
  assert.match(notServed.message, /DescribeImages/);
  const elb = new ElasticLoadBalancingV2Client({ endpoint: t.daemon.url, region: 'us-east-1', credentials: key });
  const forgedElb = await refusal(
    new ElasticLoadBalancingV2Client({
      endpoint: t.daemon.url,
      region: 'us-east-1',
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: 'wrong' },
    }).send(new DescribeLoadBalancersCommand({})),
  );
  const elbNotServed = await refusal(elb.send(new DescribeRulesCommand({ ListenerArn: 'x' })));
  elb.destroy();
  assert.equal(forgedElb.name, 'SignatureDoesNotMatch');
  assert.equal(elbNotServed.name, 'UnknownOperationException');
  assert.match(elbNotServed.message, /DescribeRules/);

  // An unsigned form post (what a web page could send) changes nothing.
  const before = (await t.client.vpcs.list()).length;
  const r = await fetch(t.daemon.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Action=CreateVpc&Version=2016-11-15&CidrBlock=10.1.0.0%2F16',
  });
  assert.equal(r.status, 401);
  assert.match(await r.text(), /<Code>AuthFailure<\/Code>/);
  assert.equal((await t.client.vpcs.list()).length, before);
});

test('nimbus credentials aws prints export lines for a project; another project needs an admin', async () => {
  await t.client.projects.create({ name: 'team-b' });
  const r = await cli(t.daemon.url, ['credentials', 'aws', '--project', 'team-b'], { NIMBUS_TOKEN: t.daemon.adminToken });
  assert.equal(r.code, 0, r.stderr);
  const env = Object.fromEntries([...r.stdout.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
  assert.ok(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY, r.stdout);
  assert.equal(env.AWS_DEFAULT_REGION, 'us-east-1');
  assert.notEqual(env.AWS_ACCESS_KEY_ID, key.accessKeyId, "not the admin's own key");
  const b = new EC2Client({
    endpoint: t.daemon.url,
    region: 'us-east-1',
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  await b.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16', TagSpecifications: tag('b-only', 'vpc') }));
  const theirs = (await b.send(new DescribeVpcsCommand({}))).Vpcs!.map((v) => v.Tags?.[0]?.Value);
  b.destroy();
  assert.deepEqual(theirs, ['b-only'], "an account sees its own project's VPCs only");
  const mine = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs!.map((v) => v.Tags?.[0]?.Value);
  assert.ok(!mine.includes('b-only'), `the default project's account does not see it: ${mine}`);
  const again = await cli(t.daemon.url, ['credentials', 'aws', '--project', 'team-b'], { NIMBUS_TOKEN: t.daemon.adminToken });
  assert.match(again.stdout, new RegExp(`AWS_ACCESS_KEY_ID=${env.AWS_ACCESS_KEY_ID}`), 'the same key each time');

  const issued = await t.client.tokens.create({ name: 'c-token', project: 'team-b' });
  const denied = await cli(t.daemon.url, ['credentials', 'aws', '--project', 'default'], { NIMBUS_TOKEN: issued.secret });
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /NotFound|admin/);
});
