/**
 * Secrets at rest, against a real daemon: the data directory is 0700 and the database, its
 * journal files and the sealing key 0600 (also when an older installation left them looser);
 * an AWS secret key is nowhere in the database's files, yet still signs; API tokens are kept
 * as hashes; an older installation's plain AWS secrets are sealed at the next start.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { testDaemon, type TestDaemon } from '../helpers/daemon.js';
import { awsPrincipal } from '../../src/resources/token/service.js';

let t: TestDaemon;
before(async () => {
  t = await testDaemon();
});
after(async () => {
  await t?.close();
});

const mode = (f: string) => statSync(f).mode & 0o777;
const dbFiles = () => ['nimbus.db', 'nimbus.db-wal', 'nimbus.db-shm'].map((f) => join(t.dataDir, f)).filter(existsSync);

test('the data directory is 0700 and the database, its journal and the sealing key 0600, also after looser modes', async () => {
  chmodSync(t.dataDir, 0o755);
  for (const f of dbFiles()) chmodSync(f, 0o644);
  await t.restart();
  assert.equal(mode(t.dataDir), 0o700);
  assert.ok(dbFiles().length >= 2, 'the database and its write-ahead log');
  for (const f of dbFiles()) assert.equal(mode(f), 0o600, f);
  assert.equal(mode(join(t.dataDir, 'secret.key')), 0o600);
});

test("an AWS secret key is not in the database's files, and still signs", async () => {
  const key = await t.client.awsCredentials();
  const issued = await t.client.tokens.create({ name: 'hashed', project: 'default' });
  for (const f of dbFiles()) {
    const bytes = readFileSync(f).toString('latin1');
    assert.ok(!bytes.includes(key.secretAccessKey), `the AWS secret is readable in ${f}`);
    assert.ok(!bytes.includes(issued.secret), `an API token is readable in ${f}`);
  }
  assert.equal(awsPrincipal(t.daemon.store, key.accessKeyId)?.secret, key.secretAccessKey);
  await t.restart();
  assert.equal(awsPrincipal(t.daemon.store, key.accessKeyId)?.secret, key.secretAccessKey, 'the key file opens it after a restart');
});

test("an older installation's plain AWS secret is sealed at the next start", async () => {
  const key = await t.client.awsCredentials();
  const store = t.daemon.store;
  const token = store
    .list<{ id: string; name: string; aws?: { accessKeyId: string; sealed?: string; secret?: string } }>('token')
    .find((x) => x.aws?.accessKeyId === key.accessKeyId)!;
  const plain: typeof token = { ...token, aws: { accessKeyId: key.accessKeyId, secret: key.secretAccessKey } };
  store.update(plain);
  store.checkpoint();
  assert.ok(readFileSync(join(t.dataDir, 'nimbus.db')).toString('latin1').includes(key.secretAccessKey), 'the plain secret as an older version kept it');
  await t.restart();
  for (const f of dbFiles()) assert.ok(!readFileSync(f).toString('latin1').includes(key.secretAccessKey), `still plain in ${f}`);
  assert.equal(awsPrincipal(t.daemon.store, key.accessKeyId)?.secret, key.secretAccessKey);
});
