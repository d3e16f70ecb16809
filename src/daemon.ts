/**
 * The daemon: store, control plane API, data plane. startDaemon() is what `nimbus serve`
 * and the integration tests both run.
 */
import { join } from 'node:path';
import { createServer } from 'node:net';
import { NimbusError } from './core/errors.js';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { authenticate, ensureAdminToken, sealLegacySecrets } from './resources/token/service.js';
import { loadSecretKey } from './resources/token/sealed.js';
import { writeCredential } from './client/credentials.js';
import { claimWorkloadRange } from './workloads/loopback-range.js';
import { ConsoleSessions } from './api/console.js';
import { homedir } from 'node:os';
import { VERSION } from './version.js';
import type { FastifyInstance } from 'fastify';
import { Store } from './store/db.js';
import { ChangeFeed } from './resources/context.js';
import { ensureDefaultProject } from './resources/project/service.js';
import { buildApp } from './api/app.js';
import { chooseDataplane, type DataplaneChoice } from './dataplane/choose.js';
import { prepareRuntime } from './workloads/runtime.js';
import { workerBase } from './workloads/lb-dirs.js';
import type { Dataplane } from './dataplane/driver.js';
import { Supervisor } from './workloads/supervisor.js';
import { Workloads } from './workloads/workloads.js';
import { LoadBalancers } from './workloads/load-balancers.js';
import { haproxyPath } from './workloads/haproxy.js';
import { chooseL7Engine, type L7EngineName } from './resources/load-balancer/engine-choice.js';
import { FlowLogs } from './workloads/flow-logs.js';
import { Resolvers } from './workloads/resolvers.js';

export interface DaemonOptions {
  port?: number;
  host?: string;
  dataDir?: string;
  dataplane?: DataplaneChoice;
  /** Prefix of kernel object names (linux data plane); one per installation. */
  prefix?: string;
  /** ovn plane: simulated chassis to start when there is none yet. */
  chassis?: number;
  /** ovn plane: other hosts may join as chassis (`nimbus serve --join-hosts`). */
  joinHosts?: boolean;
  /** Host names requests may name besides the loopback ones (--allow-host). */
  allowHosts?: string[];
  /** TCP listeners on the linux plane: nftables rules where the listener allows (default), or always the user-space engine. */
  tcpEngine?: 'kernel' | 'user-space';
  /** The layer-7 engine: HAProxy where it is installed (auto), HAProxy (refused when it is not), or Nimbus's own. */
  l7Engine?: 'auto' | L7EngineName;
  logger?: boolean;
}

export interface Daemon {
  url: string;
  app: FastifyInstance;
  store: Store;
  dataplane: Dataplane;
  workloads: Workloads;
  /** The VPCs' DNS resolvers (linux plane). */
  resolvers: Resolvers;
  loadBalancers: LoadBalancers;
  /** Resolves once the data plane, workloads and load balancers have made their first passes. */
  ready: Promise<void>;
  /** The admin token (also in <data>/admin-token and the user's credentials). */
  adminToken: string;
  /** The web console's address with a fresh one-time login token (an admin session). */
  consoleUrl(): string;
  close(): Promise<void>;
}

export { VERSION };

/** The admin token's file in the data directory (mode 0600). */
export const ADMIN_TOKEN_FILE = 'admin-token';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function readSecret(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

export function defaultDataDir(): string {
  return process.env.NIMBUS_DATA ?? join(homedir(), '.nimbus');
}

/** Refuses a port that is taken before anything is created (no data directory for a daemon that cannot start). */
async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? `port ${port} on ${host} is already in use (another nimbus serve?); choose another with --port, and point the CLI at it with NIMBUS_URL`
          : `cannot listen on ${host}:${port}: ${err.message}; choose another address with --host or --port`;
      reject(new NimbusError('InvalidParameterValue', why));
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/**
 * Starts the daemon and resolves as soon as its API answers. The data plane, the workloads and
 * the load balancers converge in the background (`ready` resolves when their first passes are
 * done; `nimbus status` says how far they are): a restart with hundreds of servers does not
 * keep the API down.
 */
/** How long after the API listens the reconcilers' first passes begin. */
const FIRST_PASS_DELAY_MS = 150;

export async function startDaemon(opts: DaemonOptions = {}): Promise<Daemon> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 7700;
  await checkPortFree(host, port);
  const dataDir = opts.dataDir ?? defaultDataDir();
  // Tenants' processes run as identities of their own, from code they can read; or the daemon does not start.
  prepareRuntime();
  // The data directory holds every project's secrets and logs: the daemon's alone, also when an older installation made it looser.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const store = new Store(join(dataDir, 'nimbus.db'));
  // AWS secret keys are sealed with a key kept apart from the database.
  loadSecretKey(join(dataDir, 'secret.key'));
  if (sealLegacySecrets(store) > 0) store.checkpoint();
  const feed = new ChangeFeed();
  const root = { store, feed, projectId: ensureDefaultProject({ store, feed, projectId: '', admin: true }).id, admin: true };
  const adminToken = ensureAdminToken(root, readSecret(join(dataDir, ADMIN_TOKEN_FILE)));
  writeFileSync(join(dataDir, ADMIN_TOKEN_FILE), adminToken + '\n', { mode: 0o600 });
  chmodSync(join(dataDir, ADMIN_TOKEN_FILE), 0o600);
  const workloadBase = claimWorkloadRange(dataDir);
  const dataplane = await chooseDataplane(opts.dataplane ?? 'auto', {
    dataDir,
    prefix: opts.prefix,
    workloadBase,
    chassis: opts.chassis,
    joinHosts: opts.joinHosts,
  });
  const supervisor = new Supervisor(join(dataDir, 'run'));
  const workloads = new Workloads(store, feed, dataplane, supervisor, dataDir);
  const l7 = chooseL7Engine(opts.l7Engine ?? 'auto', haproxyPath());
  const loadBalancers = new LoadBalancers(store, feed, dataplane, supervisor, dataDir, workloads, opts.tcpEngine ?? 'kernel', l7);
  const flowLogs = new FlowLogs(store, feed, dataplane, dataDir);
  const resolvers = new Resolvers(store, feed, dataplane, supervisor, dataDir);
  const allowedHosts = new Set((opts.allowHosts ?? []).map((h) => h.toLowerCase()));
  if (!LOOPBACK.has(host)) allowedHosts.add(host.toLowerCase());
  const sessions = new ConsoleSessions();
  const app = await buildApp({
    store,
    feed,
    dataplane,
    workloads,
    loadBalancers,
    resolvers,
    flowLogs,
    version: VERSION,
    logger: opts.logger,
    allowedHosts,
    workloadBase,
    sessions,
  });
  const address = await app.listen({ port, host });
  // The API answers first. The first passes start a moment later (a large installation's first
  // full pass spawns a command per namespace, which would keep the first requests waiting), each
  // subscribing to the change feed before it reads the store, so no change is missed; `nimbus
  // status` says how far they have got.
  const ready = new Promise<void>((r) => setTimeout(r, FIRST_PASS_DELAY_MS)).then(() =>
    Promise.all([dataplane.start(store, feed), workloads.start(), loadBalancers.start(), resolvers.start()]).then(() => flowLogs.start()),
  );
  // Once every first pass has asked for what it wants, the processes a killed daemon left that nobody adopted are ended.
  void ready.then(() => supervisor.reapUnclaimed()).catch(() => undefined);
  // The CLI on this machine finds the token by the daemon's URL, as kubectl finds its context.
  writeCredential(address, adminToken, dataDir);
  return {
    url: address,
    app,
    store,
    dataplane,
    workloads,
    resolvers,
    loadBalancers,
    ready,
    adminToken,
    consoleUrl: () => `${address}/?login=${sessions.issueLogin(authenticate(store, adminToken)!)}`,
    async close() {
      await app.close();
      await ready.catch(() => undefined);
      await flowLogs.stop();
      await resolvers.stop();
      await loadBalancers.stop();
      await workloads.stop();
      supervisor.stopAll();
      await dataplane.stop();
      // The workers are gone with their daemon: so are their folders under /var/lib/nimbus.
      rmSync(workerBase(dataDir), { recursive: true, force: true });
      store.close();
    },
  };
}
