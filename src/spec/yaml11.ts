/**
 * `yaml.safe_load` as PyYAML does it, with line numbers. flytekit reads a YAML ImageSpec with PyYAML
 * (YAML 1.1), and every value it produces is hashed into the tag, so this loader must give the same Python
 * values: `3.10` is the float 3.1, `on` is True, `1e5` is a string, `2024-01-31` a date.
 *
 * The `yaml` package does the syntax (indentation, quoting, escapes, anchors, line positions). It runs with
 * the failsafe schema so every scalar stays a string; the tags and values are then worked out here with
 * PyYAML's own resolver regexes and SafeConstructor rules (see yaml11-scalars.ts), including its merge-key
 * (`<<`) and duplicate-key behaviour.
 */
import {
  Composer,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  Parser,
  visit,
  CST,
  type Document,
  type Node as AstNode,
  type Scalar,
} from 'yaml'
import { SpecError, type SpecIssue } from '../errors.js'
import { pyRepr } from '../pyvalues/repr.js'
import { PyDate, PyDateTime, PyDict, PyTuple, type PyValue } from '../pyvalues/values.js'
import { constructScalar, resolveImplicit, ScalarError, TAGS, YAML_TAG_PREFIX } from './yaml11-scalars.js'

export interface YamlDoc {
  value: PyValue
  /** `source:line` of the value at a path of mapping keys and list indexes, if there is one. */
  locate(path: (string | number)[]): string | undefined
  warnings: string[]
}

/**
 * Bounds on the work a file can ask for. PyYAML shares an aliased node instead of copying it, but everything
 * after loading (flytekit's repr for the tag, the spec file written back, the Dockerfile) walks the value as a
 * tree, so nine levels of nine aliases each ("billion laughs") are 387 million nodes there. Nesting is bounded
 * because each level is stack frames in every parser and walker: the `yaml` package's composer overflows below
 * 900 levels of brackets, PyYAML (and so flytekit) below 500, so 200 refuses nothing flytekit can read.
 */
export interface YamlLimits {
  /** Nodes that aliases may repeat, in total: each alias counts every node of what it refers to. */
  aliasNodes: number
  /** Levels of nested lists and mappings, counted through aliases. */
  depth: number
}

export const YAML_LIMITS: YamlLimits = { aliasNodes: 10_000, depth: 200 }

/** What one load counted, for callers (and tests) that check the bounds held. */
export interface LoadStats {
  /** Nodes repeated through aliases so far; never more than the limit. */
  aliasNodes: number
  /** The deepest nesting composed so far, aliases included. */
  depth: number
}

export interface LoadOptions {
  limits?: Partial<YamlLimits>
  /** Filled in as the load goes, also when it fails. */
  stats?: LoadStats
}

export function loadYaml11(text: string, source: string, options: LoadOptions = {}): YamlDoc {
  // PyYAML skips a byte order mark at the start of the stream.
  const body = text.startsWith('\ufeff') ? text.slice(1) : text
  checkCharacters(body, source)
  const limits = { ...YAML_LIMITS, ...options.limits }
  const lines = new LineCounter()
  const tokens = [...new Parser(lines.addNewLine).parse(body)]
  checkStream(tokens, source, lines, limits)
  const doc = composeDocument(tokens, body.length)
  throwSyntaxErrors(doc, source, lines)
  rejectStrayTabs(body, doc, source)
  const stats = options.stats ?? { aliasNodes: 0, depth: 0 }
  const ctx: Context = { source, lines, anchors: new Map(), warnings: [], limits, stats }
  if (doc.contents === null) return { value: null, locate: () => undefined, warnings: [] }
  const root = compose(doc.contents as AstNode, ctx, [], 0)
  const built = new Constructor(ctx).construct(root, [])
  return {
    value: built.value,
    locate: (p) => locate(built.loc, p, source),
    warnings: ctx.warnings,
  }
}

/** What parseDocument does with the tokens, once checkStream has made sure there is one document, not too deep. */
function composeDocument(tokens: CST.Token[], length: number): Document.Parsed {
  const composer = new Composer({
    version: '1.1',
    schema: 'failsafe',
    merge: false,
    uniqueKeys: false,
    prettyErrors: false,
  })
  const [doc] = composer.compose(tokens, true, length)
  return doc as Document.Parsed
}

// ---------------------------------------------------------------------------------------------- reading

/**
 * PyYAML's Reader refuses control characters outright, and treats NEL, LINE SEPARATOR and PARAGRAPH
 * SEPARATOR as line breaks where YAML 1.2 parsers do not. Refusing all of them keeps the two readings equal.
 */
function checkCharacters(text: string, source: string): void {
  const bad = /[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u.exec(text)
  if (!bad) return
  const cp = (bad[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')
  const line = lineOf(text, bad.index)
  const breakLike = ['0085', '2028', '2029'].includes(cp)
  const message = breakLike
    ? `the character U+${cp} is a line break in YAML 1.1 but not in YAML 1.2; write it as an escape ("\\N", "\\L", "\\P") in a double-quoted string`
    : `the character U+${cp} is not allowed in a YAML 1.1 file; write it as an escape in a double-quoted string`
  throw new SpecError([{ path: 'spec', location: `${source}:${line}`, message }])
}

function lineOf(text: string, offset: number): number {
  let line = 1
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++
  return line
}

/**
 * Checks on the token tree, before anything recurses through it: one document only (yaml.safe_load raises
 * "expected a single document in the stream"), and no deeper than the limit. The walk keeps its own stack.
 */
function checkStream(tokens: CST.Token[], source: string, lines: LineCounter, limits: YamlLimits): void {
  const docs = tokens.filter((t): t is CST.Document => t.type === 'document')
  const second = docs[1]
  if (second) {
    const marker = second.start.find((t) => t.type === 'doc-start')
    const line = lines.linePos(marker?.offset ?? second.offset).line
    const starts = marker
      ? `a '---' on line ${line} starts a second one`
      : `a second one starts on line ${line}`
    const message =
      `the file holds more than one YAML document (${starts}); flytekit reads it with yaml.safe_load, which ` +
      "accepts a single document: keep one ImageSpec per file (a base image's own spec goes under base_image:) " +
      `or remove the '---' and what follows`
    throw new SpecError([{ path: 'spec', location: `${source}:${line}`, message }])
  }
  const tooDeep = firstTooDeep(docs, limits.depth)
  if (tooDeep !== undefined) {
    const line = lines.linePos(tooDeep).line
    throw new SpecError([
      { path: 'spec', location: `${source}:${line}`, message: tooDeepMessage(limits.depth) },
    ])
  }
}

function tooDeepMessage(limit: number): string {
  return `lists and mappings are nested more than ${limit} levels deep here; an ImageSpec needs a few levels, so this is a mistake (or a file made to exhaust the parser): remove the extra nesting`
}

/** The offset of the first list or mapping nested deeper than `limit`, if any. */
function firstTooDeep(docs: CST.Document[], limit: number): number | undefined {
  const stack: [CST.Token, number][] = docs.map((d): [CST.Token, number] => [d, 0]).reverse()
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [token, depth] = next
    const level = CST.isCollection(token) ? depth + 1 : depth
    if (level > limit) return token.offset
    // Pushed last-first, so that tokens are visited in document order and the first one found is the earliest.
    for (const child of childTokens(token).reverse()) stack.push([child, level])
  }
  return undefined
}

function childTokens(token: CST.Token): CST.Token[] {
  switch (token.type) {
    case 'document':
      return token.value ? [token.value] : []
    case 'block-map':
    case 'block-seq':
    case 'flow-collection':
      return (token.items as CST.CollectionItem[]).flatMap((item) =>
        [item.key, item.value].filter((t): t is CST.Token => t !== undefined && t !== null),
      )
    default:
      return []
  }
}

function throwSyntaxErrors(doc: Document, source: string, lines: LineCounter): void {
  if (doc.errors.length === 0) return
  // The parser often reports one mistake several times over (once per token it could not place): keep the first
  // per line, and say how to fix what is typically wrong.
  const seen = new Set<number>()
  const issues: SpecIssue[] = []
  for (const e of doc.errors) {
    const line = lines.linePos(e.pos[0]).line
    if (seen.has(line)) continue
    seen.add(line)
    issues.push({
      path: 'spec',
      location: `${source}:${line}`,
      message:
        `YAML syntax error: ${e.message.split('\n')[0]}; check the indentation of this line and the one before ` +
        '(items of a list at one indentation, each key followed by a colon and a space), and that quotes and brackets close',
    })
  }
  throw new SpecError(issues)
}

/**
 * PyYAML only skips spaces between tokens: a tab anywhere outside a quoted scalar, a block scalar or a
 * comment is a ScannerError there ("found character '\t' that cannot start any token"), even where YAML
 * 1.2 parsers allow it (`a: b<TAB>`).
 */
function rejectStrayTabs(text: string, doc: Document, source: string): void {
  if (!text.includes('\t')) return
  // One flag per character, so that the scan stays linear however many scalars the file has.
  const quoted = new Uint8Array(text.length)
  visit(doc, {
    Scalar(_, node) {
      if (node.type !== 'PLAIN' && node.range) quoted.fill(1, node.range[0], node.range[1])
    },
  })
  const offset = strayTabOffset(text, (i) => quoted[i] === 1)
  if (offset === undefined) return
  const message =
    'a tab is only allowed inside quotes, block scalars (| or >) and comments in YAML 1.1 (PyYAML); use spaces'
  throw new SpecError([{ path: 'spec', location: `${source}:${lineOf(text, offset)}`, message }])
}

/** The first tab outside quoted/block scalars and outside comments (a '#' after whitespace or at line start). */
function strayTabOffset(text: string, inScalar: (i: number) => boolean): number | undefined {
  let inComment = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (ch === '\n') inComment = false
    else if (inComment || inScalar(i)) continue
    else if (ch === '#' && (i === 0 || /[ \n\r]/.test(text[i - 1] as string))) inComment = true
    else if (ch === '\t') return i
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------- composing

/** The node graph PyYAML's Composer builds: tags resolved, aliases pointing at their anchored node. */
type GNode = ScalarNode | SeqNode | MapNode

/**
 * The size of a node as a tree, aliases expanded: `size` counts its nodes, `depth` its levels of lists and
 * mappings. Both are set once the node is composed, so an alias to a node without them is inside that node.
 */
interface Measure {
  size?: number
  depth?: number
}

interface ScalarNode extends Measure {
  kind: 'scalar'
  tag: string
  value: string
  line: number
}

interface SeqNode extends Measure {
  kind: 'seq'
  tag: string
  items: Ref[]
  line: number
}

interface MapNode extends Measure {
  kind: 'map'
  tag: string
  pairs: [Ref, Ref][]
  line: number
}

/** One use of a node: where it appears (an alias's own line) and the node itself. */
interface Ref {
  node: GNode
  line: number
}

interface Context {
  source: string
  lines: LineCounter
  anchors: Map<string, GNode>
  warnings: string[]
  limits: YamlLimits
  stats: LoadStats
}

type Path = (string | number | PyValue)[]

function fail(ctx: Context, line: number, path: Path, message: string): never {
  throw new SpecError([{ path: formatPath(path), location: `${ctx.source}:${line}`, message }])
}

function lineAt(ctx: Context, offset: number | undefined): number {
  return ctx.lines.linePos(offset ?? 0).line
}

/**
 * Composer.compose_node: anchors are registered before the children, so a later alias sees them. `level` is
 * the number of lists and mappings around the node, aliases expanded.
 */
function compose(ast: AstNode, ctx: Context, path: Path, level: number): Ref {
  const line = lineAt(ctx, ast.range?.[0])
  if (isAlias(ast)) {
    const target = ctx.anchors.get(ast.source)
    if (!target)
      fail(
        ctx,
        line,
        path,
        `the alias *${ast.source} has no anchor &${ast.source} before it; define &${ast.source} on the value it should repeat, above this line, or write the value out`,
      )
    countAlias(ctx, ast.source, target, { line, path, level })
    return { node: target, line }
  }
  const anchor = ast.anchor
  if (anchor !== undefined && ctx.anchors.has(anchor)) {
    fail(ctx, line, path, `the anchor &${anchor} is defined twice, which PyYAML rejects`)
  }
  const node = composeNode(ast, ctx, path, line, level, anchor)
  return { node, line }
}

/**
 * Where aliases are expanded, as far as the bounds go: each alias adds the size of what it refers to, checked
 * before it is added, so the count never passes the limit; and the nesting it brings must stay within the depth.
 */
function countAlias(
  ctx: Context,
  name: string,
  target: GNode,
  at: { line: number; path: Path; level: number },
) {
  if (target.size === undefined || target.depth === undefined) {
    fail(
      ctx,
      at.line,
      at.path,
      'an alias refers to a node that contains it; recursive structures are not supported',
    )
  }
  const total = ctx.stats.aliasNodes + target.size
  if (total > ctx.limits.aliasNodes) {
    fail(
      ctx,
      at.line,
      at.path,
      `the alias *${name} repeats ${target.size} nodes, which takes this file past ${ctx.limits.aliasNodes} nodes repeated through aliases; every copy is hashed and written out, so this is a mistake or a file made to exhaust memory (aliases of aliases multiply): use fewer aliases or anchor smaller parts`,
    )
  }
  const depth = at.level + target.depth
  if (depth > ctx.limits.depth)
    fail(ctx, at.line, at.path, `through the alias *${name}, ${tooDeepMessage(ctx.limits.depth)}`)
  ctx.stats.aliasNodes = total
  ctx.stats.depth = Math.max(ctx.stats.depth, depth)
}

function composeNode(
  ast: AstNode,
  ctx: Context,
  path: Path,
  line: number,
  level: number,
  anchor?: string,
): GNode {
  if (isScalar(ast)) {
    const node = scalarNode(ast, line)
    if (anchor !== undefined) ctx.anchors.set(anchor, node)
    return node
  }
  if (level + 1 > ctx.limits.depth) fail(ctx, line, path, tooDeepMessage(ctx.limits.depth))
  ctx.stats.depth = Math.max(ctx.stats.depth, level + 1)
  if (isSeq(ast)) {
    const node: SeqNode = { kind: 'seq', tag: collectionTag(ast.tag, TAGS.seq), items: [], line }
    if (anchor !== undefined) ctx.anchors.set(anchor, node)
    ast.items.forEach((item, i) =>
      node.items.push(composeChild(item as AstNode | null, ctx, [...path, i], line, level + 1)),
    )
    return measured(node, node.items)
  }
  if (isMap(ast)) {
    const node: MapNode = { kind: 'map', tag: collectionTag(ast.tag, TAGS.map), pairs: [], line }
    if (anchor !== undefined) ctx.anchors.set(anchor, node)
    for (const pair of ast.items) {
      if (!isPair(pair)) continue
      const key = composeChild(pair.key as AstNode | null, ctx, path, line, level + 1)
      const keyPath = [...path, key.node.kind === 'scalar' ? key.node.value : '?']
      node.pairs.push([key, composeChild(pair.value as AstNode | null, ctx, keyPath, key.line, level + 1)])
    }
    return measured(node, node.pairs.flat())
  }
  fail(ctx, line, path, 'unsupported YAML node')
}

/** Sets a collection's measure from its children's, now that all of them are composed. */
function measured<N extends SeqNode | MapNode>(node: N, children: Ref[]): N {
  node.size = 1 + children.reduce((sum, c) => sum + (c.node.size ?? 0), 0)
  node.depth = 1 + children.reduce((deepest, c) => Math.max(deepest, c.node.depth ?? 0), 0)
  return node
}

/** A missing key or value (`? a`, `a:` in a flow mapping) is an empty plain scalar, i.e. null. */
function composeChild(
  ast: AstNode | null,
  ctx: Context,
  path: Path,
  fallbackLine: number,
  level: number,
): Ref {
  if (ast === null) {
    const empty: ScalarNode = {
      kind: 'scalar',
      tag: TAGS.null,
      value: '',
      line: fallbackLine,
      size: 1,
      depth: 0,
    }
    return { node: empty, line: fallbackLine }
  }
  return compose(ast, ctx, path, level)
}

/**
 * The parser marks plain scalars, and any scalar tagged with the non-specific `!`, as implicit; only those
 * go through the resolver. Quoted and block scalars without a tag are strings.
 */
function scalarNode(ast: Scalar, line: number): ScalarNode {
  const value = String(ast.value ?? '')
  let tag: string
  if (ast.tag === '!' || (ast.tag === undefined && ast.type === 'PLAIN')) tag = resolveImplicit(value)
  else tag = ast.tag ?? TAGS.str
  return { kind: 'scalar', tag, value, line, size: 1, depth: 0 }
}

function collectionTag(tag: string | undefined, fallback: string): string {
  return tag === undefined || tag === '!' ? fallback : tag
}

// ---------------------------------------------------------------------------------------------- constructing

/** Where each value came from, shaped like the value: list items by index, mapping values by key. */
interface Loc {
  line: number
  items?: Loc[]
  entries?: [PyValue, Loc][]
}

interface Built {
  value: PyValue
  loc: Loc
}

/** SafeConstructor.construct_document, for the tags safe_load knows and this action can hash. */
class Constructor {
  private readonly done = new Map<GNode, Built>()
  private readonly inProgress = new Set<GNode>()

  constructor(private readonly ctx: Context) {}

  construct(ref: Ref, path: Path): Built {
    const cached = this.done.get(ref.node)
    // A node used again through an alias is the same Python object; only its position differs.
    if (cached) return { value: cached.value, loc: { ...cached.loc, line: ref.line } }
    if (this.inProgress.has(ref.node)) {
      fail(
        this.ctx,
        ref.line,
        path,
        'an alias refers to a node that contains it; recursive structures are not supported',
      )
    }
    this.inProgress.add(ref.node)
    const built = this.constructNode(ref.node, path)
    this.inProgress.delete(ref.node)
    this.done.set(ref.node, built)
    return { value: built.value, loc: { ...built.loc, line: ref.line } }
  }

  private constructNode(node: GNode, path: Path): Built {
    switch (node.tag) {
      case TAGS.seq:
        return this.sequence(this.expectKind(node, 'seq', path), path)
      case TAGS.map:
        return this.mapping(this.expectKind(node, 'map', path), path)
      case TAGS.omap:
      case TAGS.pairs:
        return this.pairs(this.expectKind(node, 'seq', path), path)
      case TAGS.set:
        return fail(
          this.ctx,
          node.line,
          path,
          'a !!set is a Python set, whose order is not reproducible; use a list',
        )
      case TAGS.binary:
        return fail(
          this.ctx,
          node.line,
          path,
          'a !!binary value (Python bytes) cannot be used in an ImageSpec',
        )
      default:
        return this.scalar(node, path)
    }
  }

  private expectKind<K extends GNode['kind']>(node: GNode, kind: K, path: Path): Extract<GNode, { kind: K }> {
    if (node.kind !== kind) {
      const want = kind === 'seq' ? 'a sequence' : 'a mapping'
      fail(
        this.ctx,
        node.line,
        path,
        `the tag ${shortTag(node.tag)} needs ${want}, but the node is ${describe(node)}`,
      )
    }
    return node as Extract<GNode, { kind: K }>
  }

  private scalar(node: GNode, path: Path): Built {
    const text = this.scalarText(node, path)
    let value: PyValue | undefined
    try {
      value = constructScalar(node.tag, text)
    } catch (e) {
      if (e instanceof ScalarError)
        fail(this.ctx, node.line, path, `${e.message} (tag ${shortTag(node.tag)})`)
      throw e
    }
    if (value === undefined) fail(this.ctx, node.line, path, unknownTagMessage(node.tag))
    return { value, loc: { line: node.line } }
  }

  /** SafeConstructor.construct_scalar: a mapping stands for its `=` key's value; a sequence is an error. */
  private scalarText(node: GNode, path: Path): string {
    if (node.kind === 'scalar') return node.value
    if (node.kind === 'map') {
      const valuePair = node.pairs.find(([k]) => k.node.tag === TAGS.value)
      if (valuePair) return this.scalarText(valuePair[1].node, path)
    }
    if (!knownScalarTag(node.tag)) fail(this.ctx, node.line, path, unknownTagMessage(node.tag))
    return fail(
      this.ctx,
      node.line,
      path,
      `the tag ${shortTag(node.tag)} needs a scalar, but the node is ${describe(node)}`,
    )
  }

  private sequence(node: SeqNode, path: Path): Built {
    const built = node.items.map((item, i) => this.construct(item, [...path, i]))
    return { value: built.map((b) => b.value), loc: { line: node.line, items: built.map((b) => b.loc) } }
  }

  /** construct_yaml_omap / construct_yaml_pairs: a list of one-entry mappings becomes a list of tuples. */
  private pairs(node: SeqNode, path: Path): Built {
    const values: PyValue[] = []
    const items: Loc[] = []
    node.items.forEach((item, i) => {
      const entry = item.node
      if (entry.kind !== 'map' || entry.pairs.length !== 1) {
        fail(this.ctx, item.line, [...path, i], `${shortTag(node.tag)} needs a list of single-entry mappings`)
      }
      const [k, v] = entry.pairs[0] as [Ref, Ref]
      const key = this.construct(k, [...path, i])
      const value = this.construct(v, [...path, i])
      values.push(new PyTuple([key.value, value.value]))
      items.push({ line: item.line, items: [key.loc, value.loc] })
    })
    return { value: values, loc: { line: node.line, items } }
  }

  /**
   * construct_mapping after flatten_mapping: merged pairs go first, the mapping's own pairs after them, and
   * a repeated key keeps its first position but takes the last value (Python dict assignment). Keys are
   * compared as Python compares them, so `1`, `1.0` and `true` are the same key.
   */
  private mapping(node: MapNode, path: Path): Built {
    const pairs = this.flatten(node, path)
    const entries: { key: PyValue; value: PyValue; loc: Loc; own: boolean; line: number }[] = []
    const index = new Map<string, number>()
    for (const { key: k, value: v, own } of pairs) {
      const key = this.construct(k, path).value
      const hashKey = this.hashKey(key, k, path)
      const built = this.construct(v, [...path, key])
      const at = index.get(hashKey)
      if (at === undefined) {
        index.set(hashKey, entries.length)
        entries.push({ key, value: built.value, loc: built.loc, own, line: k.line })
        continue
      }
      const first = entries[at] as (typeof entries)[number]
      if (own && first.own) this.warnDuplicate(path, first.key, first.line, k.line)
      entries[at] = { ...first, value: built.value, loc: built.loc, own: first.own || own }
    }
    const dict = new PyDict(entries.map((e) => [e.key, e.value]))
    return { value: dict, loc: { line: node.line, entries: entries.map((e) => [e.key, e.loc]) } }
  }

  /**
   * SafeConstructor.flatten_mapping: each `<<` value (a mapping, or a list of mappings taken last-first) is
   * flattened itself and its pairs are put in front of the mapping's own pairs; `=` keys become strings.
   */
  private flatten(node: MapNode, path: Path): { key: Ref; value: Ref; own: boolean }[] {
    const merged: { key: Ref; value: Ref; own: boolean }[] = []
    const own: { key: Ref; value: Ref; own: boolean }[] = []
    for (const [key, value] of node.pairs) {
      if (key.node.tag !== TAGS.merge) {
        own.push({ key: key.node.tag === TAGS.value ? asStrKey(key) : key, value, own: true })
        continue
      }
      const source = value.node
      if (source.kind === 'map') {
        merged.push(...this.flatten(source, path).map((p) => ({ ...p, own: false })))
      } else if (source.kind === 'seq') {
        const parts = source.items.map((item) => {
          if (item.node.kind !== 'map')
            fail(this.ctx, item.line, path, 'a << merge list may only hold mappings')
          return this.flatten(item.node, path).map((p) => ({ ...p, own: false }))
        })
        for (const part of parts.reverse()) merged.push(...part)
      } else {
        fail(this.ctx, value.line, path, 'a << merge key needs a mapping or a list of mappings')
      }
    }
    return [...merged, ...own]
  }

  /** Python's dict key equality: hashable values only; bool, int and integral float share a key. */
  private hashKey(key: PyValue, ref: Ref, path: Path): string {
    if (key === null) return 'None'
    if (typeof key === 'boolean') return `i${key ? 1 : 0}`
    if (typeof key === 'bigint') return `i${key}`
    if (typeof key === 'number') {
      if (Number.isInteger(key)) return `i${BigInt(key)}`
      return `f${Number.isNaN(key) ? 'nan' : key}`
    }
    if (typeof key === 'string') return `s${key}`
    // Equal datetimes with different offsets are equal keys in Python; the repr is close enough for a YAML key.
    if (key instanceof PyDate || key instanceof PyDateTime) return `d${pyRepr(key)}`
    return fail(
      this.ctx,
      ref.line,
      path,
      `a ${describe(ref.node)} cannot be a mapping key (Python: unhashable)`,
    )
  }

  private warnDuplicate(path: Path, key: PyValue, firstLine: number, line: number): void {
    const where = path.length > 0 ? ` in ${formatPath(path)}` : ''
    this.ctx.warnings.push(
      `${this.ctx.source}:${line}: the key ${pyRepr(key)}${where} is repeated (first on line ${firstLine}); ` +
        'as with PyYAML, the last value is used at the first position',
    )
  }
}

/** flatten_mapping turns a `=` key (the YAML 1.1 value key) into the plain string '='. */
function asStrKey(key: Ref): Ref {
  return { ...key, node: { ...key.node, tag: TAGS.str } as GNode }
}

function knownScalarTag(tag: string): boolean {
  return [TAGS.str, TAGS.null, TAGS.bool, TAGS.int, TAGS.float, TAGS.timestamp].includes(tag as never)
}

function unknownTagMessage(tag: string): string {
  return `yaml.safe_load has no constructor for the tag ${shortTag(tag)}; remove the tag or quote the value`
}

function shortTag(tag: string): string {
  return tag.startsWith(YAML_TAG_PREFIX) ? `!!${tag.slice(YAML_TAG_PREFIX.length)}` : tag
}

function describe(node: GNode): string {
  return node.kind === 'scalar' ? 'a scalar' : node.kind === 'seq' ? 'a sequence' : 'a mapping'
}

// ---------------------------------------------------------------------------------------------- paths

/** `env.FOO`, `packages[2]`, `builder_options[1]` (a non-string key shows as its repr). */
function formatPath(path: Path): string {
  if (path.length === 0) return 'spec'
  // A path deep enough to hit the nesting limit is shown by its start; the line says where it is.
  const shown = path.length > 12 ? path.slice(0, 12) : path
  const suffix = path.length > 12 ? '…' : ''
  return (
    shown
      .map((k, i) => {
        if (typeof k === 'number') return `[${k}]`
        if (typeof k === 'string') return i === 0 ? k : `.${k}`
        return `[${pyRepr(k)}]`
      })
      .join('') + suffix
  )
}

function locate(loc: Loc, path: (string | number)[], source: string): string | undefined {
  let at: Loc | undefined = loc
  for (const step of path) {
    at = at ? child(at, step) : undefined
  }
  return at ? `${source}:${at.line}` : undefined
}

function child(loc: Loc, step: string | number): Loc | undefined {
  if (loc.items && typeof step === 'number') return loc.items[step]
  if (!loc.entries) return undefined
  const found = loc.entries.find(([k]) => (typeof step === 'number' ? k === BigInt(step) : k === step))
  return found?.[1]
}
