/**
 * The logger the core uses. The action passes one backed by @actions/core; tests pass `NullLogger` or a
 * recording one. Keeping @actions/core out of the core modules lets them be tested without module mocks.
 */
export interface Logger {
  info(message: string): void
  debug(message: string): void
  warning(message: string): void
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
}

export class NullLogger implements Logger {
  info(): void {}
  debug(): void {}
  warning(): void {}
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
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.lines.push(`group: ${name}`)
    return fn()
  }
}
