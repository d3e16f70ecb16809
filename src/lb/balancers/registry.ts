/**
 * The balancers by algorithm name, registered in one place.
 */
import type { Balancer } from './balancer.js';
import { LeastConnections } from './least-connections.js';
import { SmoothWeightedRoundRobin } from './round-robin.js';
import { SourceIpHash } from './source-ip.js';

export type AlgorithmName = 'ROUND_ROBIN' | 'LEAST_CONNECTIONS' | 'SOURCE_IP';

export const BALANCERS: Record<AlgorithmName, () => Balancer> = {
  ROUND_ROBIN: () => new SmoothWeightedRoundRobin(),
  LEAST_CONNECTIONS: () => new LeastConnections(),
  SOURCE_IP: () => new SourceIpHash(),
};
