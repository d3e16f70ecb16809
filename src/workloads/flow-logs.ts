/**
 * The flow-log collector: reads the kernel's flow counters (linux/flows.ts) where flow logs
 * watch, and writes what changed since the last capture as records in AWS's default format
 * (version 2), one line per flow direction and capture window, with a 15th field naming what
 * rejected a REJECT. A window closes when the shortest maxAggregationInterval of the flow logs
 * has passed, or earlier when someone reads a log (so what was just sent can be read at once).
 *
 * Records are files in the data directory (flowlogs/<id>.log), rotated at 1 MiB with one older
 * file kept: each log holds at most 2 MiB. A deleted flow log's files go with it.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/db.js';
import type { Change, ChangeFeed } from '../resources/context.js';
import type { Dataplane } from '../dataplane/driver.js';
import type { FlowLog, FlowRecord, FlowRecords, LoadBalancer, SecurityGroup, Server, StoredAcl, Subnet } from '../core/model/index.js';
import { accountId, interfaceIdOf } from '../core/account.js';
import { aclOfSubnet } from '../core/acl.js';
import { bridgeName } from '../dataplane/linux/names.js';
import type { FlowSample } from '../dataplane/linux/flows.js';
import { lbEndpoint } from '../resources/snapshot.js';

/** A log file rotates past this size; one older file is kept. */
export const ROTATE_BYTES = 1024 * 1024;
const TICK_MS = 5_000;

interface Endpoint {
  id: string;
  name: string;
  projectId: string;
  vpcId: string;
  subnetId: string;
  ip: string;
  groups: string[];
}

/** What one capture saw: the records of each flow log. */
export type CaptureLines = Map<string, string[]>;

/** The line of one record (pure). */
export function recordLine(r: Omit<FlowRecord, 'line' | 'server' | 'version'>): string {
  return [
    2,
    r.accountId,
    r.interfaceId,
    r.srcaddr,
    r.dstaddr,
    r.srcport,
    r.dstport,
    r.protocol,
    r.packets,
    r.bytes,
    r.start,
    r.end,
    r.action,
    r.logStatus,
    r.rejectedBy ?? '-',
  ].join(' ');
}

/** A record from its line (null for a line that is not one). */
export function parseRecord(line: string): FlowRecord | null {
  const f = line.trim().split(' ');
  if (f.length < 14 || f[0] !== '2') return null;
  const n = (i: number) => Number(f[i]);
  const action = f[12];
  if (action !== 'ACCEPT' && action !== 'REJECT') return null;
  return {
    version: 2,
    accountId: f[1],
    interfaceId: f[2],
    srcaddr: f[3],
    dstaddr: f[4],
    srcport: n(5),
    dstport: n(6),
    protocol: n(7),
    packets: n(8),
    bytes: n(9),
    start: n(10),
    end: n(11),
    action,
    logStatus: f[13],
    ...(f[14] && f[14] !== '-' ? { rejectedBy: f[14] } : {}),
    line: line.trim(),
  };
}

export class FlowLogs {
  private timer: NodeJS.Timeout | null = null;
  /** Last counters seen, per sample key: a later, larger count is the flow's traffic since. */
  private last = new Map<string, { packets: number; bytes: number }>();
  private lastCapture = Math.floor(Date.now() / 1000);
  private running: Promise<void> | null = null;
  private readonly onChange = (c: Change) => {
    if (c.kind === 'flowLog' && c.op === 'deleted') this.removeFiles(c.id);
  };

  constructor(
    private readonly store: Store,
    private readonly feed: ChangeFeed,
    private readonly dataplane: Dataplane,
    dataDir: string,
    /** A log file rotates past this size (tests make it small). */
    private readonly rotateBytes = ROTATE_BYTES,
  ) {
    this.dir = join(dataDir, 'flowlogs');
    this.loadState();
  }
  private readonly dir: string;

  start(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.feed.on('change', this.onChange);
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.feed.off('change', this.onChange);
    await this.running;
  }

  /** Whether this data plane records flows (only the linux plane has kernel counters). */
  get recording(): boolean {
    return typeof this.dataplane.flowSamples === 'function';
  }

  private async tick(): Promise<void> {
    const logs = this.store.list<FlowLog>('flowLog');
    if (logs.length === 0) return;
    const window = Math.min(...logs.map((l) => l.maxAggregationInterval));
    if (Date.now() / 1000 - this.lastCapture >= window) await this.capture();
  }

  /** Closes the open window now: one capture at a time, callers during one share it (a read waits for the capture it joined). */
  capture(): Promise<void> {
    if (!this.running) {
      this.running = this.captureOnce().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async captureOnce(): Promise<void> {
    if (!this.dataplane.flowSamples) return;
    const logs = this.store.list<FlowLog>('flowLog');
    const start = this.lastCapture;
    const end = Math.max(start, Math.floor(Date.now() / 1000));
    if (logs.length === 0) {
      this.last.clear();
      this.lastCapture = end;
      return;
    }
    const endpoints = this.endpoints();
    const watched = endpoints.filter((e) => logs.some((l) => covers(l, e)));
    const vpcs = [...new Set(watched.map((e) => e.vpcId))];
    const counters = await this.dataplane.flowSamples([...watched.map((e) => e.id), ...vpcs]);
    this.lastCapture = end;
    const lines: CaptureLines = new Map();
    const seen = new Set<string>();
    const byId = new Map(endpoints.map((e) => [e.id, e]));
    const acls = this.store.list<StoredAcl>('networkAcl');
    const subnets = this.store.list<Subnet>('subnet');
    for (const [source, c] of counters) {
      for (const s of c.samples) {
        const key = `${source}|${c.table}|${s.set}|${s.src}|${s.dst}|${s.proto}|${s.sport}|${s.dport}`;
        seen.add(key);
        const before = this.last.get(key);
        this.last.set(key, { packets: s.packets, bytes: s.bytes });
        const fresh = !before || before.packets > s.packets;
        const packets = fresh ? s.packets : s.packets - before.packets;
        const bytes = fresh ? s.bytes : s.bytes - before.bytes;
        if (packets <= 0) continue;
        const who = attribute(source, s, byId, endpoints, subnets, acls);
        if (!who) continue;
        const record = {
          accountId: accountId(who.endpoint.projectId),
          interfaceId: interfaceIdOf(who.endpoint.id),
          srcaddr: s.src,
          dstaddr: s.dst,
          srcport: s.sport,
          dstport: s.dport,
          protocol: s.proto,
          packets,
          bytes,
          start,
          end,
          action: who.action,
          logStatus: 'OK',
          ...(who.rejectedBy ? { rejectedBy: who.rejectedBy } : {}),
        };
        const line = recordLine(record);
        for (const l of logs) {
          if (!covers(l, who.endpoint) || (l.trafficType !== 'ALL' && l.trafficType !== who.action)) continue;
          const list = lines.get(l.id);
          if (list) list.push(line);
          else lines.set(l.id, [line]);
        }
      }
    }
    for (const k of this.last.keys()) if (!seen.has(k)) this.last.delete(k);
    for (const [id, ls] of lines) this.append(id, ls);
    this.saveState();
  }

  /**
   * The counters last seen and the time of the last capture, kept across restarts: the kernel's
   * counters outlive the daemon, so a new daemon goes on from them rather than counting again.
   */
  private saveState(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const state = { lastCapture: this.lastCapture, last: [...this.last] };
    writeFileSync(join(this.dir, 'state.json.new'), JSON.stringify(state), { mode: 0o600 });
    renameSync(join(this.dir, 'state.json.new'), join(this.dir, 'state.json'));
  }

  private loadState(): void {
    try {
      const state = JSON.parse(readFileSync(join(this.dir, 'state.json'), 'utf8')) as {
        lastCapture: number;
        last: [string, { packets: number; bytes: number }][];
      };
      if (Number.isInteger(state.lastCapture)) this.lastCapture = state.lastCapture;
      this.last = new Map(state.last);
    } catch {
      // none yet: everything the kernel holds is new
    }
  }

  /** Servers and load balancers (the endpoints flow logs watch), with their groups. */
  private endpoints(): Endpoint[] {
    const groups = this.store.list<SecurityGroup>('securityGroup');
    const servers = [...this.store.list<Server>('server'), ...this.store.list<LoadBalancer>('loadBalancer').map((lb) => lbEndpoint(lb, groups))];
    return servers.map((s) => ({
      id: s.id,
      name: s.name,
      projectId: s.projectId,
      vpcId: s.vpcId,
      subnetId: s.subnetId,
      ip: s.privateIp,
      groups: s.securityGroupIds,
    }));
  }

  private file(id: string): string {
    return join(this.dir, `${id}.log`);
  }

  private append(id: string, lines: string[]): void {
    const file = this.file(id);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (existsSync(file) && statSync(file).size >= this.rotateBytes) {
      // The older file goes: its lines are counted, so that cursors handed out stay right.
      const older = `${file}.1`;
      const dropped = existsSync(older) ? countLines(readFileSync(older, 'utf8')) : 0;
      writeFileSync(`${file}.base`, String(this.base(id) + dropped), { mode: 0o600 });
      renameSync(file, older);
    }
    appendFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
  }

  private base(id: string): number {
    try {
      return Number(readFileSync(`${this.file(id)}.base`, 'utf8')) || 0;
    } catch {
      return 0;
    }
  }

  private removeFiles(id: string): void {
    for (const suffix of ['', '.1', '.base']) rmSync(`${this.file(id)}${suffix}`, { force: true });
  }

  /**
   * A log's records after cursor `after` (every one kept when absent), the last `limit` of
   * them, filtered by action and by server (an endpoint's id). Closes the open window first.
   */
  async records(log: FlowLog, opts: { after?: number; limit?: number; action?: 'ACCEPT' | 'REJECT'; endpointId?: string } = {}): Promise<FlowRecords> {
    await this.capture();
    const file = this.file(log.id);
    const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);
    const all = [...read(`${file}.1`), ...read(file)];
    const base = this.base(log.id);
    const next = base + all.length;
    const from = Math.max(0, (opts.after ?? 0) - base);
    const names = new Map(this.endpoints().map((e) => [interfaceIdOf(e.id), e]));
    const eni = opts.endpointId ? interfaceIdOf(opts.endpointId) : null;
    const records: FlowRecord[] = [];
    for (const line of all.slice(from)) {
      const r = parseRecord(line);
      if (!r) continue;
      if (opts.action && r.action !== opts.action) continue;
      if (eni && r.interfaceId !== eni) continue;
      const e = names.get(r.interfaceId);
      records.push(e ? { ...r, server: e.name } : r);
    }
    return { records: opts.limit ? records.slice(-opts.limit) : records, next };
  }
}

function countLines(text: string): number {
  return text.split('\n').filter(Boolean).length;
}

/** Whether a flow log watches an endpoint: itself, its subnet or its VPC. */
export function covers(log: FlowLog, e: { id: string; subnetId: string; vpcId: string }): boolean {
  return log.resourceId === e.id || log.resourceId === e.subnetId || log.resourceId === e.vpcId;
}

/**
 * Whose interface a sample is, and what it says: an endpoint's own sets are its accepted
 * traffic (fl_) and its groups' rejects (rj_); a router's are the ACL's rejects of one rule, on
 * the interface of the endpoint inside the subnet (the destination inbound, the source outbound).
 */
export function attribute(
  source: string,
  s: FlowSample,
  byId: Map<string, Endpoint>,
  endpoints: Endpoint[],
  subnets: Subnet[],
  acls: StoredAcl[],
): { endpoint: Endpoint; action: 'ACCEPT' | 'REJECT'; rejectedBy?: string } | null {
  const own = byId.get(source);
  if (own) {
    if (s.set === 'fl_in' || s.set === 'fl_out') return { endpoint: own, action: 'ACCEPT' };
    if (s.set === 'rj_in' || s.set === 'rj_out') return { endpoint: own, action: 'REJECT', rejectedBy: `sg:${own.groups.join(',') || 'none'}` };
    return null;
  }
  const m = /^ar_(.+)_([io])_(\d+|any)$/.exec(s.set);
  if (!m) return null;
  const subnet = subnets.find((x) => x.vpcId === source && bridgeName(x.id) === m[1]);
  if (!subnet) return null;
  const inbound = m[2] === 'i';
  const ip = inbound ? s.dst : s.src;
  const endpoint = endpoints.find((e) => e.subnetId === subnet.id && e.ip === ip);
  if (!endpoint) return null;
  const acl = aclOfSubnet(acls, subnet);
  return { endpoint, action: 'REJECT', rejectedBy: `acl:${acl?.id ?? 'none'}:${inbound ? 'inbound' : 'outbound'}:${m[3] === 'any' ? '*' : m[3]}` };
}
