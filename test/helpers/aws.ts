/**
 * The reference lab's part 1 through AWS's EC2 SDK, in two steps (the servers, then the
 * peering and its routes), for the AWS endpoint's tests on both data planes.
 */
import assert from 'node:assert/strict';
import {
  CreateRouteCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  DescribeRouteTablesCommand,
  RunInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';

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
  return pcx.VpcPeeringConnection?.Status?.Code;
}
