import type { BuildPlan, BuildSecret } from './buildx-args.js'
import { InputError } from '../errors.js'

/**
 * The parts of the buildx plan that come straight from action inputs (pure: input values in, plan values out).
 */
export interface BuildxInputs {
  network: string
  buildArgs: string[]
  secrets: string[]
  builder: string
  cacheFrom: string[]
  cacheTo: string[]
  provenance: string
  sbom: string
  labels: string[]
  noCache: boolean
}

/** `KEY=VALUE` lines into a record; `input` names the input in the error. */
export function keyValues(lines: string[], input: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of lines) {
    const eq = line.indexOf('=')
    if (eq <= 0) throw new InputError(input, `'${line}' is not KEY=VALUE; write one per line`)
    out[line.slice(0, eq).trim()] = line.slice(eq + 1)
  }
  return out
}

/** buildx `--secret` syntax (`id=x,src=path` or `id=x,env=VAR`) into a BuildSecret. */
export function parseSecret(text: string): BuildSecret {
  const fields = new Map(
    text.split(',').map((part) => {
      const eq = part.indexOf('=')
      return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()] as const
    }),
  )
  const id = fields.get('id')
  const src = fields.get('src') ?? fields.get('source')
  const env = fields.get('env')
  if (!id || (!src && !env)) {
    throw new InputError(
      'secrets',
      `'${text.split(',')[0]}…' is not a buildx secret; write id=NAME,src=FILE or id=NAME,env=VARIABLE`,
    )
  }
  return src ? { id, src } : { id, env: env as string }
}

export function buildPlanDefaults(
  inputs: BuildxInputs,
  labels: Record<string, string>,
): Omit<BuildPlan, 'context' | 'dockerfile' | 'tags' | 'platforms' | 'output' | 'metadataFile'> {
  return {
    labels: { ...labels, ...keyValues(inputs.labels, 'labels') },
    ...(inputs.network ? { network: inputs.network } : {}),
    buildArgs: keyValues(inputs.buildArgs, 'build-args'),
    secrets: inputs.secrets.map(parseSecret),
    ...(inputs.builder ? { builder: inputs.builder } : {}),
    cacheFrom: inputs.cacheFrom,
    cacheTo: inputs.cacheTo,
    provenance: inputs.provenance,
    sbom: inputs.sbom,
    noCache: inputs.noCache,
  }
}
