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
