/**
 * At most one run per key at a time, in this process: whoever asks while a run for the key is under
 * way shares its promise. Used for identity resolutions and attribute creations, so 50 concurrent jobs
 * for one new user or one new attribute send one request.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Promise<T>>()

  run(key: string, task: () => Promise<T>): Promise<T> {
    let pending = this.flights.get(key)
    if (pending === undefined) {
      pending = task().finally(() => this.flights.delete(key))
      this.flights.set(key, pending)
    }
    return pending
  }
}
