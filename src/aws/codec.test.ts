import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AwsError, decodeInput, encodeError, encodeOutput, paginate, ParamError, type Model } from './codec.js';
import { parseAuthorization, signatureOf, verify, SignatureError } from './sigv4.js';

const load = (n: string) => JSON.parse(readFileSync(new URL(`./models/${n}.json`, import.meta.url), 'utf8')) as Model;
const ec2 = load('ec2');
const elbv2 = load('elbv2');
const params = (q: string) => new Map(new URLSearchParams(q));

test('EC2 requests: flattened lists, capitalized locationNames, nested structures, scalars typed', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    [
      'AuthorizeSecurityGroupIngress',
      'GroupId=sg-1&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=80&IpPermissions.1.ToPort=80&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0%2F8&IpPermissions.1.IpRanges.2.CidrIp=10.1.0.0%2F16',
      { GroupId: 'sg-1', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.0/8' }, { CidrIp: '10.1.0.0/16' }] }] },
    ],
    [
      'DescribeVpcs',
      'Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1&Filter.1.Value.2=vpc-2&VpcId.1=vpc-3',
      { Filters: [{ Name: 'vpc-id', Values: ['vpc-1', 'vpc-2'] }], VpcIds: ['vpc-3'] },
    ],
    ['CreateSecurityGroup', 'GroupName=web&GroupDescription=web+servers', { GroupName: 'web', Description: 'web servers' }],
    ['RunInstances', 'MinCount=1&MaxCount=2&SecurityGroupId.1=sg-1&DryRun=false', { MinCount: 1, MaxCount: 2, SecurityGroupIds: ['sg-1'], DryRun: false }],
  ];
  for (const [op, q, want] of cases) assert.deepEqual(decodeInput(ec2, op, params(q)), want, op);
});

test('query (ELBv2) requests: member lists, plain names', () => {
  assert.deepEqual(
    decodeInput(elbv2, 'RegisterTargets', params('TargetGroupArn=arn%3Atg&Targets.member.1.Id=i-1&Targets.member.1.Port=80&Targets.member.2.Id=i-2')),
    {
      TargetGroupArn: 'arn:tg',
      Targets: [{ Id: 'i-1', Port: 80 }, { Id: 'i-2' }],
    },
  );
  assert.deepEqual(
    decodeInput(elbv2, 'ModifyTargetGroupAttributes', params('TargetGroupArn=x&Attributes.member.1.Key=stickiness.enabled&Attributes.member.1.Value=true')),
    {
      TargetGroupArn: 'x',
      Attributes: [{ Key: 'stickiness.enabled', Value: 'true' }],
    },
  );
});

test('a value of the wrong type is refused with its key', () => {
  assert.throws(
    () => decodeInput(ec2, 'RunInstances', params('MinCount=one')),
    (e: unknown) => e instanceof ParamError && e.key === 'MinCount' && /'one' is not a whole number/.test(e.message),
  );
  assert.throws(() => decodeInput(ec2, 'DescribeVpcs', params('DryRun=yes')), /DryRun: 'yes' is not true or false/);
});

test('outputs: EC2 with requestId and <item> lists, ELBv2 with its Result wrapper and <member> lists', () => {
  const xml = encodeOutput(
    ec2,
    'CreateVpc',
    { Vpc: { VpcId: 'vpc-1', CidrBlock: '10.0.0.0/16', State: 'available', Tags: [{ Key: 'Name', Value: 'a<b' }] } },
    'req-1',
  );
  assert.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n<CreateVpcResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId><vpc><cidrBlock>10.0.0.0/16</cidrBlock><state>available</state><vpcId>vpc-1</vpcId><tagSet><item><key>Name</key><value>a&lt;b</value></item></tagSet></vpc></CreateVpcResponse>',
  );
  const elb = encodeOutput(
    elbv2,
    'DescribeTargetHealth',
    { TargetHealthDescriptions: [{ Target: { Id: 'i-1', Port: 80 }, TargetHealth: { State: 'healthy' } }] },
    'req-2',
  );
  assert.match(
    elb,
    /<DescribeTargetHealthResponse xmlns="http:\/\/elasticloadbalancing\.amazonaws\.com\/doc\/2015-12-01\/"><DescribeTargetHealthResult><TargetHealthDescriptions><member><Target><Id>i-1<\/Id><Port>80<\/Port><\/Target><TargetHealth><State>healthy<\/State><\/TargetHealth><\/member><\/TargetHealthDescriptions><\/DescribeTargetHealthResult><ResponseMetadata><RequestId>req-2<\/RequestId><\/ResponseMetadata>/,
  );
});

test("errors: EC2's <Response><Errors>, the query protocol's <ErrorResponse>", () => {
  assert.match(
    encodeError(ec2, 'InvalidVpcID.NotFound', "vpc 'x' & co", 'r'),
    /<Response><Errors><Error><Code>InvalidVpcID\.NotFound<\/Code><Message>vpc 'x' &amp; co<\/Message><\/Error><\/Errors><RequestID>r<\/RequestID><\/Response>/,
  );
  assert.match(
    encodeError(elbv2, 'UnknownOperationException', 'no', 'r'),
    /<ErrorResponse xmlns="[^"]+"><Error><Type>Sender<\/Type><Code>UnknownOperationException<\/Code><Message>no<\/Message><\/Error><RequestId>r<\/RequestId><\/ErrorResponse>/,
  );
});

test('SigV4: a signature made with the secret holds; another body, secret or time does not', () => {
  const now = Date.UTC(2026, 10, 30, 12, 0, 0);
  const headers: Record<string, string> = { host: '127.0.0.1:7700', 'x-amz-date': '20261130T120000Z', 'content-type': 'application/x-www-form-urlencoded' };
  const req = { method: 'POST', url: '/', headers, body: 'Action=DescribeVpcs&Version=2016-11-15' };
  const base = {
    accessKeyId: 'AK',
    date: '20261130',
    region: 'us-east-1',
    service: 'ec2',
    signedHeaders: ['content-type', 'host', 'x-amz-date'],
    signature: '',
  };
  const signature = signatureOf(req, base, 's3cret');
  const cred = parseAuthorization(
    `AWS4-HMAC-SHA256 Credential=AK/20261130/us-east-1/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=${signature}`,
  )!;
  assert.deepEqual(cred, { ...base, signature });
  verify(req, cred, 's3cret', now);
  assert.throws(() => verify({ ...req, body: req.body + '&X=1' }, cred, 's3cret', now), SignatureError);
  assert.throws(() => verify(req, cred, 'other', now), /does not match/);
  assert.throws(() => verify(req, cred, 's3cret', now + 16 * 60_000), /more than 15 minutes/);
  assert.equal(parseAuthorization('Bearer x'), null);
});

test('pagination follows the model: EC2 MaxResults/NextToken, ELBv2 PageSize/Marker, tokens checked', () => {
  const vpcs = Array.from({ length: 7 }, (_, i) => ({ VpcId: `vpc-${i}` }));
  const ids = (o: Record<string, unknown>, k: string) => (o[k] as { VpcId?: string; LoadBalancerName?: string }[]).map((x) => x.VpcId ?? x.LoadBalancerName);
  const first = paginate(ec2, 'DescribeVpcs', { MaxResults: 5 }, { Vpcs: vpcs });
  assert.deepEqual(ids(first, 'Vpcs'), ['vpc-0', 'vpc-1', 'vpc-2', 'vpc-3', 'vpc-4']);
  assert.equal(typeof first.NextToken, 'string');
  const second = paginate(ec2, 'DescribeVpcs', { MaxResults: 5, NextToken: first.NextToken }, { Vpcs: vpcs });
  assert.deepEqual(ids(second, 'Vpcs'), ['vpc-5', 'vpc-6']);
  assert.equal(second.NextToken, undefined, 'the last page has no token');
  assert.deepEqual(paginate(ec2, 'DescribeVpcs', {}, { Vpcs: vpcs }), { Vpcs: vpcs }, 'no page size: the whole answer');
  assert.deepEqual(paginate(ec2, 'CreateVpc', { MaxResults: 5 }, { Vpc: { VpcId: 'v' } }), { Vpc: { VpcId: 'v' } }, 'not a paged call');

  const refused = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return [(e as AwsError).code, (e as Error).message];
    }
    return null;
  };
  assert.deepEqual(
    refused(() => paginate(ec2, 'DescribeVpcs', { MaxResults: 4 }, { Vpcs: vpcs })),
    ['InvalidParameterValue', 'MaxResults 4: from 5 to 1000'],
  );
  assert.equal(refused(() => paginate(ec2, 'DescribeVpcs', { MaxResults: 5, VpcIds: ['vpc-1'] }, { Vpcs: vpcs }))?.[0], 'InvalidParameterCombination');
  assert.equal(refused(() => paginate(ec2, 'DescribeSubnets', { NextToken: first.NextToken }, { Subnets: [] }))?.[0], 'InvalidPaginationToken');
  assert.equal(refused(() => paginate(ec2, 'DescribeVpcs', { NextToken: 'garbage' }, { Vpcs: vpcs }))?.[0], 'InvalidPaginationToken');

  const lbs = Array.from({ length: 3 }, (_, i) => ({ LoadBalancerName: `lb-${i}` }));
  const p1 = paginate(elbv2, 'DescribeLoadBalancers', { PageSize: 2 }, { LoadBalancers: lbs });
  assert.deepEqual(ids(p1, 'LoadBalancers'), ['lb-0', 'lb-1']);
  const p2 = paginate(elbv2, 'DescribeLoadBalancers', { PageSize: 2, Marker: p1.NextMarker }, { LoadBalancers: lbs });
  assert.deepEqual([ids(p2, 'LoadBalancers'), p2.NextMarker], [['lb-2'], undefined]);
  assert.equal(refused(() => paginate(elbv2, 'DescribeLoadBalancers', { PageSize: 401 }, { LoadBalancers: lbs }))?.[0], 'ValidationError');
});
