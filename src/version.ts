/**
 * The version of Nimbus, from its package.json: one level above this file in src/ and in
 * dist/, two above it inside the CLI's bundle (dist/cli/main.js).
 */
import { existsSync, readFileSync } from 'node:fs';

function packageJson(): URL {
  for (const rel of ['../package.json', '../../package.json']) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(url)) return url;
  }
  throw new Error('package.json of nimbus not found');
}

export const VERSION: string = JSON.parse(readFileSync(packageJson(), 'utf8')).version;
