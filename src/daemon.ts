/**
 * The daemon: store, control plane API, data plane. startDaemon() is what `nimbus serve`
 * and the integration tests both run.
 */
import { join } from 'node:path';
import { homedir } from 'node:os';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { Store } from './store/db.js';
import { ChangeFeed } from './resources/context.js';
import { ensureDefaultProject } from './resources/project/service.js';
import { buildApp } from './api/app.js';
import { chooseDataplane, type DataplaneChoice } from './dataplane/choose.js';
import type { Dataplane } from './dataplane/driver.js';
import { Supervisor } from './workloads/supervisor.js';
import { Workloads } from './workloads/workloads.js';
import { LoadBalancers } from './workloads/load-balancers.js';

export interface DaemonOptions {
  port?: number;
  host?: string;
  dataDir?: string;
  dataplane?: DataplaneChoice;
  /** Prefix of kernel object names (linux data plane); one per installation. */
  prefix?: string;
  logger?: boolean;
}

export interface Daemon {
  url: string;
  app: FastifyInstance;
  store: Store;
  dataplane: Dataplane;
  workloads: Workloads;
  loadBalancers: LoadBalancers;
  close(): Promise<void>;
}

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

export function defaultDataDir(): string {
  return process.env.NIMBUS_DATA ?? join(homedir(), '.nimbus');
}

export async function startDaemon(opts: DaemonOptions = {}): Promise<Daemon> {
  const dataDir = opts.dataDir ?? defaultDataDir();
  const store = new Store(join(dataDir, 'nimbus.db'));
  const feed = new ChangeFeed();
  ensureDefaultProject({ store, feed, projectId: '' });
  const dataplane = await chooseDataplane(opts.dataplane ?? 'auto', { dataDir, prefix: opts.prefix });
  await dataplane.start(store, feed);
  const supervisor = new Supervisor(join(dataDir, 'run'));
  supervisor.reapOrphans();
  const workloads = new Workloads(store, feed, dataplane, supervisor, dataDir);
  const loadBalancers = new LoadBalancers(store, feed, dataplane, supervisor, dataDir);
  await workloads.start();
  await loadBalancers.start();
  const app = await buildApp({ store, feed, dataplane, workloads, loadBalancers, version: VERSION, logger: opts.logger });
  const address = await app.listen({ port: opts.port ?? 7700, host: opts.host ?? '127.0.0.1' });
  return {
    url: address,
    app,
    store,
    dataplane,
    workloads,
    loadBalancers,
    async close() {
      await app.close();
      loadBalancers.stop();
      workloads.stop();
      supervisor.stopAll();
      await dataplane.stop();
      store.close();
    },
  };
}
