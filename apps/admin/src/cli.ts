import { Command, CommanderError } from 'commander'
import { dlqExportCommand } from './commands/dlq-export'
import { dlqImportCommand } from './commands/dlq-import'
import { dlqListCommand } from './commands/dlq-list'
import { dlqPurgeCommand } from './commands/dlq-purge'
import { dlqReplayCommand } from './commands/dlq-replay'
import { dlqShowCommand } from './commands/dlq-show'
import { MAX_PROBLEMS_SHOWN, type CliOptions, type Context } from './commands/context'
import { examples } from './commands/options'
import { statsCommand } from './commands/stats'
import { AdminError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, ImportFileError, UsageError } from './errors'
import { buildFilter } from './filters'
import { writeOut, type Output } from './output'
import { openQueues, type AdminQueues } from './store'

export type { CliOptions } from './commands/context'

export interface Cli {
  /** Runs one command line (without `node main.js`) and resolves to its exit code: 0 ok, 1 failure, 2 usage. */
  run(argv: readonly string[]): Promise<number>
}

/** The commander program: the top-level help, `stats`, and the `dlq` group with one file per command. */
function createProgram(ctx: Context): Command {
  const { stdout, stderr } = ctx.opts
  const program = new Command('pnpm admin')
  program
    .description(
      'Operator CLI for usercom-destination: inspect, replay, purge, export and import the dead-letter queue (DLQ), and queue stats.\n' +
        'Reads REDIS_URL and QUEUE_PREFIX like the other apps.',
    )
    .configureOutput({
      writeOut: text => void stdout.write(text),
      writeErr: text => void stderr.write(text),
    })
    .exitOverride()
    .showHelpAfterError('(add --help for usage and examples)')
    .allowExcessArguments(false)
  program.addHelpText(
    'after',
    examples(
      'pnpm admin stats',
      'pnpm admin dlq list --reason forbidden',
      'pnpm admin dlq replay --reason forbidden --dry-run',
      'pnpm admin dlq replay --reason forbidden --rate 20',
      'pnpm admin dlq purge --older-than 30d --yes',
    ) +
      '\nExit codes: 0 ok, 1 failure (Redis unreachable, unknown id, failed replays, bad import file), 2 usage.\n',
  )

  statsCommand(program, ctx)

  const dlq = program
    .command('dlq')
    .description('Dead-letter queue: list, show, replay, purge, export, import')
    .addHelpText(
      'after',
      examples(
        'pnpm admin dlq list --reason forbidden',
        'pnpm admin dlq show <id>',
        'pnpm admin dlq replay --reason forbidden --dry-run',
        'pnpm admin dlq export --out dlq.ndjson',
      ),
    )
  for (const command of [
    dlqListCommand,
    dlqShowCommand,
    dlqReplayCommand,
    dlqPurgeCommand,
    dlqExportCommand,
    dlqImportCommand,
  ]) {
    command(dlq, ctx)
  }
  return program
}

function commanderExitCode(error: CommanderError): number {
  switch (error.code) {
    case 'commander.helpDisplayed':
    case 'commander.version':
      return EXIT_OK
    case 'commander.help':
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE
    default:
      return EXIT_USAGE
  }
}

/** Prints what a command threw and gives its exit code. */
async function reportError(error: unknown, stderr: Output): Promise<number> {
  if (error instanceof CommanderError) return commanderExitCode(error)
  if (error instanceof ImportFileError) {
    const lines = error.problems.slice(0, MAX_PROBLEMS_SHOWN).map(p => `  line ${p.line}: ${p.message}`)
    if (error.problems.length > MAX_PROBLEMS_SHOWN) {
      lines.push(`  ... and ${error.problems.length - MAX_PROBLEMS_SHOWN} more`)
    }
    await writeOut(stderr, `error: ${error.message}:\n${lines.join('\n')}\n`)
    return error.exitCode
  }
  if (error instanceof AdminError) {
    const hint = error instanceof UsageError ? '\n(add --help for usage and examples)' : ''
    await writeOut(stderr, `error: ${error.message}${hint}\n`)
    return error.exitCode
  }
  const message = error instanceof Error ? error.message : String(error)
  await writeOut(stderr, `error: ${message}\n`)
  return EXIT_FAILURE
}

/**
 * The admin CLI as a function of its dependencies, so tests run it in-process. Each `run` parses
 * one command line with a fresh commander program, connects to Redis only when the command needs
 * it (so `--help` and usage errors work without Redis), and closes what it opened.
 */
export function buildCli(options: CliOptions): Cli {
  const now = options.now ?? (() => new Date())
  return {
    async run(argv) {
      let queues: Promise<AdminQueues> | undefined
      const ctx: Context = {
        opts: options,
        now,
        exitCode: EXIT_OK,
        queues() {
          queues ??= openQueues(options.config, { connectTimeoutMs: options.connectTimeoutMs })
          return queues
        },
        out: text => writeOut(options.stdout, text),
        err: text => writeOut(options.stderr, text),
        filterOf: flags => buildFilter(flags, now()),
      }
      try {
        await createProgram(ctx).parseAsync([...argv], { from: 'user' })
        return ctx.exitCode
      } catch (error) {
        return await reportError(error, options.stderr)
      } finally {
        if (queues) await queues.then(q => q.close()).catch(() => undefined)
      }
    },
  }
}
