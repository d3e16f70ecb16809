/**
 * HTTPS through the AWS endpoint with Debian's aws CLI, as AWS documents it: a certificate
 * imported into ACM (`fileb://`), an HTTPS listener of an application load balancer holding
 * it by ARN, a second certificate added for SNI, real HTTPS with curl through the public IP,
 * and ACM's refusals (in use, not found, a key of another certificate). Skipped where
 * /usr/bin/aws is not installed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { testDaemon, cli, runCollect, type TestDaemon } from '../helpers/daemon.js';
import { awsCli, awsPart2, skipAwsCli, AWS_CLI as AWS } from '../helpers/aws.js';
import { part1, waitMembersOnline } from '../helpers/lab.js';
import { selfSign } from '../../src/resources/certificate/service.js';

const skip = skipAwsCli;
let t: TestDaemon;
let env: Record<string, string>;
let tmp: string;

before(async () => {
  if (skip) return;
  t = await testDaemon();
  const r = await cli(t.daemon.url, ['credentials', 'aws'], { NIMBUS_TOKEN: t.daemon.adminToken });
  assert.equal(r.code, 0, r.stderr);
  env = Object.fromEntries([...r.stdout.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
  tmp = mkdtempSync(join(tmpdir(), 'nimbus-acm-'));
});
after(async () => {
  await t?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const aws = (...args: string[]) => awsCli(t.daemon.url, env, args);
/** The AWS error code a refused aws CLI call prints. */
async function awsCode(...args: string[]): Promise<string> {
  const r = await runCollect(AWS, ['--endpoint-url', t.daemon.url, ...args], {
    PATH: process.env.PATH ?? '',
    HOME: '/nonexistent',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
    ...env,
  });
  assert.notEqual(r.code, 0, `aws ${args.join(' ')} succeeded`);
  return /An error occurred \((\w+)\)/.exec(r.stderr)?.[1] ?? r.stderr;
}

/** Writes a self-signed certificate and key for `dns` to files, as a user holds them. */
async function pemFiles(name: string, dns: string): Promise<{ cert: string; key: string }> {
  const c = await selfSign([dns], 30);
  const cert = join(tmp, `${name}.crt`);
  const key = join(tmp, `${name}.key`);
  writeFileSync(cert, c.certPem);
  writeFileSync(key, c.keyPem);
  return { cert, key };
}

test('ACM certificates and an HTTPS listener with the aws CLI: real HTTPS, SNI, and ACM refusals', { skip }, async () => {
  await part1(t.client, 'web');
  const elbSdk = new ElasticLoadBalancingV2Client({ endpoint: t.daemon.url, region: 'us-east-1', credentials: await t.client.awsCredentials() });
  let lbArn: string;
  let tgArn: string;
  let ip: string;
  try {
    const { lb, tg } = await awsPart2(t.client, elbSdk);
    lbArn = lb.LoadBalancerArn!;
    tgArn = tg.TargetGroupArn!;
    ip = lb.DNSName!;
  } finally {
    elbSdk.destroy();
  }
  await waitMembersOnline(t.client);

  const shop = await pemFiles('shop', 'shop.test');
  const api = await pemFiles('api', 'api.shop.test');
  const shopArn = await aws(
    'acm',
    'import-certificate',
    '--certificate',
    `fileb://${shop.cert}`,
    '--private-key',
    `fileb://${shop.key}`,
    '--query',
    'CertificateArn',
  );
  assert.match(shopArn, /^arn:aws:acm:us-east-1:\d{12}:certificate\/cert-[0-9a-f]{16}$/);
  const apiArn = await aws(
    'acm',
    'import-certificate',
    '--certificate',
    `fileb://${api.cert}`,
    '--private-key',
    `fileb://${api.key}`,
    '--tags',
    'Key=team,Value=api',
    '--query',
    'CertificateArn',
  );
  const listed = await aws('acm', 'list-certificates', '--query', 'CertificateSummaryList[].DomainName');
  assert.deepEqual(listed.split(/\s+/).sort(), ['api.shop.test', 'shop.test']);
  assert.equal(await aws('acm', 'list-tags-for-certificate', '--certificate-arn', apiArn, '--query', 'Tags[0].Value'), 'api');
  // The certificate (never the key) comes back.
  const got = await aws('acm', 'get-certificate', '--certificate-arn', shopArn, '--query', 'Certificate');
  assert.match(got, /BEGIN CERTIFICATE/);
  assert.doesNotMatch(got, /PRIVATE KEY/);

  const listenerArn = await aws(
    'elbv2',
    'create-listener',
    '--load-balancer-arn',
    lbArn,
    '--protocol',
    'HTTPS',
    '--port',
    '8443',
    '--certificates',
    `CertificateArn=${shopArn}`,
    '--default-actions',
    `Type=forward,TargetGroupArn=${tgArn}`,
    '--query',
    'Listeners[0].ListenerArn',
  );
  const described = JSON.parse(
    (
      await runCollect(AWS, ['--endpoint-url', t.daemon.url, 'elbv2', 'describe-listeners', '--listener-arns', listenerArn, '--output', 'json'], {
        PATH: process.env.PATH ?? '',
        HOME: '/nonexistent',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        ...env,
      })
    ).stdout,
  ).Listeners[0];
  assert.equal(described.Protocol, 'HTTPS');
  assert.deepEqual(described.Certificates, [{ CertificateArn: shopArn }]);
  assert.equal(described.SslPolicy, 'ELBSecurityPolicy-2016-08');
  assert.equal((await t.client.listeners.list()).find((l) => l.port === 8443)?.protocol, 'TERMINATED_HTTPS', 'Nimbus holds it as TERMINATED_HTTPS');
  await aws('elbv2', 'add-listener-certificates', '--listener-arn', listenerArn, '--certificates', `CertificateArn=${apiArn}`);
  const all = await aws('elbv2', 'describe-listener-certificates', '--listener-arn', listenerArn, '--query', 'Certificates[].[CertificateArn,IsDefault]');
  assert.deepEqual(
    all.split('\n').map((l) => l.split(/\s+/)),
    [
      [shopArn, 'True'],
      [apiArn, 'False'],
    ],
  );

  // Real HTTPS through the public IP: each name gets its own certificate (curl checks it against the CA it is given).
  const until = Date.now() + 20_000;
  const curl = (host: string, ca: string) =>
    spawnSync('curl', ['-sS', '--max-time', '5', '--cacert', ca, '--resolve', `${host}:8443:${ip}`, `https://${host}:8443/acm`], { encoding: 'utf8' });
  let r = curl('api.shop.test', api.cert);
  while (r.status !== 0 && Date.now() < until) {
    await new Promise((res) => setTimeout(res, 200));
    r = curl('api.shop.test', api.cert);
  }
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Hello from ecs-[ab]/);
  assert.equal(curl('shop.test', shop.cert).status, 0);

  assert.equal(await awsCode('acm', 'delete-certificate', '--certificate-arn', apiArn), 'ResourceInUseException');
  assert.equal(
    await awsCode('elbv2', 'remove-listener-certificates', '--listener-arn', listenerArn, '--certificates', `CertificateArn=${shopArn}`),
    'OperationNotPermitted',
  );
  await aws('elbv2', 'remove-listener-certificates', '--listener-arn', listenerArn, '--certificates', `CertificateArn=${apiArn}`);
  await aws('acm', 'delete-certificate', '--certificate-arn', apiArn);
  assert.equal(await awsCode('acm', 'describe-certificate', '--certificate-arn', apiArn), 'ResourceNotFoundException');
  const mixed = await pemFiles('mixed', 'mixed.test');
  assert.equal(
    await awsCode('acm', 'import-certificate', '--certificate', `fileb://${mixed.cert}`, '--private-key', `fileb://${shop.key}`),
    'ValidationException',
  );
  assert.equal(
    await awsCode(
      'elbv2',
      'create-listener',
      '--load-balancer-arn',
      lbArn,
      '--protocol',
      'HTTPS',
      '--port',
      '8444',
      '--certificates',
      'CertificateArn=arn:aws:acm:us-east-1:000000000000:certificate/cert-0000000000000000',
      '--default-actions',
      `Type=forward,TargetGroupArn=${tgArn}`,
    ),
    'CertificateNotFound',
  );
  assert.equal(await aws('acm', 'describe-certificate', '--certificate-arn', shopArn, '--query', 'Certificate.InUseBy[0]'), lbArn);
});
