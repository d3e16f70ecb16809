/**
 * `nimbus igw|eip|natgw|internet ...`: the cloud's edge (internet gateways, elastic IPs, NAT
 * gateways) and the installation's internet, a name or an id wherever a resource is named.
 */
import type { Command } from 'commander';
import type { ElasticIp, InternetGateway, InternetHost, NatGateway } from '../core/model/index.js';
import type { Column } from './output.js';
import { act } from './shared.js';
import { standardVerbs } from './network.js';

const IGW: Column<InternetGateway>[] = [
  { header: 'NAME', value: (g) => g.name },
  { header: 'ID', value: (g) => g.id },
  { header: 'VPC', value: (g, n) => n.of('vpc', g.vpcId), refs: ['vpc'] },
  { header: 'STATE', value: (g) => g.state },
];
const EIP: Column<ElasticIp>[] = [
  { header: 'NAME', value: (e) => e.name },
  { header: 'ID', value: (e) => e.id },
  { header: 'PUBLIC IP', value: (e) => e.publicIp },
  {
    header: 'ASSOCIATED WITH',
    value: (e, n) =>
      e.serverId
        ? `server ${n.of('server', e.serverId)}`
        : e.natGatewayId
          ? `NAT gateway ${n.of('natGateway', e.natGatewayId)}`
          : e.loadBalancerId
            ? `load balancer ${n.of('loadBalancer', e.loadBalancerId)}`
            : '-',
    refs: ['server', 'natGateway', 'loadBalancer'],
  },
  { header: 'PRIVATE IP', value: (e) => e.privateIp ?? '-' },
];
const NAT: Column<NatGateway>[] = [
  { header: 'NAME', value: (g) => g.name },
  { header: 'ID', value: (g) => g.id },
  { header: 'SUBNET', value: (g, n) => n.of('subnet', g.subnetId), refs: ['subnet'] },
  { header: 'PRIVATE IP', value: (g) => g.privateIp },
  { header: 'PUBLIC IP', value: (g) => g.publicIp },
  { header: 'STATUS', value: (g) => g.status },
];
const HOST: Column<InternetHost>[] = [
  { header: 'NAME', value: (h) => h.name },
  { header: 'IP', value: (h) => h.ip },
  { header: 'BUILT IN', value: (h) => (h.builtIn ? 'yes' : 'no') },
];

export function edgeCommands(program: Command): void {
  const igw = program.command('igw').alias('internet-gateway').description('internet gateways: a VPC to the internet');
  igw
    .command('create')
    .description('create an internet gateway')
    .requiredOption('--name <name>', 'gateway name')
    .option('--vpc <ref>', 'attach it to this VPC at once')
    .action(act(IGW, (c, o: { name: string; vpc?: string }) => c.internetGateways.create({ name: o.name, vpc: o.vpc })));
  standardVerbs(igw, 'internet gateway', IGW, (c) => c.internetGateways);
  igw
    .command('attach')
    .description('attach an internet gateway to a VPC (one each)')
    .argument('<ref>', 'gateway (name or id)')
    .requiredOption('--vpc <ref>', 'VPC (name or id)')
    .action(act(IGW, (c, ref: string, o: { vpc: string }) => c.internetGateways.attach(ref, o.vpc)));
  igw
    .command('detach')
    .description('detach an internet gateway from its VPC')
    .argument('<ref>', 'gateway (name or id)')
    .option('--vpc <ref>', 'the VPC it is attached to (checked when given)')
    .action(act(IGW, (c, ref: string, o: { vpc?: string }) => c.internetGateways.detach(ref, o.vpc)));

  const eip = program.command('eip').alias('elastic-ip').description("elastic IPs: public addresses from 127.0.1.0/24 (a load balancer's are listed too)");
  eip
    .command('allocate')
    .alias('create')
    .description('allocate an elastic IP')
    .requiredOption('--name <name>', 'its name')
    .option('--public-ip <ip>', 'the address wanted (127.0.1.x); the next free one when absent')
    .action(act(EIP, (c, o: { name: string; publicIp?: string }) => c.elasticIps.create({ name: o.name, publicIp: o.publicIp })));
  standardVerbs(eip, 'elastic IP', EIP, (c) => c.elasticIps);
  eip.commands
    .find((x) => x.name() === 'delete')!
    .alias('release')
    .description('release an elastic IP (it must not be associated)');
  eip
    .command('associate')
    .description("associate an elastic IP with a server (1:1 NAT; the server's VPC needs an internet gateway)")
    .argument('<ref>', 'elastic IP (name, allocation id or address)')
    .requiredOption('--server <ref>', 'server (name or id)')
    .action(act(EIP, (c, ref: string, o: { server: string }) => c.elasticIps.associate(ref, o.server)));
  eip
    .command('disassociate')
    .description('disassociate an elastic IP from its server')
    .argument('<ref>', 'elastic IP (name, allocation id, address or association id)')
    .action(act(EIP, (c, ref: string) => c.elasticIps.disassociate(ref)));

  const nat = program.command('natgw').alias('nat-gateway').description('NAT gateways: private subnets out to the internet');
  nat
    .command('create')
    .description('create a NAT gateway in a (public) subnet, with an elastic IP')
    .requiredOption('--name <name>', 'gateway name')
    .requiredOption('--subnet <ref>', 'subnet (name or id); its route table should send 0.0.0.0/0 to the internet gateway')
    .requiredOption('--eip <ref>', 'elastic IP (name, allocation id or address), not associated')
    .option('--ip <ip>', 'its address in the subnet; the lowest free one when absent')
    .action(
      act(NAT, (c, o: { name: string; subnet: string; eip: string; ip?: string }) =>
        c.natGateways.create({ name: o.name, subnet: o.subnet, elasticIp: o.eip, ip: o.ip }),
      ),
    );
  standardVerbs(nat, 'NAT gateway', NAT, (c) => c.natGateways);

  const internet = program.command('internet').description("the installation's internet (203.0.113.0/24): its hosts");
  const host = internet.command('host').description('hosts of the internet: HTTP on 80 answers with the address it saw, echo on 7');
  host
    .command('list')
    .alias('ls')
    .description('list the internet hosts')
    .action(act(HOST, (c) => c.internet.hosts()));
  host
    .command('add')
    .description('add a host to the internet (admin)')
    .argument('<name>', 'host name')
    .option('--ip <ip>', 'its address in 203.0.113.0/24; the lowest free one when absent')
    .action(act(HOST, (c, name: string, o: { ip?: string }) => c.internet.addHost({ name, ip: o.ip })));
  host
    .command('remove')
    .aliases(['rm', 'delete'])
    .description('remove a host from the internet (admin)')
    .argument('<ref>', 'host name or address')
    .action(act(HOST, (c, ref: string) => c.internet.removeHost(ref)));
}
