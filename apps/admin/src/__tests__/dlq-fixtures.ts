import type { DeadLetterRecord } from '@ucd/queue'
import { dlqId, makeRecord } from './helpers'

// 1..5 in the order the worker dead-lettered them.
export const RECORDS: DeadLetterRecord[] = [
  makeRecord({ n: 1, tenantId: 'acme', reason: 'forbidden', type: 'track', deadMinutesAgo: 3 * 24 * 60 }),
  makeRecord({ n: 2, tenantId: 'acme', reason: 'forbidden', type: 'identify', deadMinutesAgo: 180 }),
  makeRecord({
    n: 3,
    tenantId: 'globex',
    reason: 'rejected',
    type: 'page',
    anonymousId: 'anon-3',
    deadMinutesAgo: 50,
  }),
  makeRecord({ n: 4, tenantId: 'acme', reason: 'exhausted', type: 'group', deadMinutesAgo: 30, replays: 1 }),
  makeRecord({ n: 5, tenantId: 'globex', reason: 'forbidden', type: 'track', deadMinutesAgo: 5 }),
]
export const ID = RECORDS.map(dlqId)
