/**
 * `BuildPlan` -> `docker buildx build` argv. Pure: no environment, no I/O, so the exact command line can be
 * table-tested and printed, and buildx.ts only runs what this returns.
 */

/** `cache`: build into the builder's cache only (`--output type=cacheonly`), to push in a second, cached run. */
export type BuildOutput = 'push' | 'load' | 'cache'

/** A BuildKit secret from a file (`src`) or an environment variable (`env`) of the action's process. */
export type BuildSecret = { id: string; src: string } | { id: string; env: string }

export interface BuildPlan {
  /** Build context directory. */
  context: string
  /** Dockerfile path; buildx defaults to `<context>/Dockerfile`. */
  dockerfile?: string
  /** Full references (`registry/repo:tag`); all get the same image. */
  tags: readonly string[]
  /** `linux/amd64`, ...; several make a multi-platform index. */
  platforms?: readonly string[]
  /** Push to the registry, or load into the local image store. */
  output: BuildOutput
  /** Where buildx writes the build result (digest); the digest is read from here, never from logs. */
  metadataFile: string
  labels?: Readonly<Record<string, string>>
  /** RUN-step network mode: `default`, `host` or `none`. */
  network?: string
  buildArgs?: Readonly<Record<string, string>>
  secrets?: readonly BuildSecret[]
  /** Builder instance name; the current builder when absent. */
  builder?: string
  cacheFrom?: readonly string[]
  cacheTo?: readonly string[]
  /**
   * Provenance attestation: false (the default), true, or buildx's value syntax (`mode=max`). Off by default
   * because an attestation turns a single-platform image into an index with an `unknown/unknown` entry, which
   * AWS Lambda, some Artifact Registry / Cloud Run paths and older Docker clients reject, and which ECR lists as
   * an extra untagged image.
   */
  provenance?: boolean | string
  /** SBOM attestation: off unless asked for (it runs a scanner during the build). */
  sbom?: boolean | string
  noCache?: boolean
  /** Always pull the base image instead of using a local copy. */
  pull?: boolean
  /**
   * SOURCE_DATE_EPOCH, in seconds: the time written into the image config and history instead of the clock (the
   * build arg BuildKit's Dockerfile frontend reads; runBuild also puts it in buildx's environment).
   */
  sourceDateEpoch?: number
  /**
   * Also clamp the file times inside the pushed layers to sourceDateEpoch (BuildKit >= 0.13 `rewrite-timestamp`),
   * so that building the same inputs again pushes the same digest. Only a push exports with it.
   */
  rewriteTimestamp?: boolean
  /**
   * The default registry build cache (the `registry-cache` input): a reference such as
   * `<registry>/<name>:buildcache`. It is imported on every build and exported (mode=max) by a push; the user's
   * `cacheFrom` / `cacheTo` replace it, so it is only set when both are empty.
   */
  registryCache?: string
}

/**
 * The image exporter with `rewrite-timestamp=true`. `store=false`: with the docker driver on the containerd image
 * store the engine always unpacks what it stores, which BuildKit refuses together with rewritten layers
 * ("exporter option "rewrite-timestamp" conflicts with "unpack""); a push needs no local copy.
 */
export const REPRODUCIBLE_PUSH = 'type=image,push=true,rewrite-timestamp=true,store=false'

function outputArgs(plan: BuildPlan): string[] {
  if (plan.output === 'push') return plan.rewriteTimestamp ? ['--output', REPRODUCIBLE_PUSH] : ['--push']
  if (plan.output === 'load') return ['--load']
  return ['--output', 'type=cacheonly']
}

export function buildxArgs(plan: BuildPlan): string[] {
  return [
    'buildx',
    'build',
    ...optional('--builder', plan.builder),
    // Plain progress: readable in the job log and stable to parse when a build fails.
    '--progress=plain',
    ...optional('--file', plan.dockerfile),
    ...plan.tags.flatMap((t) => ['--tag', t]),
    ...(plan.platforms && plan.platforms.length > 0 ? ['--platform', plan.platforms.join(',')] : []),
    ...outputArgs(plan),
    '--metadata-file',
    plan.metadataFile,
    `--provenance=${attestationValue(plan.provenance) ?? 'false'}`,
    ...(attestationValue(plan.sbom) !== undefined ? [`--sbom=${attestationValue(plan.sbom)}`] : []),
    ...entries(plan.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    ...entries(plan.buildArgs)
      .filter(([k]) => k !== 'SOURCE_DATE_EPOCH' || plan.sourceDateEpoch === undefined)
      .flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
    ...(plan.sourceDateEpoch !== undefined
      ? ['--build-arg', `SOURCE_DATE_EPOCH=${plan.sourceDateEpoch}`]
      : []),
    ...(plan.secrets ?? []).flatMap((s) => ['--secret', secretValue(s)]),
    ...(plan.cacheFrom ?? []).flatMap((c) => ['--cache-from', c]),
    ...(plan.cacheTo ?? []).flatMap((c) => ['--cache-to', c]),
    ...registryCacheArgs(plan),
    ...optional('--network', plan.network),
    ...(plan.noCache ? ['--no-cache'] : []),
    ...(plan.pull ? ['--pull'] : []),
    plan.context,
  ]
}

/**
 * The default cache's flags. Exported only by a push: the build-only run before a push with short-lived
 * credentials (`cache` output) has not logged in yet. `image-manifest=true,oci-mediatypes=true` store the cache as
 * an ordinary OCI image manifest, which ECR needs and GHCR, Artifact Registry, Docker Hub and distribution accept.
 * `ignore-error=true`: a cache that cannot be written (an IMMUTABLE ECR tag, a quota) must not fail a build whose
 * image is already pushed.
 */
function registryCacheArgs(plan: BuildPlan): string[] {
  const ref = plan.registryCache
  if (!ref || (plan.cacheFrom ?? []).length > 0 || (plan.cacheTo ?? []).length > 0) return []
  return [
    '--cache-from',
    `type=registry,ref=${ref}`,
    ...(plan.output === 'push' ? ['--cache-to', registryCacheExport(ref)] : []),
  ]
}

export function registryCacheExport(ref: string): string {
  return `type=registry,ref=${ref},mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true`
}

/** The tag of the default cache in each image's repository; flytekit's tags are 22-character hashes. */
export const REGISTRY_CACHE_TAG = 'buildcache'

/**
 * The `registry-cache` input, read: `auto` (a cache next to each pushed image), `off`, or `template`, where the
 * template's `{registry}` and `{name}` are the image's registry and name.
 */
export type RegistryCacheSetting = { kind: 'auto' } | { kind: 'off' } | { kind: 'template'; template: string }

/**
 * The cache reference of one image (`<registry>/<name>:<tag>`), or undefined when there is none. A template
 * without a tag gets `:buildcache`.
 */
export function registryCacheRef(
  setting: RegistryCacheSetting,
  image: { registry: string; name: string },
): string | undefined {
  if (setting.kind === 'off' || image.registry === '') return undefined
  const template = setting.kind === 'auto' ? '{registry}/{name}' : setting.template
  const ref = template.replaceAll('{registry}', image.registry).replaceAll('{name}', image.name)
  const lastPart = ref.slice(ref.lastIndexOf('/') + 1)
  return lastPart.includes(':') ? ref : `${ref}:${REGISTRY_CACHE_TAG}`
}

/** Whether the plan asks for an attestation (provenance or SBOM) to be attached. */
export function wantsAttestation(value: boolean | string | undefined): boolean {
  const v = attestationValue(value)
  return v !== undefined && v !== 'false' && !/^disabled?$/.test(v)
}

/** Cache exports other than `inline` (which is written into the image itself). */
export function exportsCache(cacheTo: readonly string[] | undefined): boolean {
  return (cacheTo ?? []).some((c) => cacheType(c) !== 'inline')
}

/** `type=registry,ref=...` -> `registry`; a bare `ref` means a registry cache. */
export function cacheType(spec: string): string {
  for (const field of spec.split(',')) {
    const [key, value] = field.split('=', 2)
    if (key?.trim() === 'type' && value !== undefined) return value.trim()
  }
  return spec.includes('=') ? 'unknown' : 'registry'
}

function attestationValue(value: boolean | string | undefined): string | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed
}

function optional(flag: string, value: string | undefined): string[] {
  return value !== undefined && value !== '' ? [flag, value] : []
}

function entries(record: Readonly<Record<string, string>> | undefined): [string, string][] {
  return Object.entries(record ?? {})
}

/** buildx reads `--secret` as one CSV record, so a path containing a comma or quote must be quoted. */
function secretValue(secret: BuildSecret): string {
  const source = 'src' in secret ? `src=${secret.src}` : `env=${secret.env}`
  return [`id=${secret.id}`, source].map(csvField).join(',')
}

function csvField(field: string): string {
  return /[",\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field
}
