import { realSleep, type Sleep } from './types.js'

export interface RetryOptions {
  /** Total attempts, the first one included. */
  maxAttempts: number
  /** Ceiling of the first wait; it doubles after each failure up to `maxDelayMs`. */
  baseDelayMs: number
  maxDelayMs: number
  isRetryable: (error: unknown) => boolean
  sleep?: Sleep
  /** Returns [0, 1); injected so tests can pin the jitter. */
  random?: () => number
  /** Told before each wait, e.g. to log "STS is throttling, retrying in 2.1 s". */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
}

/**
 * "Equal jitter" backoff: half the exponential step is fixed, half random. Matrix jobs call STS in the same
 * second; the random half spreads them apart, the fixed half keeps a retry from landing straight back on a
 * throttled endpoint.
 */
export function backoffDelay(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}

/**
 * Runs `fn` until it succeeds, the error is not retryable, or attempts run out; the last error is rethrown
 * unchanged so callers can map it. `fn` gets the attempt number (1-based) and must redo all of its work: for
 * STS that includes fetching a fresh OIDC token, which can expire while we wait.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? realSleep
  const random = options.random ?? Math.random
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      if (attempt >= options.maxAttempts || !options.isRetryable(error)) throw error
      const delay = backoffDelay(attempt, options.baseDelayMs, options.maxDelayMs, random)
      options.onRetry?.(error, attempt, delay)
      await sleep(delay)
    }
  }
}
