export {
  parseDockerfile,
  execForm,
  instructionFlags,
  withoutFlags,
  argDefault,
  healthcheckCommand,
} from './dockerfile'
export type { DockerInstruction, DockerStage, ParsedDockerfile } from './dockerfile'
export { parseRedisConf, redisSetting } from './redis-conf'
export type { RedisConf } from './redis-conf'
export { interpolate, parseDuration, parseEnvFile } from './compose'
export type { ComposeVariables } from './compose'
export { REPO_ROOT, listFiles, readYamlDocuments, appOfCommand } from './files'
export { startStack, WORKER_COUNT, DEFAULT_PORTS } from './local/stack'
export type { StackHandle, StackOptions } from './local/stack'
export { runDemo } from './local/demo'
export type { DemoOptions } from './local/demo'
export { StackError } from './local/errors'
export type { StackErrorCode } from './local/errors'
export { StackInfoSchema, readStackInfo, stackDir, STACK_INFO_FILE } from './local/stack-info'
export type { StackInfo, StackInfoRead, StackProcessInfo } from './local/stack-info'
export { planTenants, curlLine, envLine, SIM_TENANTS } from './local/plan'
export type { TenantPlan, SimTenant } from './local/plan'
export { choosePort, isPortFree } from './local/ports'
export type { PortRequest, ChosenPort } from './local/ports'
export { chooseRedis, pingRedis, findRedisServer, HOW_TO_GET_REDIS } from './local/redis'
export type { RedisChoice } from './local/redis'
