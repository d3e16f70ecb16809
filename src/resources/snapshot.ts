/**
 * Reads the whole desired state (every project) into the analyzer's snapshot type.
 */
import type { Store } from '../store/db.js';
import type { Snapshot, SnapshotRouteTable } from '../net/topology.js';

export function readSnapshot(store: Store): Snapshot {
  return {
    vpcs: store.list('vpc'),
    subnets: store.list('subnet'),
    servers: store.list('server'),
    securityGroups: store.list('securityGroup'),
    routeTables: store.list<SnapshotRouteTable>('routeTable'),
    peerings: store.list('peering'),
  };
}
