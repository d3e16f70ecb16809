/**
 * Names for ids in tables: a server's subnet and groups, a route's target, a listener's
 * pool are shown by name, as people call them. The lists a table needs are fetched once, in
 * parallel, before it is printed; an id the caller cannot see (another project's VPC across a
 * peering) stays an id.
 */
import type { NimbusClient } from '../client/client.js';

export type RefKind =
  | 'vpc'
  | 'subnet'
  | 'securityGroup'
  | 'routeTable'
  | 'peering'
  | 'pool'
  | 'loadBalancer'
  | 'server'
  | 'natGateway'
  | 'internetGateway'
  | 'networkAcl'
  | 'listener'
  | 'certificate';

export class Names {
  private readonly maps = new Map<RefKind, Map<string, string>>();

  constructor(private readonly client: NimbusClient | null) {}

  /** Fetches the lists of `kinds` not fetched yet. */
  async load(kinds: Iterable<RefKind>): Promise<void> {
    const c = this.client;
    if (!c) return;
    const lists: Record<RefKind, () => Promise<{ id: string; name: string }[]>> = {
      vpc: () => c.vpcs.list(),
      subnet: () => c.subnets.list(),
      securityGroup: () => c.securityGroups.list(),
      routeTable: () => c.routeTables.list(),
      peering: () => c.peerings.list(),
      pool: () => c.pools.list(),
      loadBalancer: () => c.loadBalancers.list(),
      server: () => c.servers.list(),
      natGateway: () => c.natGateways.list(),
      internetGateway: () => c.internetGateways.list(),
      networkAcl: () => c.networkAcls.list(),
      listener: () => c.listeners.list(),
      certificate: () => c.certificates.list(),
    };
    const missing = [...new Set(kinds)].filter((k) => !this.maps.has(k));
    const fetched = await Promise.all(missing.map((k) => lists[k]()));
    missing.forEach((k, i) => this.maps.set(k, new Map(fetched[i].map((r) => [r.id, r.name]))));
  }

  /** The name of `id`, or the id when it is not known. */
  of(kind: RefKind, id: string | null | undefined): string {
    if (!id) return '-';
    return this.maps.get(kind)?.get(id) ?? id;
  }
}
