import { randomBytes } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import type { Clock } from './clock'
import { clockLua, RELEASE_LUA } from './lua'
import { Script } from './script'

// A short lock per user (or company): SET NX PX with a random owner token, released by a
// compare-and-delete so an owner whose lock expired never deletes the next owner's. Taking it also
// checks the delivery's fields against the user's clock hash in the same round trip (KEYS[2], same
// hash slot: keys.ts), since every delivery that locks does that next.

/**
 * KEYS: the lock, and optionally the clock hash. ARGV: owner token, TTL ms, and with a clock hash the
 * delivery's event time ms, messageId and fields (a JSON array). Takes the lock and answers `{-1,
 * stale}`, the fields whose stored clock is newer than the delivery's (empty without a clock hash);
 * or answers the time the lock still has (ms) when another owner holds it.
 */
const ACQUIRE = new Script(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('PTTL', KEYS[1])
end
if not KEYS[2] then return {-1, {}} end
${clockLua(3)}
return {-1, staleFields(KEYS[2], cjson.decode(ARGV[5]))}
`)

/** Deletes the lock only while it is still ours. */
const RELEASE = new Script(`
${RELEASE_LUA}
return releaseIfOwned(KEYS[1], ARGV[1])
`)

/** A lock held: release it when the read-check-write is over. */
export class HeldLock {
  private released = false

  constructor(
    private readonly redis: Redis | Cluster,
    readonly key: string,
    /** The owner token: the lock is deleted only while it holds this. */
    readonly token: string,
    /** The fields checked when the lock was taken whose stored clock is newer than the delivery's. */
    readonly stale: readonly string[],
  ) {}

  /** Whether it was released (by `release`, or by a clock write that released it: `releasedBy`). */
  get isReleased(): boolean {
    return this.released
  }

  /** Records that another script (the last clock write) deleted the lock. */
  releasedBy(): void {
    this.released = true
  }

  async release(): Promise<void> {
    if (this.released) return
    await RELEASE.run(this.redis, this.key, [this.token])
    this.released = true
  }
}

export type LockAttempt = { held: HeldLock } | { held?: undefined; remainingMs: number }

/** This process's random part of owner tokens; a counter makes each token unique within it. */
const PROCESS_TOKEN = randomBytes(12).toString('base64url')
let tokens = 0

/** An owner token no other lock attempt (in any process) has. */
function nextToken(): string {
  tokens += 1
  return `${PROCESS_TOKEN}.${tokens.toString(36)}`
}

/** What to check against a clock hash while taking a lock: the hash, and a delivery's clock and fields. */
export interface ClockCheck {
  key: string
  clock: Clock
  fields: readonly string[]
}

/**
 * Tries to take `key` for `ttlMs`, checking `check`'s fields against its clock hash (same user) in the
 * same round trip when given; never waits.
 */
export async function tryLock(
  redis: Redis | Cluster,
  key: string,
  ttlMs: number,
  check?: ClockCheck,
): Promise<LockAttempt> {
  const token = nextToken()
  const ttl = Math.max(1, Math.ceil(ttlMs))
  const answer =
    check === undefined
      ? await ACQUIRE.run(redis, key, [token, ttl])
      : await ACQUIRE.run(
          redis,
          [key, check.key],
          [token, ttl, check.clock.timeMs, check.clock.messageId, JSON.stringify(check.fields)],
        )
  if (Array.isArray(answer)) {
    const stale = Array.isArray(answer[1]) ? answer[1].map(String) : []
    return { held: new HeldLock(redis, key, token, stale) }
  }
  // -2: gone meanwhile; -1 cannot be (an owner without TTL): both mean "try again soon".
  const remaining = Number(answer)
  return { remainingMs: remaining > 0 ? remaining : 0 }
}
