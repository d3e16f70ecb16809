/**
 * Prometheus text for every load balancer's listeners and members, from the counters
 * their workers report each second.
 */
import type { LbRuntimeStatus } from '../resources/load-balancer/status.js';

export function renderMetrics(all: [string, LbRuntimeStatus][]): string {
  const lines: string[] = [];
  const family = (name: string, type: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  family('nimbus_lb_listener_requests_total', 'counter', 'Requests (TCP: connections) answered, by status class.');
  for (const [lb, s] of all) {
    for (const [id, c] of Object.entries(s.counters?.listeners ?? {})) {
      for (const [cls, n] of Object.entries(c.requests)) lines.push(`nimbus_lb_listener_requests_total{lb="${lb}",listener="${id}",code="${cls}"} ${n}`);
    }
  }
  family('nimbus_lb_policy_requests_total', 'counter', 'Requests each L7 policy decided.');
  for (const [lb, s] of all) {
    for (const [id, c] of Object.entries(s.counters?.listeners ?? {})) {
      for (const [policy, n] of Object.entries(c.policies ?? {}))
        lines.push(`nimbus_lb_policy_requests_total{lb="${lb}",listener="${id}",policy="${policy}"} ${n}`);
    }
  }
  const listenerGauge = (name: string, type: string, help: string, pick: (c: NonNullable<LbRuntimeStatus['counters']>['listeners'][string]) => number) => {
    family(name, type, help);
    for (const [lb, s] of all) for (const [id, c] of Object.entries(s.counters?.listeners ?? {})) lines.push(`${name}{lb="${lb}",listener="${id}"} ${pick(c)}`);
  };
  listenerGauge('nimbus_lb_listener_connections_total', 'counter', 'Client connections accepted.', (c) => c.connections);
  listenerGauge('nimbus_lb_listener_active_connections', 'gauge', 'Client connections open now.', (c) => c.active);
  listenerGauge('nimbus_lb_listener_bytes_in_total', 'counter', 'Bytes received from clients.', (c) => c.bytesIn);
  listenerGauge('nimbus_lb_listener_bytes_out_total', 'counter', 'Bytes sent to clients.', (c) => c.bytesOut);
  const memberGauge = (name: string, type: string, help: string, pick: (c: NonNullable<LbRuntimeStatus['counters']>['members'][string]) => number) => {
    family(name, type, help);
    for (const [lb, s] of all) for (const [id, c] of Object.entries(s.counters?.members ?? {})) lines.push(`${name}{lb="${lb}",member="${id}"} ${pick(c)}`);
  };
  memberGauge('nimbus_lb_member_requests_total', 'counter', 'Requests (TCP: connections) sent to the member.', (c) => c.requests);
  memberGauge(
    'nimbus_lb_member_connect_failures_total',
    'counter',
    'Connections to the member that failed (and were retried elsewhere).',
    (c) => c.connectFailures,
  );
  memberGauge(
    'nimbus_lb_member_redispatched_total',
    'counter',
    'Requests pinned to the member (persistence) sent to another because it could not take them.',
    (c) => c.redispatched ?? 0,
  );
  memberGauge('nimbus_lb_member_active', 'gauge', 'Requests or connections in flight to the member.', (c) => c.active);
  family(
    'nimbus_lb_member_up',
    'gauge',
    'Whether the member may take traffic (1): it passes its health checks and is not admin down, stopped or refused; 0 otherwise.',
  );
  for (const [lb, s] of all) {
    for (const [id, h] of Object.entries(s.health)) lines.push(`nimbus_lb_member_up{lb="${lb}",member="${id}"} ${h === 'UP' && !s.admission[id] ? 1 : 0}`);
  }
  return lines.join('\n') + '\n';
}
