// The shared preset, plus one exception: Fastify's `inject` (light-my-request) requires `cookie` 2,
// which ships only as ESM. Jest runs CommonJS (Node 20), so that package is compiled by swc too.
const swcJest = require.resolve('@swc/jest', { paths: [require.resolve('@ucd/testing/jest-preset')] })
const esmOnly = '(\\.pnpm/cookie@[^/]+/node_modules/)?cookie/'

module.exports = {
  preset: '@ucd/testing',
  transform: {
    [`/node_modules/${esmOnly}.+\\.js$`]: [swcJest, { module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!${esmOnly})`],
}
