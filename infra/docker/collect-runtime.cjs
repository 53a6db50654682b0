#!/usr/bin/env node
// Used by infra/Dockerfile's build stage, after the production-only install: copies what the runtime image
// needs to run the given apps into <out>, keeping the repository layout so `node apps/<app>/dist/main.js`
// works from there:
//   - the root package.json and node_modules (pnpm's virtual store of production dependencies);
//   - each app and every workspace package it depends on at runtime ("dependencies" with a workspace:
//     version, transitively; the same set as pnpm's --filter-prod "{./apps/<app>}..."): its package.json,
//     node_modules (symlinks into the root store and to sibling packages, copied as symlinks) and its
//     build output and runtime files, that is everything except sources, tests and build configs.
// Usage: node infra/docker/collect-runtime.cjs <out> <app> [app ...]
'use strict'
const { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } = require('node:fs')
const { join, resolve } = require('node:path')

const root = resolve(__dirname, '..', '..')
const BUILD_ONLY = new Set([
  'src',
  'coverage',
  '.turbo',
  'tsconfig.json',
  'tsconfig.build.json',
  'jest.config.cjs',
  'eslint.config.mjs',
  'README.md',
])

function copy(from, to) {
  cpSync(from, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true })
}

/** Every workspace package under apps/ and packages/: name → folder relative to the root. */
function workspacePackages() {
  const packages = new Map()
  for (const group of ['apps', 'packages']) {
    const dir = join(root, group)
    if (!existsSync(dir)) continue
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const manifest = join(dir, entry.name, 'package.json')
      if (!entry.isDirectory() || !existsSync(manifest)) continue
      packages.set(JSON.parse(readFileSync(manifest, 'utf8')).name, `${group}/${entry.name}`)
    }
  }
  return packages
}

/** The apps' folders and, transitively, the folders of the workspace packages they depend on at runtime. */
function runtimeClosure(apps) {
  const packages = workspacePackages()
  const folders = new Set()
  const queue = apps.map(app => {
    const folder = `apps/${app}`
    if (!existsSync(join(root, folder, 'package.json'))) throw new Error(`no app at ${folder}`)
    return folder
  })
  while (queue.length > 0) {
    const folder = queue.shift()
    if (folders.has(folder)) continue
    folders.add(folder)
    const manifest = JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8'))
    for (const [name, version] of Object.entries(manifest.dependencies ?? {})) {
      if (!String(version).startsWith('workspace:')) continue
      const dependency = packages.get(name)
      if (dependency === undefined) throw new Error(`${folder} depends on ${name}, not in the workspace`)
      queue.push(dependency)
    }
  }
  return [...folders].sort()
}

function collect(out, apps) {
  mkdirSync(out, { recursive: true })
  copy(join(root, 'package.json'), join(out, 'package.json'))
  copy(join(root, 'node_modules'), join(out, 'node_modules'))
  const folders = runtimeClosure(apps)
  for (const folder of folders) {
    for (const item of readdirSync(join(root, folder))) {
      if (BUILD_ONLY.has(item) || item.endsWith('.tsbuildinfo')) continue
      copy(join(root, folder, item), join(out, folder, item))
    }
  }
  return folders
}

if (require.main === module) {
  const [out, ...apps] = process.argv.slice(2)
  if (!out || apps.length === 0) {
    process.stderr.write('usage: node infra/docker/collect-runtime.cjs <out> <app> [app ...]\n')
    process.exit(2)
  }
  const folders = collect(resolve(out), apps)
  process.stdout.write(`collected into ${out}: ${folders.join(', ')}\n`)
}

module.exports = { collect, runtimeClosure }
