/**
 * What a host needs to join a Nimbus cloud on the ovn plane as a chassis (`nimbus chassis join`,
 * pure shell text, run as root on that host): the packages, OVN's settings (its system id, the
 * central's southbound address, its own tunnel address), ovn-controller, and the chassis agent
 * that plugs the servers placed on it (chassis-agent.ts).
 *
 * Two ways to run the host's processes:
 * - by default, the Debian packages' own services (systemd) and a unit for the agent;
 * - with a run folder (`--run-dir`), started from that folder with --detach, as the daemon starts
 *   its simulated chassis (fabric.ts): for a host without systemd, and for the test that joins a
 *   namespace of this machine as if it were another host.
 *
 * `--datapath netdev` is for a host without Open vSwitch's kernel module (OVN-NOTES pitfalls 1
 * and 2): the userspace datapath, offloads off on the uplink, and the tunnel address on a netdev
 * bridge that holds the uplink.
 */
import { NimbusError } from '../../core/errors.js';
import { checkChassisName, offloadsOff, UNDERLAY } from './fabric.js';
import { checkPrefix } from '../linux/names.js';

export interface JoinOptions {
  /** The host's chassis name (OVN's system-id). */
  name: string;
  /** The central's southbound database as this host reaches it: `tcp:IP:PORT`. */
  central: string;
  /** This host's tunnel address (Geneve, UDP 6081), reachable from every other chassis. */
  encapIp: string;
  /** The host's processes run from this folder (no systemd); null: the packages' services. */
  runDir: string | null;
  /** The central machine's address, through which its underlay is reached (`nimbus serve --join-hosts` there); null: routed already. */
  via: string | null;
  /** The userspace datapath, with the interface that carries the tunnels (its address moves to a netdev bridge). */
  netdev: { uplink: string; prefixLength: number } | null;
  /** How the agent is started: node and Nimbus's CLI, with the prefix its namespaces take. */
  agent: { node: string; cli: string; prefix: string };
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/**
 * What joining, leaving and the agent share, checked: the chassis name, the central's address,
 * the run folder and the agent's prefix (each refusal names the value; they go into shell text).
 */
export function checkHost(o: { name: string; central?: string; runDir?: string | null; prefix: string }): void {
  checkChassisName(o.name);
  const m = o.central === undefined ? null : /^tcp:([^:]+):(\d{1,5})$/.exec(o.central);
  if (o.central !== undefined && (!m || !IPV4.test(m[1]) || Number(m[2]) > 65535))
    throw new NimbusError('InvalidParameterValue', `central: '${o.central}' is not the southbound's address as tcp:IP:PORT (for example tcp:198.18.0.1:6642)`);
  if (o.runDir && !/^\/[A-Za-z0-9._/-]+$/.test(o.runDir))
    throw new NimbusError('InvalidParameterValue', `run-dir: '${o.runDir}' must be an absolute path of letters, digits, '.', '_', '-' and '/'`);
  try {
    checkPrefix(o.prefix);
  } catch (err) {
    throw new NimbusError('InvalidParameterValue', (err as Error).message);
  }
}

/** The options checked, each refusal naming the value at fault (they go into shell text). */
export function checkJoin(o: JoinOptions): JoinOptions {
  checkHost({ name: o.name, central: o.central, runDir: o.runDir, prefix: o.agent.prefix });
  if (!IPV4.test(o.encapIp)) throw new NimbusError('InvalidParameterValue', `encap-ip: '${o.encapIp}' is not an IPv4 address`);
  if (o.via !== null && !IPV4.test(o.via)) throw new NimbusError('InvalidParameterValue', `via: '${o.via}' is not an IPv4 address`);
  if (o.netdev && !/^[A-Za-z0-9._-]{1,15}$/.test(o.netdev.uplink))
    throw new NimbusError('InvalidParameterValue', `uplink: '${o.netdev.uplink}' is not an interface name`);
  if (o.netdev && !(o.netdev.prefixLength >= 1 && o.netdev.prefixLength <= 32))
    throw new NimbusError('InvalidParameterValue', `uplink prefix length: '${o.netdev.prefixLength}' is not 1-32`);
  for (const [what, v] of Object.entries(o.agent))
    if (!/^[A-Za-z0-9._/-]+$/.test(v)) throw new NimbusError('InvalidParameterValue', `agent ${what}: '${v}' holds characters a shell would read`);
  return o;
}

/** The agent's command line. */
export function agentCommand(o: JoinOptions): string {
  const db = o.runDir ? ` --ovs-db unix:${o.runDir}/db.sock` : '';
  return `${o.agent.node} ${o.agent.cli} chassis agent --name ${o.name} --central ${o.central} --prefix ${o.agent.prefix}${db}`;
}

/** The whole script, commented for the person who reads it before running it. */
export function joinScript(input: JoinOptions): string {
  const o = checkJoin(input);
  const d = o.runDir;
  const vsctl = d ? `ovs-vsctl --db=unix:${d}/db.sock --timeout=10` : 'ovs-vsctl --timeout=10';
  const env = d ? `OVS_RUNDIR=${d} OVN_RUNDIR=${d} ` : '';
  const alive = (pid: string) => `[ -f ${d}/${pid} ] && kill -0 "$(cat ${d}/${pid})" 2>/dev/null`;
  const lines = [
    '#!/bin/sh',
    `# Joins this host to a Nimbus cloud as chassis ${o.name} (run as root).`,
    'set -e',
    '# The packages OVN needs on a chassis (none when they are there).',
    'if ! command -v ovn-controller >/dev/null 2>&1 || ! command -v ovs-vswitchd >/dev/null 2>&1 || ! command -v ethtool >/dev/null 2>&1; then',
    '  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ovn-host openvswitch-switch ethtool',
    'fi',
    '# Open vSwitch.',
  ];
  if (d)
    lines.push(
      `mkdir -p ${d} && chmod 700 ${d} && cd ${d}`,
      `[ -f conf.db ] || ovsdb-tool create conf.db /usr/share/openvswitch/vswitch.ovsschema`,
      `${alive('ovsdb.pid')} || ${env}ovsdb-server ${d}/conf.db --remote=punix:${d}/db.sock --pidfile=${d}/ovsdb.pid --unixctl=${d}/ovsdb.ctl --log-file=${d}/ovsdb.log --detach`,
      `${vsctl} --no-wait init`,
      `${alive('vswitchd.pid')} || ${env}ovs-vswitchd unix:${d}/db.sock --pidfile=${d}/vswitchd.pid --unixctl=${d}/vswitchd.ctl --log-file=${d}/vswitchd.log --detach`,
    );
  else lines.push('systemctl enable --now openvswitch-switch');
  if (o.netdev) {
    const up = o.netdev.uplink;
    lines.push(
      '# The userspace datapath: offloads off, and the tunnel address on a netdev bridge that holds the uplink.',
      offloadsOff(up),
      `${vsctl} --may-exist add-br br-ul -- set bridge br-ul datapath_type=netdev -- --may-exist add-port br-ul ${up}`,
      `ip addr del ${o.encapIp}/${o.netdev.prefixLength} dev ${up} 2>/dev/null || true`,
      `ip addr replace ${o.encapIp}/${o.netdev.prefixLength} dev br-ul`,
      'ip link set br-ul up',
    );
  }
  if (o.via)
    lines.push(
      "# The central's underlay (its southbound, its simulated chassis' tunnel ends) through the central's machine.",
      `ip route replace ${UNDERLAY} via ${o.via}`,
    );
  lines.push(
    "# OVN's settings: who this chassis is, where the central is, where its tunnels end.",
    `${vsctl} set open . external_ids:system-id=${o.name} external_ids:ovn-remote=${o.central} external_ids:ovn-encap-type=geneve external_ids:ovn-encap-ip=${o.encapIp} external_ids:ovn-bridge=br-int${o.netdev ? ' external_ids:ovn-bridge-datapath-type=netdev' : ''}`,
    '# ovn-controller.',
    d
      ? `${alive('ovn-controller.pid')} || ${env}ovn-controller unix:${d}/db.sock --pidfile=${d}/ovn-controller.pid --log-file=${d}/ovn-controller.log --detach`
      : 'systemctl enable ovn-controller && systemctl restart ovn-controller',
    "# The chassis agent: it plugs the servers the cloud places on this chassis (it reads the central's southbound).",
  );
  if (d) lines.push(`${alive('agent.pid')} || { nohup ${agentCommand(o)} >> ${d}/agent.log 2>&1 & echo $! > ${d}/agent.pid; }`);
  else
    lines.push(
      "cat > /etc/systemd/system/nimbus-chassis-agent.service <<'NIMBUS_UNIT'",
      '[Unit]',
      'Description=Nimbus chassis agent: plugs the servers placed on this chassis',
      'After=ovn-controller.service',
      '[Service]',
      `ExecStart=${agentCommand(o)}`,
      'Restart=always',
      '[Install]',
      'WantedBy=multi-user.target',
      'NIMBUS_UNIT',
      'systemctl daemon-reload && systemctl enable --now nimbus-chassis-agent',
    );
  lines.push(`echo "chassis ${o.name} joined: nimbus chassis list shows it once its ovn-controller has reported"`);
  return `${lines.join('\n')}\n`;
}

/**
 * What a joined host runs to leave (`nimbus chassis leave`, shell as root): the agent and
 * ovn-controller stopped (the packages' services, or the processes of a run folder), and the
 * agent's namespaces removed. The central then forgets the chassis with `nimbus chassis remove`
 * once it is down. Open vSwitch and the packages stay (other software may use them).
 */
export function leaveScript(o: { name: string; runDir: string | null; prefix: string }): string {
  checkHost(o);
  const d = o.runDir;
  const stop = d
    ? ['agent', 'ovn-controller', 'vswitchd', 'ovsdb'].map(
        (p) => `if [ -f ${d}/${p}.pid ]; then kill "$(cat ${d}/${p}.pid)" 2>/dev/null || true; rm -f ${d}/${p}.pid; fi`,
      )
    : [
        'systemctl disable --now nimbus-chassis-agent 2>/dev/null || true',
        'rm -f /etc/systemd/system/nimbus-chassis-agent.service && systemctl daemon-reload',
        'systemctl disable --now ovn-controller',
      ];
  return [
    '#!/bin/sh',
    `# Chassis ${o.name} leaves the cloud (run as root); then, on the central: nimbus chassis remove ${o.name}`,
    '# The agent and ovn-controller stop.',
    ...stop,
    "# The servers' namespaces the agent made go, with their /etc/netns files.",
    `for ns in $(ip netns list | awk '{print $1}' | grep '^${o.prefix}-ecs-'); do ip netns pids "$ns" | xargs -r kill -KILL; ip netns del "$ns"; rm -rf "/etc/netns/$ns"; done`,
    `echo "chassis ${o.name} left: nimbus chassis remove ${o.name} on the central forgets it once it is down"`,
    '',
  ].join('\n');
}
