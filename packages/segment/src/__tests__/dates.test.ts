import { describe, expect, it } from '@jest/globals'
import { parseDate } from '../index'

describe('parseDate: lenient dates, never a throw', () => {
  it.each([
    ['ISO with milliseconds', '2015-12-12T19:11:01.249Z', '2015-12-12T19:11:01.249Z'],
    ['ISO without fraction', '2015-12-12T19:11:01Z', '2015-12-12T19:11:01.000Z'],
    ['nanosecond fraction (Engage)', '2024-05-03T19:42:50.066179717Z', '2024-05-03T19:42:50.066Z'],
    ['one fraction digit', '2024-05-03T19:42:50.5Z', '2024-05-03T19:42:50.500Z'],
    ['unpadded month (HTTP API batch example)', '2015-2-02T00:30:08.276Z', '2015-02-02T00:30:08.276Z'],
    ['unpadded everything', '2015-2-2T0:30:8Z', '2015-02-02T00:30:08.000Z'],
    [
      'Go time.Time String() (delete notice)',
      '2020-05-09 23:54:49.209808489 +0000 UTC m=+70366.298768264',
      '2020-05-09T23:54:49.209Z',
    ],
    ['Go format with a non-UTC zone', '2020-05-09 23:54:49.2 -0700 MST', '2020-05-10T06:54:49.200Z'],
    ['offset with colon', '2021-01-04T14:13:05.801+05:30', '2021-01-04T08:43:05.801Z'],
    ['offset without colon', '2021-01-04T14:13:05.801+0530', '2021-01-04T08:43:05.801Z'],
    ['hour-only offset', '2021-01-04T14:13:05-02', '2021-01-04T16:13:05.000Z'],
    ['no zone: UTC assumed', '2021-01-04T14:13:05', '2021-01-04T14:13:05.000Z'],
    ['space instead of T', '2021-01-04 14:13:05Z', '2021-01-04T14:13:05.000Z'],
    ['date only', '2015-02-02', '2015-02-02T00:00:00.000Z'],
    ['surrounding whitespace', '  2015-02-02T00:00:00Z ', '2015-02-02T00:00:00.000Z'],
    ['Unix seconds', 1426967129, '2015-03-21T19:45:29.000Z'],
    ['Unix milliseconds', 1426967129123, '2015-03-21T19:45:29.123Z'],
  ])('%s', (_name, input, expected) => {
    expect(parseDate(input)).toBe(expected)
  })

  it.each([
    ['null (Engage sentAt)', null],
    ['empty string', ''],
    ['garbage', 'yesterday'],
    ['month 13', '2015-13-02T00:00:00Z'],
    ['February 30', '2015-02-30T00:00:00Z'],
    ['hour 24', '2015-02-02T24:00:00Z'],
    ['offset beyond 18 hours', '2015-02-02T00:00:00+19:00'],
    ['a year past 9999 in milliseconds', 1e17],
    ['NaN', Number.NaN],
    ['an object', { iso: '2015-02-02' }],
    ['a boolean', true],
    // A hostile string that made the pattern backtrack quadratically (seconds per event) before the
    // length check: the test would hit Jest's timeout without it.
    ['a date padded with 200,000 spaces', `2015-02-02${' '.repeat(200_000)}!`],
    ['101 characters', `2015-02-02T00:00:00${' '.repeat(82)}`],
  ])('%s does not parse', (_name, input) => {
    expect(parseDate(input)).toBeUndefined()
  })
})
