/**
 * Ansible builds a Nimbus network unchanged (privileged): examples/ansible/network.yml, with
 * Debian's amazon.aws and community.aws collections against the daemon's AWS endpoint. The
 * first run changes, real packets cross its peering and real HTTP its load balancer; the
 * second run reports changed=0. Debian's ansible and python3-boto3 are installed as root when
 * missing; without root the test skips.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import { ensureAnsible, playbook } from '../helpers/iac.js';

let skip: string | false = skipLinux;
let t: LinuxTestDaemon;

before(async () => {
  if (skip) return;
  skip = await ensureAnsible();
  if (!skip) t = await linuxDaemon();
});
after(async () => {
  await t?.close();
});

test('the playbook builds the network, traffic flows, and a second run changes nothing', { timeout: 900_000 }, async (ctx) => {
  if (skip) return ctx.skip(skip);
  const keys = await t.client.awsCredentials();
  const first = await playbook(t.daemon.url, keys);
  assert.equal(first.code, 0, `the first run failed:\n${first.stdout.slice(-4000)}\n${first.stderr.slice(-2000)}`);
  assert.equal(first.recap.failed, 0);
  assert.ok(first.recap.changed >= 15, `the first run made the network (changed=${first.recap.changed})`);

  // Real traffic: a ping from the ops VPC across the accepted peering; HTTP through the load balancer's public IP.
  const web = await t.client.servers.get('ans-web-1');
  assert.equal(web.privateIp, '10.40.1.11');
  const ping = await t.client.ping({ server: 'ans-ops-1', destination: web.privateIp, count: 1 });
  assert.equal(ping.reachable, true, ping.output);
  const lb = await t.client.loadBalancers.get('ans-web');
  assert.ok(lb.publicIp, 'internet-facing: a public IP');
  let body = '';
  for (let i = 0; i < 100 && !body.includes('ans-web-1'); i++) {
    const res = await fetch(`http://${lb.publicIp}/`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
    body = res?.ok ? await res.text() : '';
    if (!body) await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(body, /Hello from ans-web-1 \(10\.40\.1\.11\)/);

  const second = await playbook(t.daemon.url, keys);
  assert.equal(second.code, 0, `the second run failed:\n${second.stdout.slice(-4000)}`);
  const changedTasks = [...second.stdout.matchAll(/TASK \[([^\]]+)\][^\n]*\nchanged:/g)].map((m) => m[1]);
  assert.deepEqual([second.recap.changed, changedTasks], [0, []], 'the second run changes nothing');
});
