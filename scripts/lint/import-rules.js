/**
 * The import rules of STYLE.md and docs/architecture.md as ESLint rules, each named for its
 * reason. A rule looks at every import, export-from and import() of a file under src/ and
 * refuses the ones its reason forbids, saying why.
 */
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The layers, lowest first: a layer imports only from layers below it (and from itself). */
export const LAYERS = [
  ['core', 'version.ts'],
  ['net', 'lb', 'store', 'reconcile', 'client', 'apps', 'console'],
  ['resources'],
  ['dataplane'],
  ['workloads'],
  ['aws'],
  ['api'],
  ['daemon.ts'],
  ['cli'],
];
const LEVEL = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i])));

/** The top-level room of a path under src/ ('net', 'daemon.ts', ...), or null outside src/. */
function roomOf(path) {
  const parts = path.split(sep);
  return parts[0] === 'src' && parts.length > 1 ? parts[1].replace(/\.js$/, '.ts') : null;
}

/**
 * Makes a rule from its description and a check: (file, specifier, target) => a reason to
 * refuse, or null. Tests are exempt (they may build their fixtures through higher layers)
 * unless `tests` is set.
 */
function importRule(description, check, tests = false) {
  return {
    meta: { type: 'problem', docs: { description }, schema: [], messages: { refused: '{{file}} may not import {{what}}: {{why}}' } },
    create(context) {
      const file = relative(ROOT, context.filename);
      if (!file.startsWith(`src${sep}`) || (!tests && file.endsWith('.test.ts'))) return {};
      const visit = (node) => {
        const source = node.source;
        if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return;
        const spec = source.value;
        const target = spec.startsWith('.') ? relative(ROOT, resolve(dirname(context.filename), spec)) : null;
        const why = check(file, spec, target);
        if (why) context.report({ node: source, messageId: 'refused', data: { file, what: target ?? spec, why } });
      };
      return { ImportDeclaration: visit, ExportNamedDeclaration: visit, ExportAllDeclaration: visit, ImportExpression: visit };
    },
  };
}

const IO_MODULES = new Set(['fs', 'net', 'child_process', 'fs/promises'].flatMap((m) => [m, `node:${m}`]));
const isPure = (file) => /^src\/(net|core|lb\/balancers)\//.test(file.split(sep).join('/')) || file.endsWith(`${sep}plan.ts`);

export const rules = {
  layers: importRule(
    'A layer imports only the layers below it (docs/architecture.md), so each can be understood, tested and replaced without those above it',
    (file, _spec, target) => {
      if (!target) return null;
      const from = roomOf(file);
      const to = roomOf(target);
      if (!from || !to || from === to) return null;
      const a = LEVEL.get(from);
      const b = LEVEL.get(to);
      if (a === undefined || b === undefined) return `src/${a === undefined ? from : to} is in no layer of scripts/lint/import-rules.js`;
      return b < a ? null : `src/${from} (layer ${a}) may import only layers below it; src/${to} is layer ${b}`;
    },
  ),
  'pure-no-io': importRule(
    'The analyzer, the core, the balancers and every plan.ts are pure functions over data: no file system, sockets or processes (pass a clock, a random source or a command runner in)',
    (file, spec) => (isPure(file) && IO_MODULES.has(spec) ? `${spec} is I/O, and this file is pure` : null),
  ),
  'lb-self-contained': importRule(
    'The load balancer engine takes a plain config object and knows nothing of VPCs: lb/ imports only lb/ and core/',
    (file, _spec, target) => {
      if (roomOf(file) !== 'lb' || !target) return null;
      const to = roomOf(target);
      return to === 'lb' || to === 'core' ? null : `src/lb may import only src/lb and src/core, not src/${to}`;
    },
  ),
  'core-imports-nothing-of-ours': importRule('The domain core stands alone: core/ imports nothing else of ours', (file, _spec, target) =>
    roomOf(file) === 'core' && target && roomOf(target) !== 'core' ? 'core/ imports nothing else of ours' : null,
  ),
  'no-test-code-in-sources': importRule('What ships never depends on test code', (file, _spec, target) =>
    target && (target.startsWith(`test${sep}`) || target.endsWith('.test.js')) ? 'test code is not for sources' : null,
  ),
};

export default { meta: { name: 'nimbus' }, rules };
