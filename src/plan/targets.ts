import { InputError } from '../errors.js'
import type { ImageSpec } from '../spec/model.js'

/**
 * Pure decisions about what to build, before anything runs: which specs (one per registry), in which order
 * (nested base images first), and which flytekit requirement the image gets.
 */

/**
 * The spec itself and every nested base ImageSpec, deepest base first: flytekit builds a base ImageSpec before
 * the image that uses it, and so must we.
 */
export function imageChain(spec: ImageSpec): ImageSpec[] {
  const chain: ImageSpec[] = []
  for (
    let s: ImageSpec | undefined = spec;
    s;
    s = typeof s.base_image === 'object' ? s.base_image : undefined
  ) {
    chain.unshift(s)
  }
  return chain
}

/**
 * One spec per registry of the `registries` input (or just the spec). flytekit hashes the registry, so each
 * registry gets a tag of its own. A nested base spec whose registry equals the top spec's follows it to each
 * registry, so that every region has its base next to it.
 */
export function specsForRegistries(spec: ImageSpec, registries: readonly string[]): ImageSpec[] {
  if (registries.length === 0) return [spec]
  return registries.map((r) => retarget(spec, r.toLowerCase(), spec.registry))
}

function retarget(spec: ImageSpec, registry: string, from: string | undefined): ImageSpec {
  const base = spec.base_image
  const out: ImageSpec = { ...spec, registry }
  if (typeof base === 'object' && base.registry === from) out.base_image = retarget(base, registry, from)
  return out
}

/** The `flytekit-version` input as the requirement the Dockerfile adds (null: add nothing). */
export function flytekitRequirement(input: string): string | null {
  const value = input.trim()
  if (value === '') return 'flytekit'
  if (value.toLowerCase() === 'none') return null
  if (/^\d+(\.\d+)*([a-z]+\d*)?(\.(post|dev)\d+)?$/i.test(value)) return `flytekit==${value}`
  if (/^flytekit\s*([=<>!~]=?|===)/.test(value) || value.startsWith('flytekit[')) return value
  throw new InputError(
    'flytekit-version',
    `'${value}' is not a version; use e.g. 1.16.24, a requirement such as flytekit>=1.16, or none`,
  )
}
