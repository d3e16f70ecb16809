#!/usr/bin/env node
/**
 * Vendors a trimmed copy of AWS's own service models (botocore's, Apache-2.0) for the
 * operations the AWS-compatible endpoint serves: the operations and every shape they reach.
 *
 *   node scripts/aws-models.mjs [BOTOCORE_DATA_DIR]
 *
 * BOTOCORE_DATA_DIR defaults to Debian's awscli (apt-get install awscli):
 * /usr/lib/python3/dist-packages/awscli/botocore/data. Writes src/aws/models/*.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const data = process.argv[2] ?? '/usr/lib/python3/dist-packages/awscli/botocore/data';
const out = fileURLToPath(new URL('../src/aws/models/', import.meta.url));

export const SERVED = {
  ec2: {
    version: '2016-11-15',
    operations: [
      'CreateVpc',
      'DescribeVpcs',
      'DeleteVpc',
      'CreateSubnet',
      'DescribeSubnets',
      'DeleteSubnet',
      'CreateSecurityGroup',
      'DescribeSecurityGroups',
      'DeleteSecurityGroup',
      'AuthorizeSecurityGroupIngress',
      'AuthorizeSecurityGroupEgress',
      'RevokeSecurityGroupIngress',
      'RevokeSecurityGroupEgress',
      'RunInstances',
      'DescribeInstances',
      'TerminateInstances',
      'StopInstances',
      'StartInstances',
      'CreateRouteTable',
      'DescribeRouteTables',
      'DeleteRouteTable',
      'CreateRoute',
      'ReplaceRoute',
      'DeleteRoute',
      'AssociateRouteTable',
      'DisassociateRouteTable',
      'CreateVpcPeeringConnection',
      'AcceptVpcPeeringConnection',
      'RejectVpcPeeringConnection',
      'DeleteVpcPeeringConnection',
      'DescribeVpcPeeringConnections',
      'CreateInternetGateway',
      'AttachInternetGateway',
      'DetachInternetGateway',
      'DeleteInternetGateway',
      'DescribeInternetGateways',
      'AllocateAddress',
      'AssociateAddress',
      'DisassociateAddress',
      'ReleaseAddress',
      'DescribeAddresses',
      'CreateNatGateway',
      'DescribeNatGateways',
      'DeleteNatGateway',
      'CreateTags',
      'DeleteTags',
      'DescribeTags',
      'DescribeRegions',
      'DescribeAvailabilityZones',
      'DescribeAccountAttributes',
      'DescribeKeyPairs',
      'DescribeImages',
      'DescribeInstanceTypes',
      'DescribeVpcAttribute',
      'ModifyVpcAttribute',
      'DescribeVpcClassicLink',
      'DescribeVpcClassicLinkDnsSupport',
      'ModifySubnetAttribute',
      'DescribeSecurityGroupRules',
      'DescribeInstanceStatus',
      'DescribeInstanceAttribute',
      'ModifyInstanceAttribute',
      'DescribeInstanceCreditSpecifications',
      'DescribeNetworkInterfaces',
      'ModifyVpcPeeringConnectionOptions',
      'CreateNetworkAcl',
      'DescribeNetworkAcls',
      'DeleteNetworkAcl',
      'CreateNetworkAclEntry',
      'ReplaceNetworkAclEntry',
      'DeleteNetworkAclEntry',
      'ReplaceNetworkAclAssociation',
      'CreateFlowLogs',
      'DescribeFlowLogs',
      'DeleteFlowLogs',
    ],
  },
  elbv2: {
    version: '2015-12-01',
    operations: [
      'CreateLoadBalancer',
      'DescribeLoadBalancers',
      'DeleteLoadBalancer',
      'CreateTargetGroup',
      'DescribeTargetGroups',
      'DeleteTargetGroup',
      'ModifyTargetGroupAttributes',
      'DescribeTargetGroupAttributes',
      'RegisterTargets',
      'DeregisterTargets',
      'DescribeTargetHealth',
      'CreateListener',
      'DescribeListeners',
      'DeleteListener',
      'AddTags',
      'RemoveTags',
      'DescribeTags',
      'DescribeLoadBalancerAttributes',
      'ModifyLoadBalancerAttributes',
      'SetSecurityGroups',
      'SetSubnets',
      'ModifyTargetGroup',
      'ModifyListener',
      'DescribeRules',
      'CreateRule',
      'ModifyRule',
      'DeleteRule',
      'SetRulePriorities',
      'DescribeCapacityReservation',
      'DescribeListenerAttributes',
      'AddListenerCertificates',
      'RemoveListenerCertificates',
      'DescribeListenerCertificates',
    ],
  },
  sts: { version: '2011-06-15', operations: ['GetCallerIdentity'] },
  iam: { version: '2010-05-08', operations: ['GetUser'] },
};

/**
 * Operations newer than Debian's botocore, written from AWS's API reference in the models'
 * form: the hashicorp/aws provider calls them. Merged before trimming; the model wins if it has them.
 */
const EXTRA = {
  elbv2: {
    operations: {
      DescribeCapacityReservation: {
        name: 'DescribeCapacityReservation',
        input: { shape: 'DescribeCapacityReservationInput' },
        output: { shape: 'DescribeCapacityReservationOutput', resultWrapper: 'DescribeCapacityReservationResult' },
      },
      DescribeListenerAttributes: {
        name: 'DescribeListenerAttributes',
        input: { shape: 'DescribeListenerAttributesInput' },
        output: { shape: 'DescribeListenerAttributesOutput', resultWrapper: 'DescribeListenerAttributesResult' },
      },
    },
    shapes: {
      DescribeCapacityReservationInput: { type: 'structure', required: ['LoadBalancerArn'], members: { LoadBalancerArn: { shape: 'LoadBalancerArn' } } },
      DescribeCapacityReservationOutput: {
        type: 'structure',
        members: {
          LastModifiedTime: { shape: 'CapacityReservationTime' },
          DecreaseRequestsRemaining: { shape: 'CapacityUnits' },
          MinimumLoadBalancerCapacity: { shape: 'MinimumLoadBalancerCapacity' },
          CapacityReservationState: { shape: 'ZonalCapacityReservationStates' },
        },
      },
      CapacityReservationTime: { type: 'timestamp' },
      CapacityUnits: { type: 'integer' },
      MinimumLoadBalancerCapacity: { type: 'structure', members: { CapacityUnits: { shape: 'CapacityUnits' } } },
      ZonalCapacityReservationStates: { type: 'list', member: { shape: 'ZonalCapacityReservationState' } },
      ZonalCapacityReservationState: {
        type: 'structure',
        members: { State: { shape: 'CapacityReservationStatus' }, AvailabilityZone: { shape: 'ZoneName' }, EffectiveCapacityUnits: { shape: 'CapacityUnits' } },
      },
      CapacityReservationStatus: { type: 'structure', members: { Code: { shape: 'StateReason' }, Reason: { shape: 'StateReason' } } },
      StateReason: { type: 'string' },
      DescribeListenerAttributesInput: { type: 'structure', required: ['ListenerArn'], members: { ListenerArn: { shape: 'ListenerArn' } } },
      DescribeListenerAttributesOutput: { type: 'structure', members: { Attributes: { shape: 'ListenerAttributes' } } },
      ListenerAttributes: { type: 'list', member: { shape: 'ListenerAttribute' } },
      ListenerAttribute: { type: 'structure', members: { Key: { shape: 'ListenerAttributeKey' }, Value: { shape: 'ListenerAttributeValue' } } },
      ListenerAttributeKey: { type: 'string' },
      ListenerAttributeValue: { type: 'string' },
    },
  },
};

function reach(shapes, name, seen) {
  if (seen.has(name)) return;
  seen.add(name);
  const s = shapes[name];
  for (const ref of [s.member, s.key, s.value, ...Object.values(s.members ?? {})]) if (ref?.shape) reach(shapes, ref.shape, seen);
}

for (const [service, { version, operations }] of Object.entries(SERVED)) {
  const model = JSON.parse(readFileSync(join(data, service, version, 'service-2.json'), 'utf8'));
  model.operations = { ...EXTRA[service]?.operations, ...model.operations };
  model.shapes = { ...EXTRA[service]?.shapes, ...model.shapes };
  const seen = new Set();
  const ops = {};
  for (const op of operations) {
    const o = model.operations[op];
    if (!o) throw new Error(`${service}: no operation ${op} in the model`);
    ops[op] = { name: op, input: o.input, output: o.output, errors: o.errors };
    for (const ref of [o.input, o.output]) if (ref?.shape) reach(model.shapes, ref.shape, seen);
  }
  // Documentation strings are most of the model's size and nothing the codec needs.
  const strip = (v) =>
    Array.isArray(v)
      ? v.map(strip)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([k]) => k !== 'documentation')
              .map(([k, x]) => [k, strip(x)]),
          )
        : v;
  const shapes = Object.fromEntries([...seen].sort().map((n) => [n, strip(model.shapes[n])]));
  const trimmed = { metadata: model.metadata, operations: ops, shapes };
  writeFileSync(join(out, `${service}.json`), JSON.stringify(trimmed) + '\n');
  process.stdout.write(`${service}: ${operations.length} operations, ${seen.size} shapes\n`);
}
