/**
 * The AWS endpoint on the linux data plane (privileged): the reference lab's part 1 made with
 * the EC2 SDK becomes real namespaces, and a real ping crosses the peering once its routes are in;
 * part 2 made with the ELBv2 SDK serves real HTTP through the public IP (cookie sessions, round robin).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import { awsPart1, awsPart2, awsPeer } from '../helpers/aws.js';

let t: LinuxTestDaemon;
let ec2: EC2Client;
let elb: ElasticLoadBalancingV2Client;
before(async () => {
  if (skipLinux) return;
  t = await linuxDaemon();
  const credentials = await t.client.awsCredentials();
  ec2 = new EC2Client({ endpoint: t.daemon.url, region: 'us-east-1', credentials });
  elb = new ElasticLoadBalancingV2Client({ endpoint: t.daemon.url, region: 'us-east-1', credentials });
});
after(async () => {
  ec2?.destroy();
  elb?.destroy();
  await t?.close();
});

test("the reference lab's part 1 through the EC2 SDK, with real packets", { skip: skipLinux }, async () => {
  const { vpcA, vpcB } = await awsPart1(ec2);
  const ping = () => t.client.ping({ server: 'ecs-a', destination: '192.168.5.130', count: 1 });
  const before = await ping();
  assert.equal(before.reachable, false, before.output);
  assert.equal(await awsPeer(ec2, vpcA, vpcB), 'active');
  const after = await ping();
  assert.equal(after.reachable, true, after.output);
  assert.match(after.output, /1 received/, 'a real ping answered');
});

test("the reference lab's part 2 through the ELBv2 SDK, with real HTTP through the public IP", { skip: skipLinux }, async () => {
  const { lb } = await awsPart2(t.client, elb);
  // The load balancer's own counters (reported by its worker every few seconds) saw both members serve.
  let served: number[] = [];
  for (let i = 0; i < 50 && !(served.length === 2 && served.every((n) => n > 0)); i++) {
    const status = await t.client.loadBalancers.status(lb.LoadBalancerName!);
    assert.equal(status.operatingStatus, 'ONLINE', JSON.stringify(status.errors));
    served = Object.values(status.memberCounters).map((c) => c.requests);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(served.length, 2);
  assert.ok(
    served.every((n) => n > 0),
    `requests per member: ${served}`,
  );
});
