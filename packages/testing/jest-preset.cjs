// Shared Jest preset for every package: TypeScript through @swc/jest (type checking is the
// `typecheck` task's job), CommonJS runtime, Node environment, and a real Redis resolved once per
// run by the global setup (REDIS_URL, 127.0.0.1:6379, a redis-server binary, testcontainers, or a
// loud failure saying how to get one).
const path = require('node:path')

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testMatch: ['**/__tests__/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      require.resolve('@swc/jest'),
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'cjs', 'json'],
  globalSetup: path.join(__dirname, 'src/jest/global-setup.ts'),
  globalTeardown: path.join(__dirname, 'src/jest/global-teardown.ts'),
  testTimeout: 30_000,
  slowTestThreshold: 15,
}
