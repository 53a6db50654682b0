// How far V8 lets the heap grow past its live size before a full collection.
//
// A worker's live heap is small (about 40 MB at concurrency 200) but it allocates fast (HTTP
// requests, job data). On a machine without a memory limit V8 sizes the heap from the physical
// memory and lets it grow to 4x the live size between full collections: a worker at concurrency 200
// peaked at 210-230 MB of RSS, mostly garbage (apps/bench). Growing by half instead keeps it near
// 145 MB at no measurable CPU cost. (Inside a container with a memory limit V8 is already cautious.)
// `--heap-growing-percent` is read at every collection, so setting it at start-up takes effect.

export const HEAP_GROWING_PERCENT = 50

const FLAG = '--heap-growing-percent'

/**
 * The V8 flag the worker sets at start, or undefined when the operator chose one already (in the
 * node command line or NODE_OPTIONS, with `-` or `_`).
 */
export function heapGrowingFlag(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string | undefined {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)]
  if (given.some(arg => arg.replace(/_/g, '-').startsWith(FLAG))) return undefined
  return `${FLAG}=${HEAP_GROWING_PERCENT}`
}
