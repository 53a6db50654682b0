// What others import: apps/admin's story test builds a worker with the real delivery; the port types
// are buildWorker's signature (a caller may bring its own delivery). main.ts is the process entry.
export { buildWorker } from './worker'
export type { BuildWorkerOptions, BuiltWorker } from './worker'
export type { DeliveryPort, DeliveryPortContext, DeliveryPortFactory } from './port'
export { usercomDelivery } from './delivery'
export { buildHealthServer } from './health'
export { shardConcurrency } from './shard-worker'
export type { ShardWorker } from './shard-worker'
