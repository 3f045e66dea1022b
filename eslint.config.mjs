import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** Plugins see the plugin API only: never runtime internals, never another package's sources. */
const pluginBoundary = {
  'no-restricted-imports': ['error', {
    patterns: [
      { group: ['@pcapflow/core/runtime', '@pcapflow/core/runtime/*'], message: 'plugins use the plugin API (@pcapflow/core) and the testkit only, never runtime internals' },
      { group: ['@pcapflow/*/src/*', '**/core/src/**', '@pcapflow/*/dist/*'], message: 'import packages by name, through their public index' },
    ],
  }],
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', 'examples/plugins/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'warn',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': ['error', { allow: ['/package\\.json$'] }],
      '@nx/enforce-module-boundaries': ['error', {
        allow: [],
        depConstraints: [
          { sourceTag: 'scope:runtime', onlyDependOnLibsWithTags: ['scope:runtime'] },
          { sourceTag: 'type:plugin', onlyDependOnLibsWithTags: ['scope:runtime', 'scope:test'] },
          { sourceTag: 'scope:app', onlyDependOnLibsWithTags: ['scope:runtime', 'type:plugin'] },
        ],
      }],
    },
  },
  { files: ['packages/probe/**/*.ts', 'packages/aggregate/**/*.ts', 'packages/sinks/**/*.ts'], rules: pluginBoundary },
  // Tests import their own package through its public entry points (what users see) and the
  // private test servers; the plugin boundary (no runtime internals) still applies to them.
  { files: ['**/test/**/*.ts', '**/bench/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off', '@nx/enforce-module-boundaries': 'off' } },
);
