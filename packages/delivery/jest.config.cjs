module.exports = { preset: '@ucd/testing' }
