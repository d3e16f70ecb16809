/**
 * Nimbus installed where no other user may look (a clone in a 0700 folder, as under /root):
 * tenants' programs still run, each as its own identity and never as root, because they run
 * from the root-owned copy everyone may read. The test closes the checkout itself (0700) for
 * its duration and puts its mode back after, also when it fails.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { linuxDaemon, skipLinux, type LinuxTestDaemon } from '../helpers/linux.js';
import { testDaemon, type TestDaemon } from '../helpers/daemon.js';
import { unreadableByOthers } from '../../src/workloads/runtime.js';
import { identityOf } from '../../src/workloads/process-identity.js';

const checkout = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
let mode = 0;
let linux: LinuxTestDaemon | undefined;
let virtual: TestDaemon | undefined;

before(() => {
  mode = statSync(checkout).mode & 0o7777;
  if (!skipLinux) chmodSync(checkout, 0o700);
});
after(async () => {
  chmodSync(checkout, mode);
  await linux?.close();
  await virtual?.close();
});

/** The uid and command line of a supervised process once it runs node itself. */
async function program(d: TestDaemon, key: string): Promise<{ uid: number; cmdline: string }> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const pid = d.daemon.workloads.supervisor.pid(key);
    const id = pid ? identityOf(pid) : null;
    if (pid && id?.cmdline.startsWith(process.execPath))
      return { uid: Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]), cmdline: id.cmdline };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${key} never ran node`);
}

test("in a 0700 checkout, the linux plane's app host serves a server's web app, not as root, and it answers", { skip: skipLinux }, async () => {
  assert.ok(unreadableByOthers(checkout) !== null, 'the checkout is closed to other users');
  linux = await linuxDaemon();
  const c = linux.client;
  await c.vpcs.create({ name: 'v', cidr: '10.61.0.0/16' });
  await c.subnets.create({ name: 's', vpc: 'v', cidr: '10.61.1.0/24' });
  await c.servers.create({ name: 'web', subnet: 's', ip: '10.61.1.10', app: 'web' });
  await c.servers.create({ name: 'client', subnet: 's', ip: '10.61.1.11' });
  const p = await program(linux, linux.daemon.workloads.apps!.key);
  assert.notEqual(p.uid, 0);
  assert.ok(!p.cmdline.includes(checkout), 'the program is not read from the checkout');
  assert.equal(unreadableByOthers(p.cmdline.split(' ')[1], 0o004), null, 'it is read from a copy everyone may read');
  for (const deadline = Date.now() + 60_000; ;) {
    const r = await c.exec('client', [
      'python3',
      '-c',
      "import urllib.request; print(urllib.request.urlopen('http://10.61.1.10:8080/', timeout=2).read().decode())",
    ]);
    if (r.code === 0) {
      assert.match(r.stdout, /Hello from web \(10\.61\.1\.10\)/);
      break;
    }
    assert.ok(Date.now() < deadline, r.stderr);
    await new Promise((res) => setTimeout(res, 200));
  }
});

test('in a 0700 checkout, a workload on the virtual plane runs as its own id, and it answers', { skip: skipLinux }, async () => {
  virtual = await testDaemon();
  const c = virtual.client;
  await c.vpcs.create({ name: 'v', cidr: '10.62.0.0/16' });
  await c.subnets.create({ name: 's', vpc: 'v', cidr: '10.62.1.0/24' });
  const web = await c.servers.create({ name: 'web', subnet: 's', app: 'web' });
  const p = await program(virtual, web.id);
  assert.notEqual(p.uid, 0);
  for (const deadline = Date.now() + 60_000; ;) {
    const r = await fetch(`http://${web.loopbackIp}:8080/`).catch(() => null);
    if (r?.ok) {
      assert.match(await r.text(), /Hello from web/);
      break;
    }
    assert.ok(Date.now() < deadline, 'the web app never answered');
    await new Promise((res) => setTimeout(res, 200));
  }
});
