/**
 * The engine's whole input: plain data, knowing nothing of VPCs. The daemon derives it from
 * the load balancer's resources and the data plane.
 */
import type { AlgorithmName } from './balancers/registry.js';
import type { CheckSpec } from './health/checker.js';

export interface MemberConfig {
  id: string;
  host: string;
  port: number;
  weight: number;
  /** Admin up, and (virtual data plane) reachable according to the analyzer. */
  enabled: boolean;
}

export type PersistenceConfig = { type: 'SOURCE_IP' } | { type: 'HTTP_COOKIE' } | { type: 'APP_COOKIE'; cookieName: string } | null;

export interface PoolConfig {
  id: string;
  algorithm: AlgorithmName;
  persistence: PersistenceConfig;
  members: MemberConfig[];
  health: CheckSpec | null;
}

export interface ListenerConfig {
  id: string;
  protocol: 'HTTP' | 'TCP';
  port: number;
  poolId: string | null;
  /** Addresses the engine binds itself (the VIP inside the load balancer's namespace). */
  bind: string[];
}

export interface EngineConfig {
  listeners: ListenerConfig[];
  pools: PoolConfig[];
}

/** The cookie Nimbus inserts for HTTP_COOKIE persistence. */
export const LB_COOKIE = 'NIMBUSLB';
