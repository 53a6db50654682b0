// apps/worker builds one executor per tenant; the types are those of createExecutor's signature.
export { createExecutor } from './executor'
export type { Executor, ExecutorOptions, DeliveryResult } from './executor'
export { DeliveryDeferredError } from './errors'
export { keySpaceOf, tenantKey, userKey, userKeyPrefix } from './keys'
export type { KeyBase, KeySpace, TenantKeyKind, UserKeyKind } from './keys'
export type { DeferReason } from './errors'
