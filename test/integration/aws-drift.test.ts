/**
 * No drift: every resource the AWS endpoint serves is created through it, described back, and
 * every field a tool such as Terraform or Ansible compares is what was sent (and AWS's
 * defaults where nothing was sent). A tool that sees a difference here plans a change forever.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as ec2sdk from '@aws-sdk/client-ec2';
import * as elbsdk from '@aws-sdk/client-elastic-load-balancing-v2';
import { testDaemon, type TestDaemon } from '../helpers/daemon.js';
import { codeOf } from '../helpers/aws.js';

let t: TestDaemon;
let ec2: ec2sdk.EC2Client;
let elb: elbsdk.ElasticLoadBalancingV2Client;
before(async () => {
  t = await testDaemon();
  const credentials = await t.client.awsCredentials();
  ec2 = new ec2sdk.EC2Client({ endpoint: t.daemon.url, region: 'us-east-1', credentials });
  elb = new elbsdk.ElasticLoadBalancingV2Client({ endpoint: t.daemon.url, region: 'us-east-1', credentials });
});
after(async () => {
  ec2?.destroy();
  elb?.destroy();
  await t?.close();
});

const tags = (list: { Key?: string; Value?: string }[] | undefined) => Object.fromEntries((list ?? []).map((x) => [x.Key, x.Value]));
const spec = (type: string, kv: Record<string, string>) => [{ ResourceType: type as 'vpc', Tags: Object.entries(kv).map(([Key, Value]) => ({ Key, Value })) }];

test('VPCs, subnets, security groups and instances read back as sent', async () => {
  const vpc = (await ec2.send(new ec2sdk.CreateVpcCommand({ CidrBlock: '10.60.0.0/16', TagSpecifications: spec('vpc', { env: 'lab' }) }))).Vpc!;
  const [got] = (await ec2.send(new ec2sdk.DescribeVpcsCommand({ VpcIds: [vpc.VpcId!] }))).Vpcs!;
  assert.deepEqual(
    [got.CidrBlock, got.State, got.InstanceTenancy, got.IsDefault, tags(got.Tags)],
    ['10.60.0.0/16', 'available', 'default', false, { env: 'lab' }],
  );
  assert.match(got.OwnerId!, /^\d{12}$/, 'a 12-digit account id');
  const attribute = async (a: 'enableDnsSupport' | 'enableDnsHostnames') => {
    const r = await ec2.send(new ec2sdk.DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: a }));
    return a === 'enableDnsSupport' ? r.EnableDnsSupport?.Value : r.EnableDnsHostnames?.Value;
  };
  assert.deepEqual([await attribute('enableDnsSupport'), await attribute('enableDnsHostnames')], [true, false], "AWS's defaults");
  await ec2.send(new ec2sdk.ModifyVpcAttributeCommand({ VpcId: vpc.VpcId, EnableDnsHostnames: { Value: true } }));
  assert.equal(await attribute('enableDnsHostnames'), true);
  assert.equal(
    await codeOf(ec2.send(new ec2sdk.DescribeVpcClassicLinkCommand({ VpcIds: [vpc.VpcId!] }))),
    'UnsupportedOperation',
    "AWS's answer since ClassicLink's retirement",
  );

  const subnet = (
    await ec2.send(
      new ec2sdk.CreateSubnetCommand({
        VpcId: vpc.VpcId,
        CidrBlock: '10.60.1.0/24',
        AvailabilityZone: 'us-east-1b',
        TagSpecifications: spec('subnet', { Name: 'web' }),
      }),
    )
  ).Subnet!;
  await ec2.send(new ec2sdk.ModifySubnetAttributeCommand({ SubnetId: subnet.SubnetId, MapPublicIpOnLaunch: { Value: true } }));
  const [s] = (await ec2.send(new ec2sdk.DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }))).Subnets!;
  assert.deepEqual(
    [
      s.CidrBlock,
      s.AvailabilityZone,
      s.MapPublicIpOnLaunch,
      s.AssignIpv6AddressOnCreation,
      s.EnableDns64,
      s.PrivateDnsNameOptionsOnLaunch?.HostnameType,
      tags(s.Tags),
    ],
    ['10.60.1.0/24', 'us-east-1b', true, false, false, 'ip-name', { Name: 'web' }],
  );
  assert.equal(
    await codeOf(ec2.send(new ec2sdk.ModifySubnetAttributeCommand({ SubnetId: s.SubnetId, AssignIpv6AddressOnCreation: { Value: true } }))),
    'InvalidParameterValue',
  );

  const group = await ec2.send(new ec2sdk.CreateSecurityGroupCommand({ GroupName: 'drift-web', Description: 'web', VpcId: vpc.VpcId }));
  await ec2.send(
    new ec2sdk.AuthorizeSecurityGroupIngressCommand({
      GroupId: group.GroupId,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'http' }, { CidrIp: '10.0.0.0/8' }] },
        { IpProtocol: 'icmp', FromPort: 8, ToPort: -1, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
      ],
      TagSpecifications: spec('security-group-rule', { why: 'web' }),
    }),
  );
  const [g] = (
    await ec2.send(
      new ec2sdk.DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpc.VpcId!] },
          { Name: 'group-name', Values: ['drift-web'] },
        ],
      }),
    )
  ).SecurityGroups!;
  assert.equal(g.VpcId, vpc.VpcId, 'the VPC given at creation');
  assert.deepEqual(tags(g.Tags), {}, 'no Name tag was given, none is shown');
  assert.deepEqual(
    g.IpPermissions!.map((p) => [p.IpProtocol, p.FromPort, p.ToPort, p.IpRanges!.map((r) => [r.CidrIp, r.Description])]),
    [
      [
        'tcp',
        80,
        80,
        [
          ['0.0.0.0/0', 'http'],
          ['10.0.0.0/8', undefined],
        ],
      ],
      ['icmp', 8, -1, [['10.0.0.0/8', undefined]]],
    ],
    'one permission per protocol and ports, its ranges inside, as AWS groups them',
  );
  assert.deepEqual(
    g.IpPermissionsEgress!.map((p) => [p.IpProtocol, p.IpRanges!.map((r) => r.CidrIp)]),
    [['-1', ['0.0.0.0/0']]],
    "AWS's default egress",
  );
  const rules = (await ec2.send(new ec2sdk.DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [g.GroupId!] }] }))).SecurityGroupRules!;
  assert.equal(rules.filter((r) => !r.IsEgress).length, 3);
  assert.ok(
    rules.filter((r) => !r.IsEgress).every((r) => tags(r.Tags).why === 'web'),
    'rule tags kept',
  );
  const [def] = (
    await ec2.send(
      new ec2sdk.DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpc.VpcId!] },
          { Name: 'group-name', Values: ['default'] },
        ],
      }),
    )
  ).SecurityGroups!;
  assert.equal(def.VpcId, vpc.VpcId, "the default group stands for each VPC's");

  const run = await ec2.send(
    new ec2sdk.RunInstancesCommand({
      MinCount: 1,
      MaxCount: 1,
      ImageId: 'ami-nimbus',
      InstanceType: 'm5.large',
      UserData: Buffer.from('nimbus:app=web').toString('base64'),
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnet.SubnetId, PrivateIpAddress: '10.60.1.20', Groups: [g.GroupId!] }],
    }),
  );
  const id = run.Instances![0].InstanceId!;
  await ec2sdk.waitUntilInstanceStatusOk({ client: ec2, maxWaitTime: 30 }, { InstanceIds: [id] });
  const [i] = (await ec2.send(new ec2sdk.DescribeInstancesCommand({ Filters: [{ Name: 'instance-type', Values: ['m5.large'] }] }))).Reservations![0].Instances!;
  assert.deepEqual(
    [
      i.InstanceId,
      i.InstanceType,
      i.ImageId,
      i.SubnetId,
      i.VpcId,
      i.PrivateIpAddress,
      i.SecurityGroups!.map((x) => x.GroupId),
      tags(i.Tags),
      i.Placement?.AvailabilityZone,
    ],
    [id, 'm5.large', 'ami-nimbus', s.SubnetId, vpc.VpcId, '10.60.1.20', [g.GroupId], {}, 'us-east-1b'],
    'the instance as launched: its type, no invented Name, the workload chosen by user data shown as no tag',
  );
  const userData = await ec2.send(new ec2sdk.DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'userData' }));
  assert.equal(userData.UserData?.Value, Buffer.from('nimbus:app=web').toString('base64'));
  assert.equal((await t.client.servers.get(id)).app, 'web');
  const byGroup = await ec2.send(new ec2sdk.DescribeInstancesCommand({ Filters: [{ Name: 'instance.group-name', Values: ['drift-web'] }] }));
  assert.equal(byGroup.Reservations?.length, 1);
  const eni = (await ec2.send(new ec2sdk.DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [id] }] }))).NetworkInterfaces!;
  assert.deepEqual(
    eni.map((n) => [n.NetworkInterfaceId, n.PrivateIpAddress, n.SubnetId]),
    [[i.NetworkInterfaces![0].NetworkInterfaceId, '10.60.1.20', s.SubnetId]],
  );

  // Terminated: shown as terminated afterwards, so that the waiters end.
  await ec2.send(new ec2sdk.TerminateInstancesCommand({ InstanceIds: [id] }));
  await ec2sdk.waitUntilInstanceTerminated({ client: ec2, maxWaitTime: 30 }, { InstanceIds: [id] });
  const gone = (await ec2.send(new ec2sdk.DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];
  assert.equal(gone.State?.Name, 'terminated');
  await assert.rejects(t.client.servers.get(id), 'the server itself is gone');
});

test('peerings wait for the accepter, also within one account, and every account is 12 digits', async () => {
  const a = (await ec2.send(new ec2sdk.CreateVpcCommand({ CidrBlock: '10.61.0.0/16' }))).Vpc!;
  const b = (await ec2.send(new ec2sdk.CreateVpcCommand({ CidrBlock: '10.62.0.0/16' }))).Vpc!;
  const pcx = (await ec2.send(new ec2sdk.CreateVpcPeeringConnectionCommand({ VpcId: a.VpcId, PeerVpcId: b.VpcId, PeerOwnerId: a.OwnerId })))
    .VpcPeeringConnection!;
  assert.deepEqual(
    [pcx.Status?.Code, pcx.RequesterVpcInfo?.OwnerId, pcx.AccepterVpcInfo?.OwnerId, tags(pcx.Tags)],
    ['pending-acceptance', a.OwnerId, a.OwnerId, {}],
  );
  const accepted = await ec2.send(new ec2sdk.AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx.VpcPeeringConnectionId }));
  assert.equal(accepted.VpcPeeringConnection?.Status?.Code, 'active');
  await ec2sdk.waitUntilVpcPeeringConnectionExists({ client: ec2, maxWaitTime: 60 }, { VpcPeeringConnectionIds: [pcx.VpcPeeringConnectionId!] });
  assert.equal((await t.client.peerings.get(pcx.VpcPeeringConnectionId!)).status, 'active');
});

test('load balancers, target groups and listeners read back as sent, with ELBv2 defaults and codes', async () => {
  const vpc = (await ec2.send(new ec2sdk.CreateVpcCommand({ CidrBlock: '10.63.0.0/16' }))).Vpc!;
  const sub = async (cidr: string, zone: string) =>
    (await ec2.send(new ec2sdk.CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: cidr, AvailabilityZone: zone }))).Subnet!.SubnetId!;
  const s1 = await sub('10.63.1.0/24', 'us-east-1a');
  const s2 = await sub('10.63.2.0/24', 'us-east-1b');
  const sg = (await ec2.send(new ec2sdk.CreateSecurityGroupCommand({ GroupName: 'drift-lb', Description: 'lb', VpcId: vpc.VpcId }))).GroupId!;
  const alb = (await elb.send(new elbsdk.CreateLoadBalancerCommand({ Name: 'drift-alb', Subnets: [s1, s2], SecurityGroups: [sg], Scheme: 'internal' })))
    .LoadBalancers![0];
  const nlb = (await elb.send(new elbsdk.CreateLoadBalancerCommand({ Name: 'drift-nlb', Subnets: [s1], Type: 'network', Scheme: 'internal' })))
    .LoadBalancers![0];
  const [a, n] = (await elb.send(new elbsdk.DescribeLoadBalancersCommand({ Names: ['drift-alb', 'drift-nlb'] }))).LoadBalancers!;
  assert.deepEqual(
    [a.Type, a.Scheme, a.AvailabilityZones!.map((z) => [z.SubnetId, z.ZoneName]), a.SecurityGroups],
    [
      'application',
      'internal',
      [
        [s1, 'us-east-1a'],
        [s2, 'us-east-1b'],
      ],
      [sg],
    ],
  );
  assert.deepEqual([n.Type, n.SecurityGroups], ['network', []]);
  assert.match(nlb.LoadBalancerArn!, /:loadbalancer\/net\/drift-nlb\//);
  assert.match(alb.LoadBalancerArn!, /:\d{12}:loadbalancer\/app\/drift-alb\//);
  await elb.send(
    new elbsdk.ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: a.LoadBalancerArn, Attributes: [{ Key: 'idle_timeout.timeout_seconds', Value: '120' }] }),
  );
  const attrs = tags((await elb.send(new elbsdk.DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: a.LoadBalancerArn }))).Attributes);
  assert.deepEqual([attrs['idle_timeout.timeout_seconds'], attrs['deletion_protection.enabled'], attrs['routing.http2.enabled']], ['120', 'false', 'true']);

  // ELBv2's health check defaults: TCP 30 s / 10 s; a 10 s interval keeps the 10 s timeout and CreateListener takes it.
  const tcp = (
    await elb.send(new elbsdk.CreateTargetGroupCommand({ Name: 'drift-tcp', Protocol: 'TCP', Port: 9000, VpcId: vpc.VpcId, HealthCheckIntervalSeconds: 10 }))
  ).TargetGroups![0];
  assert.deepEqual(
    [tcp.HealthCheckProtocol, tcp.HealthCheckIntervalSeconds, tcp.HealthCheckTimeoutSeconds, tcp.HealthyThresholdCount, tcp.UnhealthyThresholdCount],
    ['TCP', 10, 10, 5, 2],
  );
  const forward = (arn: string) => [{ Type: 'forward' as const, TargetGroupArn: arn }];
  await elb.send(
    new elbsdk.CreateListenerCommand({ LoadBalancerArn: n.LoadBalancerArn, Protocol: 'TCP', Port: 9000, DefaultActions: forward(tcp.TargetGroupArn!) }),
  );
  const dup = await codeOf(
    elb.send(
      new elbsdk.CreateListenerCommand({ LoadBalancerArn: n.LoadBalancerArn, Protocol: 'TCP', Port: 9000, DefaultActions: forward(tcp.TargetGroupArn!) }),
    ),
  );
  assert.equal(dup, 'DuplicateListenerException');
  const bad = await codeOf(
    elb.send(
      new elbsdk.CreateTargetGroupCommand({
        Name: 'bad-hc',
        Protocol: 'HTTP',
        Port: 80,
        VpcId: vpc.VpcId,
        HealthCheckIntervalSeconds: 5,
        HealthCheckTimeoutSeconds: 5,
      }),
    ),
  );
  assert.equal(bad, 'ValidationError', 'an HTTP timeout must be below the interval, refused at once');

  const http = (await elb.send(new elbsdk.CreateTargetGroupCommand({ Name: 'drift-http', Protocol: 'HTTP', Port: 8080, VpcId: vpc.VpcId }))).TargetGroups![0];
  assert.deepEqual([http.HealthCheckIntervalSeconds, http.HealthCheckTimeoutSeconds, http.HealthCheckPath, http.Matcher?.HttpCode], [30, 5, '/', '200']);
  await elb.send(
    new elbsdk.ModifyTargetGroupAttributesCommand({
      TargetGroupArn: http.TargetGroupArn,
      Attributes: [
        { Key: 'stickiness.enabled', Value: 'true' },
        { Key: 'stickiness.lb_cookie.duration_seconds', Value: '3600' },
      ],
    }),
  );
  const tgAttrs = tags((await elb.send(new elbsdk.DescribeTargetGroupAttributesCommand({ TargetGroupArn: http.TargetGroupArn }))).Attributes);
  assert.deepEqual(
    [tgAttrs['stickiness.enabled'], tgAttrs['stickiness.lb_cookie.duration_seconds'], tgAttrs['deregistration_delay.timeout_seconds']],
    ['true', '3600', '300'],
  );
  const listener = (
    await elb.send(
      new elbsdk.CreateListenerCommand({ LoadBalancerArn: a.LoadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: forward(http.TargetGroupArn!) }),
    )
  ).Listeners![0];
  assert.equal(
    await codeOf(
      elb.send(
        new elbsdk.CreateListenerCommand({ LoadBalancerArn: a.LoadBalancerArn, Protocol: 'TCP', Port: 81, DefaultActions: forward(tcp.TargetGroupArn!) }),
      ),
    ),
    'ValidationError',
  );
  await elb.send(new elbsdk.ModifyTargetGroupCommand({ TargetGroupArn: http.TargetGroupArn, HealthCheckIntervalSeconds: 20, HealthCheckPath: '/health' }));
  const monitor = (await t.client.healthMonitors.list()).find((h) => h.type === 'HTTP')!;
  assert.deepEqual([monitor.delay, monitor.urlPath], [20, '/health'], 'the pool took the change');
  const rules = (await elb.send(new elbsdk.DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!;
  assert.deepEqual(
    rules.map((r) => [r.IsDefault, r.Priority, r.Actions![0].TargetGroupArn]),
    [[true, 'default', http.TargetGroupArn]],
  );
  const [l] = (await elb.send(new elbsdk.DescribeListenersCommand({ ListenerArns: [listener.ListenerArn!] }))).Listeners!;
  assert.deepEqual([l.Port, l.Protocol, l.DefaultActions!.map((x) => [x.Type, x.TargetGroupArn])], [80, 'HTTP', [['forward', http.TargetGroupArn]]]);
});

test('network ACLs read back as sent: entries with AWS protocol numbers, the * rules as 32767, associations moved by id', async () => {
  const vpc = (await ec2.send(new ec2sdk.CreateVpcCommand({ CidrBlock: '10.64.0.0/16' }))).Vpc!.VpcId!;
  const subnet = (await ec2.send(new ec2sdk.CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.64.1.0/24' }))).Subnet!.SubnetId!;
  const [def] = (
    await ec2.send(
      new ec2sdk.DescribeNetworkAclsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpc] },
          { Name: 'default', Values: ['true'] },
        ],
      }),
    )
  ).NetworkAcls!;
  assert.deepEqual(
    def.Entries!.map((e) => [e.RuleNumber, e.Protocol, e.RuleAction, e.Egress]),
    [
      [100, '-1', 'allow', false],
      [100, '-1', 'allow', true],
      [32767, '-1', 'deny', false],
      [32767, '-1', 'deny', true],
    ],
    "AWS's default ACL",
  );
  const assoc = def.Associations!.find((a) => a.SubnetId === subnet)!.NetworkAclAssociationId!;
  const acl = (await ec2.send(new ec2sdk.CreateNetworkAclCommand({ VpcId: vpc, TagSpecifications: spec('network-acl', { Name: 'drift-acl' }) }))).NetworkAcl!;
  assert.deepEqual([acl.IsDefault, tags(acl.Tags)], [false, { Name: 'drift-acl' }]);
  const id = acl.NetworkAclId!;
  await ec2.send(
    new ec2sdk.CreateNetworkAclEntryCommand({
      NetworkAclId: id,
      RuleNumber: 100,
      Protocol: '6',
      RuleAction: 'allow',
      Egress: false,
      CidrBlock: '0.0.0.0/0',
      PortRange: { From: 443, To: 443 },
    }),
  );
  await ec2.send(
    new ec2sdk.CreateNetworkAclEntryCommand({
      NetworkAclId: id,
      RuleNumber: 110,
      Protocol: '1',
      RuleAction: 'deny',
      Egress: false,
      CidrBlock: '10.0.0.0/8',
      IcmpTypeCode: { Type: 8, Code: -1 },
    }),
  );
  await ec2.send(
    new ec2sdk.CreateNetworkAclEntryCommand({ NetworkAclId: id, RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: true, CidrBlock: '0.0.0.0/0' }),
  );
  assert.equal(
    await codeOf(
      ec2.send(
        new ec2sdk.CreateNetworkAclEntryCommand({
          NetworkAclId: id,
          RuleNumber: 100,
          Protocol: '-1',
          RuleAction: 'deny',
          Egress: true,
          CidrBlock: '0.0.0.0/0',
        }),
      ),
    ),
    'NetworkAclEntryAlreadyExists',
  );
  await ec2.send(
    new ec2sdk.ReplaceNetworkAclEntryCommand({
      NetworkAclId: id,
      RuleNumber: 100,
      Protocol: '17',
      RuleAction: 'allow',
      Egress: true,
      CidrBlock: '10.0.0.0/8',
      PortRange: { From: 53, To: 53 },
    }),
  );
  const moved = await ec2.send(new ec2sdk.ReplaceNetworkAclAssociationCommand({ AssociationId: assoc, NetworkAclId: id }));
  const [got] = (await ec2.send(new ec2sdk.DescribeNetworkAclsCommand({ NetworkAclIds: [id] }))).NetworkAcls!;
  assert.deepEqual(
    got.Entries!.map((e) => [e.RuleNumber, e.Protocol, e.RuleAction, e.Egress, e.CidrBlock, e.PortRange?.From, e.IcmpTypeCode?.Type]),
    [
      [100, '6', 'allow', false, '0.0.0.0/0', 443, undefined],
      [110, '1', 'deny', false, '10.0.0.0/8', undefined, 8],
      [100, '17', 'allow', true, '10.0.0.0/8', 53, undefined],
      [32767, '-1', 'deny', false, '0.0.0.0/0', undefined, undefined],
      [32767, '-1', 'deny', true, '0.0.0.0/0', undefined, undefined],
    ],
  );
  assert.deepEqual(
    got.Associations!.map((a) => [a.SubnetId, a.NetworkAclAssociationId]),
    [[subnet, moved.NewAssociationId]],
  );
  assert.equal(await codeOf(ec2.send(new ec2sdk.DeleteNetworkAclCommand({ NetworkAclId: def.NetworkAclId }))), 'DependencyViolation');
  await ec2.send(new ec2sdk.DeleteNetworkAclEntryCommand({ NetworkAclId: id, RuleNumber: 110, Egress: false }));
  await ec2.send(new ec2sdk.ReplaceNetworkAclAssociationCommand({ AssociationId: moved.NewAssociationId, NetworkAclId: def.NetworkAclId }));
  await ec2.send(new ec2sdk.DeleteNetworkAclCommand({ NetworkAclId: id }));
  assert.equal(await codeOf(ec2.send(new ec2sdk.DescribeNetworkAclsCommand({ NetworkAclIds: [id] }))), 'InvalidNetworkAclID.NotFound');
});
