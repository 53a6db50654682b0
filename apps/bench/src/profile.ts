// Reads a V8 .cpuprofile (from `node --cpu-prof`) and lists where the time went: self time by
// function and by package, the way one reads the top frames of a profile.

export interface CpuProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}

export interface CpuProfile {
  nodes: CpuProfileNode[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

export interface ProfileEntry {
  name: string
  selfMs: number
  share: number
}

export interface ProfileSummary {
  totalMs: number
  functions: ProfileEntry[]
  packages: ProfileEntry[]
}

/** `node_modules/.pnpm/x@1/node_modules/@scope/pkg/...` → `@scope/pkg`; workspace code by folder; node internals. */
export function packageOf(url: string): string {
  if (url === '') return '(native / idle / gc)'
  if (url.startsWith('node:')) return 'node'
  const marker = 'node_modules/'
  const at = url.lastIndexOf(marker)
  if (at >= 0) {
    const rest = url.slice(at + marker.length).split('/')
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url)
  }
  const ws = /\/(apps|packages)\/([^/]+)\//.exec(url)
  if (ws) return `@ucd/${ws[2] ?? ''}`
  return url
}

function top(map: Map<string, number>, totalMs: number, limit: number): ProfileEntry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, selfMs]) => ({
      name,
      selfMs: Math.round(selfMs * 10) / 10,
      share: totalMs > 0 ? selfMs / totalMs : 0,
    }))
}

/** Self time per function and per package, largest first. */
export function summarizeProfile(profile: CpuProfile, limit = 25): ProfileSummary {
  const totalMs = (profile.endTime - profile.startTime) / 1000
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  const selfMs = new Map<number, number>()
  if (samples.length > 0 && deltas.length === samples.length) {
    // Each sample's time is the delta to the next sample.
    for (let i = 0; i < samples.length; i += 1) {
      const id = samples[i] ?? -1
      const ms = (deltas[i + 1] ?? 0) / 1000
      selfMs.set(id, (selfMs.get(id) ?? 0) + ms)
    }
  } else {
    const hits = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0)
    for (const node of profile.nodes)
      selfMs.set(node.id, hits > 0 ? ((node.hitCount ?? 0) / hits) * totalMs : 0)
  }
  const byFunction = new Map<string, number>()
  const byPackage = new Map<string, number>()
  for (const node of profile.nodes) {
    const ms = selfMs.get(node.id) ?? 0
    if (ms === 0) continue
    const { functionName, url, lineNumber } = node.callFrame
    const file = url.split('/').slice(-1)[0] ?? url
    const name =
      `${functionName || '(anonymous)'} ${url === '' ? '' : `${packageOf(url)} ${file}:${lineNumber + 1}`}`.trim()
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms)
    const pkg = packageOf(url)
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms)
  }
  return { totalMs, functions: top(byFunction, totalMs, limit), packages: top(byPackage, totalMs, limit) }
}

/** The summary as text lines. */
export function renderProfileSummary(title: string, summary: ProfileSummary): string {
  const line = (e: ProfileEntry): string =>
    `  ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.selfMs.toFixed(0).padStart(7)} ms  ${e.name}`
  return [
    `${title}: ${Math.round(summary.totalMs)} ms profiled`,
    ' by package (self time):',
    ...summary.packages.slice(0, 12).map(line),
    ' by function (self time):',
    ...summary.functions.map(line),
  ].join('\n')
}
