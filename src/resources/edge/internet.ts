/**
 * The internet's hosts: the built-in one (www, 203.0.113.10) and those an admin adds. They
 * belong to the installation, not to a project: every project sees them, only an admin
 * changes them. Stored under the empty project id.
 */
import { NimbusError, invalid } from '../../core/errors.js';
import { contains, intToIp, parseCidr, parseIp } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import { DEFAULT_HOST, INTERNET_CIDR, INTERNET_ROUTER, type InternetHost, type InternetHostInput } from '../../core/model/internet.js';
import { checkName, requireAdmin, saveDelete, saveNew, write, type Ctx } from '../context.js';
import type { Store } from '../../store/db.js';
import type { Server } from '../../core/model/index.js';

/** The installation's own "project" for what belongs to no project. */
export const INSTALLATION = '';

const BUILT_IN: InternetHost = {
  id: 'inet-0000000000000000',
  name: DEFAULT_HOST.name,
  ip: DEFAULT_HOST.ip,
  builtIn: true,
  createdAt: '1970-01-01T00:00:00.000Z',
};

/** Every internet host, the built-in one first (for the data plane and the analyzer). */
export function internetHosts(store: Store): InternetHost[] {
  return [BUILT_IN, ...store.list<InternetHost>('internetHost', { projectId: INSTALLATION })];
}

export function listHosts(ctx: Ctx): InternetHost[] {
  return internetHosts(ctx.store);
}

function hostCtx(ctx: Ctx): Ctx {
  return { ...ctx, projectId: INSTALLATION };
}

export function findHost(store: Store, ref: string): InternetHost | undefined {
  return internetHosts(store).find((h) => h.name === ref || h.id === ref || h.ip === ref);
}

export function addHost(ctx: Ctx, input: InternetHostInput): InternetHost {
  requireAdmin(ctx, 'changing the internet');
  const ic = hostCtx(ctx);
  return write(ic, () => {
    if (input.name === BUILT_IN.name) throw new NimbusError('NameInUse', `internet host name '${input.name}' is the built-in host's`);
    const name = checkName(ic, 'internetHost', input.name);
    const net = parseCidr(INTERNET_CIDR);
    const taken = new Set(internetHosts(ctx.store).map((h) => h.ip));
    taken.add(INTERNET_ROUTER);
    let ip: string | undefined;
    if (input.ip !== undefined) {
      const n = parseIp(input.ip, 'ip');
      const last = n & 255;
      if (!contains(net, n) || last < 2 || last > 254) throw invalid(`ip: ${input.ip} is not an address of ${INTERNET_CIDR} from .2 to .254`);
      ip = intToIp(n);
      if (taken.has(ip)) throw new NimbusError('InvalidIPAddress.InUse', `ip ${ip} is already an internet host's`);
    } else {
      for (let n = net.net + 11; n <= net.net + 254 && !ip; n++) if (!taken.has(intToIp(n))) ip = intToIp(n);
      if (!ip) throw new NimbusError('InsufficientFreeAddressesInSubnet', `the internet ${INTERNET_CIDR} has no free address left`);
    }
    const host: InternetHost = { id: newId('internetHost'), name, ip, builtIn: false, createdAt: new Date().toISOString() };
    return saveNew(ic, 'internetHost', host);
  });
}

export function removeHost(ctx: Ctx, ref: string): InternetHost {
  requireAdmin(ctx, 'changing the internet');
  const ic = hostCtx(ctx);
  return write(ic, () => {
    const host = findHost(ctx.store, ref);
    if (!host) throw new NimbusError('InvalidInternetHost.NotFound', `internet host '${ref}' does not exist`);
    if (host.builtIn) throw new NimbusError('CannotDelete', `internet host '${host.name}' is built in`);
    return saveDelete(ic, 'internetHost', host);
  });
}

/** Whether the installation's internet exists: an internet gateway does, or an added host (edge.ts internetWanted). */
export function internetExists(store: Store): boolean {
  return store.list('internetGateway').length > 0 || store.list('internetHost', { projectId: INSTALLATION }).length > 0;
}

/** An internet host as an endpoint, for where its processes run. */
export function internetEndpoint(h: InternetHost): Server {
  return {
    id: h.id,
    name: h.name,
    projectId: INSTALLATION,
    vpcId: '',
    subnetId: '',
    privateIp: h.ip,
    securityGroupIds: [],
    app: null,
    loopbackIp: '',
    status: 'running',
    createdAt: h.createdAt,
  };
}
