// Shared Jest preset for every package: TypeScript through @swc/jest (type checking is the
// `typecheck` task's job), CommonJS runtime, Node environment, and a real Redis resolved once per
// run by the global setup (REDIS_URL, 127.0.0.1:6379, a redis-server binary, testcontainers, or a
// loud failure saying how to get one).
const path = require('node:path')

const swcJest = require.resolve('@swc/jest')
// ESM-only packages that CommonJS code we test loads: compiled by swc too. `cookie` 2 comes with
// Fastify's inject (light-my-request). The pattern allows for pnpm's `.pnpm/<name>@<version>` store.
const ESM_ONLY = ['cookie']
const esmOnly = `(\\.pnpm/(${ESM_ONLY.join('|')})@[^/]+/node_modules/)?(${ESM_ONLY.join('|')})/`

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testMatch: ['**/__tests__/**/*.test.ts'],
  transform: {
    [`/node_modules/${esmOnly}.+\\.js$`]: [swcJest, { module: { type: 'commonjs' } }],
    '^.+\\.ts$': [
      swcJest,
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!${esmOnly})`],
  moduleFileExtensions: ['ts', 'js', 'cjs', 'json'],
  globalSetup: path.join(__dirname, 'src/jest/global-setup.ts'),
  globalTeardown: path.join(__dirname, 'src/jest/global-teardown.ts'),
  testTimeout: 30_000,
  slowTestThreshold: 15,
}
