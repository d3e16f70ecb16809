/**
 * How to start one of our own programs (a load balancer's worker, the built-in web app) as a
 * process: the compiled JavaScript beside this file when the daemon runs from dist/, or the
 * TypeScript source through tsx when it runs from src/ (development and the tests).
 */
import { fileURLToPath } from 'node:url';

const FROM_SOURCES = import.meta.url.endsWith('.ts');

/** The argv that runs `path` (relative to src/ or dist/, without extension) with node. */
export function nodeEntry(path: string): string[] {
  const file = fileURLToPath(new URL(`../${path}.${FROM_SOURCES ? 'ts' : 'js'}`, import.meta.url));
  return FROM_SOURCES ? [process.execPath, '--import', import.meta.resolve('tsx'), file] : [process.execPath, file];
}
