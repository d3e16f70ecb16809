/**
 * `nimbus acl ...`: network ACLs, the stateless guards at subnets' edges, with their numbered
 * rules (`nimbus acl rule add ACL --number 100 --deny ...`) and the subnets they guard.
 */
import { rangeText } from '../core/ports.js';
import type { Command } from 'commander';
import type { AclRule, AclRuleInput, NetworkAcl } from '../core/model/index.js';
import type { Column } from './output.js';
import { table } from './output.js';
import { act, lower, structured } from './shared.js';
import { Names } from './names.js';
import { standardVerbs } from './network.js';

const ACL: Column<NetworkAcl>[] = [
  { header: 'NAME', value: (a) => a.name },
  { header: 'ID', value: (a) => a.id },
  { header: 'VPC', value: (a, n) => n.of('vpc', a.vpcId), refs: ['vpc'] },
  { header: 'DEFAULT', value: (a) => (a.isDefault ? 'yes' : 'no') },
  { header: 'RULES', value: (a) => a.rules.length },
  { header: 'SUBNETS', value: (a, n) => a.subnetIds.map((id) => n.of('subnet', id)).join(', ') || '-', refs: ['subnet'] },
];

const RULE: Column<AclRule>[] = [
  { header: 'DIRECTION', value: (r) => (r.direction === 'ingress' ? 'inbound' : 'outbound') },
  { header: 'NUMBER', value: (r) => r.number },
  { header: 'ACTION', value: (r) => r.action.toUpperCase() },
  { header: 'PROTOCOL', value: (r) => r.protocol },
  {
    header: 'PORTS',
    value: (r) => (r.portRange ? rangeText(r.portRange) : r.icmp ? `icmp ${r.icmp.type}${r.icmp.code === undefined ? '' : `/${r.icmp.code}`}` : 'all'),
  },
  { header: 'CIDR', value: (r) => r.cidr },
];

interface RuleOptions {
  number: string;
  direction: string;
  allow?: boolean;
  deny?: boolean;
  protocol: string;
  port?: string;
  icmp?: string;
  cidr: string;
}

function ruleInput(o: RuleOptions): AclRuleInput {
  if (!!o.allow === !!o.deny) throw new Error('say --allow or --deny (one of them)');
  return {
    number: Number(o.number),
    direction: o.direction === 'inbound' ? 'ingress' : o.direction === 'outbound' ? 'egress' : (o.direction as AclRuleInput['direction']),
    action: o.deny ? 'deny' : 'allow',
    protocol: o.protocol as AclRuleInput['protocol'],
    ...(o.port ? { ports: o.port } : {}),
    ...(o.icmp ? { icmp: o.icmp } : {}),
    cidr: o.cidr,
  };
}

function ruleOptions(cmd: Command): Command {
  return cmd
    .argument('<acl>', 'network ACL (name or id)')
    .requiredOption('--number <n>', 'rule number, 1-32766: the lowest that matches decides')
    .requiredOption('--direction <dir>', 'inbound (ingress) or outbound (egress)', lower)
    .option('--allow', 'allow what matches')
    .option('--deny', 'deny what matches')
    .requiredOption('--protocol <proto>', 'icmp, tcp, udp or all', lower)
    .option('--port <ports>', 'port or range, e.g. 80 or 1024-65535 (tcp and udp)')
    .option('--icmp <type[/code]>', 'ICMP type, optionally with a code (icmp; every type when absent)')
    .requiredOption('--cidr <cidr>', 'the remote end: source of inbound traffic, destination of outbound');
}

export function aclCommands(program: Command): void {
  const acl = program.command('acl').alias('network-acl').description("network ACLs: stateless, numbered rules at subnets' edges");
  acl
    .command('create')
    .description('create a network ACL in a VPC (no rules: it denies everything until rules are added)')
    .requiredOption('--name <name>', 'ACL name')
    .requiredOption('--vpc <ref>', 'VPC (name or id)')
    .action(act(ACL, (c, o: { name: string; vpc: string }) => c.networkAcls.create({ name: o.name, vpc: o.vpc })));
  standardVerbs(acl, 'network ACL', ACL, (c) => c.networkAcls, { filters: ['vpc'] });
  // `acl show` prints the ACL and its rules, inbound then outbound, with the final * rule.
  acl.commands
    .find((x) => x.name() === 'show')!
    .action(
      act(null, async (c, ref: string, _o: unknown, cmd: Command) => {
        const a = await c.networkAcls.get(ref);
        if (await structured(cmd, a)) return;
        const names = new Names(c);
        await names.load(['vpc', 'subnet']);
        const head = [
          `network ACL  ${a.name} (${a.id})${a.isDefault ? ', the default of its VPC' : ''}`,
          `VPC          ${names.of('vpc', a.vpcId)}`,
          `subnets      ${a.subnetIds.map((id) => names.of('subnet', id)).join(', ') || '-'}`,
          '',
          'rules (stateless; the lowest number that matches decides; * denies the rest):',
        ];
        const star = (direction: 'ingress' | 'egress'): AclRule => ({
          number: 0,
          direction,
          action: 'deny',
          protocol: 'all',
          portRange: null,
          cidr: '0.0.0.0/0',
        });
        const rows = [...a.rules.filter((r) => r.direction === 'ingress'), star('ingress'), ...a.rules.filter((r) => r.direction === 'egress'), star('egress')];
        const text = table(rows, RULE, names)
          .trimEnd()
          .split('\n')
          .map((l) => `  ${l.replace(/^(\s*\S+\s+)0(\s)/, '$1*$2')}`);
        process.stdout.write([...head, ...text].join('\n') + '\n');
      }),
    );
  acl
    .command('associate')
    .description("put a subnet behind this ACL (naming the VPC's default ACL returns it to the default)")
    .argument('<acl>', 'network ACL (name or id)')
    .requiredOption('--subnet <ref>', 'subnet (name or id)')
    .action(act(ACL, (c, ref: string, o: { subnet: string }) => c.networkAcls.associate(ref, o.subnet)));
  const rule = acl.command('rule').description('numbered rules of a network ACL');
  ruleOptions(rule.command('add').description('add a rule (refused when that number is taken in that direction)')).action(
    act(RULE, async (c, ref: string, o: RuleOptions) => {
      const input = ruleInput(o);
      const a = await c.networkAcls.addRule(ref, input);
      return a.rules.find((r) => r.number === input.number && r.direction === input.direction)!;
    }),
  );
  ruleOptions(rule.command('replace').description('replace the rule of that number and direction')).action(
    act(RULE, async (c, ref: string, o: RuleOptions) => {
      const input = ruleInput(o);
      const a = await c.networkAcls.replaceRule(ref, input);
      return a.rules.find((r) => r.number === input.number && r.direction === input.direction)!;
    }),
  );
  rule
    .command('delete')
    .aliases(['remove', 'rm'])
    .description('delete the rule of that number and direction')
    .argument('<acl>', 'network ACL (name or id)')
    .requiredOption('--number <n>', 'rule number')
    .requiredOption('--direction <dir>', 'inbound (ingress) or outbound (egress)', lower)
    .action(
      act(RULE, async (c, ref: string, o: { number: string; direction: string }) => {
        const direction = o.direction === 'inbound' ? 'ingress' : o.direction === 'outbound' ? 'egress' : (o.direction as 'ingress');
        const before = (await c.networkAcls.get(ref)).rules.find((r) => r.direction === direction && r.number === Number(o.number));
        await c.networkAcls.removeRule(ref, direction, Number(o.number));
        // Printed as `deleted rule outbound 200` (a rule has its number and direction, not a name).
        return before ? ({ ...before, name: `${direction === 'ingress' ? 'inbound' : 'outbound'} ${before.number}` } as AclRule) : undefined;
      }),
    );
  rule
    .command('list')
    .alias('ls')
    .description('list the rules of an ACL, lowest number first, as one line each')
    .argument('<acl>', 'network ACL (name or id)')
    .action(act(RULE, async (c, ref: string) => (await c.networkAcls.get(ref)).rules));
}
