// How far V8 lets the heap grow past its live size before a full collection.
//
// A worker's live heap is small (about 40 MB at concurrency 200) but it allocates fast (HTTP
// requests, job data). On a machine without a memory limit V8 sizes the heap from the physical
// memory and, for a heap limit of 2 GB or more, lets the heap grow to 4x its live size between full
// collections: a worker at concurrency 200 peaked at 210-230 MB of RSS, mostly garbage (apps/bench).
// Twice the live size, the factor V8 itself uses for smaller heaps (a container with a memory
// limit), keeps it near 165 MB for a few percent more CPU (growing by half: 148 MB, but about 15%
// more CPU per event). `--heap-growing-percent` is read at every collection, so setting it at
// start-up takes effect.

export const HEAP_GROWING_PERCENT = 100

const FLAG = '--heap-growing-percent'

/**
 * The V8 flag the worker sets at start, or undefined when the operator chose one already on the node
 * command line (`node --heap-growing-percent=300 apps/worker/dist/main.js`; Node does not take it
 * from NODE_OPTIONS), spelt with `-` or `_`.
 */
export function heapGrowingFlag(execArgv: readonly string[]): string | undefined {
  if (execArgv.some(arg => arg.replace(/_/g, '-').startsWith(FLAG))) return undefined
  return `${FLAG}=${HEAP_GROWING_PERCENT}`
}
