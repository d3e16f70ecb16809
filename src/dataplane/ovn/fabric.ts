/**
 * The ovn data plane's processes on one machine (OVN-NOTES.md): the central and the simulated
 * chassis, each in a network namespace of the installation, joined by an underlay bridge.
 *
 *   <prefix>-ovn-ul          the underlay: bridge ul0, 198.18.0.0/16 (RFC 2544's test range)
 *   <prefix>-ovn-c           the central: NB and SB ovsdb-servers, ovn-northd; the SB listens
 *                            on 198.18.0.1:6642 for the chassis, both on Unix sockets for the daemon
 *   <prefix>-ch-<name>       a chassis: its ovsdb-server and ovs-vswitchd (userspace datapath,
 *                            `netdev`: this kernel has no openvswitch module), ovn-controller;
 *                            its underlay port in the netdev bridge br-ul, which holds its tunnel IP
 *
 * Every process runs from its own folder under /run/nimbus/ovn/<prefix>/ (pid file, control
 * socket, log, database), started with --detach, never through systemd: it outlives the daemon,
 * as the linux plane's namespaces do, and the next daemon finds it by its pid file. `chassis
 * remove` and `dataplane clean` stop what was started. The notes' pitfalls are handled here:
 * offloads off on every veth the userspace datapath reads, the tunnel IP on an OVS bridge, room
 * for Geneve in the servers' MTU (1400).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { NimbusError } from '../../core/errors.js';
import { run, type Runner } from '../linux/run.js';

export const OVN_RUN_DIR = '/run/nimbus/ovn';
export const CENTRAL_IP = '198.18.0.1';
/** The underlay the central and the simulated chassis share, and the host's address on it when hosts may join (`--join-hosts`). */
export const UNDERLAY = '198.18.0.0/16';
export const UNDERLAY_HOST_IP = '198.18.255.254';
/** The host's end of its link into the underlay, and the table that limits what the host forwards into it. */
export const hostLink = (prefix: string) => `${prefix}-ulh`;
export const underlayTable = (prefix: string) => `nimbus_ul_${prefix}`;
export const SERVER_MTU = 1400;
const NB_SCHEMA = '/usr/share/ovn/ovn-nb.ovsschema';
const SB_SCHEMA = '/usr/share/ovn/ovn-sb.ovsschema';
const VSWITCH_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

export const underlayNs = (prefix: string) => `${prefix}-ovn-ul`;
export const centralNs = (prefix: string) => `${prefix}-ovn-c`;
export const chassisNs = (prefix: string, name: string) => `${prefix}-ch-${name}`;

/** Why the ovn plane cannot run here, or null (the packages: ovn-central, ovn-host, openvswitch-switch, ethtool). */
export function ovnUnavailable(): string | null {
  if (process.platform !== 'linux') return `this is ${process.platform}, not Linux`;
  if (process.getuid?.() !== 0) return 'not running as root (namespaces and OVS need root)';
  const missing = [
    [NB_SCHEMA, 'ovn-central'],
    ['/usr/bin/ovn-controller', 'ovn-host'],
    ['/usr/sbin/ovs-vswitchd', 'openvswitch-switch'],
    ['/usr/sbin/ethtool', 'ethtool'],
  ].filter(([f]) => !existsSync(f));
  if (missing.length > 0) return `missing the Debian packages ${missing.map(([, p]) => p).join(', ')}; as root run: bash scripts/install-ovn.sh`;
  return null;
}

/** A chassis name: what its namespace and OVN's system-id are made of. */
export function checkChassisName(name: string): string {
  if (!/^[a-z][a-z0-9-]{0,14}$/.test(name))
    throw new NimbusError('InvalidParameterValue', `chassis '${name}': a name is 1-15 lowercase letters, digits or '-', starting with a letter`);
  return name;
}

/** Turns the userspace datapath's enemies off on an interface (OVN-NOTES pitfall 1). */
export const offloadsOff = (dev: string) => `ethtool -K ${dev} tx off sg off tso off gso off gro off >/dev/null 2>&1 || true`;

/** Shell: whether the process of a pid file in `dir` runs and is ours (a zombie, or a reused pid, is not: its command line does not name `dir`). */
const alive = (pidFile: string, dir: string) => `[ -f ${dir}/${pidFile} ] && grep -qF -- '${dir}' "/proc/$(cat ${dir}/${pidFile})/cmdline" 2>/dev/null`;
/** Stops the process of a pid file, if it runs. */
const stop = (pidFile: string, dir: string) =>
  `if ${alive(pidFile, dir)}; then kill "$(cat ${dir}/${pidFile})" 2>/dev/null || true; fi; rm -f ${dir}/${pidFile}`;

/** Whether the process of a pid file runs, and is ours (its command line names our folder: a pid may be reused). */
function running(pidFile: string, dir: string): boolean {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return false;
  }
}

export class Fabric {
  readonly dir: string;
  /** Chassis being removed: a pass must not start them again (their processes die on the way out). */
  private readonly leaving = new Set<string>();
  /** Starting and removing run one at a time (a pass may start a chassis that an API call removes). */
  private chain: Promise<unknown> = Promise.resolve();
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  constructor(
    readonly prefix: string,
    private readonly runner: Runner = run,
    /** Other hosts may join as chassis: the underlay is linked to this host, which forwards their tunnels and southbound connections. */
    readonly joinHosts = false,
  ) {
    this.dir = join(OVN_RUN_DIR, prefix);
  }

  get centralDir(): string {
    return join(this.dir, 'central');
  }
  get nbRemote(): string {
    return `unix:${join(this.centralDir, 'nb.sock')}`;
  }
  get sbRemote(): string {
    return `unix:${join(this.centralDir, 'sb.sock')}`;
  }
  chassisDir(name: string): string {
    return join(this.dir, 'chassis', name);
  }
  /** A chassis's Open_vSwitch database. */
  ovsRemote(name: string): string {
    return `unix:${join(this.chassisDir(name), 'db.sock')}`;
  }

  private async sh(script: string, what: string, timeoutMs = 30_000): Promise<void> {
    const r = await this.runner('sh', ['-ec', script], { timeoutMs });
    if (r.code !== 0) throw new NimbusError('Dataplane.Unavailable', `${what} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`);
  }

  /** The underlay and the central, made or started where missing (a no-op when all runs). */
  async ensureCentral(): Promise<void> {
    const d = this.centralDir;
    const ul = underlayNs(this.prefix);
    const c = centralNs(this.prefix);
    mkdirSync(d, { recursive: true, mode: 0o700 });
    await this.sh(
      [
        `[ -e /run/netns/${ul} ] || { ip netns add ${ul}; ip -n ${ul} link add name ul0 type bridge; ip -n ${ul} link set ul0 up; }`,
        `[ -e /run/netns/${c} ] || {`,
        `  ip netns add ${c}; ip -n ${c} link set lo up`,
        `  ip -n ${ul} link add name c0 type veth peer name ul netns ${c}`,
        `  ip -n ${ul} link set c0 master ul0 up; ip -n ${c} link set ul up; ip -n ${c} addr add ${CENTRAL_IP}/16 dev ul`,
        `  ip netns exec ${c} ${offloadsOff('ul')}; ip netns exec ${ul} ${offloadsOff('c0')}`,
        '}',
        `cd ${d}`,
        `[ -f nb.db ] || ovsdb-tool create nb.db ${NB_SCHEMA}`,
        `[ -f sb.db ] || ovsdb-tool create sb.db ${SB_SCHEMA}`,
        `${alive('nb.pid', d)} || ip netns exec ${c} ovsdb-server ${d}/nb.db --remote=punix:${d}/nb.sock --pidfile=${d}/nb.pid --unixctl=${d}/nb.ctl --log-file=${d}/nb.log --detach`,
        `${alive('sb.pid', d)} || ip netns exec ${c} ovsdb-server ${d}/sb.db --remote=punix:${d}/sb.sock --remote=ptcp:6642:${CENTRAL_IP} --pidfile=${d}/sb.pid --unixctl=${d}/sb.ctl --log-file=${d}/sb.log --detach`,
        `ovn-nbctl --db=unix:${d}/nb.sock --timeout=10 init`,
        `ovn-sbctl --db=unix:${d}/sb.sock --timeout=10 init`,
        `${alive('northd.pid', d)} || OVN_RUNDIR=${d} ip netns exec ${c} ovn-northd --ovnnb-db=unix:${d}/nb.sock --ovnsb-db=unix:${d}/sb.sock --pidfile=${d}/northd.pid --log-file=${d}/northd.log --detach`,
        hostLinkScript(this.prefix, this.joinHosts),
        // The central answers joined hosts through the host (their southbound connections), or nobody beyond the underlay.
        this.joinHosts ? `ip -n ${c} route replace default via ${UNDERLAY_HOST_IP} dev ul` : `ip -n ${c} route del default 2>/dev/null || true`,
      ].join('\n'),
      'starting the OVN central',
    );
  }

  /** The chassis folders: read once (they outlive a daemon), then kept as chassis are started and removed. */
  private folders: Set<string> | null = null;
  private known(): Set<string> {
    if (!this.folders) {
      try {
        this.folders = new Set(readdirSync(join(this.dir, 'chassis')));
      } catch {
        this.folders = new Set();
      }
    }
    return this.folders;
  }

  /** The simulated chassis of this machine: those with a folder (read on every endpoint of every pass: no I/O). */
  localChassis(): string[] {
    return [...this.known()].filter((n) => !this.leaving.has(n)).sort();
  }

  /** The tunnel IP of a local chassis (chosen when it was added). */
  encapIp(name: string): string | null {
    const f = join(this.chassisDir(name), 'encap-ip');
    return existsSync(f) ? readFileSync(f, 'utf8').trim() : null;
  }

  /** Starts (or starts again) a simulated chassis: its namespace, OVS and ovn-controller. */
  async ensureChassis(name: string, opts: { adding?: boolean } = {}): Promise<void> {
    checkChassisName(name);
    if (opts.adding) this.leaving.delete(name);
    return this.serial(() => this.startChassis(name));
  }

  private async startChassis(name: string): Promise<void> {
    if (this.leaving.has(name)) return;
    await this.ensureCentral();
    const d = this.chassisDir(name);
    mkdirSync(d, { recursive: true, mode: 0o700 });
    this.known().add(name);
    let ip = this.encapIp(name);
    if (!ip) {
      const taken = new Set(this.localChassis().map((n) => this.encapIp(n)));
      for (let i = 10; !ip || taken.has(ip); i++) ip = `198.18.${i >> 8}.${i & 255}`;
      await this.sh(`echo ${ip} > ${d}/encap-ip`, 'recording the chassis address');
    }
    const ns = chassisNs(this.prefix, name);
    const ul = underlayNs(this.prefix);
    const port = `u${ip.split('.').slice(2).join('x')}`;
    const vsctl = `ovs-vsctl --db=unix:${d}/db.sock --timeout=10`;
    await this.sh(
      [
        `[ -e /run/netns/${ns} ] || {`,
        `  ip netns add ${ns}; ip -n ${ns} link set lo up`,
        `  ip -n ${ul} link del ${port} 2>/dev/null || true`,
        `  ip -n ${ul} link add name ${port} type veth peer name ul netns ${ns}`,
        `  ip -n ${ul} link set ${port} master ul0 up; ip -n ${ns} link set ul up`,
        `  ip netns exec ${ns} ${offloadsOff('ul')}; ip netns exec ${ul} ${offloadsOff(port)}`,
        '}',
        `cd ${d}`,
        `[ -f conf.db ] || ovsdb-tool create conf.db ${VSWITCH_SCHEMA}`,
        `${alive('ovsdb.pid', d)} || OVS_RUNDIR=${d} ip netns exec ${ns} ovsdb-server ${d}/conf.db --remote=punix:${d}/db.sock --pidfile=${d}/ovsdb.pid --unixctl=${d}/ovsdb.ctl --log-file=${d}/ovsdb.log --detach`,
        `${vsctl} --no-wait init`,
        `${alive('vswitchd.pid', d)} || OVS_RUNDIR=${d} ip netns exec ${ns} ovs-vswitchd unix:${d}/db.sock --pidfile=${d}/vswitchd.pid --unixctl=${d}/vswitchd.ctl --log-file=${d}/vswitchd.log --detach`,
        // The tunnel IP sits on the netdev bridge that holds the underlay port (pitfall 2).
        `${vsctl} --may-exist add-br br-ul -- set bridge br-ul datapath_type=netdev -- --may-exist add-port br-ul ul`,
        `ip -n ${ns} addr replace ${ip}/16 dev br-ul; ip -n ${ns} link set br-ul up`,
        // Tunnels to joined hosts go through the host (their encap IPs are beyond the underlay).
        this.joinHosts ? `ip -n ${ns} route replace default via ${UNDERLAY_HOST_IP} dev br-ul` : `ip -n ${ns} route del default 2>/dev/null || true`,
        `${vsctl} set open . external_ids:system-id=${name} external_ids:ovn-remote=tcp:${CENTRAL_IP}:6642 external_ids:ovn-encap-type=geneve external_ids:ovn-encap-ip=${ip} external_ids:ovn-bridge=br-int external_ids:ovn-bridge-datapath-type=netdev`,
        `${alive('ovn-controller.pid', d)} || OVS_RUNDIR=${d} OVN_RUNDIR=${d} ip netns exec ${ns} ovn-controller unix:${d}/db.sock --pidfile=${d}/ovn-controller.pid --log-file=${d}/ovn-controller.log --detach`,
      ].join('\n'),
      `starting chassis ${name}`,
    );
  }

  /** Stops a simulated chassis and removes it, its namespace and its record in the SB. */
  async removeChassis(name: string): Promise<void> {
    this.leaving.add(name);
    return this.serial(() => this.stopChassis(name));
  }

  private async stopChassis(name: string): Promise<void> {
    const d = this.chassisDir(name);
    const ns = chassisNs(this.prefix, name);
    await this.sh(
      [
        ...['ovn-controller', 'vswitchd', 'ovsdb'].map((p) => stop(`${p}.pid`, d)),
        `ip netns pids ${ns} 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true`,
        `[ ! -e /run/netns/${ns} ] || ip netns del ${ns}`,
        `ovn-sbctl --db=${this.sbRemote} --timeout=10 --if-exists chassis-del ${name} 2>/dev/null || true`,
      ].join('\n'),
      `removing chassis ${name}`,
    );
    rmSync(d, { recursive: true, force: true });
    this.known().delete(name);
  }

  /** The processes of the central (`null`) or of a local chassis that should run and do not. */
  deadProcesses(chassis: string | null): string[] {
    const dir = chassis === null ? this.centralDir : this.chassisDir(chassis);
    const names = chassis === null ? ['nb', 'sb', 'northd'] : ['ovsdb', 'vswitchd', 'ovn-controller'];
    return names.filter((n) => !running(join(dir, `${n}.pid`), dir));
  }

  /** ovn-sbctl on the central's southbound. */
  sbctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return this.runner('ovn-sbctl', [`--db=${this.sbRemote}`, '--timeout=10', ...args], { timeoutMs: 15_000 });
  }

  /** A chassis's br-int: the ports a server's veth end is plugged into. */
  vsctl(name: string, args: string[], seconds = 10): Promise<{ code: number; stdout: string; stderr: string }> {
    return this.runner('ovs-vsctl', [`--db=${this.ovsRemote(name)}`, `--timeout=${seconds}`, ...args], { timeoutMs: (seconds + 5) * 1000 });
  }
}

/** Where the host's IPv4 forwarding setting is kept from before `--join-hosts` turned it on (restored when hosts may no longer join, and by `dataplane clean`). */
export const forwardingBefore = (prefix: string) => join(OVN_RUN_DIR, prefix, 'ip_forward.before');

/** Shell: the host's IPv4 forwarding as it was before hosts could join, if it was recorded. */
export const restoreForwarding = (file: string) => `if [ -f ${file} ]; then sysctl -qw net.ipv4.ip_forward="$(cat ${file})"; rm -f ${file}; fi`;

/**
 * The host's link into the underlay, made or removed as `joinHosts` says (shell, as root). Made:
 * the host holds UNDERLAY_HOST_IP on it, forwards IPv4 (its setting before kept in forwardingBefore's file, and
 * restored when the link goes), and a table of its own lets only Geneve (UDP 6081), the
 * southbound (TCP 6642) and their replies be forwarded into the underlay. Refused when another
 * installation's link holds the address already: one installation per machine lets hosts join.
 */
export function hostLinkScript(prefix: string, joinHosts: boolean): string {
  const before = forwardingBefore(prefix);
  const link = hostLink(prefix);
  const ul = underlayNs(prefix);
  const table = underlayTable(prefix);
  if (!joinHosts)
    return [`ip link del ${link} 2>/dev/null || true`, `nft delete table inet ${table} 2>/dev/null || true`, restoreForwarding(before)].join('\n');
  return [
    `other=$(ip -o -4 addr show to ${UNDERLAY_HOST_IP}/32 | awk '$2 != "${link}" {print $2}')`,
    `if [ -n "$other" ]; then echo "another installation's link ($other) already holds ${UNDERLAY_HOST_IP}: one installation per machine lets hosts join" >&2; exit 1; fi`,
    `ip link show ${link} >/dev/null 2>&1 || { ip link add ${link} type veth peer name hst netns ${ul}; ip -n ${ul} link set hst master ul0 up; }`,
    `${offloadsOff(link)}; ip netns exec ${ul} ${offloadsOff('hst')}`,
    `ip addr replace ${UNDERLAY_HOST_IP}/16 dev ${link}; ip link set ${link} up`,
    `[ -f ${before} ] || cat /proc/sys/net/ipv4/ip_forward > ${before}`,
    'sysctl -qw net.ipv4.ip_forward=1',
    `nft -f - <<'NIMBUS_EOF'`,
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    `    oifname "${link}" udp dport 6081 accept`,
    `    oifname "${link}" tcp dport 6642 accept`,
    `    oifname "${link}" ct state established,related accept`,
    `    oifname "${link}" drop`,
    '  }',
    '}',
    'NIMBUS_EOF',
  ].join('\n');
}
