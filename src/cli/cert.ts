/**
 * `nimbus cert ...`: TLS certificates for TERMINATED_HTTPS listeners. `cert import` reads PEM
 * files where the CLI runs and sends them; `cert create --self-signed` has the daemon make one
 * for labs. A key, once sent, is kept sealed and never shown again.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Certificate } from '../core/model/index.js';
import type { Column } from './output.js';
import { act, collect, int } from './shared.js';
import { standardVerbs } from './network.js';

const CERT: Column<Certificate>[] = [
  { header: 'NAME', value: (c) => c.name },
  { header: 'ID', value: (c) => c.id },
  { header: 'DNS NAMES', value: (c) => c.subjectAlternativeNames.join(', ') },
  { header: 'EXPIRES', value: (c) => c.notAfter.slice(0, 10) },
  { header: 'KEY', value: (c) => c.keyAlgorithm },
  { header: 'ISSUER', value: (c) => (c.selfSigned ? '(self-signed)' : c.issuer) },
];

/** A PEM file's text, or a refusal naming the file. */
function pemFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${what} '${path}': ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

export function certCommands(program: Command): void {
  const cert = program.command('cert').description('TLS certificates of TERMINATED_HTTPS listeners (keys are kept sealed, never shown)');
  cert
    .command('import')
    .description('import a PEM certificate and its unencrypted private key')
    .requiredOption('--name <name>', 'certificate name')
    .requiredOption('--cert <file>', 'PEM file of the certificate')
    .requiredOption('--key <file>', 'PEM file of its private key (RSA 2048+ or EC P-256/P-384)')
    .option('--chain <file>', 'PEM file of the intermediate certificates')
    .action(
      act(CERT, (c, o: { name: string; cert: string; key: string; chain?: string }) =>
        c.certificates.create({
          name: o.name,
          certificatePem: pemFile(o.cert, '--cert'),
          privateKeyPem: pemFile(o.key, '--key'),
          ...(o.chain ? { chainPem: pemFile(o.chain, '--chain') } : {}),
        }),
      ),
    );
  cert
    .command('create')
    .description('make a self-signed certificate (for labs: clients must be told to trust it)')
    .requiredOption('--name <name>', 'certificate name')
    .requiredOption('--self-signed', 'self-signed (the one kind Nimbus makes)')
    .requiredOption('--dns <name>', 'a DNS name it is for (the first is its subject); repeatable', collect)
    .option('--days <n>', 'valid for (default 365)', int('days'))
    .action(
      act(CERT, (c, o: { name: string; dns: string[]; days?: number }) =>
        c.certificates.create({ name: o.name, selfSigned: { dnsNames: o.dns, days: o.days } }),
      ),
    );
  cert
    .command('pem')
    .description("print a certificate and its chain as PEM, for a client's trust store (never its key)")
    .argument('<ref>', 'name or id')
    .action(
      act(null, async (c, ref: string) => {
        const got = await c.certificates.get(ref);
        process.stdout.write(got.certificatePem + (got.chainPem ?? ''));
      }),
    );
  standardVerbs(cert, 'certificate', CERT, (c) => c.certificates, { rename: false });
}
