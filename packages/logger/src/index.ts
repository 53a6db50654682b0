export { createLogger } from './logger'
export type { CreateLoggerOptions, LogLevel, Logger } from './logger'
export { scrub, REDACTED, SECRET_KEY_PATTERN } from './scrub'
export type { ScrubOptions } from './scrub'
