/**
 * `nimbus flowlog ...`: flow logs on VPCs, subnets and servers, and their records
 * (`nimbus flowlog tail NAME --follow --action reject`).
 */
import type { Command } from 'commander';
import type { FlowLog, FlowRecord } from '../core/model/index.js';
import type { Column } from './output.js';
import { table } from './output.js';
import { act, structured } from './shared.js';
import { Names } from './names.js';
import { standardVerbs } from './network.js';

const FLOW_LOG: Column<FlowLog>[] = [
  { header: 'NAME', value: (f) => f.name },
  { header: 'ID', value: (f) => f.id },
  {
    header: 'WATCHES',
    value: (f, n) => `${f.resourceType} ${n.of(f.resourceType === 'server' ? 'server' : f.resourceType, f.resourceId)}`,
    refs: ['vpc', 'subnet', 'server'],
  },
  { header: 'TRAFFIC', value: (f) => f.trafficType },
  { header: 'WINDOW', value: (f) => `${f.maxAggregationInterval}s` },
];

const PROTO: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' };
const time = (s: number) => new Date(s * 1000).toISOString().slice(11, 19);
const end = (addr: string, port: number, proto: number) => (proto === 6 || proto === 17 ? `${addr}:${port}` : addr);

export const RECORD: Column<FlowRecord>[] = [
  { header: 'WINDOW', value: (r) => `${time(r.start)}-${time(r.end)}` },
  { header: 'SERVER', value: (r) => r.server ?? r.interfaceId },
  { header: 'SOURCE', value: (r) => end(r.srcaddr, r.srcport, r.protocol) },
  { header: 'DESTINATION', value: (r) => end(r.dstaddr, r.dstport, r.protocol) },
  { header: 'PROTO', value: (r) => PROTO[r.protocol] ?? String(r.protocol) },
  { header: 'PACKETS', value: (r) => r.packets },
  { header: 'BYTES', value: (r) => r.bytes },
  { header: 'ACTION', value: (r) => r.action },
  { header: 'REJECTED BY', value: (r, n) => rejectedBy(r.rejectedBy, n), refs: ['securityGroup', 'networkAcl'] },
];

/** `sg:ID,ID` as `group web, db`; `acl:ID:inbound:100` as `acl NAME inbound rule 100`. */
function rejectedBy(field: string | undefined, n: Names): string {
  if (!field) return '-';
  const [kind, ...rest] = field.split(':');
  if (kind === 'sg')
    return `group ${rest[0]
      .split(',')
      .map((id) => n.of('securityGroup', id))
      .join(', ')}`;
  if (kind === 'acl') return `acl ${n.of('networkAcl', rest[0])} ${rest[1]} rule ${rest[2]}`;
  return field;
}

interface TailOptions {
  follow?: boolean;
  action?: string;
  server?: string;
  lines: string;
  raw?: boolean;
}

export function flowLogCommands(program: Command): void {
  const fl = program.command('flowlog').alias('flow-log').description('flow logs: what the network accepted and rejected, flow by flow');
  fl.command('create')
    .description('create a flow log on a VPC, a subnet or a server')
    .requiredOption('--name <name>', 'flow log name')
    .option('--vpc <ref>', 'watch a VPC (name or id)')
    .option('--subnet <ref>', 'watch a subnet (name or id)')
    .option('--server <ref>', 'watch a server (name or id)')
    .option('--traffic <type>', 'ALL, ACCEPT or REJECT', 'ALL')
    .option('--window <seconds>', 'longest capture window: 60 or 600 (AWS: maxAggregationInterval)', '600')
    .action(
      act(FLOW_LOG, (c, o: { name: string; vpc?: string; subnet?: string; server?: string; traffic: string; window: string }) =>
        c.flowLogs.create({
          name: o.name,
          ...(o.vpc ? { vpc: o.vpc } : {}),
          ...(o.subnet ? { subnet: o.subnet } : {}),
          ...(o.server ? { server: o.server } : {}),
          trafficType: o.traffic.toUpperCase(),
          maxAggregationInterval: Number(o.window),
        }),
      ),
    );
  standardVerbs(fl, 'flow log', FLOW_LOG, (c) => c.flowLogs, { filters: ['vpc'], rename: false });
  fl.command('tail')
    .description("print a flow log's latest records (reading closes the open capture window)")
    .argument('<flowlog>', 'flow log (name or id)')
    .option('-f, --follow', 'keep printing new records until interrupted')
    .option('--action <action>', 'only ACCEPT or REJECT records')
    .option('--server <ref>', "only this server's records (name or id)")
    .option('-n, --lines <n>', 'how many of the latest records to print first', '20')
    .option('--raw', 'print the records as written (AWS default format, version 2, and the field naming what rejected)')
    .action(
      act(null, async (c, ref: string, o: TailOptions, cmd: Command) => {
        const query = { ...(o.action ? { action: o.action.toUpperCase() } : {}), ...(o.server ? { server: o.server } : {}) };
        const first = await c.flowLogs.records(ref, { ...query, limit: Number(o.lines) });
        // -o json|yaml prints the answer once (its `next` is the cursor a script follows with).
        if (await structured(cmd, first)) return;
        const names = new Names(c);
        if (!o.raw) await names.load(['server', 'securityGroup', 'networkAcl']);
        const print = (records: FlowRecord[], header: boolean) => {
          if (records.length === 0) return;
          if (o.raw) process.stdout.write(records.map((r) => r.line).join('\n') + '\n');
          else {
            const text = table(records, RECORD, names);
            process.stdout.write(header ? text : text.split('\n').slice(1).join('\n'));
          }
        };
        if (!o.follow) {
          if (first.records.length === 0) process.stdout.write('no records yet\n');
          print(first.records, true);
          return;
        }
        print(first.records, true);
        let next = first.next;
        let header = first.records.length === 0;
        for (;;) {
          await new Promise((r) => setTimeout(r, 2000));
          const more = await c.flowLogs.records(ref, { ...query, after: next });
          next = more.next;
          print(more.records, header);
          if (more.records.length > 0) header = false;
        }
      }),
    );
}
