import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Import boundaries: components never import each other; they share api/, client/ and util/.
// One deliberate exception, for tests only: src/testing/ (test support: the apiserver's real registry on SQLite in
// memory, with a client and informers on it) may import any component, and only tests and test helpers — files in
// TEST_SUPPORT — may import src/testing/. Production code never can, so the boundaries hold for it.
const components = [
  'apiserver',
  'controllers',
  'scheduler',
  'kubelet',
  'proxy',
  'ingress',
  'cloud-lb',
  'cli',
];
const TEST_SUPPORT = ['src/**/*.test.ts', 'src/**/test-fixtures.ts', 'src/testing/**'];
const testingOnlyInTests = {
  group: ['**/testing/*', '../testing/*', './testing/*'],
  message: 'only tests and test helpers (*.test.ts, test-fixtures.ts) may import src/testing/',
};
/** no-restricted-imports with `patterns`, for `files`: one block for production code (which may not import
 * src/testing/ either), one for the tests among them */
const restrict = (files, patterns) => [
  {
    files,
    ignores: TEST_SUPPORT,
    rules: { 'no-restricted-imports': ['error', { patterns: [...patterns, testingOnlyInTests] }] },
  },
  ...(patterns.length
    ? [
        {
          files: files.flatMap((f) => [
            f.replace(/\*\.ts$/, '*.test.ts'),
            f.replace(/\*\.ts$/, 'test-fixtures.ts'),
          ]),
          rules: { 'no-restricted-imports': ['error', { patterns }] },
        },
      ]
    : []),
];
const boundary = (self) =>
  restrict(
    [`src/${self}/**/*.ts`],
    components
      .filter((c) => c !== self && !(self === 'cli'))
      .map((c) => ({
        group: [`**/${c}/**`, `../${c}/*`],
        message: `${self} may not import ${c}: share code through api/, client/ or util/.`,
      })),
  );

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'scripts/**',
      '**/*.mjs',
      'src/api/schema/generated/**',
      'src/api/protobuf/generated/**',
      'images/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/only-throw-error': 'error',
      'no-console': 'error',
    },
  },
  {
    files: ['src/cli/**/*.ts', 'src/bench/**/*.ts', 'test/**/*.ts', 'scripts/**', 'examples/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  ...restrict(['src/**/*.ts'], []),
  ...components.filter((c) => c !== 'cli').flatMap(boundary),
  ...restrict(
    ['src/api/**/*.ts', 'src/client/**/*.ts', 'src/util/**/*.ts', 'src/netns/**/*.ts'],
    components.map((c) => ({ group: [`**/${c}/**`], message: 'shared code may not import a component' })),
  ),
  // the dashboard page (web/dashboard/) is plain browser JavaScript outside the TypeScript project
  {
    files: ['web/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'document',
          'location',
          'history',
          'sessionStorage',
          'fetch',
          'requestAnimationFrame',
          'setTimeout',
          'clearTimeout',
          'TextDecoderStream',
          'AbortController',
          'Element',
          'URLSearchParams',
        ].map((g) => [g, 'readonly']),
      ),
    },
  },
);
