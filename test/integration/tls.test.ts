/**
 * TLS termination end to end on both layer-7 engines, on the reference lab's load balancer:
 * certificates imported from PEM files and made self-signed with the CLI, a TERMINATED_HTTPS
 * listener reached with curl and `openssl s_client` (SNI picks the certificate), members that
 * get plain HTTP with X-Forwarded-Proto https, the redirect from 80 to 443 as a policy, keys
 * that the API never returns and the database holds sealed, and the refusals.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, type TestDaemon } from '../helpers/daemon.js';
import { L7_ENGINES, labOn } from '../helpers/engines.js';
import { waitActive } from '../helpers/lab.js';
import { selfSign } from '../../src/resources/certificate/service.js';
import { ApiError } from '../../src/client/client.js';

const PORT = 8443;

for (const { engine, skip } of L7_ENGINES)
  describe(`TLS termination on the ${engine} engine`, { skip }, () => {
    let t: TestDaemon;
    let ip: string;
    let tmp: string;
    before(async () => {
      let base: string;
      ({ t, base } = await labOn(engine));
      ip = new URL(base).hostname;
      tmp = mkdtempSync(join(tmpdir(), 'nimbus-tls-'));
    });
    after(async () => {
      await t?.close();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    /** curl over TLS to the public IP with `host` as the name (SNI and Host), trusting `ca`: its exit code and output. */
    const curl = (host: string, ca: string, path = '/') =>
      spawnSync('curl', ['-sS', '--max-time', '10', '--cacert', ca, '--resolve', `${host}:${PORT}:${ip}`, `https://${host}:${PORT}${path}`], {
        encoding: 'utf8',
      });
    /** The subject of the certificate the listener shows for the SNI name `sni`. */
    const subjectFor = (sni: string) => {
      const r = spawnSync('openssl', ['s_client', '-connect', `${ip}:${PORT}`, '-servername', sni], { input: '', encoding: 'utf8', timeout: 10_000 });
      return /subject=.*CN ?= ?([^,\n]+)/.exec(r.stdout)?.[1]?.trim() ?? `(none: ${r.stderr.slice(0, 200)})`;
    };

    test('certificates from the CLI; SNI picks one; members get plain HTTP with X-Forwarded-Proto https', async () => {
      // One imported from PEM files (made here as a user would with openssl), one made by the daemon.
      const api = await selfSign(['api.shop.test'], 30);
      writeFileSync(join(tmp, 'api.crt'), api.certPem);
      writeFileSync(join(tmp, 'api.key'), api.keyPem);
      const imported = await cli(t.daemon.url, ['cert', 'import', '--name', 'api', '--cert', join(tmp, 'api.crt'), '--key', join(tmp, 'api.key')]);
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(imported.stdout, /api\.shop\.test/);
      const made = await cli(t.daemon.url, ['cert', 'create', '--self-signed', '--name', 'shop', '--dns', 'shop.test', '--dns', 'www.shop.test', '-o', 'json']);
      assert.equal(made.code, 0, made.stderr);
      const shop = JSON.parse(made.stdout);
      assert.deepEqual(shop.subjectAlternativeNames, ['shop.test', 'www.shop.test']);
      assert.equal(shop.selfSigned, true);
      writeFileSync(join(tmp, 'shop.crt'), shop.certificatePem);

      const l = await cli(t.daemon.url, [
        'listener',
        'create',
        '--name',
        'https',
        '--lb',
        'elb',
        '--protocol',
        'terminated_https',
        '--port',
        String(PORT),
        '--pool',
        'web',
        '--cert',
        'shop',
        '--sni-cert',
        'api',
      ]);
      assert.equal(l.code, 0, l.stderr);
      assert.match(l.stdout, /CERTIFICATES \(DEFAULT FIRST\)[\s\S]*shop, api/);
      await waitActive(t.client, 'elb');

      assert.equal(subjectFor('api.shop.test'), 'api.shop.test', 'SNI api.shop.test: the imported certificate');
      assert.equal(subjectFor('www.shop.test'), 'shop.test', 'SNI www.shop.test: the self-signed one, by its second name');
      assert.equal(subjectFor('nothing.test'), 'shop.test', 'a name neither holds: the default');

      const r = curl('www.shop.test', join(tmp, 'shop.crt'), '/tls-check');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Hello from ecs-[ab]/);
      const who = /Hello from (ecs-[ab])/.exec(r.stdout)![1];
      const seen = (await t.client.serverLogs(who)).requests.filter((x) => x.path === '/tls-check');
      assert.equal(seen.length, 1);
      assert.equal(seen[0].forwardedProto, 'https', 'the member is told the client spoke https');
      // curl checks the name against the certificate: the imported one for api.shop.test.
      writeFileSync(join(tmp, 'api-ca.crt'), api.certPem);
      assert.equal(curl('api.shop.test', join(tmp, 'api-ca.crt')).status, 0);
      // And refuses a certificate it was not told to trust.
      assert.notEqual(curl('api.shop.test', join(tmp, 'shop.crt')).status, 0);

      // The access log and the listener's metrics count the HTTPS requests as HTTP ones.
      const log = await cli(t.daemon.url, ['lb', 'logs', 'elb', '-o', 'json']);
      assert.ok(
        JSON.parse(log.stdout).some((x: { path: string }) => x.path === '/tls-check'),
        'lb logs has the HTTPS request',
      );
    });

    test('a redirect from 80 to 443 is a policy', async () => {
      await t.client.l7Policies.create({
        listener: 'http80',
        name: 'to-https',
        action: 'redirect_prefix',
        redirectPrefix: `https://shop.test:${PORT}`,
        redirectHttpCode: 301,
        rules: [{ type: 'path', compareType: 'starts_with', value: '/' }],
      });
      await waitActive(t.client, 'elb');
      const port = (await t.client.listeners.get('http80')).port;
      const r = spawnSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', `http://${ip}:${port}/cart?x=1`], { encoding: 'utf8' });
      assert.equal(r.stdout, `301 https://shop.test:${PORT}/cart?x=1`);
      await t.client.l7Policies.delete('to-https');
    });

    test('keys are never returned, and rest sealed in the database', async () => {
      for (const c of await t.client.certificates.list()) assert.ok(!JSON.stringify(c).includes('PRIVATE KEY'), `${c.name} shows no key`);
      const raw = await fetch(`${t.daemon.url}/v1/certificates/api`, { headers: t.auth });
      const text = await raw.text();
      assert.ok(!text.includes('PRIVATE KEY') && !text.includes('sealedKey'), text.slice(0, 200));
      for (const f of readdirSync(t.dataDir).filter((x) => x.startsWith('nimbus.db')))
        assert.ok(!readFileSync(join(t.dataDir, f)).includes('PRIVATE KEY'), `${f} holds no key in the clear`);
    });

    test('refusals: a key of another certificate, TLS options on HTTP, no certificate, one in use', async () => {
      const a = await selfSign(['a.test'], 30);
      const b = await selfSign(['b.test'], 30);
      const code = async (p: Promise<unknown>) => {
        try {
          await p;
          return 'accepted';
        } catch (err) {
          return `${(err as ApiError).status} ${(err as ApiError).code}`;
        }
      };
      assert.equal(await code(t.client.certificates.create({ name: 'mixed', certificatePem: a.certPem, privateKeyPem: b.keyPem })), '400 InvalidCertificate');
      assert.equal(await code(t.client.certificates.create({ name: 'junk', certificatePem: 'hello', privateKeyPem: a.keyPem })), '400 InvalidCertificate');
      assert.equal(await code(t.client.certificates.create({ name: 'bad-name', selfSigned: { dnsNames: ['not a name'] } })), '400 InvalidParameterValue');
      assert.equal(
        await code(t.client.listeners.create({ name: 'plain', loadBalancer: 'elb', protocol: 'http', port: 8081, defaultPool: 'web', certificate: 'shop' })),
        '400 InvalidParameterValue',
      );
      assert.equal(
        await code(t.client.listeners.create({ name: 'nocert', loadBalancer: 'elb', protocol: 'terminated_https', port: 8444, defaultPool: 'web' })),
        '400 InvalidParameterValue',
      );
      assert.equal(await code(t.client.certificates.delete('api')), '409 Certificate.InUse');
      assert.deepEqual((await t.client.certificates.list()).map((c) => c.name).sort(), ['api', 'shop'], 'nothing refused was kept');
      // Once the listener no longer serves it, it can go.
      await t.client.listeners.update('https', { sniCertificates: [] });
      await waitActive(t.client, 'elb');
      assert.equal(subjectFor('api.shop.test'), 'shop.test', 'the SNI certificate is no longer served');
      await t.client.certificates.delete('api');
    });
  });
