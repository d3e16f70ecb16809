/**
 * The AWS-compatible endpoint driven by AWS's own SDK (@aws-sdk/client-ec2): the reference
 * lab's part 1 built with EC2 calls, then checked through Nimbus's API (names, addresses,
 * the analyzer's verdict and a ping); AWS's error shapes and codes as the SDK reads them; the
 * signature checked; an operation not served named; `nimbus credentials aws`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
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
  DescribeVolumesCommand,
  DeleteVpcCommand,
  CreateTagsCommand,
  DescribeTagsCommand,
  DeleteTagsCommand,
  StartInstancesCommand,
  paginateDescribeSecurityGroups,
  DeleteRouteTableCommand,
  DescribeRouteTablesCommand,
  CreateRouteTableCommand,
  AssociateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcPeeringConnectionCommand,
  DeleteVpcPeeringConnectionCommand,
  DeleteSubnetCommand,
} from '@aws-sdk/client-ec2';
import {
  ElasticLoadBalancingV2Client,
  DescribeLoadBalancersCommand,
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DeleteTargetGroupCommand,
  DescribeSSLPoliciesCommand,
  AddTagsCommand,
  RemoveTagsCommand,
  DescribeTagsCommand as DescribeElbTagsCommand,
  CreateRuleCommand,
  DescribeRulesCommand,
  ModifyRuleCommand,
  DeleteRuleCommand,
  SetRulePrioritiesCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsPart1, awsPart2, awsPeer, tag } from '../helpers/aws.js';
import { testDaemon, cli, type TestDaemon } from '../helpers/daemon.js';
import { LISTEN_PORT } from '../helpers/lab.js';

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
  // The image is recorded on the server, and described back.
  assert.equal((await t.client.servers.get('ecs-a')).image, 'ami-0abcdef1234567890');
  const byImage = async (image: string) =>
    (await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'image-id', Values: [image] }] }))).Reservations?.flatMap((r) => r.Instances ?? []);
  assert.deepEqual(
    (await byImage('ami-0abcdef1234567890'))?.map((i) => i.ImageId),
    ['ami-0abcdef1234567890', 'ami-0abcdef1234567890'],
  );
  assert.equal((await byImage('ami-other'))?.length, 0);

  // Nimbus sees what the SDK made, by name.
  assert.deepEqual((await t.client.vpcs.list()).map((v) => v.name).sort(), ['vpc-a', 'vpc-b']);
  const servers = await t.client.servers.list();
  assert.deepEqual(servers.map((s) => [s.name, s.privateIp, s.app]).sort(), [
    ['ecs-a', '192.168.6.76', 'web'],
    ['ecs-b', '192.168.5.130', 'web'],
  ]);
  assert.equal((await t.client.trace({ server: 'ecs-a', destination: '192.168.5.130', protocol: 'icmp' })).reachable, false, 'no peering yet');

  assert.equal(await awsPeer(ec2, vpcA, vpcB), 'active', 'accepted by the same account');
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
    const { lb, tg, ecsB } = await awsPart2(t.client, elb);
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

test('ELBv2 tags on load balancers, target groups and listeners: kept, described, removed, AWS limits', async () => {
  const elb = new ElasticLoadBalancingV2Client({ endpoint: t.daemon.url, region: 'us-east-1', credentials: key });
  try {
    const lb = (await elb.send(new DescribeLoadBalancersCommand({ Names: ['elb'] }))).LoadBalancers![0];
    const listener = (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners![0];
    const tg = (await elb.send(new CreateTargetGroupCommand({ Name: 'tagged', Protocol: 'TCP', Port: 9000, Tags: [{ Key: 'team', Value: 'blue' }] })))
      .TargetGroups![0];
    const arns = [lb.LoadBalancerArn!, listener.ListenerArn!, tg.TargetGroupArn!];
    await elb.send(new AddTagsCommand({ ResourceArns: arns.slice(0, 2), Tags: [{ Key: 'env', Value: 'lab' }] }));
    const described = async () =>
      (await elb.send(new DescribeElbTagsCommand({ ResourceArns: arns }))).TagDescriptions!.map((d) => [
        d.ResourceArn,
        Object.fromEntries(d.Tags!.map((x) => [x.Key, x.Value])),
      ]);
    assert.deepEqual(await described(), [
      [arns[0], { env: 'lab' }],
      [arns[1], { env: 'lab' }],
      [arns[2], { team: 'blue' }],
    ]);
    await elb.send(new RemoveTagsCommand({ ResourceArns: [arns[0]], TagKeys: ['env'] }));
    assert.deepEqual((await described())[0], [arns[0], {}]);

    const dup = await refusal(
      elb.send(
        new AddTagsCommand({
          ResourceArns: [arns[2]],
          Tags: [
            { Key: 'a', Value: '1' },
            { Key: 'a', Value: '2' },
          ],
        }),
      ),
    );
    assert.equal(dup.name, 'DuplicateTagKeysException');
    const many = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    const tooMany = await refusal(elb.send(new AddTagsCommand({ ResourceArns: [arns[2]], Tags: many })));
    assert.equal(tooMany.name, 'TooManyTagsException');
    assert.deepEqual((await described())[2], [arns[2], { team: 'blue' }], 'a refused call changes nothing');
    const unknown = await refusal(elb.send(new DescribeElbTagsCommand({ ResourceArns: [arns[2].replace(/tg-\w+$/, 'tg-0000000000000000')] })));
    assert.equal(unknown.name, 'TargetGroupNotFoundException');
    await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn }));
    assert.equal(t.daemon.store.tags(tg.TargetGroupArn!.split('/').pop()!).team, undefined, 'the tags go with the target group');
  } finally {
    elb.destroy();
  }
});

test('ELBv2 listener rules are L7 policies: conditions, forward, redirect and fixed-response, priorities, real traffic; what Nimbus cannot say is refused', async () => {
  const elb = new ElasticLoadBalancingV2Client({ endpoint: t.daemon.url, region: 'us-east-1', credentials: key });
  try {
    const lb = (await elb.send(new DescribeLoadBalancersCommand({ Names: ['elb'] }))).LoadBalancers![0];
    const listener = (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners![0];
    const ecsB = await t.client.servers.get('ecs-b');
    const onlyB = (await elb.send(new CreateTargetGroupCommand({ Name: 'only-b', Protocol: 'HTTP', Port: 8080, VpcId: ecsB.vpcId }))).TargetGroups![0];
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: onlyB.TargetGroupArn, Targets: [{ Id: ecsB.id }] }));
    const forwardB = [{ Type: 'forward' as const, TargetGroupArn: onlyB.TargetGroupArn }];
    const api = (
      await elb.send(
        new CreateRuleCommand({
          ListenerArn: listener.ListenerArn,
          Priority: 20,
          Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/b/*', '/beta'] } }],
          Actions: forwardB,
        }),
      )
    ).Rules![0];
    const moved = (
      await elb.send(
        new CreateRuleCommand({
          ListenerArn: listener.ListenerArn,
          Priority: 10,
          Conditions: [{ Field: 'host-header', Values: ['old.example.com'] }],
          Actions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Host: 'new.example.com', Port: '443', StatusCode: 'HTTP_301' } }],
        }),
      )
    ).Rules![0];
    assert.match(api.RuleArn!, /:listener-rule\/app\/elb\/lb-[0-9a-f]+\/lsn-[0-9a-f]+\/l7p-[0-9a-f]+$/);
    const described = (await elb.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!;
    assert.deepEqual(
      described.map((r) => [r.Priority, r.IsDefault, r.Actions?.[0]?.Type]),
      [
        ['10', false, 'redirect'],
        ['20', false, 'forward'],
        ['default', true, 'forward'],
      ],
    );
    assert.deepEqual(described[1].Conditions, [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/b/*', '/beta'] } }]);
    assert.deepEqual(described[0].Actions![0].RedirectConfig, {
      Protocol: 'HTTPS',
      Host: 'new.example.com',
      Port: '443',
      Path: '/#{path}',
      Query: '#{query}',
      StatusCode: 'HTTP_301',
    });
    // In Nimbus: policies in priority order, with the wildcard written as a regular expression.
    const policies = await t.client.l7Policies.list({ listener: listener.ListenerArn!.split('/').pop() });
    assert.deepEqual(
      policies.map((p) => [p.position, p.action, p.rules.map((r) => `${r.type} ${r.compareType} ${r.value}`)]),
      [
        [1, 'REDIRECT_PREFIX', ['HOST_NAME EQUAL_TO old.example.com']],
        [2, 'REDIRECT_TO_POOL', ['PATH REGEX ^(?:/b/.*|/beta)$']],
      ],
    );
    // Real traffic once the load balancer runs it.
    const base = `http://${lb.DNSName}:${LISTEN_PORT}`;
    for (let i = 0; i < 300 && (await t.client.loadBalancers.get('elb')).provisioningStatus !== 'ACTIVE'; i++) await new Promise((r) => setTimeout(r, 50));
    // node:http, whose Host header may be set (fetch's may not).
    const page = (path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; location: string | null; body: string | undefined }>((resolve, reject) => {
        request(`${base}${path}`, { headers, agent: false }, (r) => {
          let body = '';
          r.setEncoding('utf8');
          r.on('data', (d: string) => (body += d));
          r.on('end', () => resolve({ status: r.statusCode!, location: r.headers.location ?? null, body: body.split(' ')[2] }));
        })
          .on('error', reject)
          .end();
      });
    assert.equal((await page('/b/cart')).body, 'ecs-b');
    assert.equal((await page('/beta')).body, 'ecs-b');
    assert.equal((await page('/other')).body, 'ecs-a', 'the default rule');
    assert.deepEqual(await page('/b/x?y=1', { host: 'old.example.com' }), { status: 301, location: 'https://new.example.com/b/x?y=1', body: undefined });

    // Priorities swapped: the path rule comes first.
    await elb.send(
      new SetRulePrioritiesCommand({
        RulePriorities: [
          { RuleArn: api.RuleArn, Priority: 5 },
          { RuleArn: moved.RuleArn, Priority: 30 },
        ],
      }),
    );
    assert.deepEqual(
      (await t.client.l7Policies.list({ listener: listener.ListenerArn!.split('/').pop() })).map((p) => p.action),
      ['REDIRECT_TO_POOL', 'REDIRECT_PREFIX'],
    );
    const modified = (
      await elb.send(
        new ModifyRuleCommand({
          RuleArn: moved.RuleArn,
          Actions: [
            { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Host: 'x.example.com', Port: '443', Path: '/gone', Query: '', StatusCode: 'HTTP_302' } },
          ],
        }),
      )
    ).Rules![0];
    assert.equal(modified.Actions![0].RedirectConfig!.Path, '/gone');
    assert.equal((await t.client.l7Policies.get(moved.RuleArn!.split('/').pop()!)).redirectUrl, 'https://x.example.com/gone');

    const refused = async (input: Partial<ConstructorParameters<typeof CreateRuleCommand>[0]>, code: string, why: RegExp) => {
      const r = await refusal(
        elb.send(
          new CreateRuleCommand({
            ListenerArn: listener.ListenerArn,
            Priority: 40,
            Conditions: [{ Field: 'path-pattern', Values: ['/x'] }],
            Actions: forwardB,
            ...input,
          }),
        ),
      );
      assert.equal(r.name, code, r.message);
      assert.match(r.message, why);
    };
    await refused({ Priority: 5 }, 'PriorityInUseException', /Priority '5' is currently in use/);
    await refused({ Conditions: [{ Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET'] } }] }, 'ValidationError', /http-request-method/);
    await refused(
      { Conditions: [{ Field: 'source-ip', SourceIpConfig: { Values: ['10.0.0.0/8', '127.0.0.0/8'] } }] },
      'ValidationError',
      /one CIDR per condition/,
    );
    await refused(
      {
        Conditions: [
          {
            Field: 'query-string',
            QueryStringConfig: {
              Values: [
                { Key: 'a', Value: 'b' },
                { Key: 'c', Value: 'd' },
              ],
            },
          },
        ],
      },
      'ValidationError',
      /one parameter per condition/,
    );
    await refused({ Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '302' } }] }, 'ValidationError', /2XX, 4XX or 5XX/);
    await refused({ Actions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', StatusCode: 'HTTP_301' } }] }, 'ValidationError', /#\{host\}/);
    assert.equal((await elb.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!.length, 3, 'nothing was added');

    // query-string (one parameter's values, or any parameter's), source-ip, and fixed-response, with real traffic.
    const made = async (priority: number, conditions: object[], actions: object[]) =>
      (
        await elb.send(
          new CreateRuleCommand({ ListenerArn: listener.ListenerArn, Priority: priority, Conditions: conditions as never, Actions: actions as never }),
        )
      ).Rules![0];
    const lane = await made(40, [{ Field: 'query-string', QueryStringConfig: { Values: [{ Key: 'lane', Value: 'b*' }] } }], forwardB);
    const anyOn = await made(
      41,
      [
        { Field: 'path-pattern', Values: ['/any'] },
        { Field: 'query-string', QueryStringConfig: { Values: [{ Value: 'on' }] } },
      ],
      forwardB,
    );
    const maint = await made(
      42,
      [
        { Field: 'path-pattern', Values: ['/maint*'] },
        { Field: 'source-ip', SourceIpConfig: { Values: ['127.0.0.0/8'] } },
      ],
      [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'down for maintenance' } }],
    );
    const outside = await made(
      43,
      [
        { Field: 'path-pattern', Values: ['/outside'] },
        { Field: 'source-ip', SourceIpConfig: { Values: ['10.0.0.0/8'] } },
      ],
      [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200', ContentType: 'text/plain', MessageBody: 'inside ten' } }],
    );
    const back = (await elb.send(new DescribeRulesCommand({ RuleArns: [maint.RuleArn!] }))).Rules![0];
    assert.deepEqual(back.Actions![0].FixedResponseConfig, { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'down for maintenance' });
    assert.deepEqual(
      (await t.client.l7Policies.get(anyOn.RuleArn!.split('/').pop()!)).rules.map((r) => `${r.type} ${r.compareType} ${r.value}`),
      ['PATH EQUAL_TO /any', 'QUERY_STRING REGEX (^|&)[^&=]*=(on)(&|$)'],
    );
    for (let i = 0; i < 300 && (await t.client.loadBalancers.get('elb')).provisioningStatus !== 'ACTIVE'; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await page('/q?x=1&lane=beta')).body, 'ecs-b', 'query-string lane=b*');
    assert.equal((await page('/q?lane=alpha')).body, 'ecs-a');
    assert.equal((await page('/any?debug=on')).body, 'ecs-b', 'any parameter equal to on');
    assert.equal((await page('/any?debug=off')).body, 'ecs-a');
    assert.deepEqual(await page('/maintenance'), { status: 503, location: null, body: 'maintenance' }, 'a client of 127.0.0.0/8 gets the fixed response');
    assert.equal((await page('/outside')).body, 'ecs-a', 'a client outside 10.0.0.0/8 goes on to the default');
    for (const r of [lane, anyOn, maint, outside]) await elb.send(new DeleteRuleCommand({ RuleArn: r.RuleArn }));

    await elb.send(new DeleteRuleCommand({ RuleArn: api.RuleArn }));
    await elb.send(new DeleteRuleCommand({ RuleArn: moved.RuleArn }));
    assert.deepEqual(
      (await elb.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!.map((r) => r.Priority),
      ['default'],
    );
    const gone = await refusal(elb.send(new DeleteRuleCommand({ RuleArn: api.RuleArn })));
    assert.equal(gone.name, 'RuleNotFoundException');
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

test('security groups: ICMP type and code as FromPort/ToPort, and "All TCP" (0-65535), in and back out', async () => {
  const g = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'icmp-sg', Description: 'icmp and all tcp' }));
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: g.GroupId,
      IpPermissions: [
        { IpProtocol: 'icmp', FromPort: 8, ToPort: -1, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
        { IpProtocol: 'icmp', FromPort: 3, ToPort: 4, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
        { IpProtocol: 'tcp', FromPort: 0, ToPort: 65535, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
      ],
    }),
  );
  const seen = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [g.GroupId!] }))).SecurityGroups![0];
  assert.deepEqual(
    seen.IpPermissions?.map((p) => [p.IpProtocol, p.FromPort, p.ToPort]),
    [
      ['icmp', 8, -1],
      ['icmp', 3, 4],
      ['tcp', 0, 65535],
    ],
  );
  const rules = (await t.client.securityGroups.get('icmp-sg')).rules.filter((r) => r.direction === 'ingress');
  assert.deepEqual(
    rules.map((r) => r.icmp ?? r.portRange),
    [{ type: 8 }, { type: 3, code: 4 }, null],
  );
  await ec2.send(
    new RevokeSecurityGroupIngressCommand({
      GroupId: g.GroupId,
      IpPermissions: [{ IpProtocol: 'icmp', FromPort: 3, ToPort: 4, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
    }),
  );
  assert.equal((await t.client.securityGroups.get('icmp-sg')).rules.filter((r) => r.direction === 'ingress').length, 2, 'only the type 3 code 4 rule went');
});

test('tags: Name renames; other tags are kept, filtered on, deleted, and go with their resource', async () => {
  const v = await ec2.send(
    new CreateVpcCommand({ CidrBlock: '10.9.0.0/16', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'team', Value: 'blue' }] }] }),
  );
  const id = v.Vpc!.VpcId!;
  // No Name was given: AWS shows none (Nimbus's name for it, vpc-1, is no tag).
  assert.deepEqual(
    v.Vpc!.Tags?.map((x) => [x.Key, x.Value]),
    [['team', 'blue']],
  );
  assert.equal((await t.client.vpcs.get(id)).name, 'vpc-1');
  assert.equal((await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: ['vpc-1'] }] }))).Vpcs?.length, 0, 'no Name tag to filter on');
  await ec2.send(
    new CreateTagsCommand({
      Resources: [id],
      Tags: [
        { Key: 'Name', Value: 'renamed' },
        { Key: 'env', Value: 'test' },
        { Key: 'team', Value: 'red' },
      ],
    }),
  );
  assert.equal((await t.client.vpcs.get(id)).name, 'renamed');
  const tagsOf = async () =>
    (await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [id] }] }))).Tags?.map((x) => [x.Key, x.Value, x.ResourceType]);
  assert.deepEqual(await tagsOf(), [
    ['Name', 'renamed', 'vpc'],
    ['env', 'test', 'vpc'],
    ['team', 'red', 'vpc'],
  ]);

  // tag:KEY, tag-key and DescribeTags's key filter.
  const byTeam = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:team', Values: ['r*'] }] }));
  assert.deepEqual(
    byTeam.Vpcs?.map((x) => x.VpcId),
    [id],
  );
  assert.equal((await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:team', Values: ['blue'] }] }))).Vpcs?.length, 0);
  assert.deepEqual(
    (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag-key', Values: ['env'] }] }))).Vpcs?.map((x) => x.VpcId),
    [id],
  );
  const envTags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['env'] }] }));
  assert.deepEqual(
    envTags.Tags?.map((x) => x.ResourceId),
    [id],
  );

  // DeleteTags: a value that does not match leaves the tag; no value removes it; Name stays the name.
  await ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: 'team', Value: 'blue' }, { Key: 'env' }] }));
  assert.deepEqual(await tagsOf(), [
    ['Name', 'renamed', 'vpc'],
    ['team', 'red', 'vpc'],
  ]);
  // Deleting the Name tag leaves the name (a Nimbus resource has one) and stops showing it as a tag.
  await ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: 'Name' }] }));
  assert.equal((await t.client.vpcs.get(id)).name, 'renamed');
  assert.deepEqual(await tagsOf(), [['team', 'red', 'vpc']]);
  await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'Name', Value: 'renamed' }] }));

  // Refusals name the key, and change nothing.
  const reserved = await refusal(
    ec2.send(
      new CreateTagsCommand({
        Resources: [id],
        Tags: [
          { Key: 'ok', Value: '1' },
          { Key: 'aws:owner', Value: 'x' },
        ],
      }),
    ),
  );
  assert.equal(reserved.name, 'InvalidParameterValue');
  assert.match(reserved.message, /aws:owner/);
  const many = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
  const limit = await refusal(ec2.send(new CreateTagsCommand({ Resources: [id], Tags: many })));
  assert.equal(limit.name, 'TagLimitExceeded');
  assert.deepEqual(await tagsOf(), [
    ['Name', 'renamed', 'vpc'],
    ['team', 'red', 'vpc'],
  ]);
  const gone = await refusal(ec2.send(new CreateTagsCommand({ Resources: ['vpc-0000000000000000'], Tags: [{ Key: 'a', Value: 'b' }] })));
  assert.equal(gone.name, 'InvalidVpcID.NotFound');

  // The tags go with the resource.
  await ec2.send(new DeleteVpcCommand({ VpcId: id }));
  assert.deepEqual(await tagsOf(), []);
  assert.equal((await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['team'] }] }))).Tags?.length, 0);
});

test("pagination: the SDK's paginator walks pages of MaxResults and gets what one call gets", async () => {
  for (let i = 0; i < 7; i++) await ec2.send(new CreateSecurityGroupCommand({ GroupName: `paged-${i}`, Description: 'paging' }));
  const whole = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.map((g) => g.GroupName);
  assert.ok(whole.length >= 8, `${whole.length} groups`);
  const pages: (string | undefined)[][] = [];
  for await (const page of paginateDescribeSecurityGroups({ client: ec2, pageSize: 5 }, {})) pages.push(page.SecurityGroups!.map((g) => g.GroupName));
  assert.ok(pages.length >= 2 && pages.slice(0, -1).every((p) => p.length === 5), `page sizes: ${pages.map((p) => p.length)}`);
  assert.deepEqual(pages.flat(), whole);
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

  // DryRun: the call is checked in full and changes nothing.
  const vpcsBefore = (await t.client.vpcs.list()).length;
  const dry = await refusal(ec2.send(new CreateVpcCommand({ CidrBlock: '10.77.0.0/16', DryRun: true })));
  assert.deepEqual([dry.name, dry.status], ['DryRunOperation', 412]);
  const dryBad = await refusal(ec2.send(new CreateVpcCommand({ CidrBlock: '8.8.0.0/16', DryRun: true })));
  assert.equal(dryBad.name, 'InvalidVpc.Range', 'a dry run that would fail says why');
  assert.equal((await t.client.vpcs.list()).length, vpcsBefore);

  const notServed = await refusal(ec2.send(new DescribeVolumesCommand({})));
  assert.equal(notServed.name, 'InvalidAction');
  assert.match(notServed.message, /DescribeVolumes/);
  const elb = new ElasticLoadBalancingV2Client({ endpoint: t.daemon.url, region: 'us-east-1', credentials: key });
  const forgedElb = await refusal(
    new ElasticLoadBalancingV2Client({
      endpoint: t.daemon.url,
      region: 'us-east-1',
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: 'wrong' },
    }).send(new DescribeLoadBalancersCommand({})),
  );
  const elbNotServed = await refusal(elb.send(new DescribeSSLPoliciesCommand({})));
  elb.destroy();
  assert.equal(forgedElb.name, 'SignatureDoesNotMatch');
  assert.equal(elbNotServed.name, 'UnknownOperationException');
  assert.match(elbNotServed.message, /DescribeSSLPolicies/);

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

  // A project deleted with a target group and tags left in it leaves no record behind.
  const bElb = new ElasticLoadBalancingV2Client({
    endpoint: t.daemon.url,
    region: 'us-east-1',
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  const tg = await bElb.send(new CreateTargetGroupCommand({ Name: 'b-tg', Protocol: 'HTTP', Port: 80 }));
  bElb.destroy();
  const tgId = tg.TargetGroups![0].TargetGroupArn!.split('/').pop()!;
  assert.ok(t.daemon.store.get(tgId), 'the target group is a record');
  const asB = t.client.as('team-b');
  for (const v of await asB.vpcs.list()) await asB.vpcs.delete(v.id);
  await t.client.projects.delete('team-b');
  assert.equal(t.daemon.store.get(tgId), undefined);
});

test("AWS's codes: VPC range /16-/28, main table a dependency, another VPC's table invalid, overlapping peering failed", async () => {
  for (const cidr of ['10.0.0.0/8', '10.0.0.0/15', '10.0.0.0/29']) {
    assert.equal((await refusal(ec2.send(new CreateVpcCommand({ CidrBlock: cidr })))).name, 'InvalidVpc.Range', cidr);
  }
  const x = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.70.0.0/16' }))).Vpc!.VpcId!;
  const y = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.70.0.0/16' }))).Vpc!.VpcId!;
  const tables = (await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [x] }] }))).RouteTables!;
  const main = tables.find((r) => r.Associations?.some((a) => a.Main))!.RouteTableId!;
  assert.equal((await refusal(ec2.send(new DeleteRouteTableCommand({ RouteTableId: main })))).name, 'DependencyViolation');
  const other = (await ec2.send(new CreateRouteTableCommand({ VpcId: y }))).RouteTable!.RouteTableId!;
  const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: x, CidrBlock: '10.70.1.0/24' }))).Subnet!.SubnetId!;
  assert.equal((await refusal(ec2.send(new AssociateRouteTableCommand({ RouteTableId: other, SubnetId: subnet })))).name, 'InvalidParameterValue');
  const pcx = (await ec2.send(new CreateVpcPeeringConnectionCommand({ VpcId: x, PeerVpcId: y }))).VpcPeeringConnection!;
  assert.equal(pcx.Status?.Code, 'failed');
  assert.equal((await t.client.peerings.get(pcx.VpcPeeringConnectionId!)).status, 'failed', 'a record that joins nothing');
  await assert.rejects(
    t.client.peerings.create({ name: 'own-api', vpc: x, peerVpc: y }),
    (e: { code: string }) => e.code === 'InvalidVpcPeeringConnection.OverlappingCidr',
  );
  await ec2.send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx.VpcPeeringConnectionId }));
  await ec2.send(new DeleteSubnetCommand({ SubnetId: subnet }));
  await ec2.send(new DeleteRouteTableCommand({ RouteTableId: other }));
  for (const v of [x, y]) await ec2.send(new DeleteVpcCommand({ VpcId: v }));
});

test('one set of limits for both interfaces: lengths and text as REST, XML-safe answers, sparse indices refused, a large body in AWS shape', async () => {
  const long = await refusal(ec2.send(new CreateSecurityGroupCommand({ GroupName: 'long', Description: 'x'.repeat(256) })));
  assert.equal(long.name, 'InvalidParameterValue', long.message);
  assert.match(long.message, /description: is longer than 255 characters/);
  const escape = await refusal(ec2.send(new CreateSecurityGroupCommand({ GroupName: 'esc', Description: 'red\x1b[31m' })));
  assert.match(escape.message, /description: holds U\+001B/);
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.71.0.0/16' }))).Vpc!.VpcId!;
  const tagged = await refusal(ec2.send(new CreateTagsCommand({ Resources: [vpc], Tags: [{ Key: 'k', Value: 'a\x01b' }] })));
  assert.equal(tagged.name, 'InvalidParameterValue');
  // Every answer parses: the SDK reads DescribeTags back.
  await ec2.send(new CreateTagsCommand({ Resources: [vpc], Tags: [{ Key: 'k', Value: 'fine & <ok>' }] }));
  const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [vpc] }] }));
  assert.ok(tags.Tags?.some((x) => x.Key === 'k' && x.Value === 'fine & <ok>'));
  // A filter sent as member 999999 (no member 1) is refused, not ignored.
  const sparse = new EC2Client({ endpoint: t.daemon.url, region: 'us-east-1', credentials: key });
  sparse.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { body?: string };
      if (typeof req.body === 'string') req.body = req.body.replaceAll('Filter.1.', 'Filter.999999.');
      return next(args);
    },
    { step: 'build', priority: 'high' },
  );
  const gap = await refusal(sparse.send(new DescribeVpcsCommand({ Filters: [{ Name: 'vpc-id', Values: ['vpc-none'] }] })));
  sparse.destroy();
  assert.equal(gap.name, 'UnknownParameter', gap.message);
  assert.match(gap.message, /Filter\.999999\.Name.*numbered from 1 without a gap/);
  // A body over the limit: AWS's error shape, not JSON.
  const big = await fetch(t.daemon.url + '/', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `Action=DescribeVpcs&Version=2016-11-15&Pad=${'a'.repeat(2 * 1024 * 1024)}`,
  });
  assert.equal(big.status, 413);
  assert.match(big.headers.get('content-type') ?? '', /xml/);
  assert.match(await big.text(), /<Code>RequestEntityTooLarge<\/Code>/);
  await ec2.send(new DeleteVpcCommand({ VpcId: vpc }));
});
