// ESLint: only the checks the type checker cannot make. Promises that are neither awaited nor
// handled (a rejection nobody sees, or a lost ordering), promises passed where a callback's
// result is ignored, and empty blocks — an empty `catch` must say in a comment why ignoring is right.
// Import layering is dependency-cruiser's (`.dependency-cruiser.cjs`), unused locals tsc's.
// In tests, a bare sleep is refused: a test waits for a condition or moves a FakeClock, and the
// deliberate real-time waits are named (`holdsFor`, `pace` in test/support/waits.ts).
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['test-results/**', 'dist/**', 'node_modules/**', 'proto/gen/**', 'coverage/**', '.tmp/**', '.agora/**', '.scratch/**'] },
  {
    files: ['**/*.ts', 'web/**/*.tsx'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: ['./tsconfig.json', './web/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      'no-empty': 'error',
    },
  },
  {
    files: ['test/unit/**/*.ts', 'test/integration/**/*.ts', 'test/e2e/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Promise'] CallExpression[callee.name='setTimeout'][arguments.0.type='Identifier']",
          message: 'A bare sleep: wait for the condition (eventually, until, expect.poll), move a FakeClock, or name the wait with holdsFor/pace (test/support/waits.ts).',
        },
      ],
      'no-restricted-imports': [
        'error',
        ...['timers/promises', 'node:timers/promises'].map((name) => ({ name, importNames: ['setTimeout'], message: 'A bare sleep: see test/support/waits.ts.' })),
      ],
    },
  },
);
