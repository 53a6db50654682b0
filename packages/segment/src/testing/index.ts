// `@ucd/segment/testing`: what tests of every package that takes Segment input share. Not part of the
// runtime contract (`@ucd/segment`); nothing outside tests imports it.
export { SPEC_FIXTURES, SPEC_DELETE_NOTICE } from './fixtures'
export type { SpecFixture } from './fixtures'
export { testEvent, normalizeFixture, TEST_RECEIVED_AT } from './event'
export type { EventOf, TestEventFields } from './event'
