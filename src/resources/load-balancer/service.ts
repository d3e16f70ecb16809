/**
 * The load balancer's use cases, one module per sub-resource (Octavia's model): load
 * balancers, listeners, pools, members and health monitors; their store-free rules are in
 * rules.ts, their live status in status.ts.
 */
export * from './load-balancer.js';
export * from './listener.js';
export * from './pool.js';
export * from './member.js';
export * from './health-monitor.js';
export * from './l7-policy.js';
