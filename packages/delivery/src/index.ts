// apps/worker builds one executor per tenant; the types are those of createExecutor's signature.
export { createExecutor } from './executor'
export type { Executor, ExecutorOptions, DeliveryResult } from './executor'
export { DeliveryDeferredError } from './errors'
export type { DeferReason } from './errors'
export { ATTRIBUTE_BUDGET_REASON } from './attribute-budget'
