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
  const app = await buildApp({ store, feed, dataplane, version: VERSION, logger: opts.logger });
  const address = await app.listen({ port: opts.port ?? 7700, host: opts.host ?? '127.0.0.1' });
  return {
    url: address,
    app,
    store,
    dataplane,
    async close() {
      await app.close();
      await dataplane.stop();
      store.close();
    },
  };
}
