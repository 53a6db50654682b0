/** Why the local stack or the demo could not do what was asked; `code` is stable, the message says what to do. */
export class StackError extends Error {
  constructor(
    readonly code: StackErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'StackError'
    Object.setPrototypeOf(this, new.target.prototype)
  }
}

export type StackErrorCode =
  /** No Redis could be found or started. */
  | 'UCD_ERR_STACK_NO_REDIS'
  /** A port the user asked for is taken, or a port setting is not a port. */
  | 'UCD_ERR_STACK_PORT'
  /** The apps' configuration (@ucd/config) refuses the settings. */
  | 'UCD_ERR_STACK_CONFIG'
  /** Another stack runs from the same directory. */
  | 'UCD_ERR_STACK_RUNNING'
  /** A process did not become ready, or exited. */
  | 'UCD_ERR_STACK_PROCESS'
  /** The demo found no running stack. */
  | 'UCD_ERR_STACK_NOT_RUNNING'
  /** Something the demo waited for did not happen in time. */
  | 'UCD_ERR_DEMO_TIMEOUT'
  /** The demo cannot run against this stack, or a step of it failed. */
  | 'UCD_ERR_DEMO'
