/**
 * The data-plane contract: what every data plane does the same way, run against each (Hono's
 * habit: one suite, every implementation). A case a plane cannot run is skipped with its
 * reason; the linux and ovn planes need root (skipped with the reason otherwise), ovn its packages too.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDaemon, type TestDaemon } from '../helpers/daemon.js';
import { linuxDaemon, skipLinux } from '../helpers/linux.js';
import { ovnDaemon, skipOvn } from '../helpers/ovn.js';
import { ApiError, type NimbusClient } from '../../src/client/client.js';

const NO_KERNEL = 'the virtual data plane has no kernel objects: it answers from the analyzer and cannot run commands or send real probes';

async function refused(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof ApiError && e.code === code);
}

async function lab(c: NimbusClient): Promise<void> {
  await c.vpcs.create({ name: 'vpc-a', cidr: '192.168.6.0/24' });
  await c.vpcs.create({ name: 'vpc-b', cidr: '192.168.5.0/24' });
  await c.subnets.create({ name: 'sub-a', vpc: 'vpc-a', cidr: '192.168.6.0/25' });
  await c.subnets.create({ name: 'sub-b', vpc: 'vpc-b', cidr: '192.168.5.0/24' });
  await c.servers.create({ name: 'ecs-a', subnet: 'sub-a', ip: '192.168.6.76' });
  await c.servers.create({ name: 'ecs-b', subnet: 'sub-b', ip: '192.168.5.130' });
}

for (const plane of ['virtual', 'linux', 'ovn'] as const) {
  const skip = plane === 'linux' ? skipLinux : plane === 'ovn' ? skipOvn : false;
  describe(`data-plane contract: ${plane}`, { skip }, () => {
    let t: TestDaemon;
    let c: NimbusClient;
    before(async () => {
      // On ovn the daemon spreads the servers over three chassis: ecs-a and ecs-b land on different ones.
      t = plane === 'linux' ? await linuxDaemon() : plane === 'ovn' ? await ovnDaemon(3) : await testDaemon({ dataplane: 'virtual' });
      c = t.client;
      await lab(c);
    });
    after(async () => {
      await t?.close();
    });

    test('reports its kind, and converges: after a sync the plan is empty', async () => {
      assert.equal((await c.status()).dataplane.kind, plane);
      await c.dataplane.sync();
      assert.deepEqual((await c.dataplane.plan()).steps, []);
      assert.deepEqual((await c.dataplane.sync()).steps, [], 'a second sync changes nothing');
      assert.equal((await c.status()).dataplane.converged, true);
    });

    test('VPCs are isolated: a ping between them fails', async () => {
      const r = await c.ping({ server: 'ecs-a', destination: '192.168.5.130', count: 1 });
      assert.equal(r.reachable, false);
      assert.equal(r.received, 0);
    });

    test('a peering and a route on each side make the ping succeed', async () => {
      await c.peerings.create({ name: 'pcx-ab', vpc: 'vpc-a', peerVpc: 'vpc-b' });
      await c.routeTables.addRoute('vpc-a-main', { destination: '192.168.5.0/24', target: 'pcx-ab' });
      const oneRoute = await c.ping({ server: 'ecs-a', destination: '192.168.5.130', count: 1 });
      assert.equal(oneRoute.reachable, false, 'without the return route');
      await c.routeTables.addRoute('vpc-b-main', { destination: '192.168.6.0/25', target: 'pcx-ab' });
      const r = await c.ping({ server: 'ecs-a', destination: '192.168.5.130', count: 2 });
      assert.equal(r.reachable, true, r.output);
      assert.equal(r.dataplane, plane);
    });

    test('a stopped server sends nothing: ping from it is refused, and works once it starts', async () => {
      await c.servers.stop('ecs-b');
      await refused(c.ping({ server: 'ecs-b', destination: '192.168.6.76', count: 1 }), 'IncorrectInstanceState');
      await c.servers.start('ecs-b');
      assert.equal((await c.ping({ server: 'ecs-b', destination: '192.168.6.76', count: 1 })).reachable, true);
    });

    test('exec runs a command inside the server', { skip: plane === 'virtual' ? NO_KERNEL : false }, async () => {
      if (plane === 'ovn') assert.notEqual((await c.servers.get('ecs-a')).chassis, (await c.servers.get('ecs-b')).chassis);
      const r = await c.exec('ecs-a', ['ip', '-br', 'addr', 'show', 'eth0']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /192\.168\.6\.76\/25/);
    });

    test(
      'exec and real probes are refused where the plane has no kernel',
      { skip: plane !== 'virtual' ? `the ${plane} data plane runs them (see the exec case)` : false },
      async () => {
        await refused(c.exec('ecs-a', ['true']), 'Dataplane.Unavailable');
        await refused(c.trace({ server: 'ecs-a', destination: '192.168.5.130', probe: true }), 'Dataplane.Unavailable');
      },
    );

    test('a real probe agrees with the analyzer', { skip: plane === 'virtual' ? NO_KERNEL : false }, async () => {
      const r = await c.trace({ server: 'ecs-a', destination: '192.168.5.130', probe: true });
      assert.equal(r.reachable, true);
      assert.equal(r.probe?.agrees, true, r.probe?.output);
    });

    test('deleting a server leaves nothing to do', async () => {
      await c.servers.create({ name: 'ecs-c', subnet: 'sub-a' });
      await c.servers.delete('ecs-c');
      await c.dataplane.sync();
      assert.deepEqual((await c.dataplane.plan()).steps, []);
      await refused(c.ping({ server: 'ecs-c', destination: '192.168.6.76' }), 'InvalidServerID.NotFound');
    });
  });
}
