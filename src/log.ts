/**
 * The logger the core uses. The action passes one backed by @actions/core; tests pass `NullLogger` or a
 * recording one. Keeping @actions/core out of the core modules lets them be tested without module mocks.
 */
export interface Logger {
  info(message: string): void
  debug(message: string): void
  warning(message: string): void
  /** Something the user should see on the run's page without it being a problem (an image left to register). */
  notice(message: string): void
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
}

export class NullLogger implements Logger {
  info(): void {}
  debug(): void {}
  warning(): void {}
  notice(): void {}
  async group<T>(_name: string, fn: () => Promise<T>): Promise<T> {
    return fn()
  }
}

/** A logger that keeps what it was told, for tests that check warnings. */
export class MemoryLogger implements Logger {
  readonly lines: string[] = []
  info(message: string): void {
    this.lines.push(`info: ${message}`)
  }
  debug(message: string): void {
    this.lines.push(`debug: ${message}`)
  }
  warning(message: string): void {
    this.lines.push(`warning: ${message}`)
  }
  notice(message: string): void {
    this.lines.push(`notice: ${message}`)
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.lines.push(`group: ${name}`)
    return fn()
  }
}

/**
 * Keeps what one image's run logs, for printing as one group when it ends: images built at the same time would
 * otherwise interleave their lines. Groups inside become headed sections (the job log does not nest groups).
 */
export class BufferedLogger implements Logger {
  private readonly lines: { level: 'info' | 'debug' | 'warning' | 'notice'; message: string }[] = []
  info(message: string): void {
    this.lines.push({ level: 'info', message })
  }
  debug(message: string): void {
    this.lines.push({ level: 'debug', message })
  }
  warning(message: string): void {
    this.lines.push({ level: 'warning', message })
  }
  notice(message: string): void {
    this.lines.push({ level: 'notice', message })
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.lines.push({ level: 'info', message: `── ${name}` })
    return fn()
  }
  /** Prints everything kept into `logger`, in one group titled `title`. Warnings stay warnings. */
  async flushInto(logger: Logger, title: string): Promise<void> {
    const lines = this.lines.splice(0)
    await logger.group(title, async () => {
      for (const { level, message } of lines) logger[level](message)
    })
  }
}
