/**
 * The plan (pure): what to change in one namespace so that what it holds (Observed) becomes
 * what it should hold (NsSpec). Each step reads as "<object> has been <created|updated|
 * deleted>"; the script is the shell text that makes it so. Running a plan twice changes
 * nothing the second time, because the second plan is empty.
 */
import type { NsSpec, RouteSpec } from './desired.js';
import { routeKey, type Observed } from './observe.js';
import { nftScript } from './nft.js';
import { INTERNET_TABLE, PEER_TABLE, RULE_PREF } from './names.js';

export interface Step {
  ns: string;
  object: string;
  action: 'created' | 'updated' | 'deleted';
}

export interface NsPlan {
  ns: string;
  steps: Step[];
  /** Shell text for `ip netns exec NS sh -es`; empty when nothing is to do. */
  script: string;
  /** True when a link this namespace configures does not exist yet (made by another namespace). */
  waiting: boolean;
}

/** Our interface names inside router namespaces. */
const OWN_LINK = /^[bvpgh][0-9a-f]{8}$/;

/** Whether observed settings (space-separated values) are those wanted (`*` matches any value). */
export function settingsMatch(observed: string, want: string): boolean {
  const o = observed.trim().split(/\s+/);
  const w = want.split(' ');
  return w.length === o.length && w.every((v, i) => v === '*' || v === o[i]);
}

function sameRoute(a: RouteSpec, b: RouteSpec): boolean {
  return a.type === b.type && (a.dev ?? null) === (b.dev ?? null) && (a.via ?? null) === (b.via ?? null);
}

function routeCmd(verb: 'replace' | 'del', r: RouteSpec): string {
  const type = r.type === 'unicast' ? '' : `${r.type} `;
  const via = r.via ? ` via ${r.via}` : '';
  const dev = r.dev ? ` dev ${r.dev}` : '';
  const onlink = r.via && r.table !== 'main' ? ' onlink' : '';
  return `route ${verb} ${type}${r.dst}${via}${dev}${onlink} table ${r.table}`;
}

function managedTable(t: number | 'main'): boolean {
  return t === PEER_TABLE || t === INTERNET_TABLE || (typeof t === 'number' && t >= 1000);
}

export function planNamespace(spec: NsSpec, o: Observed | undefined): NsPlan {
  const steps: Step[] = [];
  const ip: string[] = [];
  /** Deletions go first, in a batch whose failures are ignored: what they remove may already be
   *  gone (a namespace the kernel is still tearing down takes its veth ends with it). The next
   *  full pass observes again, so a deletion that truly failed is planned again. */
  const del: string[] = [];
  let waiting = false;
  const step = (object: string, action: Step['action']) => steps.push({ ns: spec.name, object, action });
  const links = o?.links ?? new Map();

  // After the links: a loopback that comes up brings back the routes a setup may remove.
  const post: string[] = [];
  if (spec.setup && !settingsMatch(o?.sysctl ?? '', spec.setup.want)) {
    post.push(spec.setup.script);
    step(spec.role === 'router' ? 'forwarding' : 'kernel settings', o?.sysctl ? 'updated' : 'created');
  }

  const present = new Set<string>();
  for (const l of spec.create) {
    const seen = links.get(l.name);
    if (!seen) {
      ip.push(
        l.kind === 'bridge'
          ? `link add ${l.name}${l.mac ? ` address ${l.mac}` : ''} type bridge`
          : `link add ${l.name} type veth peer name ${l.peer!.name} netns ${l.peer!.ns}`,
      );
      step(`${l.kind} ${l.name}`, 'created');
    } else if (l.mac && seen.mac && seen.mac !== l.mac) {
      ip.push(`link set ${l.name} address ${l.mac}`);
      step(`${l.kind} ${l.name} address`, 'updated');
    }
    if (l.master && seen?.master !== l.master) {
      ip.push(`link set ${l.name} master ${l.master}`);
      if (seen) step(`${l.kind} ${l.name} bridge port`, 'updated');
    }
    if (!seen?.up) ip.push(`link set ${l.name} up`);
    present.add(l.name);
  }
  for (const c of spec.configure) {
    const seen = links.get(c.name);
    if (!seen) {
      waiting = true;
      continue;
    }
    present.add(c.name);
    if (seen.up !== c.up) {
      ip.push(`link set ${c.name} ${c.up ? 'up' : 'down'}`);
      step(`link ${c.name} ${c.up ? 'up' : 'down'}`, 'updated');
    }
  }
  const wanted = new Set([...spec.create.map((l) => l.name), ...spec.configure.map((c) => c.name)]);
  for (const name of links.keys()) {
    if (OWN_LINK.test(name) && !wanted.has(name)) {
      del.push(`link del ${name}`);
      step(`link ${name}`, 'deleted');
    }
  }

  const wantAddrs = new Set(spec.addrs.filter((a) => present.has(a.dev)).map((a) => `${a.dev} ${a.cidr}`));
  for (const a of wantAddrs) {
    if (!o?.addrs.has(a)) {
      const [dev, cidr] = a.split(' ');
      ip.push(`addr add ${cidr} dev ${dev}`);
      step(`address ${cidr} on ${dev}`, 'created');
    }
  }
  for (const a of o?.addrs ?? []) {
    const [dev, cidr] = a.split(' ');
    if ((OWN_LINK.test(dev) || dev === 'eth0') && present.has(dev) && !wantAddrs.has(a)) {
      del.push(`addr del ${cidr} dev ${dev}`);
      step(`address ${cidr} on ${dev}`, 'deleted');
    }
  }

  const wantRoutes = new Map(spec.routes.filter((r) => !r.dev || present.has(r.dev)).map((r) => [routeKey(r), r]));
  if (spec.routes.some((r) => r.dev && !present.has(r.dev))) waiting = true;
  for (const [key, r] of wantRoutes) {
    const seen = o?.routes.get(key);
    if (!seen || !sameRoute(seen, r)) {
      ip.push(routeCmd('replace', r));
      step(`route ${r.dst} table ${r.table}`, seen ? 'updated' : 'created');
    }
  }
  for (const [key, r] of o?.routes ?? []) {
    const managed = managedTable(r.table) || (spec.role === 'server' && r.table === 'main' && r.dst === 'default');
    if (managed && !wantRoutes.has(key)) {
      del.push(routeCmd('del', r));
      step(`route ${r.dst} table ${r.table}`, 'deleted');
    }
  }

  const ruleKey = (r: { iif: string; table: number }) => `${r.iif} ${r.table}`;
  const wantRules = new Map(spec.rules.map((r) => [ruleKey(r), r]));
  const seenRules = new Set((o?.rules ?? []).filter((r) => r.pref === RULE_PREF).map(ruleKey));
  for (const [key, r] of wantRules) {
    if (!seenRules.has(key)) {
      ip.push(`rule add pref ${RULE_PREF} iif ${r.iif} lookup ${r.table}`);
      step(`rule iif ${r.iif} lookup ${r.table}`, 'created');
    }
  }
  for (const key of seenRules) {
    if (!wantRules.has(key)) {
      const [iif, table] = key.split(' ');
      del.push(`rule del pref ${RULE_PREF} iif ${iif} lookup ${table}`);
      step(`rule iif ${iif} lookup ${table}`, 'deleted');
    }
  }

  const parts: string[] = [];
  if (del.length > 0) parts.push(`ip -force -batch - <<'NIMBUS_EOF' 2>/dev/null || true\n${del.join('\n')}\nNIMBUS_EOF`);
  if (ip.length > 0) parts.push(`ip -force -batch - <<'NIMBUS_EOF'\n${ip.join('\n')}\nNIMBUS_EOF`);
  parts.push(...post);
  if (o?.nftHash !== spec.nftHash) {
    parts.push(`nft -f - <<'NIMBUS_EOF'\n${nftScript(spec.nft, spec.nftHash, spec.ports)}NIMBUS_EOF`);
    step('nftables ruleset', o?.nftHash ? 'updated' : 'created');
  }
  return { ns: spec.name, steps, script: parts.join('\n'), waiting };
}
