/**
 * Private DNS resolvers on the linux data plane: one Debian dnsmasq per VPC with DNS support,
 * in the VPC's router namespace, as an id of its own with only the right to bind port 53. It
 * answers at 169.254.169.253 and at each subnet's .253 (the router's nftables let DNS in there,
 * from the VPC's own subnets only) with the names of core/dns.ts, and asks nobody else. Its
 * names are its arguments: a change of names restarts it (dnsmasq starts in milliseconds).
 */
import { join } from 'node:path';
import type { Store } from '../store/db.js';
import type { Change, ChangeFeed } from '../resources/context.js';
import type { Subnet } from '../core/model/index.js';
import type { Dataplane } from '../dataplane/driver.js';
import type { ProcessSpec, Supervisor } from './supervisor.js';
import { ReconcileLoop } from '../reconcile/loop.js';
import { SupervisedReconciler } from './process-plan.js';
import { dnsSupport, dnsmasqArgs, hostRecords, RESOLVER_IP, subnetResolver } from '../core/dns.js';
import { dnsWorld } from '../resources/dns.js';

const KEY = 'dns-';
const WATCHED = new Set<Change['kind']>(['vpc', 'subnet', 'server', 'loadBalancer', 'peering', 'project']);

class ResolverReconciler extends SupervisedReconciler {
  readonly name = 'resolvers';
  constructor(private readonly r: Resolvers) {
    // dnsmasq binds its addresses as they appear (--bind-dynamic); the router is made first all the same.
    super(r, [KEY], 'dns resolver');
  }

  desired(): Map<string, ProcessSpec> {
    const want = new Map<string, ProcessSpec>();
    const dp = this.r.dataplane;
    if (!dp.resolver) return want;
    const world = dnsWorld(this.r.store);
    const subnets = this.r.store.list<Subnet>('subnet');
    for (const vpc of world.vpcs) {
      if (!dnsSupport(vpc)) continue;
      const listen = [RESOLVER_IP, ...subnets.filter((s) => s.vpcId === vpc.id).map((s) => subnetResolver(s.cidr))];
      const place = dp.resolver(vpc.id);
      want.set(`${KEY}${vpc.id}`, {
        argv: place.wrap(dnsmasqArgs(listen, hostRecords(world, vpc.id))),
        outputFile: join(this.r.dirOf(vpc.id), 'dns.log'),
        owner: place.user,
      });
    }
    return want;
  }

  protected dirOf(key: string): string {
    return this.r.dirOf(key.slice(KEY.length));
  }
}

export class Resolvers {
  private readonly loop = new ReconcileLoop(new ResolverReconciler(this), { debounceMs: 20, gapFactor: 2 });
  private readonly onChange = (c: Change) => {
    if (WATCHED.has(c.kind)) this.loop.trigger();
  };

  constructor(
    readonly store: Store,
    private readonly feed: ChangeFeed,
    readonly dataplane: Dataplane,
    readonly supervisor: Supervisor,
    private readonly dataDir: string,
  ) {}

  dirOf(vpcId: string): string {
    return join(this.dataDir, 'resolvers', vpcId);
  }

  async start(): Promise<void> {
    if (!this.dataplane.resolver) return;
    this.feed.on('change', this.onChange);
    await this.loop.run();
  }

  /** Resolves once the resolvers match the store as it is now. */
  async settled(): Promise<void> {
    await this.loop.settled();
  }

  async stop(): Promise<void> {
    this.feed.off('change', this.onChange);
    await this.loop.stop();
    for (const key of this.supervisor.keys()) if (key.startsWith(KEY)) this.supervisor.stop(key);
  }
}
