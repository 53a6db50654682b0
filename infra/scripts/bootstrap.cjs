#!/usr/bin/env node
// Makes a fresh clone runnable with nothing but Node.js 20+: installs the workspace with the pnpm
// version pinned in package.json ("packageManager"), fetched through npx when pnpm is not on PATH,
// then builds every package. Fast when there is nothing to do (pnpm and turbo both skip unchanged work).
'use strict'
const { spawnSync } = require('node:child_process')
const { existsSync, readFileSync } = require('node:fs')
const { join } = require('node:path')

const root = join(__dirname, '..', '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const pinned = /^pnpm@(\d+\.\d+\.\d+)/.exec(pkg.packageManager ?? '')?.[1]
if (!pinned) fail('package.json has no "packageManager": "pnpm@x.y.z"')

const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 20 || (major === 20 && minor < 19))
  fail(`Node.js >= 20.19 is required (this is ${process.version})`)

// turbo looks pnpm up on PATH: the workspace's own pnpm (a root devDependency) comes first.
const env = {
  TURBO_TELEMETRY_DISABLED: '1',
  ...process.env,
  PATH: `${join(root, 'node_modules', '.bin')}${require('node:path').delimiter}${process.env.PATH ?? ''}`,
}

function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env })
  if (result.error) fail(`${cmd} ${args.join(' ')}: ${result.error.message}`)
  if (result.status !== 0) process.exit(result.status ?? 1)
}

function fail(message) {
  process.stderr.write(`bootstrap: ${message}\n`)
  process.exit(1)
}

const skipInstall = process.argv.includes('--no-install')
if (!skipInstall) {
  const frozen = process.env.CI ? ['--frozen-lockfile'] : ['--prefer-offline']
  const local = join(root, 'node_modules', '.bin', 'pnpm')
  if (existsSync(local)) run(local, ['install', ...frozen])
  else run('npx', ['--yes', `pnpm@${pinned}`, 'install', ...frozen])
}
if (!process.argv.includes('--no-build'))
  run(join(root, 'node_modules', '.bin', 'turbo'), ['run', 'build', '--output-logs=errors-only'])
