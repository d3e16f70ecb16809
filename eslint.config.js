// ESLint: typescript-eslint's recommended rules, and Nimbus's import rules, each named for its
// reason (scripts/lint/import-rules.js). Formatting is Prettier's (.prettierrc.json).
import tseslint from 'typescript-eslint';
import nimbus from './scripts/lint/import-rules.js';

export default tseslint.config({ ignores: ['node_modules/', 'dist/', 'bench/results/', 'test-output/', '**/*.cjs'] }, ...tseslint.configs.recommended, {
  plugins: { nimbus },
  rules: {
    'nimbus/layers': 'error',
    'nimbus/pure-no-io': 'error',
    'nimbus/lb-self-contained': 'error',
    'nimbus/core-imports-nothing-of-ours': 'error',
    'nimbus/no-test-code-in-sources': 'error',
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    '@typescript-eslint/no-non-null-assertion': 'off',
    '@typescript-eslint/no-explicit-any': 'error',
  },
});
