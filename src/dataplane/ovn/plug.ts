/**
 * Plugging an endpoint into a chassis (pure shell text, run as root): its namespace, a veth
 * whose eth0 end holds its MAC, address and default route, and whose other end is a port of the
 * chassis's br-int named by external_ids:iface-id after the endpoint's switch port, so that the
 * chassis's ovn-controller binds it. The daemon plugs the endpoints of this machine's simulated
 * chassis (their OVS runs in the chassis's namespace); the chassis agent (chassis-agent.ts) plugs
 * those of a joined host (its OVS runs where the agent does).
 */
import { createHash } from 'node:crypto';
import { offloadsOff, SERVER_MTU } from './fabric.js';

/** The chassis end of an endpoint's veth (its br-int port), from the endpoint's id. */
export const tapOf = (id: string) => `t${createHash('sha256').update(id).digest('hex').slice(0, 12)}`;

export interface PlugSpec {
  /** The endpoint's switch port (its id). */
  id: string;
  ns: string;
  tap: string;
  mac: string;
  /** Its address with the subnet's prefix length. */
  cidr: string;
  gateway: string;
  /** More addresses on its eth0 (a DNS resolver's 169.254.169.253). */
  extra?: string[];
  /** Shell run (as root) in its namespace once it is plugged. */
  setup?: string;
}

export interface ChassisPlace {
  /** The namespace the chassis's OVS runs in, or null: the one the script runs in (a joined host). */
  ns: string | null;
  /** The chassis's Open_vSwitch database (`unix:…`), or null: ovs-vsctl's default. */
  ovsDb: string | null;
}

/** Shell lines that make `e`'s namespace (`make`: how, a server's machine or a bare one) and plug it into the chassis at `at`. */
export function plugLines(e: PlugSpec, at: ChassisPlace, make = `ip netns add ${e.ns}`): string[] {
  const ip = at.ns ? `ip -n ${at.ns}` : 'ip';
  const inChassis = (cmd: string) => (at.ns ? `ip netns exec ${at.ns} ${cmd}` : cmd);
  return [
    make,
    `${ip} link del ${e.tap} 2>/dev/null || true`,
    `${ip} link add name ${e.tap} mtu ${SERVER_MTU} type veth peer name eth0 netns ${e.ns}`,
    `ip -n ${e.ns} link set lo up`,
    `ip -n ${e.ns} link set eth0 address ${e.mac} mtu ${SERVER_MTU} up`,
    `ip -n ${e.ns} addr add ${e.cidr} dev eth0`,
    ...(e.extra ?? []).map((a) => `ip -n ${e.ns} addr add ${a} dev eth0`),
    `ip -n ${e.ns} route add default via ${e.gateway}`,
    `${ip} link set ${e.tap} up`,
    inChassis(offloadsOff(e.tap)),
    `ip netns exec ${e.ns} ${offloadsOff('eth0')}`,
    ...(e.setup ? [`ip netns exec ${e.ns} sh -es <<'NIMBUS_SETUP'\n${e.setup}\nNIMBUS_SETUP`] : []),
    `${vsctl(at)} -- --if-exists del-port br-int ${e.tap} -- add-port br-int ${e.tap} -- set interface ${e.tap} external_ids:iface-id=${e.id}`,
  ];
}

/** Shell lines that take a port out of the chassis's br-int and delete its veth (the namespace goes with removeNsLine). */
export function unplugLines(tap: string, at: ChassisPlace): string[] {
  return [`${vsctl(at)} --if-exists del-port br-int ${tap}`, `${at.ns ? `ip -n ${at.ns}` : 'ip'} link del ${tap} 2>/dev/null || true`];
}

/** Shell: a namespace and every process in it, gone. */
export const removeNsLine = (ns: string) => `if [ -e /run/netns/${ns} ]; then ip netns pids ${ns} | xargs -r kill -KILL; ip netns del ${ns}; fi`;

const vsctl = (at: ChassisPlace) => `ovs-vsctl${at.ovsDb ? ` --db=${at.ovsDb}` : ''} --timeout=10`;
