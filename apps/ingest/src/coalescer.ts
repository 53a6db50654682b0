/**
 * Gathers what concurrent callers submit while the event loop handles the I/O at hand and hands it to
 * `flush` in one call when that turn of the loop ends (or at once when `maxItems` items wait): one
 * Redis round trip per step for many single-event requests instead of one each. `flush` answers each
 * submission in order, or throws and every submission of that flush rejects with the error. With
 * `gather` off every submission is flushed on its own, at once. A submission is never split: one
 * bigger than `maxItems` is flushed alone.
 *
 * Why the end of the turn and not a fixed linger (as a Kafka producer's `linger.ms`): the requests
 * that arrive together are read in one turn, so under load a turn already carries many of them (a
 * bigger batch the busier the process), and at low load nothing waits for a timer. A fixed 2 ms wait
 * measured worse on both counts: at 8,500 requests/s in an open loop p99 20–42 ms (7 runs) against a
 * median of 12 ms (32 runs), and less throughput at saturation (apps/ingest README, "Performance (issue
 * 20)", third round). A wait never outlasts the turn, so it stays within INGEST_LINGER_MS whenever the
 * process keeps up.
 */
export class Coalescer<In, Out> {
  private waiting: Array<{ input: In; resolve: (out: Out) => void; reject: (error: unknown) => void }> = []
  private items = 0
  private pending: NodeJS.Immediate | undefined

  constructor(
    private readonly options: {
      /** Gather concurrent submissions (INGEST_LINGER_MS above 0); off: each is flushed alone. */
      gather: boolean
      maxItems: number
      /** Items of one submission, for the size bound. */
      size: (input: In) => number
      flush: (inputs: readonly In[]) => Promise<Out[]>
      /** Told the number of submissions and items of each flush (metrics). */
      onFlush?: (submissions: number, items: number) => void
    },
  ) {}

  submit(input: In): Promise<Out> {
    const { gather, maxItems, size } = this.options
    if (!gather) {
      return new Promise<Out>((resolve, reject) => this.run([{ input, resolve, reject }], size(input)))
    }
    return new Promise<Out>((resolve, reject) => {
      const n = size(input)
      if (this.items > 0 && this.items + n > maxItems) this.flushNow()
      this.waiting.push({ input, resolve, reject })
      this.items += n
      if (this.items >= maxItems) this.flushNow()
      else this.pending ??= setImmediate(() => this.flushNow())
    })
  }

  /** Flushes what waits now (close() calls it so that nothing waits for the end of the turn). */
  flushNow(): void {
    if (this.pending !== undefined) clearImmediate(this.pending)
    this.pending = undefined
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
