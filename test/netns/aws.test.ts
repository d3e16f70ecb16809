/**
 * The AWS endpoint on the linux data plane (privileged): the reference lab's part 1 made with
 * the EC2 SDK becomes real namespaces, and a real ping crosses the peering once its routes are in.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EC2Client } from '@aws-sdk/client-ec2';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import { awsPart1, awsPeer } from '../helpers/aws.js';

let t: LinuxTestDaemon;
let ec2: EC2Client;
before(async () => {
  if (skipLinux) return;
  t = await linuxDaemon();
  ec2 = new EC2Client({ endpoint: t.daemon.url, region: 'us-east-1', credentials: await t.client.awsCredentials() });
});
after(async () => {
  ec2?.destroy();
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
