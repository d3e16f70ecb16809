/**
 * Terraform builds a Nimbus network unchanged (privileged; skipped where Terraform or the
 * provider's filesystem mirror is absent): examples/terraform/main.tf, applied with the
 * hashicorp/aws provider against the daemon's AWS endpoint. Then, in order: real packets cross
 * the peering and real HTTP crosses the application load balancer; a second plan sees no drift;
 * a change to the file is applied in place; and destroy leaves nothing in the project.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import { skipTerraform, terraform, type Terraform } from '../helpers/iac.js';

const skip = skipLinux || skipTerraform;
let t: LinuxTestDaemon;
let tf: Terraform;

before(async () => {
  if (skip) return;
  t = await linuxDaemon();
  tf = await terraform(t.daemon.url, await t.client.awsCredentials());
});
after(async () => {
  try {
    // A failed step leaves what it made: destroy it, so that the daemon's close removes the namespaces of an empty project.
    if (tf && (await t.client.vpcs.list()).length > 0) await tf.run(['destroy', '-auto-approve']);
  } finally {
    tf?.close();
    await t?.close();
  }
});

const ok = (r: { code: number; stdout: string; stderr: string }, what: string) =>
  assert.equal(r.code, 0, `${what} failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);

test(
  'terraform apply builds the network; packets and HTTP flow; no drift; a change applies in place; destroy leaves nothing',
  { skip, timeout: 900_000 },
  async () => {
    ok(await tf.run(['apply', '-auto-approve']), 'terraform apply');
    const outputs = JSON.parse((await tf.run(['output', '-json'])).stdout) as Record<string, { value: unknown }>;
    const webIps = outputs.web_ips.value as string[];
    const alb = outputs.alb_dns_name.value as string;
    assert.deepEqual(webIps, ['10.20.1.11', '10.20.1.12'], 'private_ip as written');
    assert.match(alb, /^127\.0\.1\.\d+$/, 'an internet-facing load balancer has a public IP');

    // Real traffic: a ping from the ops VPC crosses the accepted peering (its routes are aws_route resources).
    const ping = await t.client.ping({ server: 'tf-ops', destination: webIps[0], count: 1 });
    assert.equal(ping.reachable, true, ping.output);
    // HTTP through the application load balancer reaches both web servers (their workload came from user_data).
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      const res = await fetch(`http://${alb}/`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
      const body = res?.ok ? await res.text() : '';
      const m = /Hello from (tf-web-\d)/.exec(body);
      if (m) seen.add(m[1]);
      else await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual([...seen].sort(), ['tf-web-1', 'tf-web-2']);
    // The listener rule (an L7 policy) takes /api/*: the access log names it.
    const rule = (await t.client.l7Policies.list())[0];
    assert.equal(rule?.rules[0]?.value, '/api/', 'aws_lb_listener_rule path /api/* became a policy (starts with /api/)');
    assert.equal((await fetch(`http://${alb}/api/orders`, { signal: AbortSignal.timeout(5000) })).status, 200);

    // No drift: every attribute the provider reads back is what it wrote.
    const plan = await tf.run(['plan', '-detailed-exitcode']);
    assert.equal(plan.code, 0, `the second plan sees drift:\n${plan.stdout.slice(-6000)}`);

    // A change to the file: a tag on every resource and the health checks' interval. AWS changes these in place.
    const vars = { tier: 'staging', health_interval: 15 };
    ok(await tf.run(['plan', '-out=change.plan'], vars), 'terraform plan (change)');
    const shown = JSON.parse((await tf.run(['show', '-json', 'change.plan'])).stdout) as {
      resource_changes: { address: string; change: { actions: string[] } }[];
    };
    const actions = shown.resource_changes.filter((c) => c.change.actions.join() !== 'no-op');
    assert.ok(actions.length > 10, `the change touches the resources (${actions.length})`);
    const notInPlace = actions.filter((c) => c.change.actions.join() !== 'update').map((c) => `${c.address}: ${c.change.actions}`);
    assert.deepEqual(notInPlace, [], 'every change is in place');
    ok(await tf.run(['apply', '-auto-approve', 'change.plan']), 'terraform apply (change)');
    const tg = (await t.client.healthMonitors.list()).map((h) => h.delay);
    assert.deepEqual(tg, [15, 15], "the health monitors took the target groups' new interval");
    const again = await tf.run(['plan', '-detailed-exitcode'], vars);
    assert.equal(again.code, 0, `drift after the change:\n${again.stdout.slice(-6000)}`);

    // Destroy leaves nothing in the project but its default security group.
    ok(await tf.run(['destroy', '-auto-approve'], vars), 'terraform destroy');
    const left = {
      vpcs: (await t.client.vpcs.list()).length,
      servers: (await t.client.servers.list()).length,
      groups: (await t.client.securityGroups.list()).filter((g) => !g.isDefault).length,
      loadBalancers: (await t.client.loadBalancers.list()).length,
      elasticIps: (await t.client.elasticIps.list()).length,
      internetGateways: (await t.client.internetGateways.list()).length,
      natGateways: (await t.client.natGateways.list()).filter((n) => n.status !== 'deleted').length,
      peerings: (await t.client.peerings.list()).filter((p) => p.status !== 'deleted').length,
    };
    assert.deepEqual(left, { vpcs: 0, servers: 0, groups: 0, loadBalancers: 0, elasticIps: 0, internetGateways: 0, natGateways: 0, peerings: 0 });
  },
);
