// A plain-text table: fixed-width columns, numbers right-aligned, for the terminal and the README.

export interface TableColumn {
  header: string
  /** Default: right for cells that look like numbers, else left. */
  align?: 'left' | 'right'
}

export interface Table {
  title?: string
  columns: readonly (TableColumn | string)[]
  rows: readonly (readonly string[])[]
  /** Lines printed under the table (notes, ratios explained). */
  notes?: readonly string[]
}

const NUMERIC = /^[-+]?[\d,.]+(\s?(%|B|KB|MB|GB|ms|x|\/s))?$|^-$/

function column(c: TableColumn | string): TableColumn {
  return typeof c === 'string' ? { header: c } : c
}

/** Renders `table` as aligned text, one line per row, with a rule under the header. */
export function renderTable(table: Table): string {
  const columns = table.columns.map(column)
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...table.rows.map(row => (row[i] ?? '').length)),
  )
  const alignOf = (i: number, cell: string): 'left' | 'right' =>
    columns[i]?.align ?? (i > 0 && NUMERIC.test(cell.trim()) ? 'right' : 'left')
  const line = (cells: readonly string[], header = false): string =>
    columns
      .map((c, i) => {
        const cell = header ? c.header : (cells[i] ?? '')
        const width = widths[i] ?? 0
        const align = header ? (c.align ?? (i > 0 ? 'right' : 'left')) : alignOf(i, cell)
        return align === 'right' ? cell.padStart(width) : cell.padEnd(width)
      })
      .join('  ')
      .trimEnd()
  const out: string[] = []
  if (table.title !== undefined) out.push(table.title)
  out.push(line([], true))
  out.push(widths.map(w => '-'.repeat(w)).join('  '))
  for (const row of table.rows) out.push(line(row))
  for (const note of table.notes ?? []) out.push(note)
  return out.join('\n')
}

/** The same table as GitHub markdown (for the README). */
export function renderMarkdownTable(table: Table): string {
  const columns = table.columns.map(column)
  const esc = (s: string): string => s.replace(/\|/g, '\\|')
  const aligns = columns.map((c, i) => {
    const right =
      c.align === 'right' ||
      (c.align === undefined && i > 0 && table.rows.some(r => NUMERIC.test(r[i] ?? '')))
    return right ? '---:' : '---'
  })
  const out = [
    `| ${columns.map(c => esc(c.header)).join(' | ')} |`,
    `| ${aligns.join(' | ')} |`,
    ...table.rows.map(row => `| ${columns.map((_, i) => esc(row[i] ?? '')).join(' | ')} |`),
  ]
  if (table.title !== undefined) out.unshift(`**${table.title}**`, '')
  if (table.notes && table.notes.length > 0) out.push('', ...table.notes.map(note => `- ${note}`))
  return out.join('\n')
}
