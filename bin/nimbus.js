#!/usr/bin/env node
// The `nimbus` command: the compiled JavaScript in dist/ (built by `npm install`, or
// `npm run build`). Without it, it says how to build rather than compiling on every start.
import { existsSync, readFileSync } from 'node:fs';
import module from 'node:module';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // The one answer that needs no command tree.
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
  process.exit(0);
}
// Node 22.1 and later keep compiled code between runs (a documented API; absent on Node 20).
module.enableCompileCache?.();
const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("nimbus: dist/ is missing; build it with 'npm run build' (npm install does it)\n");
  process.exit(1);
}
await import(main.href);
