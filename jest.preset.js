// Shared jest settings: TypeScript through swc (fast, no type-check; `typecheck` does that),
// workspace packages mapped to their sources so tests never need a build.
const path = require('node:path');
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }] },
  moduleNameMapper: {
    '^@pcapflow/core$': path.join(__dirname, 'packages/core/src/index.ts'),
    '^@pcapflow/core/testkit$': path.join(__dirname, 'packages/core/src/testkit/index.ts'),
    '^@pcapflow/core/runtime$': path.join(__dirname, 'packages/core/src/runtime/index.ts'),
    '^@pcapflow/probe$': path.join(__dirname, 'packages/probe/src/index.ts'),
    '^@pcapflow/probe/decode$': path.join(__dirname, 'packages/probe/src/decode-command.ts'),
    '^@pcapflow/aggregate$': path.join(__dirname, 'packages/aggregate/src/index.ts'),
    '^@pcapflow/aggregate/cli-commands$': path.join(__dirname, 'packages/aggregate/src/cli-commands.ts'),
    '^@pcapflow/sink-postgres$': path.join(__dirname, 'packages/sinks/postgres/src/index.ts'),
    '^@pcapflow/test-servers$': path.join(__dirname, 'tools/test-servers/src/index.ts'),
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 60000,
  // Servers and clients are stopped in afterAll; a straggling socket must not hang CI.
  forceExit: true,
};
