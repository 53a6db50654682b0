export { buildWorker } from './worker'
export type {
  BuildWorkerOptions,
  BuiltWorker,
  DeliveryPort,
  DeliveryPortContext,
  DeliveryPortFactory,
  JobResult,
} from './worker'
export { usercomDelivery } from './delivery'
export { buildHealthServer } from './health'
export {
  classify,
  decide,
  backoffDelay,
  InvalidJobError,
  DEFAULT_RETRY_AFTER_MS,
  MAX_RETRY_AFTER_MS,
} from './policy'
export type { Decision, Failure, FailureKind, BackoffContext, DecideContext } from './policy'
export { createWorkerMetrics, QUEUE_STATES } from './metrics'
export { heapGrowingFlag, HEAP_GROWING_PERCENT } from './heap'
export type { WorkerMetrics } from './metrics'
