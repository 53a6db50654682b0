/**
 * Gathers what concurrent callers submit for at most `lingerMs` (or until `maxItems` items wait) and
 * hands it to `flush` in one call, like a Kafka producer's linger: one Redis round trip per step for
 * many single-event requests instead of one each. `flush` answers each submission in order, or throws
 * and every submission of that flush rejects with the error. `lingerMs = 0` flushes every submission
 * on its own, at once. A submission is never split: one bigger than `maxItems` is flushed alone.
 */
export class Coalescer<In, Out> {
  private waiting: Array<{ input: In; resolve: (out: Out) => void; reject: (error: unknown) => void }> = []
  private items = 0
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly options: {
      lingerMs: number
      maxItems: number
      /** Items of one submission, for the size bound. */
      size: (input: In) => number
      flush: (inputs: readonly In[]) => Promise<Out[]>
      /** Told the number of submissions and items of each flush (metrics). */
      onFlush?: (submissions: number, items: number) => void
    },
  ) {}

  submit(input: In): Promise<Out> {
    const { lingerMs, maxItems, size } = this.options
    if (lingerMs <= 0) {
      return new Promise<Out>((resolve, reject) => this.run([{ input, resolve, reject }], size(input)))
    }
    return new Promise<Out>((resolve, reject) => {
      const n = size(input)
      if (this.items > 0 && this.items + n > maxItems) this.flushNow()
      this.waiting.push({ input, resolve, reject })
      this.items += n
      if (this.items >= maxItems) this.flushNow()
      else this.timer ??= setTimeout(() => this.flushNow(), lingerMs)
    })
  }

  /** Flushes what waits now (close() calls it so that nothing waits for a timer). */
  flushNow(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    const batch = this.waiting
    const items = this.items
    this.waiting = []
    this.items = 0
    if (batch.length > 0) this.run(batch, items)
  }

  private run(
    batch: Array<{ input: In; resolve: (out: Out) => void; reject: (error: unknown) => void }>,
    items: number,
  ): void {
    this.options.onFlush?.(batch.length, items)
    // An async wrapper: a flush that throws synchronously rejects like one that fails later.
    const flushed = (async () => this.options.flush(batch.map(entry => entry.input)))()
    flushed.then(
      outs => batch.forEach((entry, i) => entry.resolve(outs[i]!)),
      (error: unknown) => batch.forEach(entry => entry.reject(error)),
    )
  }
}
