/**
 * A daemon that stops leaves nothing of its load balancers' workers on the host: their folders
 * under /var/lib/nimbus go with them (as root, where workers run as ids of their own).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cleanInstallation, testDaemon } from '../helpers/daemon.js';
import { workerBase } from '../../src/workloads/lb-dirs.js';

test(
  "a stopped daemon's workers' folders are gone",
  { skip: process.getuid?.() === 0 ? false : 'workers have folders of their own only as root' },
  async () => {
    const t = await testDaemon();
    let closed = false;
    try {
      const c = t.client;
      await c.vpcs.create({ name: 'v', cidr: '10.63.0.0/16' });
      await c.subnets.create({ name: 's', vpc: 'v', cidr: '10.63.1.0/24' });
      await c.loadBalancers.create({ name: 'lb', subnet: 's' });
      await c.pools.create({ name: 'p', loadBalancer: 'lb', protocol: 'http', algorithm: 'round_robin' });
      await c.listeners.create({ name: 'l', loadBalancer: 'lb', protocol: 'http', port: 18123, defaultPool: 'p' });
      for (const deadline = Date.now() + 60_000; !existsSync(workerBase(t.dataDir));) {
        assert.ok(Date.now() < deadline, 'the worker never got its folder');
        await new Promise((r) => setTimeout(r, 50));
      }
      await t.daemon.close();
      closed = true;
      assert.equal(existsSync(workerBase(t.dataDir)), false, `${workerBase(t.dataDir)} is left behind`);
    } finally {
      if (!closed) await t.daemon.close();
      await cleanInstallation(t.dataDir);
    }
  },
);
