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
    this.r.passBegins();
    const want = new Map<string, ProcessSpec>();
    const dp = this.r.dataplane;
    if (!dp.resolver) return want;
    const world = dnsWorld(this.r.store);
    const subnets = this.r.store.list<Subnet>('subnet');
    for (const vpc of world.vpcs) {
      if (!dnsSupport(vpc)) continue;
      const listen = [RESOLVER_IP, ...subnets.filter((s) => s.vpcId === vpc.id).map((s) => subnetResolver(s.cidr))];
      const args = dnsmasqArgs(listen, hostRecords(world, vpc.id));
      for (const { key, place } of dp.resolver(vpc.id))
        want.set(`${KEY}${key}`, { argv: place.wrap(args), outputFile: join(this.r.dirOf(key), 'dns.log'), owner: place.user });
    }
    return want;
  }

  protected dirOf(key: string): string {
    return this.r.dirOf(key.slice(KEY.length));
  }

  override async apply(plan: Parameters<SupervisedReconciler['apply']>[0]): ReturnType<SupervisedReconciler['apply']> {
    const result = await super.apply(plan);
    this.r.passEnds();
    return result;
  }
}

export class Resolvers {
  private readonly loop = new ReconcileLoop(new ResolverReconciler(this), { debounceMs: 20, gapFactor: 2 });
  /** The data plane's count of changes seen when the running pass began, and when the last finished one began. */
  private beganAt = 0;
  private through = 0;
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

  dirOf(key: string): string {
    return join(this.dataDir, 'resolvers', key);
  }

  async start(): Promise<void> {
    if (!this.dataplane.resolver) return;
    this.feed.on('change', this.onChange);
    await this.loop.run();
  }

  passBegins(): void {
    this.beganAt = this.dataplane.status().changes?.seen ?? 0;
  }

  passEnds(): void {
    this.through = this.beganAt;
  }

  /**
   * How far the resolvers are, in the data plane's count of changes: a pass that began when
   * the data plane had seen N changes read the store with all of them. Null while nothing is
   * left to do (the resolvers hold back no change).
   */
  changesThrough(): number | null {
    const p = this.loop.progress();
    return p.done >= p.seen ? null : this.through;
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
