import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { Script } from './script'

// A short lock per user (or company): SET NX PX with a random owner token, released by a
// compare-and-delete so an owner whose lock expired never deletes the next owner's.

/** Takes the lock, or answers how long it still has (ms) when another owner holds it. */
const ACQUIRE = new Script(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -1 end
return redis.call('PTTL', KEYS[1])
`)

/** Deletes the lock only while it is still ours. */
const RELEASE = new Script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

/** A lock held: release it when the read-check-write is over. */
export interface HeldLock {
  readonly key: string
  release(): Promise<void>
}

export type LockAttempt = { held: HeldLock } | { held?: undefined; remainingMs: number }

/** Tries to take `key` for `ttlMs`; never waits. */
export async function tryLock(redis: Redis, key: string, ttlMs: number): Promise<LockAttempt> {
  const token = randomBytes(12).toString('base64url')
  const answer = Number(await ACQUIRE.run(redis, key, [token, Math.max(1, Math.ceil(ttlMs))]))
  if (answer === -1) {
    return {
      held: {
        key,
        release: async () => {
          await RELEASE.run(redis, key, [token])
        },
      },
    }
  }
  // -2: gone meanwhile; -1 cannot be (an owner without TTL): both mean "try again soon".
  return { remainingMs: answer > 0 ? answer : 0 }
}
