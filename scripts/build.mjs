#!/usr/bin/env node
/**
 * Builds dist/ from src/: every source file (tests excluded) transpiled to JavaScript with
 * esbuild, one file each, the tree's shape kept, so relative imports and the paths of the
 * worker and web app entry points stay right. The CLI's entry is then bundled into one file
 * (with commander): a `nimbus` call loads one module, not forty; the daemon's code stays out
 * of it and is imported by the commands that need it. Type checking is `npm run typecheck`'s
 * job; this step only strips types (well under a second). Run by `npm install` (prepare) and by
 * `npm test` before the tests, so the CLI the tests run is the sources they test.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const out = join(root, 'dist');

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    // The web console is a browser bundle of its own (below).
    if (p === join(src, 'console')) return [];
    if (statSync(p).isDirectory()) return sources(p);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [p] : [];
  });
}

const t0 = performance.now();
rmSync(out, { recursive: true, force: true });
const entryPoints = sources(src);
await build({
  entryPoints,
  outdir: out,
  outbase: src,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
// The CLI: one file. Its dynamic imports of the daemon and the data plane stay imports of the
// transpiled files beside it; YAML is loaded only for -o yaml.
const keepOutside = {
  name: 'keep-daemon-outside',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/(daemon|dataplane\/)/ }, (args) => ({ path: args.path, external: true }));
  },
};
await build({
  entryPoints: [join(src, 'cli/main.ts')],
  outfile: join(out, 'cli/main.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['yaml'],
  plugins: [keepOutside],
  // commander is CommonJS: its require() of node's modules needs a require in an ES module.
  banner: { js: "import { createRequire as __nimbusRequire } from 'node:module';\nconst require = __nimbusRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
  allowOverwrite: true,
});
// The programs that run as other identities than the daemon's (a server's web app, a load
// balancer's worker): one self-contained file each, which the daemon copies where those
// identities can read it (src/workloads/runtime.ts), wherever Nimbus itself is installed.
for (const [entry, name] of [
  ['apps/web.ts', 'web'],
  ['apps/app-host.ts', 'app-host'],
  ['apps/hand-over.ts', 'hand-over'],
  ['apps/internet.ts', 'internet'],
  ['lb/worker.ts', 'lb-worker'],
  ['lb/haproxy/agent.ts', 'lb-haproxy'],
]) {
  await build({
    entryPoints: [join(src, entry)],
    outfile: join(out, 'runtime', `${name}.js`),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
}
// The web console: React and ELK bundled for the browser into dist/console, served by the
// daemon as static files (no CDN at run time).
await build({
  entryPoints: [join(src, 'console/main.tsx')],
  outfile: join(out, 'console/app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
});
for (const f of ['index.html', 'app.css']) copyFileSync(join(src, 'console', f), join(out, 'console', f));
// AWS's service models, read by the AWS-compatible endpoint on its first request.
mkdirSync(join(out, 'aws/models'), { recursive: true });
for (const f of readdirSync(join(src, 'aws/models'))) copyFileSync(join(src, 'aws/models', f), join(out, 'aws/models', f));
if (!process.argv.includes('--quiet')) {
  process.stdout.write(`built ${entryPoints.length} files into ${relative(process.cwd(), out) || out} in ${Math.round(performance.now() - t0)} ms\n`);
}
