/**
 * The reference lab's part 1 with Debian's aws CLI (/usr/bin/aws, called by that path: a bare
 * `aws` may be another version), its keys from `nimbus credentials aws`, checked through
 * Nimbus's API and analyzer. Skipped where /usr/bin/aws is not installed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDaemon, cli, type TestDaemon } from '../helpers/daemon.js';
import { awsCli, skipAwsCli } from '../helpers/aws.js';

const skip = skipAwsCli;
let t: TestDaemon;
let env: Record<string, string>;

before(async () => {
  if (skip) return;
  t = await testDaemon();
  const r = await cli(t.daemon.url, ['credentials', 'aws'], { NIMBUS_TOKEN: t.daemon.adminToken });
  assert.equal(r.code, 0, r.stderr);
  env = Object.fromEntries([...r.stdout.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
});
after(async () => {
  await t?.close();
});

/** `aws ARGS --output text`, its stdout trimmed; fails the test on a non-zero exit. */
const aws = (...args: string[]) => awsCli(t.daemon.url, env, args);

const name = (type: string, n: string) => ['--tag-specifications', `ResourceType=${type},Tags=[{Key=Name,Value=${n}}]`];

test("the reference lab's part 1 with the aws CLI", { skip }, async () => {
  const vpcA = await aws('ec2', 'create-vpc', '--cidr-block', '192.168.6.0/24', ...name('vpc', 'vpc-a'), '--query', 'Vpc.VpcId');
  const vpcB = await aws('ec2', 'create-vpc', '--cidr-block', '192.168.5.0/24', ...name('vpc', 'vpc-b'), '--query', 'Vpc.VpcId');
  const subA = await aws('ec2', 'create-subnet', '--vpc-id', vpcA, '--cidr-block', '192.168.6.0/25', ...name('subnet', 'sub-a'), '--query', 'Subnet.SubnetId');
  const subB = await aws('ec2', 'create-subnet', '--vpc-id', vpcB, '--cidr-block', '192.168.5.0/24', ...name('subnet', 'sub-b'), '--query', 'Subnet.SubnetId');
  const run = (subnet: string, ip: string, server: string) =>
    aws('ec2', 'run-instances', '--image-id', 'ami-12345678', '--count', '1', '--subnet-id', subnet, '--private-ip-address', ip, ...name('instance', server));
  await run(subA, '192.168.6.76', 'ecs-a');
  await run(subB, '192.168.5.130', 'ecs-b');
  assert.equal((await t.client.trace({ server: 'ecs-a', destination: '192.168.5.130', protocol: 'icmp' })).reachable, false);
  const pcx = await aws(
    'ec2',
    'create-vpc-peering-connection',
    '--vpc-id',
    vpcA,
    '--peer-vpc-id',
    vpcB,
    '--query',
    'VpcPeeringConnection.VpcPeeringConnectionId',
  );
  // AWS's tutorial, step by step: the request waits for the accepter (the same account here), is accepted, is active.
  const status = () => aws('ec2', 'describe-vpc-peering-connections', '--vpc-peering-connection-ids', pcx, '--query', 'VpcPeeringConnections[0].Status.Code');
  assert.equal(await status(), 'pending-acceptance');
  assert.equal(await aws('ec2', 'accept-vpc-peering-connection', '--vpc-peering-connection-id', pcx, '--query', 'VpcPeeringConnection.Status.Code'), 'active');
  await aws('ec2', 'wait', 'vpc-peering-connection-exists', '--vpc-peering-connection-ids', pcx);
  assert.equal(await status(), 'active');
  for (const [vpc, dst] of [
    [vpcA, '192.168.5.0/24'],
    [vpcB, '192.168.6.0/25'],
  ]) {
    const rtb = await aws(
      'ec2',
      'describe-route-tables',
      '--filters',
      `Name=vpc-id,Values=${vpc}`,
      'Name=association.main,Values=true',
      '--query',
      'RouteTables[0].RouteTableId',
    );
    await aws('ec2', 'create-route', '--route-table-id', rtb, '--destination-cidr-block', dst, '--vpc-peering-connection-id', pcx);
  }
  assert.equal((await t.client.trace({ server: 'ecs-a', destination: '192.168.5.130', protocol: 'icmp' })).reachable, true);
  const ips = await aws('ec2', 'describe-instances', '--filters', 'Name=tag:Name,Values=ecs-a,ecs-b', '--query', 'Reservations[].Instances[].PrivateIpAddress');
  assert.deepEqual(ips.split(/\s+/).sort(), ['192.168.5.130', '192.168.6.76']);
  await assert.rejects(aws('ec2', 'delete-vpc', '--vpc-id', vpcA), /DependencyViolation/);
});

test('the aws CLI: tags, --dry-run, and --page-size pages the CLI follows by itself', { skip }, async () => {
  const vpc = await aws('ec2', 'create-vpc', '--cidr-block', '10.30.0.0/16', ...name('vpc', 'cli-tags'), '--query', 'Vpc.VpcId');
  await aws('ec2', 'create-tags', '--resources', vpc, '--tags', 'Key=team,Value=blue', 'Key=env,Value=lab');
  const tags = await aws('ec2', 'describe-tags', '--filters', `Name=resource-id,Values=${vpc}`, '--query', 'Tags[].[Key,Value]');
  assert.deepEqual(
    tags.split('\n').map((l) => l.split('\t')),
    [
      ['Name', 'cli-tags'],
      ['env', 'lab'],
      ['team', 'blue'],
    ],
  );
  assert.equal(await aws('ec2', 'describe-vpcs', '--filters', 'Name=tag:team,Values=blue', '--query', 'Vpcs[].VpcId'), vpc);
  await aws('ec2', 'delete-tags', '--resources', vpc, '--tags', 'Key=team');
  assert.equal(await aws('ec2', 'describe-vpcs', '--filters', 'Name=tag:team,Values=blue', '--query', 'Vpcs[].VpcId'), '');

  await assert.rejects(aws('ec2', 'create-vpc', '--cidr-block', '10.31.0.0/16', '--dry-run'), /DryRunOperation/);
  assert.equal(
    await aws('ec2', 'describe-vpcs', '--filters', 'Name=cidr-block,Values=10.31.0.0/16', '--query', 'Vpcs[].VpcId'),
    '',
    'the dry run made nothing',
  );

  for (let i = 0; i < 6; i++) await aws('ec2', 'create-security-group', '--group-name', `cli-${i}`, '--description', 'paging');
  const paged = await aws('ec2', 'describe-security-groups', '--page-size', '5', '--query', 'SecurityGroups[].GroupName');
  const whole = await aws('ec2', 'describe-security-groups', '--query', 'SecurityGroups[].GroupName');
  assert.deepEqual(paged.split(/\s+/), whole.split(/\s+/));
  assert.ok(whole.split(/\s+/).length > 5, whole);
  const first = await aws('ec2', 'describe-security-groups', '--max-results', '5', '--no-paginate', '--query', 'SecurityGroups[].GroupName');
  assert.equal(first.split(/\s+/).length, 5, 'one page of five when the CLI does not follow the token');
});

test('the aws CLI learns who and where it is: STS, IAM, regions, zones, account attributes', { skip }, async () => {
  const account = await aws('sts', 'get-caller-identity', '--query', 'Account');
  assert.match(account, /^\d{12}$/);
  assert.equal(await aws('iam', 'get-user', '--query', 'User.Arn'), `arn:aws:iam::${account}:user/nimbus-default`);
  assert.equal(await aws('ec2', 'describe-regions', '--query', 'Regions[].RegionName'), 'us-east-1');
  assert.equal(await aws('ec2', 'describe-availability-zones', '--query', 'AvailabilityZones[].ZoneName'), 'us-east-1a\tus-east-1b\tus-east-1c');
  assert.equal(
    await aws(
      'ec2',
      'describe-account-attributes',
      '--attribute-names',
      'supported-platforms',
      '--query',
      'AccountAttributes[].AttributeValues[].AttributeValue',
    ),
    'VPC',
  );
  assert.equal(await aws('ec2', 'describe-images', '--image-ids', 'ami-nimbus', '--query', 'Images[].Name'), 'nimbus-host');
  // What is not served is refused by name.
  await assert.rejects(aws('ec2', 'describe-volumes'), /InvalidAction.*DescribeVolumes/s);
});

test('the aws CLI: flow logs on a VPC, a subnet and an instance, described, refused with AWS codes, deleted', { skip }, async () => {
  const vpc = await aws('ec2', 'create-vpc', '--cidr-block', '10.93.0.0/16', ...name('vpc', 'fl-vpc'), '--query', 'Vpc.VpcId');
  const subnet = await aws('ec2', 'create-subnet', '--vpc-id', vpc, '--cidr-block', '10.93.1.0/24', '--query', 'Subnet.SubnetId');
  const eni = await aws(
    'ec2',
    'run-instances',
    '--image-id',
    'ami-12345678',
    '--subnet-id',
    subnet,
    '--query',
    'Instances[0].NetworkInterfaces[0].NetworkInterfaceId',
  );
  const make = (type: string, id: string, ...more: string[]) =>
    aws('ec2', 'create-flow-logs', '--resource-type', type, '--resource-ids', id, '--traffic-type', 'ALL', ...more, '--query', 'FlowLogIds[0]');
  const onVpc = await make('VPC', vpc, '--log-destination-type', 's3', '--log-destination', 'arn:aws:s3:::bucket', ...name('vpc-flow-log', 'vpc-log'));
  const onSubnet = await make('Subnet', subnet, '--max-aggregation-interval', '60');
  const onEni = await make('NetworkInterface', eni, '--log-group-name', 'my-group');
  const field = (id: string, f: string) => aws('ec2', 'describe-flow-logs', '--flow-log-ids', id, '--query', `FlowLogs[0].${f}`);
  const listed = await aws('ec2', 'describe-flow-logs', '--filter', `Name=resource-id,Values=${vpc},${subnet},${eni}`, '--query', 'FlowLogs[].FlowLogId');
  assert.deepEqual(listed.split(/\s+/).sort(), [onVpc, onSubnet, onEni].sort());
  assert.equal(await field(onEni, 'ResourceId'), eni);
  assert.equal(await field(onSubnet, 'MaxAggregationInterval'), '60');
  assert.equal(await field(onVpc, 'LogDestinationType'), 's3');
  assert.equal(await field(onVpc, 'FlowLogStatus'), 'ACTIVE');
  // Nimbus's view: the records are its own file, read through its API.
  assert.equal((await t.client.flowLogs.get('vpc-log')).destination, `nimbus:flowlogs/${onVpc}.log`);
  await assert.rejects(aws('ec2', 'create-flow-logs', '--resource-type', 'VPC', '--resource-ids', vpc, '--traffic-type', 'ALL'), /FlowLogAlreadyExists/);
  await assert.rejects(
    aws('ec2', 'create-flow-logs', '--resource-type', 'VPC', '--resource-ids', vpc, '--traffic-type', 'REJECT', '--log-format', '${srcaddr} ${dstaddr}'),
    /InvalidParameter.*default format/,
  );
  const gone = await aws('ec2', 'delete-flow-logs', '--flow-log-ids', onVpc, onSubnet, onEni, 'fl-0000000000000000', '--query', 'Unsuccessful[].ResourceId');
  assert.equal(gone, 'fl-0000000000000000');
  assert.deepEqual(await t.client.flowLogs.list({ vpc }), []);
});

test("the aws CLI: a VPC's DNS switches and a peering's DNS option are Nimbus's own", { skip }, async () => {
  const a = await aws('ec2', 'create-vpc', '--cidr-block', '10.94.0.0/16', ...name('vpc', 'dns-a'), '--query', 'Vpc.VpcId');
  const b = await aws('ec2', 'create-vpc', '--cidr-block', '10.95.0.0/16', ...name('vpc', 'dns-b'), '--query', 'Vpc.VpcId');
  const attr = (vpc: string, key: string, field: string) =>
    aws('ec2', 'describe-vpc-attribute', '--vpc-id', vpc, '--attribute', key, '--query', `${field}.Value`);
  // As AWS makes a VPC that is not the default: resolver on, host names off.
  assert.equal(await attr(a, 'enableDnsSupport', 'EnableDnsSupport'), 'True');
  assert.equal(await attr(a, 'enableDnsHostnames', 'EnableDnsHostnames'), 'False');
  assert.equal((await t.client.vpcs.get('dns-a')).enableDnsHostnames, false);
  await aws('ec2', 'modify-vpc-attribute', '--vpc-id', a, '--enable-dns-hostnames', '{"Value":true}');
  assert.equal(await attr(a, 'enableDnsHostnames', 'EnableDnsHostnames'), 'True');
  assert.equal((await t.client.vpcs.get('dns-a')).enableDnsHostnames, true);
  await t.client.vpcs.update('dns-b', { enableDnsSupport: false });
  assert.equal(await attr(b, 'enableDnsSupport', 'EnableDnsSupport'), 'False');
  await assert.rejects(aws('ec2', 'modify-vpc-attribute', '--vpc-id', b, '--enable-dns-hostnames', '{"Value":true}'), /InvalidParameterValue/);
  await t.client.vpcs.update('dns-b', { enableDnsSupport: true });

  const pcx = await aws('ec2', 'create-vpc-peering-connection', '--vpc-id', a, '--peer-vpc-id', b, '--query', 'VpcPeeringConnection.VpcPeeringConnectionId');
  await aws('ec2', 'accept-vpc-peering-connection', '--vpc-peering-connection-id', pcx);
  const options = await aws(
    'ec2',
    'modify-vpc-peering-connection-options',
    '--vpc-peering-connection-id',
    pcx,
    '--requester-peering-connection-options',
    'AllowDnsResolutionFromRemoteVpc=true',
    '--query',
    '[RequesterPeeringConnectionOptions.AllowDnsResolutionFromRemoteVpc, AccepterPeeringConnectionOptions.AllowDnsResolutionFromRemoteVpc]',
  );
  assert.deepEqual(options.split(/\s+/), ['True', 'False']);
  const described = await aws(
    'ec2',
    'describe-vpc-peering-connections',
    '--vpc-peering-connection-ids',
    pcx,
    '--query',
    'VpcPeeringConnections[0].RequesterVpcInfo.PeeringOptions.AllowDnsResolutionFromRemoteVpc',
  );
  assert.equal(described, 'True');
  const p = (await t.client.peerings.list()).find((x) => x.id === pcx)!;
  assert.equal(p.requesterDns, true);
  assert.notEqual(p.accepterDns, true);
});
