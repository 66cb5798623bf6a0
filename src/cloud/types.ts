/**
 * Data the cloud modules hand back to the caller. They never run `docker login` themselves: the caller decides
 * where credentials go (a per-job DOCKER_CONFIG, buildx, an HTTP check), so they are returned as plain values.
 */

/** Credentials for `docker login <registry> -u <username> --password-stdin`. */
export interface DockerCredentials {
  /** The registry host the credentials are for (no scheme, no path). */
  registry: string
  username: string
  /** Already masked in the job log when this object exists. */
  password: string
  /** When the password stops working, if the issuer says. */
  expiresAt?: Date
}

/**
 * Hides a value in the job log. The action passes `core.setSecret`; tests pass a recorder so they can check
 * that every secret was masked the moment it existed.
 */
export type Mask = (secret: string) => void

/** Waits `ms` milliseconds. Injected so retry tests run instantly. */
export type Sleep = (ms: number) => Promise<void>

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
