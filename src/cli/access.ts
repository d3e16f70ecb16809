/**
 * `nimbus project|token ...`: the tenants and who may act for them (admin), and quotas.
 */
import type { Command } from 'commander';
import type { Project, Token } from '../core/model/index.js';
import { DEFAULT_QUOTAS, QUOTA_KINDS } from '../core/model/quotas.js';
import { ApiError } from '../client/client.js';
import { table, type Column } from './output.js';
import { act, collect, globals, structured } from './shared.js';
import { standardVerbs } from './network.js';

const TOKEN: Column<Token>[] = [
  { header: 'NAME', value: (t) => t.name },
  { header: 'ID', value: (t) => t.id },
  { header: 'ROLE', value: (t) => t.role },
  { header: 'PROJECT', value: (t) => t.projectId },
  { header: 'CREATED', value: (t) => t.createdAt },
];

function quotaLines(set: Record<string, number>): string {
  return QUOTA_KINDS.map((k) => `${k.padEnd(26)}${set[k] ?? DEFAULT_QUOTAS[k]}${set[k] === undefined ? ' (default)' : ''}`).join('\n') + '\n';
}

const PROJECT: Column<Project>[] = [
  { header: 'NAME', value: (p) => p.name },
  { header: 'ID', value: (p) => p.id },
  { header: 'CREATED', value: (p) => p.createdAt },
];

export function accessCommands(program: Command): void {
  const project = program.command('project').description('projects (tenants); every other resource belongs to one');
  project
    .command('create')
    .description('create a project with its default security group (admin)')
    .requiredOption('--name <name>', 'project name')
    .addHelpText('after', "\n  --token      also issue a token for it (its secret is printed once, on stderr's last line)")
    .action(
      act(PROJECT, async (c, o: { name: string }, cmd: Command) => {
        const p = await c.projects.create({ name: o.name });
        if (cmd.optsWithGlobals().token === true) {
          const t = await c.tokens.create({ name: `${o.name}-token`, project: p.id });
          process.stderr.write(`token ${t.token.name} for project ${p.name}: ${t.secret}\n`);
        }
        return p;
      }),
    );
  project
    .command('quota')
    .description("set a project's quotas (admin): nimbus project quota team-b --set vpcs=10 --set servers=500")
    .argument('<ref>', 'project (name or id)')
    .requiredOption('--set <kind=n>', `a quota (repeatable): ${QUOTA_KINDS.join(', ')}`, collect)
    .action(
      act(null, async (c, ref: string, o: { set: string[] }, cmd: Command) => {
        const quotas: Record<string, number> = {};
        for (const kv of o.set) {
          const m = /^(\w+)=(\d+)$/.exec(kv);
          if (!m) throw new ApiError('InvalidParameterValue', `--set '${kv}' must be KIND=NUMBER`, 0);
          quotas[m[1]] = Number(m[2]);
        }
        const p = await c.projects.update(ref, { quotas });
        if (!(await structured(cmd, p))) process.stdout.write(quotaLines(p.quotas ?? {}));
      }),
    );
  const token = program.command('token').description('API tokens (admin): a project token sees and changes its own project only');
  token
    .command('create')
    .description('issue a token; its secret is printed once')
    .requiredOption('--name <name>', 'token name')
    .option('--project <ref>', 'the project it acts for (the current one by default)')
    .option('--admin', 'an admin token (every project, and the admin-only operations)')
    .action(
      act(null, async (c, o: { name: string; project?: string; admin?: boolean }, cmd: Command) => {
        const t = await c.tokens.create({ name: o.name, project: o.project, role: o.admin ? 'admin' : 'project' });
        if (!(await structured(cmd, t))) process.stdout.write(`${table([t.token], TOKEN)}\nsecret (shown once): ${t.secret}\n`);
      }),
    );
  token
    .command('list')
    .alias('ls')
    .description('list tokens (never their secrets)')
    .action(act(TOKEN, (c) => c.tokens.list()));
  token
    .command('revoke')
    .aliases(['delete', 'rm'])
    .description('revoke a token: requests with it are refused at once')
    .argument('<ref>', 'token (name or id)')
    .action(act(TOKEN, (c, ref: string) => c.tokens.revoke(ref)));
  standardVerbs(project, 'project', PROJECT, (c) => ({ list: () => c.projects.list(), get: (r) => c.projects.get(r), delete: (r) => c.projects.delete(r) }), {
    rename: false,
  });

  program
    .command('credentials')
    .description('credentials for other tools')
    .command('aws')
    .description('print the export lines that set up a shell for the aws CLI and the AWS SDKs: eval "$(nimbus credentials aws)"')
    .addHelpText(
      'after',
      "\nWith --project (or NIMBUS_PROJECT) the key acts for that project (AWS account); another project than the token's needs an admin token.",
    )
    .option('--region <name>', 'the region the tools sign for (any name works)', 'us-east-1')
    .action(
      act(null, async (c, o: { region: string }, cmd: Command) => {
        const k = await c.awsCredentials(globals(cmd).project);
        if (await structured(cmd, { ...k, region: o.region, endpointUrl: c.url })) return;
        process.stdout.write(
          [
            `# AWS account = Nimbus project '${k.project}'; use: aws --endpoint-url ${c.url} ec2 describe-vpcs`,
            `export AWS_ACCESS_KEY_ID=${k.accessKeyId}`,
            `export AWS_SECRET_ACCESS_KEY=${k.secretAccessKey}`,
            `export AWS_DEFAULT_REGION=${o.region}`,
            `export AWS_ENDPOINT_URL=${c.url}`,
            '',
          ].join('\n'),
        );
      }),
    );
}
