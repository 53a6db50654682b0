// Pure helpers for the figures: percentiles, rates, ratios and how numbers are printed.

/** The p-th percentile (0..100) by nearest rank; undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((Math.min(Math.max(p, 0), 100) / 100) * sorted.length)
  return sorted[Math.max(0, rank - 1)]
}

/** The median item by `key` (the lower middle one for an even count); undefined for none. */
export function medianBy<T>(items: readonly T[], key: (item: T) => number): T | undefined {
  const sorted = [...items].sort((a, b) => key(a) - key(b))
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

/** count per second over `ms` milliseconds; 0 when no time passed. */
export function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : 0
}

/** a / b, or undefined when either is missing or b is not positive. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0)
    return undefined
  return a / b
}

/** Rounded to `digits` decimals (for the JSON file: no float noise). */
export function round(value: number, digits = 0): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

const thousands = (value: number): string => Math.round(value).toLocaleString('en-US')

/** `12,345`; `-` when missing. */
export function formatCount(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '-' : thousands(value)
}

/** `87%`; `-` when missing. */
export function formatRatio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '-' : `${Math.round(value * 100)}%`
}

/** Milliseconds with a precision that fits their size: `0.42`, `3.1`, `250`. */
export function formatMs(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-'
  if (value < 1) return value.toFixed(2)
  if (value < 10) return value.toFixed(1)
  return thousands(value)
}

/** `812 B`, `1.9 KB` (1024), `143.2 MB`; `-` when missing. */
export function formatBytes(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-'
  const abs = Math.abs(value)
  if (abs < 1024) return `${Math.round(value)} B`
  if (abs < 1024 ** 2) return `${(value / 1024).toFixed(1)} KB`
  if (abs < 1024 ** 3) return `${(value / 1024 ** 2).toFixed(1)} MB`
  return `${(value / 1024 ** 3).toFixed(2)} GB`
}
