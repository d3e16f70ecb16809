/**
 * A pool at run time: its members (weight, open connections, health, admin state, idle
 * upstream sockets), its balancer and its persistence. Reconfiguration updates members in
 * place; a member that leaves drains: it takes nothing new and its sockets close once their
 * exchange ends.
 */
import type { Socket } from 'node:net';
import type { Balancer, Candidate } from './balancers/balancer.js';
import { BALANCERS } from './balancers/registry.js';
import { HealthChecker, type CheckSpec } from './health/checker.js';
import { realProbe } from './health/probes.js';
import type { MemberCounters } from '../core/model/index.js';
import { LB_COOKIE, type MemberConfig, type PersistenceConfig, type PoolConfig, type PoolTimeouts } from './config.js';

/** Idle keep-alive sockets kept per member (beyond it, a socket closes after its exchange). */
const MAX_IDLE = 256;
const MAX_STICKY = 100_000;

/** An exchange (HTTP) or connection (TCP) a member serves now. */
export interface InFlight {
  /** The member is gone: answer 502 if no byte of the response went out, or close. */
  memberGone(why: string): void;
}

/** A keep-alive connection to a member, kept between exchanges. */
export interface Pooled {
  readonly socket: Socket;
}

export class MemberRuntime implements Candidate {
  active = 0;
  health: 'UP' | 'DOWN' = 'UP';
  draining = false;
  /** Set for the duration of one pick, to skip members a retry already tried. */
  excluded = false;
  readonly idle: Pooled[] = [];
  /** What this member serves now (registered while it does). */
  readonly inFlight = new Set<InFlight>();
  /** This member's part of access-log lines. */
  logPart: Buffer | null = null;
  /** This member's counters, once the engine has looked them up. */
  stats: MemberCounters | null = null;
  id: string;
  host: string;
  port: number;
  weight: number;
  enabled: boolean;

  constructor(c: MemberConfig) {
    this.id = c.id;
    this.host = c.host;
    this.port = c.port;
    this.weight = c.weight;
    this.enabled = c.enabled;
  }

  get usable(): boolean {
    return this.health === 'UP' && this.enabled && !this.draining && !this.excluded;
  }

  /** An idle keep-alive socket to this member, if one is still open. */
  takeIdle(): Pooled | null {
    while (this.idle.length > 0) {
      const p = this.idle.pop()!;
      if (!p.socket.destroyed && p.socket.readyState === 'open') return p;
    }
    return null;
  }

  /** Keeps a socket for the next exchange, or closes it. Its listeners stay (see proxy.ts). */
  giveBack(p: Pooled): void {
    if (this.draining || this.idle.length >= MAX_IDLE || p.socket.destroyed) p.socket.destroy();
    else this.idle.push(p);
  }

  /** A socket closed: it is no longer idle. */
  forget(p: Pooled): void {
    const i = this.idle.indexOf(p);
    if (i >= 0) this.idle.splice(i, 1);
  }

  closeIdle(): void {
    for (const p of this.idle.splice(0)) p.socket.destroy();
  }

  /** The member is gone (removed, its server stopped, failing its checks): cut what it serves now. */
  cut(why: string): void {
    this.closeIdle();
    for (const f of [...this.inFlight]) f.memberGone(why);
  }
}

export interface Choice {
  member: MemberRuntime;
  /** A Set-Cookie value to add to the response (inserted-cookie persistence). */
  setCookie: string | null;
}

export class PoolRuntime {
  members: MemberRuntime[] = [];
  private balancer: Balancer;
  private algorithm: string;
  persistence: PersistenceConfig;
  /** Member timeouts of the pool's own (over the listener's). */
  timeouts: PoolTimeouts | undefined;
  private readonly sticky = new Map<string, string>();
  private checker: HealthChecker | null = null;
  private healthKey = '';
  private spec: CheckSpec | null = null;

  constructor(
    readonly id: string,
    config: PoolConfig,
    private readonly onHealth: (memberId: string, status: 'UP' | 'DOWN') => void,
    /** Whether this process checks its members itself (a primary's other workers are told). */
    private checks = true,
  ) {
    this.algorithm = config.algorithm;
    this.balancer = BALANCERS[config.algorithm]();
    this.persistence = config.persistence;
    this.apply(config);
  }

  apply(config: PoolConfig): void {
    if (config.algorithm !== this.algorithm) {
      this.algorithm = config.algorithm;
      this.balancer = BALANCERS[config.algorithm]();
    }
    if (JSON.stringify(config.persistence) !== JSON.stringify(this.persistence)) this.sticky.clear();
    this.persistence = config.persistence;
    this.timeouts = config.timeouts;
    const byId = new Map(this.members.map((m) => [m.id, m]));
    const next: MemberRuntime[] = [];
    for (const c of config.members) {
      let m = byId.get(c.id);
      if (m && (m.host !== c.host || m.port !== c.port)) {
        m.draining = true;
        m.cut(`member moved to ${c.host}:${c.port}`);
        m = undefined;
      }
      if (!m) m = new MemberRuntime(c);
      m.weight = c.weight;
      m.enabled = c.enabled;
      if (c.gone) m.cut(c.gone);
      byId.delete(c.id);
      next.push(m);
    }
    for (const gone of byId.values()) {
      gone.draining = true;
      gone.cut('member deleted');
    }
    this.members = next;
    this.setHealth(config.health);
  }

  private setHealth(spec: CheckSpec | null): void {
    const key = JSON.stringify(spec);
    this.spec = spec;
    if (key !== this.healthKey) {
      this.checker?.stop();
      this.checker = null;
      this.healthKey = key;
      for (const m of this.members) m.health = 'UP';
      if (spec && this.checks) this.startChecker(spec);
    }
    if (this.checker) {
      this.checker.setTargets(this.members.map((m) => ({ id: m.id, host: m.host, port: m.port })));
      for (const m of this.members) m.health = this.checker.status(m.id);
    }
  }

  private startChecker(spec: CheckSpec): void {
    this.checker = new HealthChecker(spec, realProbe, (id, status) => {
      const m = this.members.find((x) => x.id === id);
      if (m) m.health = status;
      if (m && status === 'DOWN') m.cut('member failing its health check');
      this.onHealth(id, status);
    });
    this.checker.setTargets(this.members.map((m) => ({ id: m.id, host: m.host, port: m.port })));
  }

  /** Starts or stops checking the members here; when not, their health comes from setMemberHealth. */
  setChecking(on: boolean): void {
    this.checks = on;
    if (!on) {
      this.checker?.stop();
      this.checker = null;
    } else if (!this.checker && this.spec) {
      this.startChecker(this.spec);
    }
  }

  /** A member's health as another process's checks found it. */
  setMemberHealth(memberId: string, status: 'UP' | 'DOWN'): boolean {
    const m = this.members.find((x) => x.id === memberId);
    if (m) m.health = status;
    if (m && status === 'DOWN') m.cut('member failing its health check');
    return m !== undefined;
  }

  /**
   * A member for a new request or connection, honouring persistence; null when none is
   * usable. The Choice returned is the same object each time (no allocation per request):
   * read it before the next call.
   */
  choose(clientIp: string, cookieHeader: string | undefined, tried: MemberRuntime[] | null): Choice | null {
    const p = this.persistence;
    let pinned: string | undefined;
    if (p?.type === 'SOURCE_IP') pinned = this.sticky.get(clientIp);
    else if (p?.type === 'HTTP_COOKIE') pinned = cookieValue(cookieHeader, LB_COOKIE);
    else if (p?.type === 'APP_COOKIE') {
      const v = cookieValue(cookieHeader, p.cookieName);
      if (v) pinned = this.sticky.get(v);
    }
    if (pinned) {
      const m = this.members.find((x) => x.id === pinned);
      if (m && m.usable && !tried?.includes(m)) return this.answer(m, null);
      // HAProxy's option redispatch: the pinned member is down, admin down, draining or failed
      // this request; the balancer picks another (and persistence moves there), counted.
      if (m?.stats) m.stats.redispatched++;
    }
    if (tried) for (const m of tried) m.excluded = true;
    const picked = this.balancer.pick(this.members, clientIp) as MemberRuntime | null;
    if (tried) for (const m of tried) m.excluded = false;
    if (!picked) return null;
    if (p?.type === 'SOURCE_IP') this.remember(clientIp, picked.id);
    return this.answer(picked, p?.type === 'HTTP_COOKIE' ? `${LB_COOKIE}=${picked.id}; path=/; HttpOnly` : null);
  }

  private readonly choice: Choice = { member: null as unknown as MemberRuntime, setCookie: null };

  private answer(member: MemberRuntime, setCookie: string | null): Choice {
    this.choice.member = member;
    this.choice.setCookie = setCookie;
    return this.choice;
  }

  /** APP_COOKIE: a response that sets the application's cookie pins its value to the member. */
  learn(setCookieValue: string, member: MemberRuntime): void {
    const p = this.persistence;
    if (p?.type !== 'APP_COOKIE' || !setCookieValue.startsWith(`${p.cookieName}=`)) return;
    const end = setCookieValue.indexOf(';');
    this.remember(setCookieValue.slice(p.cookieName.length + 1, end < 0 ? undefined : end), member.id);
  }

  private remember(key: string, memberId: string): void {
    if (this.sticky.size >= MAX_STICKY) this.sticky.delete(this.sticky.keys().next().value!);
    this.sticky.set(key, memberId);
  }

  close(): void {
    this.checker?.stop();
    for (const m of this.members) {
      m.draining = true;
      m.closeIdle();
    }
  }
}

/** The value of cookie `name` in a Cookie header (scanned in place: it runs on every request). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const n = header.length;
  let i = 0;
  while (i < n) {
    while (i < n && (header.charCodeAt(i) === 32 || header.charCodeAt(i) === 9)) i++;
    let semi = header.indexOf(';', i);
    if (semi < 0) semi = n;
    if (header.startsWith(name, i)) {
      let j = i + name.length;
      while (j < semi && (header.charCodeAt(j) === 32 || header.charCodeAt(j) === 9)) j++;
      if (header.charCodeAt(j) === 61) return header.slice(j + 1, semi).trim();
    }
    i = semi + 1;
  }
  return undefined;
}
