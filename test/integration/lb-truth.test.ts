/**
 * A load balancer says the truth about its public IP: one that cannot listen there is ERROR,
 * with the reason, and keeps the installation from being converged, until it can; and
 * `--public` takes an address nothing on the host is bound to.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { testDaemon, type TestDaemon } from '../helpers/daemon.js';

let t: TestDaemon;
before(async () => {
  t = await testDaemon();
  await t.client.vpcs.create({ name: 'v', cidr: '10.60.0.0/16' });
  await t.client.subnets.create({ name: 's', vpc: 'v', cidr: '10.60.1.0/24' });
  await t.client.servers.create({ name: 'e', subnet: 's', app: 'web' });
});
after(async () => {
  await t?.close();
});

function listen(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host, port }, () => resolve(s));
  });
}

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await probe();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not happen`);
}

test('a load balancer whose public IP port is held elsewhere is ERROR, not ACTIVE, until it can listen', async () => {
  const ip = '127.0.1.50'; // outside the ranges other test files draw from
  const blocker = await listen(ip, 18097);
  await t.client.loadBalancers.create({ name: 'held', subnet: 's', publicIp: ip });
  await t.client.pools.create({ name: 'p', loadBalancer: 'held', protocol: 'http', algorithm: 'round_robin' });
  await t.client.members.create({ pool: 'p', server: 'e', port: 8080 });
  await t.client.listeners.create({ name: 'l', loadBalancer: 'held', protocol: 'http', port: 18097, defaultPool: 'p' });
  const lb = await until(
    'ERROR',
    () => t.client.loadBalancers.get('held'),
    (x) => x.provisioningStatus === 'ERROR',
  );
  assert.equal(lb.provisioningStatus, 'ERROR');
  assert.match(
    (await t.client.loadBalancers.status('held')).errors.join('\n'),
    /127\.0\.1\.50:18097: another process on the host listens on this port \(EADDRINUSE\)/,
  );
  const status = await t.client.status();
  assert.equal(status.dataplane.converged, false);
  assert.ok(status.dataplane.errors.some((e) => e.resourceId === lb.id && /EADDRINUSE/.test(e.message)));
  await new Promise((r) => blocker.close(r));
  await until(
    'ACTIVE once the port is free',
    () => t.client.loadBalancers.get('held'),
    (x) => x.provisioningStatus === 'ACTIVE',
  );
  // Served once free: a connection is taken. Deleted: the answer comes once its public IP no longer answers.
  const taken = await connects('127.0.1.50', 18097);
  assert.equal(taken, true, 'the public IP answers while it exists');
  const gone = await t.client.loadBalancers.delete('held', { cascade: true });
  assert.equal(gone.provisioningStatus, 'DELETED');
  assert.equal(await connects('127.0.1.50', 18097), false, 'no longer answers once the delete has answered');
});

/** Whether a TCP connection to host:port is taken. */
function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.on('connect', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
}

test('a public IP chosen for you is one nothing on the host is bound to', async () => {
  const blocker = await listen('127.0.1.1', 0);
  try {
    const lb = await t.client.loadBalancers.create({ name: 'auto', subnet: 's', publicIp: true });
    assert.notEqual(lb.publicIp, '127.0.1.1');
  } finally {
    blocker.close();
  }
});
