import { describe, expect, it } from '@jest/globals'
import { renderMarkdownTable, renderTable } from '../table'

const table = {
  title: 'Ingest',
  columns: ['run', 'events/s', 'vs addBulk'],
  rows: [
    ['batch ingest', '9,369', '54%'],
    ['batch bare addBulk', '17,000', '100%'],
  ],
  notes: ['a note'],
}

describe('renderTable', () => {
  it('aligns text left and numbers right under a rule', () => {
    expect(renderTable(table).split('\n')).toEqual([
      'Ingest',
      'run                 events/s  vs addBulk',
      '------------------  --------  ----------',
      'batch ingest           9,369         54%',
      'batch bare addBulk    17,000        100%',
      'a note',
    ])
  })

  it('lets a column choose its alignment', () => {
    const text = renderTable({
      columns: [{ header: 'a' }, { header: 'b', align: 'left' }],
      rows: [['x', '1']],
    })
    expect(text.split('\n')[2]).toBe('x  1')
  })
})

describe('renderMarkdownTable', () => {
  it('writes a GitHub table with numeric columns right-aligned', () => {
    expect(renderMarkdownTable(table).split('\n')).toEqual([
      '**Ingest**',
      '',
      '| run | events/s | vs addBulk |',
      '| --- | ---: | ---: |',
      '| batch ingest | 9,369 | 54% |',
      '| batch bare addBulk | 17,000 | 100% |',
      '',
      '- a note',
    ])
  })
})
