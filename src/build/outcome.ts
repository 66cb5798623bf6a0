/**
 * What happened to each image of the graph: the step's outputs, summary and pull-request comment read these.
 * Nothing here is masked on purpose: image URIs must cross jobs. Secrets never reach these values.
 */
export interface ImageResult {
  registry: string
  image: string
  tag: string
  specId: string
  digest: string
  built: boolean
  dockerfile: string
  buildSeconds?: number
  pushed: boolean
  /** Every reference pushed (the flytekit image, then preview and extra tags), when tags were added. */
  tags?: string[]
  /** The first preview tag as a full reference, on pull requests. */
  previewImage?: string
}

/**
 * `skipped`: not built because the image it is built on failed (a failure too). `not-built`: another builder
 * makes it at register time (or the image it is built on), and the registry does not have it yet.
 */
export type ImageState = 'built' | 'reused' | 'failed' | 'skipped' | 'not-built' | 'dry-run'

/** One image of the graph and how it ended. */
export interface ImageOutcome extends ImageResult {
  /** Where its spec was written: `specs/app.yaml:1`, or `inline`. */
  origin: string
  name: string
  /** Only some spec's nested base_image (no spec source names it itself). */
  nestedBase: boolean
  /** The index of the spec source it came from (the first, when shared). */
  source: number
  state: ImageState
  /** Why it failed, or why it was skipped. */
  error?: string
  /** Why this step leaves it to register (another builder). */
  reason?: string
}
