/** One Dockerfile instruction, continuation lines joined. */
export interface DockerInstruction {
  /** Upper-cased keyword: FROM, RUN, COPY, ... */
  keyword: string
  /** Everything after the keyword, continuation lines joined with a space. */
  args: string
  /** 1-based line where the instruction starts. */
  line: number
}

/** A build stage: its FROM line and the instructions up to the next FROM. */
export interface DockerStage {
  /** The `AS <name>` alias, if any. */
  name: string | undefined
  /** The image or stage it starts from, as written (ARG references unresolved). */
  from: string
  instructions: DockerInstruction[]
}

export interface ParsedDockerfile {
  /** ARG instructions before the first FROM (global build arguments). */
  globalArgs: DockerInstruction[]
  stages: DockerStage[]
}

/**
 * Parses a Dockerfile into stages. Handles `\` line continuations, comment lines and blank lines;
 * heredocs are not supported (the project's Dockerfile uses none).
 */
export function parseDockerfile(text: string): ParsedDockerfile {
  const instructions: DockerInstruction[] = []
  let pending: { parts: string[]; line: number } | undefined
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim()
    // Comment lines inside a continued instruction are skipped too, as Docker does.
    if (trimmed.startsWith('#') || (trimmed === '' && pending === undefined)) return
    const continued = trimmed.endsWith('\\')
    const content = continued ? trimmed.slice(0, -1).trim() : trimmed
    if (pending === undefined) pending = { parts: [], line: index + 1 }
    if (content !== '') pending.parts.push(content)
    if (continued) return
    const joined = pending.parts.join(' ')
    const match = /^(\S+)\s*(.*)$/.exec(joined)
    if (match?.[1] !== undefined) {
      instructions.push({ keyword: match[1].toUpperCase(), args: match[2] ?? '', line: pending.line })
    }
    pending = undefined
  })

  const globalArgs: DockerInstruction[] = []
  const stages: DockerStage[] = []
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = withoutFlags(instruction.args)
      const asIndex = words.findIndex(w => w.toUpperCase() === 'AS')
      stages.push({
        from: words[0] ?? '',
        name: asIndex >= 0 ? words[asIndex + 1] : undefined,
        instructions: [],
      })
      continue
    }
    const current = stages[stages.length - 1]
    if (current) current.instructions.push(instruction)
    else if (instruction.keyword === 'ARG') globalArgs.push(instruction)
  }
  return { globalArgs, stages }
}

/** The JSON-array ("exec") form of CMD, ENTRYPOINT, RUN or a HEALTHCHECK's CMD; undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  const trimmed = args.trim()
  if (!trimmed.startsWith('[')) return undefined
  try {
    const parsed: unknown = JSON.parse(trimmed)
    return Array.isArray(parsed) && parsed.every(p => typeof p === 'string') ? parsed : undefined
  } catch {
    return undefined
  }
}

/** `--name=value` flags at the start of an instruction's arguments (COPY --from=build, HEALTHCHECK --interval=5s). */
export function instructionFlags(args: string): Record<string, string> {
  const flags: Record<string, string> = {}
  for (const word of args.trim().split(/\s+/)) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(word)
    if (!match?.[1]) break
    flags[match[1]] = match[2] ?? 'true'
  }
  return flags
}

/** The words of an instruction after its leading `--flags`. */
export function withoutFlags(args: string): string[] {
  const words = args.trim().split(/\s+/).filter(Boolean)
  const first = words.findIndex(w => !w.startsWith('--'))
  return first < 0 ? [] : words.slice(first)
}

/** `ARG NAME=default` → [NAME, default]. */
export function argDefault(instruction: DockerInstruction): [string, string | undefined] {
  const [name = '', ...rest] = instruction.args.trim().split('=')
  return [
    name.trim(),
    rest.length > 0
      ? rest
          .join('=')
          .trim()
          .replace(/^"(.*)"$/, '$1')
      : undefined,
  ]
}

/** The HEALTHCHECK's command in exec form, or undefined (shell form, or `HEALTHCHECK NONE`). */
export function healthcheckCommand(instruction: DockerInstruction): string[] | undefined {
  const words = withoutFlags(instruction.args)
  if (words[0]?.toUpperCase() !== 'CMD') return undefined
  const cmdAt = instruction.args.search(/\bCMD\b/i)
  return execForm(instruction.args.slice(cmdAt + 3))
}
