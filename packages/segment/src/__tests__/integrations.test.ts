import { describe, expect, it } from '@jest/globals'
import { isEnabled } from '../index'
import { DESTINATION_NAMES } from '../integrations'

describe('isEnabled: the integrations object (segment-spec.md §6)', () => {
  it('knows the three names the destination doc gives', () => {
    expect(DESTINATION_NAMES).toEqual(['User.com', 'UserEngage', '“User.com”'])
  })

  it.each<[string, Record<string, unknown>, boolean]>([
    ['empty object: All defaults to true', {}, true],
    ['All: true', { All: true }, true],
    ['All: false', { All: false }, false],
    ['all (lower case): false', { all: false }, false],
    ['ALL (upper case): false', { ALL: false }, false],
    ['exact All wins over another spelling', { all: true, All: false }, false],
    ['All as a non-boolean is ignored', { All: 'no' }, true],
    ['other destinations do not matter', { All: true, Mixpanel: false, Salesforce: false }, true],
    ['All: false with other destinations on', { All: false, Mixpanel: true, Salesforce: true }, false],
    ['User.com: false', { 'User.com': false }, false],
    ['UserEngage: false', { UserEngage: false }, false],
    ['the quoted form “User.com”: false', { '“User.com”': false }, false],
    ['All: false, User.com: true', { All: false, 'User.com': true }, true],
    ['All: false, UserEngage: true', { All: false, UserEngage: true }, true],
    ['All: false, “User.com”: true', { All: false, '“User.com”': true }, true],
    [
      'All: false, User.com: options object (object = enabled)',
      { All: false, 'User.com': { key: 'v' } },
      true,
    ],
    ['All: false, UserEngage: {} (object = enabled)', { All: false, UserEngage: {} }, true],
    ['All: true, User.com: false', { All: true, 'User.com': false }, false],
    ['name matched case-insensitively (Segment obj-case)', { All: false, 'user.com': true }, true],
    ['names disagree: false wins', { 'User.com': true, UserEngage: false }, false],
    [
      'Engage: All false, Warehouses object, HubSpot true',
      { All: false, HubSpot: true, Warehouses: { all: false } },
      false,
    ],
    ['a similar but different name does not match', { All: false, 'User.io': true }, false],
  ])('%s', (_name, integrations, expected) => {
    expect(isEnabled({ integrations })).toBe(expected)
  })
})
