/**
 * What a server runs: `web` or `web:PORT` is the built-in web app (port 8080 by default);
 * anything else is a shell command. The one place this grammar is read.
 */
import { invalid } from '../errors.js';
import { isPort } from './kit.js';

export type AppSpec = { kind: 'web'; port: number } | { kind: 'command'; command: string };

export function parseApp(app: unknown): AppSpec {
  if (typeof app !== 'string' || app.trim() === '') throw invalid(`app: '${String(app)}' must be web, web:PORT or a command`);
  if (!/^web(:|$)/.test(app)) return { kind: 'command', command: app };
  // A port is written as a number is (no leading zero: `web:08080` is not port 8080 to every reader).
  const m = /^web(?::([1-9]\d{0,4}))?$/.exec(app);
  const port = m ? (m[1] ? Number(m[1]) : 8080) : NaN;
  if (!isPort(port)) throw invalid(`app: '${app}' must be web or web:PORT with a port from 1 to 65535`);
  return { kind: 'web', port };
}
