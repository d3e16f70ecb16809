/**
 * Server workloads: every running server with an app has its process, placed by the data
 * plane (inside the server's namespace on linux, on the server's loopback address on
 * virtual), supervised, and stopped when the server stops or goes away.
 */
import { mkdirSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from '../store/db.js';
import type { Change, ChangeFeed } from '../resources/context.js';
import type { Server } from '../resources/model.js';
import type { Dataplane } from '../dataplane/driver.js';
import type { Supervisor } from './supervisor.js';
import { SerialLoop } from '../reconcile/serial-loop.js';

export const TSX = import.meta.resolve('tsx');
const WEB_APP = fileURLToPath(new URL('../apps/web.ts', import.meta.url));

/** `web` or `web:PORT` runs the built-in web app; anything else is a shell command. */
export function parseApp(app: string): { kind: 'web'; port: number } | { kind: 'command'; command: string } {
  const m = /^web(?::(\d{1,5}))?$/.exec(app);
  if (m) return { kind: 'web', port: m[1] ? Number(m[1]) : 8080 };
  return { kind: 'command', command: app };
}

export class Workloads {
  private readonly loop = new SerialLoop(() => this.pass());
  /** Only a server's change can change its workload. */
  private readonly onChange = (c: Change) => {
    if (c.kind === 'server') this.loop.schedule();
  };

  constructor(
    private readonly store: Store,
    private readonly feed: ChangeFeed,
    private readonly dataplane: Dataplane,
    private readonly supervisor: Supervisor,
    private readonly dataDir: string,
  ) {}

  dirOf(serverId: string): string {
    return join(this.dataDir, 'workloads', serverId);
  }

  async start(): Promise<void> {
    this.feed.on('change', this.onChange);
    await this.sync();
  }

  stop(): void {
    this.feed.off('change', this.onChange);
    this.loop.stop();
    for (const key of this.supervisor.keys()) if (key.startsWith('ecs-')) this.supervisor.stop(key);
  }

  sync(): Promise<void> {
    return this.loop.run();
  }

  private async pass(): Promise<void> {
    await this.dataplane.settled();
    const want = new Set<string>();
    for (const server of this.store.list<Server>('server')) {
      if (!server.app || server.status !== 'running') continue;
      const key = server.id;
      want.add(key);
      const dir = this.dirOf(server.id);
      mkdirSync(dir, { recursive: true });
      const place = this.dataplane.placement(server);
      const app = parseApp(server.app);
      const argv =
        app.kind === 'web'
          ? [process.execPath, '--import', TSX, WEB_APP, '--name', server.name, '--ip', server.privateIp, '--port', String(app.port), '--bind', place.bind, '--log', join(dir, 'requests.log')]
          : ['sh', '-c', app.command];
      this.supervisor.ensure(key, { argv: place.wrap(argv), outputFile: join(dir, 'output.log') });
    }
    for (const key of this.supervisor.keys()) if (key.startsWith('ecs-') && !want.has(key)) this.supervisor.stop(key);
  }

  /** The request log of a server's web app (JSON lines), and the tail of its output. */
  logs(serverId: string): { requests: Record<string, unknown>[]; output: string } {
    const dir = this.dirOf(serverId);
    const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
    const requests = read('requests.log')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { requests, output: read('output.log').slice(-16_384) };
  }
}
