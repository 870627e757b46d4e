// ESLint: only the checks the type checker cannot make. Promises that are neither awaited nor
// handled (a rejection nobody sees, or a lost ordering), promises passed where a callback's
// result is ignored, and empty blocks — an empty `catch` must say in a comment why ignoring is right.
// Import layering is dependency-cruiser's (`.dependency-cruiser.cjs`), unused locals tsc's.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**', 'proto/gen/**', 'coverage/**', '.tmp/**', '.agora/**', '.scratch/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      'no-empty': 'error',
    },
  },
);
