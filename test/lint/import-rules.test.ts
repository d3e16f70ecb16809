/**
 * The import rules hold: each refuses what its reason forbids and lets the rest pass.
 */
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuleTester } from 'eslint';
// @ts-expect-error: a plain JavaScript module without types
import { rules } from '../../scripts/lint/import-rules.js';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const at = (file: string) => join(ROOT, file);
const tester = new RuleTester({ languageOptions: { ecmaVersion: 2022, sourceType: 'module' } });
const refused = [{ messageId: 'refused' }];

tester.run('layers', rules.layers, {
  valid: [
    { code: "import { x } from '../core/cidr.js';", filename: at('src/net/trace.ts') },
    { code: "import { x } from '../resources/snapshot.js';", filename: at('src/dataplane/choose.ts') },
    { code: "import { x } from './format.js';", filename: at('src/net/trace.ts') },
    { code: "import { x } from '../resources/context.js';", filename: at('src/net/trace.test.ts') },
  ],
  invalid: [
    { code: "import { x } from '../resources/model.js';", filename: at('src/net/topology.ts'), errors: refused },
    { code: "import { x } from '../api/app.js';", filename: at('src/resources/vpc.ts'), errors: refused },
    { code: "export { x } from '../lb/engine.js';", filename: at('src/net/trace.ts'), errors: refused },
    { code: "const m = await import('../daemon.js');", filename: at('src/api/app.ts'), errors: refused },
  ],
});

tester.run('pure-no-io', rules['pure-no-io'], {
  valid: [
    { code: "import { spawn } from 'node:child_process';", filename: at('src/dataplane/linux/run.ts') },
    { code: "import { createHash } from 'node:crypto';", filename: at('src/net/x.ts') },
  ],
  invalid: [
    { code: "import { readFileSync } from 'node:fs';", filename: at('src/net/topology.ts'), errors: refused },
    { code: "import { connect } from 'net';", filename: at('src/lb/balancers/round-robin.ts'), errors: refused },
    { code: "import { spawn } from 'node:child_process';", filename: at('src/dataplane/linux/plan.ts'), errors: refused },
  ],
});

tester.run('lb-self-contained', rules['lb-self-contained'], {
  valid: [{ code: "import { x } from '../core/model/index.js';", filename: at('src/lb/pool.ts') }],
  invalid: [{ code: "import { x } from '../resources/snapshot.js';", filename: at('src/lb/pool.ts'), errors: refused }],
});

tester.run('core-imports-nothing-of-ours', rules['core-imports-nothing-of-ours'], {
  valid: [{ code: "import { Type } from '@sinclair/typebox';", filename: at('src/core/model/kit.ts') }],
  invalid: [{ code: "import { x } from '../../net/trace.js';", filename: at('src/core/model/kit.ts'), errors: refused }],
});

tester.run('no-test-code-in-sources', rules['no-test-code-in-sources'], {
  valid: [{ code: "import { x } from '../../test/helpers/cloud.js';", filename: at('test/helpers/x.ts') }],
  invalid: [{ code: "import { x } from '../../test/helpers/cloud.js';", filename: at('src/net/trace.ts'), errors: refused }],
});
