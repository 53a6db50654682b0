import { FaultController } from './faults'
import { createPrng, type Prng } from './prng'
import type { RequestCounts, SimKey, SimOptions, SimState, SimSummary } from './schema'
import { AppData } from './store'

// Everything a simulator holds, shared by the API and the control routes: keys, apps (tenants)
// with their data and request counts, the total request counts, faults and the PRNG.

export interface AppEntry {
  data: AppData
  requests: RequestCounts
}

export function bump(counts: RequestCounts, endpoint: string, outcome: string): void {
  const byOutcome = (counts[endpoint] ??= {})
  byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1
}

export class World {
  private prng: Prng
  readonly faults: FaultController
  keys = new Map<string, SimKey>()
  apps = new Map<string, AppEntry>()
  requests: RequestCounts = {}

  constructor(
    readonly options: SimOptions,
    private readonly clock: () => number,
  ) {
    this.prng = createPrng(options.seed)
    this.faults = new FaultController(options.faults, this.random(), clock)
    this.reset()
  }

  /** The PRNG as it is now (a reset replaces it; this indirection follows). */
  private random(): Prng {
    return { next: () => this.prng.next(), int: n => this.prng.int(n) }
  }

  /** Back to the start settings: data, counts, faults, pending failures, keys, PRNG. */
  reset(): void {
    this.prng = createPrng(this.options.seed)
    this.keys = new Map(this.options.keys.map(k => [k.key, { ...k }]))
    this.apps = new Map()
    for (const k of this.options.keys) this.appFor(k.app)
    this.requests = {}
    this.faults.reset()
  }

  appFor(name: string): AppEntry {
    let app = this.apps.get(name)
    if (!app) {
      app = {
        data: new AppData(name, this.random(), this.clock, this.options.maxStoredRecords),
        requests: {},
      }
      this.apps.set(name, app)
    }
    return app
  }

  /** Counts one request in the totals and, when known, in its app. */
  count(app: string | undefined, endpoint: string, outcome: string): void {
    bump(this.requests, endpoint, outcome)
    if (app !== undefined) bump(this.appFor(app).requests, endpoint, outcome)
  }

  snapshot(only?: string): SimState {
    const out: SimState['apps'] = {}
    for (const [name, entry] of this.apps) {
      if (only === undefined || only === name) out[name] = entry.data.snapshot(entry.requests)
    }
    return {
      apps: out,
      requests: structuredClone(this.requests),
      faults: this.faults.current(),
      pendingFailures: this.faults.pending(),
      keys: [...this.keys.values()].map(k => ({
        app: k.app,
        hint: `…${k.key.slice(-4)}`,
        revoked: k.revoked,
      })),
    }
  }

  summary(): SimSummary {
    const out: SimSummary['apps'] = {}
    for (const [name, entry] of this.apps) {
      out[name] = { totals: entry.data.totals(), requests: structuredClone(entry.requests) }
    }
    return { apps: out, requests: structuredClone(this.requests) }
  }
}
