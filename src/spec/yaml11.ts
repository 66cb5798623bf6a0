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
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
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

export function loadYaml11(text: string, source: string): YamlDoc {
  // PyYAML skips a byte order mark at the start of the stream.
  const body = text.startsWith('\ufeff') ? text.slice(1) : text
  checkCharacters(body, source)
  const lines = new LineCounter()
  const doc = parseDocument(body, {
    version: '1.1',
    schema: 'failsafe',
    merge: false,
    uniqueKeys: false,
    prettyErrors: false,
    lineCounter: lines,
  })
  throwSyntaxErrors(doc, source, lines)
  rejectStrayTabs(body, doc, source)
  const ctx: Context = { source, lines, anchors: new Map(), warnings: [] }
  if (doc.contents === null) return { value: null, locate: () => undefined, warnings: [] }
  const root = compose(doc.contents as AstNode, ctx, [])
  const built = new Constructor(ctx).construct(root, [])
  return {
    value: built.value,
    locate: (p) => locate(built.loc, p, source),
    warnings: ctx.warnings,
  }
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

function throwSyntaxErrors(doc: Document, source: string, lines: LineCounter): void {
  if (doc.errors.length === 0) return
  const issues: SpecIssue[] = doc.errors.map((e) => ({
    path: 'spec',
    location: `${source}:${lines.linePos(e.pos[0]).line}`,
    message: `YAML syntax error: ${e.message}`,
  }))
  throw new SpecError(issues)
}

/**
 * PyYAML only skips spaces between tokens: a tab anywhere outside a quoted scalar, a block scalar or a
 * comment is a ScannerError there ("found character '\t' that cannot start any token"), even where YAML
 * 1.2 parsers allow it (`a: b<TAB>`).
 */
function rejectStrayTabs(text: string, doc: Document, source: string): void {
  if (!text.includes('\t')) return
  const quoted: [number, number][] = []
  visit(doc, {
    Scalar(_, node) {
      if (node.type !== 'PLAIN' && node.range) quoted.push([node.range[0], node.range[1]])
    },
  })
  const offset = strayTabOffset(text, (i) => quoted.some(([start, end]) => i >= start && i < end))
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

interface ScalarNode {
  kind: 'scalar'
  tag: string
  value: string
  line: number
}

interface SeqNode {
  kind: 'seq'
  tag: string
  items: Ref[]
  line: number
}

interface MapNode {
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
}

type Path = (string | number | PyValue)[]

function fail(ctx: Context, line: number, path: Path, message: string): never {
  throw new SpecError([{ path: formatPath(path), location: `${ctx.source}:${line}`, message }])
}

function lineAt(ctx: Context, offset: number | undefined): number {
  return ctx.lines.linePos(offset ?? 0).line
}

/** Composer.compose_node: anchors are registered before the children, so a later alias sees them. */
function compose(ast: AstNode, ctx: Context, path: Path): Ref {
  const line = lineAt(ctx, ast.range?.[0])
  if (isAlias(ast)) {
    const target = ctx.anchors.get(ast.source)
    if (!target) fail(ctx, line, path, `the alias *${ast.source} has no anchor &${ast.source} before it`)
    return { node: target, line }
  }
  const anchor = ast.anchor
  if (anchor !== undefined && ctx.anchors.has(anchor)) {
    fail(ctx, line, path, `the anchor &${anchor} is defined twice, which PyYAML rejects`)
  }
  const node = composeNode(ast, ctx, path, line, anchor)
  return { node, line }
}

function composeNode(ast: AstNode, ctx: Context, path: Path, line: number, anchor?: string): GNode {
  if (isScalar(ast)) {
    const node = scalarNode(ast, line)
    if (anchor !== undefined) ctx.anchors.set(anchor, node)
    return node
  }
  if (isSeq(ast)) {
    const node: SeqNode = { kind: 'seq', tag: collectionTag(ast.tag, TAGS.seq), items: [], line }
    if (anchor !== undefined) ctx.anchors.set(anchor, node)
    ast.items.forEach((item, i) =>
      node.items.push(composeChild(item as AstNode | null, ctx, [...path, i], line)),
    )
    return node
  }
  if (isMap(ast)) {
    const node: MapNode = { kind: 'map', tag: collectionTag(ast.tag, TAGS.map), pairs: [], line }
    if (anchor !== undefined) ctx.anchors.set(anchor, node)
    for (const pair of ast.items) {
      if (!isPair(pair)) continue
      const key = composeChild(pair.key as AstNode | null, ctx, path, line)
      const keyPath = [...path, key.node.kind === 'scalar' ? key.node.value : '?']
      node.pairs.push([key, composeChild(pair.value as AstNode | null, ctx, keyPath, key.line)])
    }
    return node
  }
  fail(ctx, line, path, 'unsupported YAML node')
}

/** A missing key or value (`? a`, `a:` in a flow mapping) is an empty plain scalar, i.e. null. */
function composeChild(ast: AstNode | null, ctx: Context, path: Path, fallbackLine: number): Ref {
  if (ast === null)
    return { node: { kind: 'scalar', tag: TAGS.null, value: '', line: fallbackLine }, line: fallbackLine }
  return compose(ast, ctx, path)
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
  return { kind: 'scalar', tag, value, line }
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
  return path
    .map((k, i) => {
      if (typeof k === 'number') return `[${k}]`
      if (typeof k === 'string') return i === 0 ? k : `.${k}`
      return `[${pyRepr(k)}]`
    })
    .join('')
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
