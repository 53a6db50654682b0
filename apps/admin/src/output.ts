/** Where the CLI writes: process.stdout/stderr in main.ts, string buffers in tests. */
export interface Output {
  write(text: string): unknown
  /** Present on Node streams: lets a long export wait for the consumer instead of buffering. */
  once?(event: 'drain', listener: () => void): unknown
}

/** Writes `text`, waiting for `drain` when the stream asks for it. */
export async function writeOut(out: Output, text: string): Promise<void> {
  const ok = out.write(text)
  if (ok === false && typeof out.once === 'function') {
    await new Promise<void>(resolve => out.once?.('drain', resolve))
  }
}

/** A plain-text table: a header row and columns padded to their widest cell. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  // A loop, not Math.max(...cells): spreading 100k+ rows overflows the call stack.
  const widths = headers.map(header => header.length)
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (cell.length > (widths[i] ?? 0)) widths[i] = cell.length
    })
  }
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(headers), ...rows.map(line)].join('\n') + '\n'
}

/** `1h 2m`, `3d 4h`, `12s`, `850ms`: a human age. */
export function formatAge(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`
  const seconds = Math.floor(ms / 1000)
  const d = Math.floor(seconds / 86_400)
  const h = Math.floor((seconds % 86_400) / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`
  if (m > 0) return s > 0 ? `${m}m ${s}s` : `${m}m`
  return `${s}s`
}

/** An ISO time without milliseconds, for tables. */
export function shortTime(iso: string): string {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return iso
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export const plural = (count: number, one: string, many = `${one}s`): string =>
  `${count} ${count === 1 ? one : many}`
