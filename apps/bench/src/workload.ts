// The benchmark's events: Segment tracks of about 1 KB for a fixed set of users, each with a fresh
// messageId (so the ingest's dedupe never short-cuts them). Bodies are built by string concatenation
// from per-user templates, so generating load costs the load generator as little as possible.
import { z } from 'zod'

/** JSON bytes of one event as sent (exactly, for every event). */
export const EVENT_BYTES = 1024
export const EVENTS_PER_BATCH = 100
export const TENANT_ID = 'default'

const PLACEHOLDER = '@@MESSAGE_ID@@'
/** Every messageId has this length, so every event has the same size. */
const MESSAGE_ID_LENGTH = 24

export const userIdOf = (user: number): string => `bench-user-${String(user).padStart(5, '0')}`

/** `<tag>-<sequence>`, always MESSAGE_ID_LENGTH characters; `tag` is up to 8 letters or digits. */
export function messageIdOf(tag: string, sequence: number): string {
  const head = `${tag.slice(0, 8)}-`
  return `${head}${String(sequence).padStart(MESSAGE_ID_LENGTH - head.length, '0')}`
}

/** One track event of EVENT_BYTES bytes for `user`, with `messageId`. */
export function trackEvent(user: number, messageId: string, timestamp: string): Record<string, unknown> {
  const event = {
    type: 'track',
    userId: userIdOf(user),
    event: 'Order Completed',
    messageId,
    timestamp,
    properties: {
      orderId: `order-${String(user).padStart(5, '0')}`,
      total: 27.5,
      revenue: 25,
      shipping: 3,
      tax: 2,
      currency: 'EUR',
      coupon: 'SPRING',
      products: [
        { productId: 'p-507', sku: '45790-32', name: 'Monopoly: 3rd Edition', price: 19, quantity: 1 },
        { productId: 'p-505', sku: '46493-32', name: 'Uno Card Game', price: 3, quantity: 2 },
      ],
      note: '',
    },
    context: {
      ip: '203.0.113.42',
      locale: 'en-US',
      userAgent:
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
      library: { name: 'analytics-node', version: '3.1.0' },
      page: {
        path: '/checkout/complete',
        url: 'https://shop.example.com/checkout/complete',
        title: 'Thank you',
      },
    },
  }
  const size = Buffer.byteLength(JSON.stringify(event))
  if (size > EVENT_BYTES) throw new Error(`the event template is ${size} bytes, over ${EVENT_BYTES}`)
  event.properties.note = 'x'.repeat(EVENT_BYTES - size)
  return event
}

/** Per-user JSON text of the event, split around the messageId. */
function templates(users: number, timestamp: string): Array<[string, string]> {
  return Array.from({ length: users }, (_, user) => {
    const text = JSON.stringify(trackEvent(user, PLACEHOLDER.padEnd(MESSAGE_ID_LENGTH, '@'), timestamp))
    const at = text.indexOf(PLACEHOLDER)
    return [text.slice(0, at), text.slice(at + MESSAGE_ID_LENGTH)]
  })
}

/** The settings of a BodyFactory (to make the same bodies in another process). */
export const BodyRecipeSchema = z.object({
  tag: z.string(),
  users: z.number().int().positive(),
  timestamp: z.string(),
  eventsPerBatch: z.number().int().positive(),
})
export type BodyRecipe = z.infer<typeof BodyRecipeSchema>

/**
 * Request bodies with fresh messageIds: `batch()` is a /v1/batch body of `eventsPerBatch` events
 * (users in turn), `single()` one event for /v1/track.
 */
export class BodyFactory {
  private readonly parts: Array<[string, string]>
  private sequence = 0

  constructor(
    private readonly tag: string,
    private readonly users: number,
    private readonly timestamp: string,
    private readonly eventsPerBatch = EVENTS_PER_BATCH,
  ) {
    this.parts = templates(users, timestamp)
  }

  /**
   * What makes the same bodies in another process. Only of a factory that has made none: the other
   * process starts the sequence at 0, so a used factory's recipe would repeat its messageIds (and the
   * ingest would count them as duplicates).
   */
  get recipe(): BodyRecipe {
    if (this.sequence > 0)
      throw new Error(`the body factory ${this.tag} has made bodies: its recipe would repeat them`)
    return {
      tag: this.tag,
      users: this.users,
      timestamp: this.timestamp,
      eventsPerBatch: this.eventsPerBatch,
    }
  }

  single(): string {
    const seq = this.sequence++
    const [before, after] = this.parts[seq % this.users] ?? ['', '']
    return before + messageIdOf(this.tag, seq) + after
  }

  batch(): string {
    let body = '{"batch":['
    for (let i = 0; i < this.eventsPerBatch; i += 1) body += (i === 0 ? '' : ',') + this.single()
    return `${body}]}`
  }

  /** Events made so far. */
  get count(): number {
    return this.sequence
  }
}
