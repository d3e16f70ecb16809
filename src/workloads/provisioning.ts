/**
 * A load balancer's provisioning status (Octavia's), from what the daemon knows of it at run
 * time: pure, so that every combination is unit-tested (provisioning.test.ts).
 */
import type { ProvisioningStatus } from '../core/model/index.js';

/** What the provisioning status of a load balancer is made from. */
export interface ProvisioningFacts {
  /** A change to a load-balancer resource that no reconcile pass has taken up yet. */
  changePending: boolean;
  /** The load balancer has listeners, so a worker should run its configuration. */
  hasListeners: boolean;
  /** Its worker process, if one has started: ready, configurations sent and applied, public sockets still being opened. */
  worker: { ready: boolean; sent: number; applied: number; opening: number } | null;
  /** A configuration was applied by some worker of it before (since the daemon started). */
  everApplied: boolean;
  /** A reconcile pass has seen the load balancer. */
  known: boolean;
  /** Listeners it should serve but cannot (a public IP's port held by something else): it is in ERROR. */
  failing?: number;
}

/**
 * Octavia's provisioning status: ACTIVE once the worker runs the latest configuration;
 * PENDING_CREATE before any worker has applied one, PENDING_UPDATE while a newer one is on
 * its way (a change not yet reconciled, a worker starting again, a configuration not yet
 * acknowledged).
 */
export function provisioningStatus(f: ProvisioningFacts): ProvisioningStatus {
  // A load balancer that does not serve every listener is not ACTIVE (Octavia's ERROR).
  if ((f.failing ?? 0) > 0) return 'ERROR';
  const pending =
    f.changePending || (f.hasListeners && (!f.worker || !f.worker.ready || f.worker.applied < f.worker.sent || f.worker.sent === 0 || f.worker.opening > 0));
  if (!pending) return 'ACTIVE';
  return !f.known || (f.hasListeners && !f.everApplied) ? 'PENDING_CREATE' : 'PENDING_UPDATE';
}
