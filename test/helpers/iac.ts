/**
 * Running infrastructure-as-code tools against a test daemon: Terraform with the machine's
 * filesystem mirror of the hashicorp/aws provider, Ansible with Debian's amazon.aws collection.
 * Each runs in a folder of its own with the project's AWS keys; nothing is read from the user's home.
 */
import { existsSync, mkdtempSync, readdirSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCollect, type CliResult } from './daemon.js';

export const TERRAFORM = ['/usr/local/bin/terraform', '/usr/bin/terraform'].find((p) => existsSync(p));

/** Where the machine keeps its mirror of the provider: a folder holding registry.terraform.io/hashicorp/aws. */
export const MIRROR = [process.env.NIMBUS_TF_MIRROR, '/opt/tf-plugins', '/usr/share/terraform/plugins', '/root/.terraform.d/plugins'].find(
  (p) => p && existsSync(join(p, 'registry.terraform.io/hashicorp/aws')) && readdirSync(join(p, 'registry.terraform.io/hashicorp/aws')).length > 0,
);

export const skipTerraform: string | false = !TERRAFORM
  ? 'terraform is not installed'
  : !MIRROR
    ? 'no filesystem mirror of registry.terraform.io/hashicorp/aws (set NIMBUS_TF_MIRROR)'
    : false;

export interface Terraform {
  dir: string;
  run(args: string[], vars?: Record<string, string | number>): Promise<CliResult>;
  close(): void;
}

/** A working folder holding a copy of examples/terraform/main.tf, initialised from the mirror. */
export async function terraform(url: string, keys: { accessKeyId: string; secretAccessKey: string }): Promise<Terraform> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-tf-'));
  copyFileSync(fileURLToPath(new URL('../../examples/terraform/main.tf', import.meta.url)), join(dir, 'main.tf'));
  const rc = join(dir, 'terraformrc');
  writeFileSync(
    rc,
    `provider_installation {\n  filesystem_mirror {\n    path    = "${MIRROR}"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n`,
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    TF_CLI_CONFIG_FILE: rc,
    TF_IN_AUTOMATION: '1',
    CHECKPOINT_DISABLE: '1',
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const tf: Terraform = {
    dir,
    run: (args, vars = {}) => {
      // Variables go to plan, apply and destroy, but not to an apply of a saved plan (it holds them).
      const takesVars = ['plan', 'apply', 'destroy'].includes(args[0]) && !(args[0] === 'apply' && args.some((a) => !a.startsWith('-') && a.endsWith('.plan')));
      const flags = [
        ...args,
        '-no-color',
        ...(takesVars ? ['-input=false', `-var=endpoint=${url}`, ...Object.entries(vars).map(([k, v]) => `-var=${k}=${v}`)] : []),
      ];
      return runCollect(TERRAFORM!, ['-chdir=' + dir, ...flags], env);
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
  const init = await runCollect(TERRAFORM!, ['-chdir=' + dir, 'init', '-no-color', '-input=false'], env);
  if (init.code !== 0) throw new Error(`terraform init failed:\n${init.stdout}\n${init.stderr}`);
  return tf;
}

const PLAYBOOK_BIN = '/usr/bin/ansible-playbook';
const hasBoto3 = () => existsSync('/usr/lib/python3/dist-packages/boto3');

/**
 * Debian's ansible (with amazon.aws and community.aws) and python3-boto3: installed when
 * missing and the test runs as root; otherwise the reason to skip.
 */
export async function ensureAnsible(): Promise<string | false> {
  if (existsSync(PLAYBOOK_BIN) && hasBoto3()) return false;
  if (process.getuid?.() !== 0) return 'ansible and python3-boto3 are not installed, and installing them needs root';
  const env = { PATH: process.env.PATH, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => runCollect('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'ansible', 'python3-boto3'], env);
  let r = await install();
  if (r.code !== 0) {
    await runCollect('apt-get', ['update', '-qq'], env);
    r = await install();
  }
  if (r.code !== 0 || !existsSync(PLAYBOOK_BIN) || !hasBoto3()) return `apt-get install ansible python3-boto3 failed: ${r.stderr.slice(-500)}`;
  return false;
}

/** Runs examples/ansible/network.yml against `url` with a project's keys; its output and its PLAY RECAP's counts. */
export async function playbook(url: string, keys: { accessKeyId: string; secretAccessKey: string }): Promise<CliResult & { recap: Record<string, number> }> {
  const home = mkdtempSync(join(tmpdir(), 'nimbus-ansible-'));
  try {
    const file = fileURLToPath(new URL('../../examples/ansible/network.yml', import.meta.url));
    const r = await runCollect(PLAYBOOK_BIN, [file], {
      PATH: process.env.PATH,
      HOME: home,
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_LOCAL_TEMP: join(home, 'tmp'),
      ANSIBLE_HOME: join(home, 'ansible'),
      ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
      ANSIBLE_LOCALHOST_WARNING: 'false',
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      AWS_ENDPOINT_URL: url,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    const line = /localhost\s*:\s*(.*)$/m.exec(r.stdout)?.[1] ?? '';
    const recap = Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
    return { ...r, recap };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
