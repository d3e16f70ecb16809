/**
 * AWS's "VPC with public and private subnets" through the AWS endpoint, as AWS's docs write it:
 * with the SDK (@aws-sdk/client-ec2, its nat-gateway-available waiter included) and with
 * Debian's aws CLI (skipped where /usr/bin/aws is not installed). Each build is then checked
 * through Nimbus: the analyzer's verdicts for the way out through the NAT gateway and the way
 * in to the elastic IP, and AWS's codes for the edge's refusals.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  EC2Client,
  CreateVpcCommand,
  CreateSubnetCommand,
  CreateInternetGatewayCommand,
  AttachInternetGatewayCommand,
  DetachInternetGatewayCommand,
  DeleteInternetGatewayCommand,
  DescribeInternetGatewaysCommand,
  CreateRouteTableCommand,
  CreateRouteCommand,
  AssociateRouteTableCommand,
  AllocateAddressCommand,
  AssociateAddressCommand,
  DisassociateAddressCommand,
  ReleaseAddressCommand,
  DescribeAddressesCommand,
  CreateNatGatewayCommand,
  DescribeNatGatewaysCommand,
  DeleteNatGatewayCommand,
  DescribeRouteTablesCommand,
  RunInstancesCommand,
  DescribeInstancesCommand,
  waitUntilNatGatewayAvailable,
} from '@aws-sdk/client-ec2';
import { testDaemon, cli, type TestDaemon } from '../helpers/daemon.js';
import { awsCli, codeOf, tag, skipAwsCli } from '../helpers/aws.js';

let t: TestDaemon;
let ec2: EC2Client;

before(async () => {
  t = await testDaemon();
  const key = await t.client.awsCredentials();
  ec2 = new EC2Client({ endpoint: t.daemon.url, region: 'us-east-1', credentials: key });
});
after(async () => {
  ec2?.destroy();
  await t?.close();
});

test('the scenario with the SDK: gateways, addresses, routes, the waiter, and the analyzer agrees', async () => {
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16', TagSpecifications: tag('sdk-vpc', 'vpc') }))).Vpc!.VpcId!;
  const pub = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.0.0.0/24', TagSpecifications: tag('sdk-public', 'subnet') }))).Subnet!
    .SubnetId!;
  const priv = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.0.1.0/24', TagSpecifications: tag('sdk-private', 'subnet') }))).Subnet!
    .SubnetId!;
  const igw = (await ec2.send(new CreateInternetGatewayCommand({ TagSpecifications: tag('sdk-igw', 'internet-gateway') }))).InternetGateway!;
  assert.deepEqual(igw.Attachments, []);
  assert.equal(igw.Tags?.find((x) => x.Key === 'Name')?.Value, 'sdk-igw');
  // An elastic IP cannot be mapped into a VPC without a gateway (AWS: Gateway.NotAttached).
  const early = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
  const nat0 = await codeOf(ec2.send(new CreateNatGatewayCommand({ SubnetId: pub, AllocationId: early.AllocationId })));
  assert.equal(nat0, 'Gateway.NotAttached');
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId, VpcId: vpc }));
  assert.equal(
    await codeOf(ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId, VpcId: vpc }))),
    'Resource.AlreadyAssociated',
  );
  const described = await ec2.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpc] }] }));
  assert.deepEqual(described.InternetGateways?.[0].Attachments, [{ VpcId: vpc, State: 'available' }]);

  const pubRt = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpc }))).RouteTable!.RouteTableId!;
  await ec2.send(new CreateRouteCommand({ RouteTableId: pubRt, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw.InternetGatewayId }));
  await ec2.send(new AssociateRouteTableCommand({ RouteTableId: pubRt, SubnetId: pub }));
  assert.equal(
    await codeOf(ec2.send(new CreateRouteCommand({ RouteTableId: pubRt, DestinationCidrBlock: '10.9.0.0/16', GatewayId: 'igw-0123456789abcdef' }))),
    'InvalidGatewayID.NotFound',
  );

  const nat = (
    await ec2.send(new CreateNatGatewayCommand({ SubnetId: pub, AllocationId: early.AllocationId, TagSpecifications: tag('sdk-nat', 'natgateway') }))
  ).NatGateway!;
  assert.equal(nat.NatGatewayAddresses?.[0].PublicIp, early.PublicIp);
  await waitUntilNatGatewayAvailable({ client: ec2, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { NatGatewayIds: [nat.NatGatewayId!] });
  const privRt = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpc }))).RouteTable!.RouteTableId!;
  await ec2.send(new CreateRouteCommand({ RouteTableId: privRt, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat.NatGatewayId }));
  await ec2.send(new AssociateRouteTableCommand({ RouteTableId: privRt, SubnetId: priv }));
  const routes = (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [pubRt, privRt] }))).RouteTables!.flatMap((r) => r.Routes ?? []);
  assert.ok(routes.some((r) => r.GatewayId === igw.InternetGatewayId && r.State === 'active'));
  assert.ok(routes.some((r) => r.NatGatewayId === nat.NatGatewayId && r.State === 'active'));

  const web = (
    await ec2.send(new RunInstancesCommand({ ImageId: 'ami-1', MinCount: 1, MaxCount: 1, SubnetId: pub, TagSpecifications: tag('sdk-web', 'instance') }))
  ).Instances![0];
  const app = (
    await ec2.send(new RunInstancesCommand({ ImageId: 'ami-1', MinCount: 1, MaxCount: 1, SubnetId: priv, TagSpecifications: tag('sdk-app', 'instance') }))
  ).Instances![0];
  const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc', TagSpecifications: tag('sdk-web-ip', 'elastic-ip') }));
  const assoc = await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: web.InstanceId }));
  assert.match(assoc.AssociationId!, /^eipassoc-/);
  assert.equal(
    await codeOf(ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: app.InstanceId }))),
    'Resource.AlreadyAssociated',
  );
  const shown = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [web.InstanceId!] }))).Reservations![0].Instances![0];
  assert.equal(shown.PublicIpAddress, eip.PublicIp);
  const addrs = (await ec2.send(new DescribeAddressesCommand({ AllocationIds: [eip.AllocationId!] }))).Addresses!;
  assert.equal(addrs[0].InstanceId, web.InstanceId);
  assert.equal(addrs[0].AssociationId, assoc.AssociationId);
  assert.equal(await codeOf(ec2.send(new DescribeAddressesCommand({ AllocationIds: ['eipalloc-0123456789abcdef'] }))), 'InvalidAllocationID.NotFound');
  assert.equal(await codeOf(ec2.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId }))), 'InvalidIPAddress.InUse');
  assert.equal(await codeOf(ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId, VpcId: vpc }))), 'DependencyViolation');
  assert.equal(await codeOf(ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId }))), 'DependencyViolation');

  // The analyzer: out through the NAT gateway, in to the elastic IP (the default group admits nothing from outside).
  const out = await t.client.trace({ server: 'sdk-app', destination: '203.0.113.10', protocol: 'tcp', port: 80 });
  assert.equal(out.reachable, true, out.text);
  assert.match(out.text, new RegExp(`source 10\\.0\\.0\\.\\d+ -> ${early.PublicIp!.replace(/\./g, '\\.')}`));
  const inbound = await t.client.trace({ server: 'internet', destination: eip.PublicIp!, protocol: 'tcp', port: 22 });
  assert.equal(inbound.reachable, false);
  assert.equal(inbound.blockedBy?.kind, 'security-group-ingress');

  // Taking it apart in AWS's order.
  await ec2.send(new DisassociateAddressCommand({ AssociationId: assoc.AssociationId }));
  await ec2.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId }));
  assert.equal((await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: nat.NatGatewayId }))).NatGatewayId, nat.NatGatewayId);
  const blackholed = (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [privRt] }))).RouteTables![0].Routes!;
  assert.equal(blackholed.find((r) => r.NatGatewayId === nat.NatGatewayId)?.State, 'blackhole');
  assert.equal(await codeOf(ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [nat.NatGatewayId!] }))), 'NatGatewayNotFound');
  await ec2.send(new ReleaseAddressCommand({ AllocationId: early.AllocationId }));
});

const skipCli = skipAwsCli;

test('the scenario with the aws CLI, as AWS documents it', { skip: skipCli }, async () => {
  const r = await cli(t.daemon.url, ['credentials', 'aws'], { NIMBUS_TOKEN: t.daemon.adminToken });
  const env = Object.fromEntries([...r.stdout.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
  const aws = (...args: string[]) => awsCli(t.daemon.url, env, args);
  const vpc = await aws('ec2', 'create-vpc', '--cidr-block', '10.1.0.0/16', '--query', 'Vpc.VpcId');
  const pub = await aws('ec2', 'create-subnet', '--vpc-id', vpc, '--cidr-block', '10.1.0.0/24', '--query', 'Subnet.SubnetId');
  const priv = await aws('ec2', 'create-subnet', '--vpc-id', vpc, '--cidr-block', '10.1.1.0/24', '--query', 'Subnet.SubnetId');
  const igw = await aws('ec2', 'create-internet-gateway', '--query', 'InternetGateway.InternetGatewayId');
  await aws('ec2', 'attach-internet-gateway', '--vpc-id', vpc, '--internet-gateway-id', igw);
  const pubRt = await aws('ec2', 'create-route-table', '--vpc-id', vpc, '--query', 'RouteTable.RouteTableId');
  assert.equal(await aws('ec2', 'create-route', '--route-table-id', pubRt, '--destination-cidr-block', '0.0.0.0/0', '--gateway-id', igw), 'True');
  await aws('ec2', 'associate-route-table', '--subnet-id', pub, '--route-table-id', pubRt);
  const alloc = await aws('ec2', 'allocate-address', '--domain', 'vpc', '--query', 'AllocationId');
  const nat = await aws('ec2', 'create-nat-gateway', '--subnet-id', pub, '--allocation-id', alloc, '--query', 'NatGateway.NatGatewayId');
  await aws('ec2', 'wait', 'nat-gateway-available', '--nat-gateway-ids', nat);
  const privRt = await aws('ec2', 'create-route-table', '--vpc-id', vpc, '--query', 'RouteTable.RouteTableId');
  await aws('ec2', 'create-route', '--route-table-id', privRt, '--destination-cidr-block', '0.0.0.0/0', '--nat-gateway-id', nat);
  await aws('ec2', 'associate-route-table', '--subnet-id', priv, '--route-table-id', privRt);
  const app = await aws('ec2', 'run-instances', '--image-id', 'ami-1', '--count', '1', '--subnet-id', priv, '--query', 'Instances[0].InstanceId');
  const web = await aws('ec2', 'run-instances', '--image-id', 'ami-1', '--count', '1', '--subnet-id', pub, '--query', 'Instances[0].InstanceId');
  const webAlloc = await aws('ec2', 'allocate-address', '--domain', 'vpc', '--query', 'AllocationId');
  await aws('ec2', 'associate-address', '--instance-id', web, '--allocation-id', webAlloc);
  const ip = await aws('ec2', 'describe-instances', '--instance-ids', web, '--query', 'Reservations[0].Instances[0].PublicIpAddress');
  assert.match(ip, /^127\.0\.1\.\d+$/);
  assert.equal(await aws('ec2', 'describe-nat-gateways', '--filter', 'Name=state,Values=available', '--query', 'NatGateways[0].NatGatewayId'), nat);
  const trace = await t.client.trace({ server: app, destination: '203.0.113.10', protocol: 'tcp', port: 80 });
  assert.equal(trace.reachable, true, trace.text);
  assert.match(trace.text, /nat-gateway|nat /);
});
