/**
 * The YAML loader does bounded work on any document: random documents full of anchors, aliases of aliases
 * ("billion laughs"), merge keys and deep nesting either load or fail with a SpecError that names file:line,
 * never with a RangeError (stack overflow, string length). The bound is structural, not timed: the loader's own
 * count of nodes repeated through aliases never passes its limit, and what a successful load returns, walked as
 * a tree (every alias expanded, counted here independently of the loader), has at most the nodes written in the
 * document plus that limit, and nests no deeper than the depth limit.
 */
import { describe, expect, test } from '@jest/globals'
import fc from 'fast-check'
import { SpecError } from '../../src/errors.js'
import { PyDict, PyTuple, type PyValue } from '../../src/pyvalues/values.js'
import { loadYaml11, YAML_LIMITS, type LoadStats, type YamlLimits } from '../../src/spec/yaml11.js'

/** A document as a tree; `alias` picks one of the anchors written before it (by index, modulo their count). */
type Tree =
  | { kind: 'scalar'; text: string }
  | { kind: 'alias'; pick: number }
  | { kind: 'merge'; pick: number; own: Tree[] }
  | { kind: 'seq'; items: Tree[]; anchor: boolean }
  | { kind: 'map'; values: Tree[]; anchor: boolean }
  | { kind: 'nest'; levels: number; inner: Tree }

const scalarText = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/),
  fc.constantFrom('1', '3.10', 'yes', '~', '"q u"', "'s'", '2024-01-31', '=', '<<'),
)

const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 3, arbitrary: scalarText.map((text) => ({ kind: 'scalar' as const, text })) },
    { weight: 3, arbitrary: fc.nat().map((pick) => ({ kind: 'alias' as const, pick })) },
    fc.record({
      kind: fc.constant('merge' as const),
      pick: fc.nat(),
      own: fc.array(tie('tree'), { maxLength: 3 }),
    }),
    fc.record({
      kind: fc.constant('seq' as const),
      items: fc.array(tie('tree'), { maxLength: 12 }),
      anchor: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('map' as const),
      values: fc.array(tie('tree'), { maxLength: 6 }),
      anchor: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('nest' as const),
      levels: fc.integer({ min: 1, max: 400 }),
      inner: tie('tree'),
    }),
  ),
}))

interface Rendered {
  text: string
  /** Nodes written in the text (scalars, lists, mappings, keys); aliases not counted. */
  literalNodes: number
}

/** Flow-style YAML for a list of top-level trees, one `kN:` key each. */
function render(trees: Tree[]): Rendered {
  const anchors: string[] = []
  let literalNodes = 1
  const out = (t: Tree): string => {
    switch (t.kind) {
      case 'scalar':
        literalNodes++
        return t.text
      case 'alias':
        if (anchors.length === 0) {
          literalNodes++
          return 'x'
        }
        return `*${anchors[t.pick % anchors.length]}`
      case 'merge': {
        literalNodes += 2 // the mapping and its << key
        const source = anchors.length === 0 ? '{m: 1}' : `*${anchors[t.pick % anchors.length]}`
        if (anchors.length === 0) literalNodes += 3
        const own = t.own.map((v, i) => {
          literalNodes++
          return `o${i}: ${out(v)}`
        })
        return `{<<: ${source}${own.map((p) => `, ${p}`).join('')}}`
      }
      case 'seq': {
        literalNodes++
        const anchor = t.anchor ? `&a${anchors.length} ` : ''
        const body = `[${t.items.map(out).join(', ')}]`
        // Registered after its items: an alias inside would be recursive, which is tested separately.
        if (t.anchor) anchors.push(anchor.slice(1, -1))
        return `${anchor}${body}`
      }
      case 'map': {
        literalNodes++
        const anchor = t.anchor ? `&a${anchors.length} ` : ''
        const body = `{${t.values.map((v, i) => `k${i}: ${out(v)}`).join(', ')}}`
        literalNodes += t.values.length
        if (t.anchor) anchors.push(anchor.slice(1, -1))
        return `${anchor}${body}`
      }
      case 'nest':
        literalNodes += t.levels
        return `${'['.repeat(t.levels)}${out(t.inner)}${']'.repeat(t.levels)}`
    }
  }
  const lines = trees.map((t, i) => {
    literalNodes++
    return `k${i}: ${out(t)}`
  })
  return { text: `${lines.join('\n')}\n`, literalNodes }
}

/** `levels` anchors, each a list of `fanout` aliases of the one before: fanout^levels nodes as a tree. */
const bomb = fc
  .record({ levels: fc.integer({ min: 1, max: 12 }), fanout: fc.integer({ min: 1, max: 12 }) })
  .map(({ levels, fanout }): Rendered => {
    const lines = [`a0: &a0 [${Array(fanout).fill('x').join(', ')}]`]
    for (let i = 1; i <= levels; i++)
      lines.push(
        `a${i}: &a${i} [${Array(fanout)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      )
    return { text: `${lines.join('\n')}\n`, literalNodes: 1 + 2 * (levels + 1) + fanout }
  })

/** Block mappings nested `levels` deep, each level indented one more space. */
const blockNest = fc.integer({ min: 1, max: 600 }).map((levels): Rendered => ({
  text: `${Array.from({ length: levels }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} leaf\n`,
  literalNodes: 1 + 2 * levels,
}))

const limits: fc.Arbitrary<YamlLimits> = fc.oneof(
  fc.constant(YAML_LIMITS),
  fc.record({ aliasNodes: fc.integer({ min: 0, max: 2000 }), depth: fc.integer({ min: 1, max: 60 }) }),
)

/** The value as a tree, every shared object counted again; stops counting past `budget`. */
function measure(value: PyValue, budget: number): { nodes: number; depth: number } {
  let nodes = 0
  let deepest = 0
  const stack: [PyValue, number][] = [[value, 0]]
  while (stack.length > 0 && nodes <= budget) {
    const [v, depth] = stack.pop() as [PyValue, number]
    nodes++
    const children: PyValue[] | undefined = Array.isArray(v)
      ? v
      : v instanceof PyDict
        ? [...v].flat()
        : v instanceof PyTuple
          ? // A !!pairs / !!omap entry: the tuple stands for the one-entry mapping it came from.
            v.items
          : undefined
    if (children === undefined) continue
    deepest = Math.max(deepest, depth + 1)
    for (const c of children) stack.push([c, depth + 1])
  }
  return { nodes, depth: deepest }
}

function checkLoad(doc: Rendered, lim: YamlLimits): void {
  const stats: LoadStats = { aliasNodes: 0, depth: 0 }
  let value: PyValue
  try {
    value = loadYaml11(doc.text, 'hostile.yaml', { limits: lim, stats }).value
  } catch (err) {
    // Not a RangeError or anything else: a SpecError naming the file and line.
    expect(err).toBeInstanceOf(SpecError)
    for (const issue of (err as SpecError).issues) expect(issue.location).toMatch(/^hostile\.yaml:\d+$/)
    expect(stats.aliasNodes).toBeLessThanOrEqual(lim.aliasNodes)
    expect(stats.depth).toBeLessThanOrEqual(lim.depth)
    return
  }
  expect(stats.aliasNodes).toBeLessThanOrEqual(lim.aliasNodes)
  expect(stats.depth).toBeLessThanOrEqual(lim.depth)
  const bound = doc.literalNodes + lim.aliasNodes
  const tree = measure(value, bound)
  expect(tree.nodes).toBeLessThanOrEqual(bound)
  expect(tree.depth).toBeLessThanOrEqual(lim.depth)
}

describe('hostile YAML is loaded with bounded work', () => {
  test('random anchors, aliases, merges and nesting', () => {
    fc.assert(
      fc.property(fc.array(tree, { minLength: 1, maxLength: 6 }), limits, (trees, lim) => {
        checkLoad(render(trees), lim)
      }),
      { numRuns: 300 },
    )
  })

  test('aliases of aliases ("billion laughs")', () => {
    fc.assert(
      fc.property(bomb, limits, (doc, lim) => checkLoad(doc, lim)),
      { numRuns: 200 },
    )
  })

  test('deep block nesting', () => {
    fc.assert(
      fc.property(blockNest, limits, (doc, lim) => checkLoad(doc, lim)),
      { numRuns: 50 },
    )
  })

  test('deep flow nesting', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5_000 }), (levels) => {
        checkLoad(
          { text: `k: ${'['.repeat(levels)}${']'.repeat(levels)}\n`, literalNodes: 2 + levels },
          YAML_LIMITS,
        )
      }),
      { numRuns: 20 },
    )
  })
})
