/**
 * Revocation that revokes, against a real daemon: a revoked token's console session ends at
 * once (so does its AWS key, kept on the token); deleting a project ends its tokens and
 * sessions in the same transaction; creates racing a project's delete either commit before it
 * (and the delete refuses) or fail with InvalidProjectID.NotFound, and nothing survives under
 * a deleted project.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDaemon, type TestDaemon } from '../helpers/daemon.js';
import { awsPrincipal } from '../../src/resources/token/service.js';

let t: TestDaemon;
before(async () => {
  t = await testDaemon();
});
after(async () => {
  await t?.close();
});

/** A console session of `secret`'s token: its cookie. */
async function consoleSession(secret: string): Promise<string> {
  const issued = await fetch(`${t.daemon.url}/v1/console/logins`, { method: 'POST', headers: { authorization: `Bearer ${secret}` } });
  assert.equal(issued.status, 201);
  const { token } = (await issued.json()) as { token: string };
  const login = await fetch(`${t.daemon.url}/console/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  assert.equal(login.status, 200);
  return /nimbus_session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1];
}

const withSession = (cookie: string, path: string, init: RequestInit = {}) =>
  fetch(`${t.daemon.url}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), cookie: `nimbus_session=${cookie}` } });

test('revoking a token ends its console sessions at once, and its AWS key with it', async () => {
  await t.client.projects.create({ name: 'rev' });
  const issued = await t.client.tokens.create({ name: 'rev-token', project: 'rev' });
  const session = await consoleSession(issued.secret);
  assert.equal((await withSession(session, '/v1/vpcs')).status, 200);
  const key = await t.client.withToken(issued.secret).awsCredentials();
  await t.client.tokens.revoke(issued.token.id);
  const after = await withSession(session, '/v1/vpcs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'x', cidr: '10.9.0.0/16' }),
  });
  assert.equal(after.status, 401);
  assert.equal(((await after.json()) as { code: string }).code, 'AuthFailure');
  assert.equal((await withSession(session, '/v1/console/logins', { method: 'POST' })).status, 401, 'no new login tokens either');
  assert.equal(awsPrincipal(t.daemon.store, key.accessKeyId), null, 'the AWS key went with its token');
});

test('deleting a project ends its tokens and sessions in the same transaction', async () => {
  await t.client.projects.create({ name: 'gone' });
  const issued = await t.client.tokens.create({ name: 'gone-token', project: 'gone' });
  const session = await consoleSession(issued.secret);
  await t.client.projects.delete('gone');
  assert.ok(!(await t.client.tokens.list()).some((x) => x.id === issued.token.id), 'the token is gone');
  await assert.rejects(t.client.withToken(issued.secret).vpcs.create({ name: 'late', cidr: '10.8.0.0/16' }), (e: { code: string }) => e.code === 'AuthFailure');
  assert.equal((await withSession(session, '/v1/vpcs')).status, 401);
});

test('50 creates racing a project delete: each commits before it or fails InvalidProjectID.NotFound; nothing survives', async () => {
  const project = await t.client.projects.create({ name: 'race' });
  await t.client.projects.update('race', { quotas: { vpcs: 100 } });
  const c = t.client.withToken((await t.client.tokens.create({ name: 'race-token', project: 'race' })).secret);
  const creates = Array.from({ length: 50 }, (_, i) =>
    c.vpcs.create({ name: `v${i}`, cidr: `10.${i}.0.0/16` }).then(
      () => 'created',
      (e: { code: string }) => e.code,
    ),
  );
  // Delete as soon as it can: it is refused while any VPC stands, so it is retried after removing them.
  let deleted = false;
  while (!deleted) {
    try {
      await t.client.projects.delete('race');
      deleted = true;
    } catch (e) {
      assert.equal((e as { code: string }).code, 'DependencyViolation');
      for (const v of await t.client.as(project.id).vpcs.list())
        await t.client
          .as(project.id)
          .vpcs.delete(v.id)
          .catch(() => undefined);
    }
  }
  const outcomes = await Promise.all(creates);
  assert.ok(
    outcomes.every((o) => ['created', 'InvalidProjectID.NotFound', 'AuthFailure'].includes(o)),
    outcomes.join(','),
  );
  const left = t.daemon.store.list<{ projectId: string }>('vpc').filter((v) => v.projectId === project.id);
  assert.deepEqual(left, [], 'no VPC survives under the deleted project');
});
