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
