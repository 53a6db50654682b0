export { buildSimulator } from './simulator'
export type { BuildSimulatorOptions } from './simulator'
export { startSimulator, SimAdmin, SimControlError } from './control'
export type { RunningSimulator } from './control'
export { parseSimEnv, flagsToEnv, SimEnvSchema } from './env'
export type { SimStartConfig, SimEnvResult } from './env'
export {
  SIM_VALUE_TYPES,
  SIM_CONTENT_TYPES,
  SimValueTypeSchema,
  SimContentTypeSchema,
  SimKeySchema,
  FaultsSchema,
  FaultsPatchSchema,
  FailNextSchema,
  SimOptionsSchema,
  SimAttributeSchema,
  SimUserSchema,
  SimCompanySchema,
  SimEventSchema,
  SimEventDefinitionSchema,
  SimPageViewSchema,
  RequestCountsSchema,
  SimAppStateSchema,
  SimStateSchema,
  SimTotalsSchema,
  SimSummarySchema,
  SeedAttributesSchema,
} from './schema'
export type {
  SimKey,
  Faults,
  FaultsPatch,
  FailNextRule,
  FailNextInput,
  SimOptions,
  SimOptionsInput,
  SimAttribute,
  SimUser,
  SimCompany,
  SimEvent,
  SimEventDefinition,
  SimPageView,
  RequestCounts,
  SimAppState,
  SimState,
  SimTotals,
  SimSummary,
  SeedAttributesInput,
} from './schema'
