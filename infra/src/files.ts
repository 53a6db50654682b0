import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { parseAllDocuments } from 'yaml'

/** The repository root (this file is infra/src/files.ts, or infra/dist/files.js once built). */
export const REPO_ROOT = resolve(__dirname, '..', '..')

/** Folders that hold build output or installed dependencies, not infra files. */
const NOT_INFRA = new Set(['node_modules', 'dist', '.turbo', 'coverage'])

/** Every file under `dir`, as sorted paths relative to `root`, skipping node_modules, dist and the like. */
export function listFiles(dir: string, root: string = REPO_ROOT): string[] {
  const files: string[] = []
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      if (NOT_INFRA.has(entry.name)) continue
      const path = join(current, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.isFile()) files.push(relative(root, path).split(sep).join('/'))
    }
  }
  walk(dir)
  return files.sort()
}

/**
 * Every document of a YAML file as plain JavaScript, with `<<` merge keys resolved (as Docker Compose
 * reads them). Throws on any YAML error or warning (duplicate keys included), naming the file.
 */
export function readYamlDocuments(file: string): unknown[] {
  const text = readFileSync(file, 'utf8')
  const documents = parseAllDocuments(text, { merge: true, prettyErrors: true, uniqueKeys: true })
  if (!Array.isArray(documents)) return []
  const problems = documents.flatMap(d => [...d.errors, ...d.warnings]).map(e => e.message)
  if (problems.length > 0) throw new Error(`${file}: ${problems.join('\n')}`)
  return documents.map(d => d.toJS({ maxAliasCount: 100 }) as unknown).filter(d => d !== null)
}

/** `node apps/<app>/dist/main.js [args]` → `<app>`; anything else → undefined. */
export function appOfCommand(command: readonly string[]): string | undefined {
  if (command[0] !== 'node') return undefined
  return /^apps\/([a-z0-9-]+)\/dist\/main\.js$/.exec(command[1] ?? '')?.[1]
}
