/**
 * The static reader (src/python/reader.py), one construct per row: a small project written into a temporary
 * folder, read by the real `python3` through runReader, and the found specs (their fields as tagged JSON, their
 * locations) or the refusals (file:line:col, a fragment of the message) compared with what Python computes when
 * it imports the project. Every expected value is written out by hand from Python's semantics (and flytekit's
 * ImageSpec: from_env, the with_* helpers, force_push), never copied from the reader's output.
 *
 * Shapes:
 *   - a location is `file:line name` for an assignment, `file:line container_image` or `file:line base_image`;
 *   - a nested base ImageSpec is `{ spec: <its first location> }`;
 *   - the reader's output lists every spec, the nested bases too, sorted by first location.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { NullLogger } from '../../src/log.js'
import { runReader } from '../../src/python/run-reader.js'
import { PyDict, PyEnum, PyTuple } from '../../src/pyvalues/values.js'
import {
  pythonSpecs,
  type Encoded,
  type PyLocation,
  type ReaderOutput,
  type ReaderSpec,
} from '../../src/sources/python.js'
import { TempDirs } from '../support/temp-dirs.js'

const dirs = new TempDirs()
afterAll(() => dirs.removeAll())

/** A Python file's text: raw (backslashes stay), the first newline and the common indentation removed. */
function py(strings: TemplateStringsArray, ...values: unknown[]): string {
  const lines = String.raw(strings, ...values).split('\n')
  if (lines[0]?.trim() === '') lines.shift()
  if (lines.length > 0 && lines[lines.length - 1]?.trim() === '') lines.pop()
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length))
  return lines.map((l) => l.slice(indent)).join('\n') + '\n'
}

/** Tagged JSON as the reader writes it, a nested spec shown by its first location. */
type Shown =
  | null
  | boolean
  | string
  | Shown[]
  | { int: string }
  | { float: string }
  | { tuple: Shown[] }
  | { dict: [Shown, Shown][] }
  | { spec: string }
  | { enum: [string, string, number] }

const int = (digits: string | number): Shown => ({ int: String(digits) })
const float = (repr: string): Shown => ({ float: repr })
const tuple = (...items: Shown[]): Shown => ({ tuple: items })
const dict = (...pairs: [Shown, Shown][]): Shown => ({ dict: pairs })
const copyMode = (name: string, value: number): Shown => ({ enum: ['CopyFileDetection', name, value] })

interface Found {
  fields: Record<string, Shown>
  at: string[]
}

interface Refused {
  /** file:line:col, col 1-based in characters. */
  at: string
  /** A fragment of the message. */
  message: string
  /** The refused expression's source text, when the row checks it. */
  source?: string
}

interface Row {
  name: string
  files: Record<string, string>
  /** Entry files, relative to the reader's cwd (the temporary root). Default: main.py. */
  entries?: string[]
  /** Variables set (a string) or unset (undefined) in the step's environment while the reader runs. */
  env?: Record<string, string | undefined>
  /** Every spec in the reader's output, in its order. Default: none. */
  specs?: Found[]
  /** Every refusal. Default: none. */
  errors?: Refused[]
  /** The project modules read, when the row checks them. */
  modules?: string[]
}

function where(l: PyLocation): string {
  return `${l.file}:${l.line} ${l.kind === 'assignment' ? l.name : l.kind}`
}

function show(value: Encoded, byId: ReadonlyMap<number, ReaderSpec>): Shown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((v) => show(v, byId))
  if ('tuple' in value) return { tuple: value.tuple.map((v) => show(v, byId)) }
  if ('dict' in value) return { dict: value.dict.map(([k, v]) => [show(k, byId), show(v, byId)]) }
  if ('spec' in value) {
    const nested = byId.get(value.spec)
    return { spec: nested ? where(nested.locations[0] as PyLocation) : `missing spec ${value.spec}` }
  }
  return value
}

async function withEnv<T>(env: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const)
  const set = (k: string, v: string | undefined) => {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  for (const [k, v] of Object.entries(env)) set(k, v)
  try {
    return await fn()
  } finally {
    for (const [k, v] of saved) set(k, v)
  }
}

async function read(files: Record<string, string>, entries: string[], env: Row['env'] = {}) {
  const root = await dirs.make('imagespec-reader-')
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true })
    await writeFile(path.join(root, rel), text)
  }
  return withEnv(env, () =>
    runReader({ python: 'python3', cwd: root, workDir: root, entries, logger: new NullLogger() }),
  )
}

function summary(out: ReaderOutput) {
  const byId = new Map(out.specs.map((s) => [s.id, s] as const))
  return {
    specs: out.specs.map((s) => ({
      fields: Object.fromEntries(s.fields.map(([k, v]) => [k, show(v, byId)])),
      at: s.locations.map(where),
    })),
    errors: out.errors.map((e) => ({
      at: `${e.file}:${e.line}:${e.col}`,
      message: e.message,
      source: e.source,
    })),
  }
}

async function check(row: Row): Promise<ReaderOutput> {
  const out = await read(row.files, row.entries ?? ['main.py'], row.env)
  const got = summary(out)
  expect(got.errors).toEqual(
    (row.errors ?? []).map((e) => ({
      at: e.at,
      message: expect.stringContaining(e.message),
      source: e.source ?? expect.any(String),
    })),
  )
  expect(got.specs).toEqual(row.specs ?? [])
  if (row.modules) expect(out.modules).toEqual(row.modules)
  return out
}

/** The interpreter the reader runs on: from_env takes its version and the versions of its packages. */
let PY = ''
let PIN: { name: string; version: string } | undefined
beforeAll(() => {
  const out = execFileSync(
    'python3',
    [
      '-I',
      '-c',
      'import sys, json\n' +
        'from importlib import metadata as m\n' +
        'names = [d.metadata["Name"] for d in m.distributions()]\n' +
        'name = "pip" if "pip" in names else (names[0] if names else None)\n' +
        'print(json.dumps([f"{sys.version_info[0]}.{sys.version_info[1]}", name, m.version(name) if name else None]))',
    ],
    { cwd: tmpdir() },
  )
  const [version, name, pinned] = JSON.parse(out.toString()) as [string, string | null, string | null]
  PY = version
  if (name && pinned) PIN = { name, version: pinned }
})

const IMPORT = 'from flytekit import ImageSpec'

// ---------------------------------------------------------------------------------------------------- values

const values: Row[] = [
  {
    name: 'string forms: implicit concatenation, raw, triple-quoted, \\N{...}, \\x and \\u escapes',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        img = ImageSpec(
            name="strings",
            packages=["a" "b", r"c\d", """tri
        ple""", "\N{SNOWMAN}", "\x41\u00e9", 'it''s', f"{'x'}" "y"],
        )
      `,
    },
    specs: [
      {
        fields: { name: 'strings', packages: ['ab', 'c\\d', 'tri\nple', '\u2603', 'A\u00e9', 'its', 'xy'] },
        at: ['main.py:2 img'],
      },
    ],
  },
  {
    name: 'numbers: 3_000, 0x10, big ints, floats by their repr, negatives, ** (env values keep their type)',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        img = ImageSpec(name="numbers", env={
            "under": 3_000, "hex": 0x10, "big": 1180591620717411303424, "pow": 2 ** 70, "shift": 1 << 3,
            "tenth": 0.1, "e16": 1e16, "three": 3.0, "neg": -5, "negf": -0.5, "div": 7 / 2, "floor": 7 // 2,
            "inv": 2 ** -1, "mod": -7 % 3,
        })
      `,
    },
    specs: [
      {
        fields: {
          name: 'numbers',
          env: dict(
            ['under', int(3000)],
            ['hex', int(16)],
            ['big', int('1180591620717411303424')],
            ['pow', int('1180591620717411303424')],
            ['shift', int(8)],
            ['tenth', float('0.1')],
            ['e16', float('1e+16')],
            ['three', float('3.0')],
            ['neg', int(-5)],
            ['negf', float('-0.5')],
            ['div', float('3.5')],
            ['floor', int(3)],
            ['inv', float('0.5')],
            ['mod', int(2)],
          ),
        },
        at: ['main.py:2 img'],
      },
    ],
  },
  {
    name: 'tuples, None, True and False',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        img = ImageSpec(
            name="tuples",
            pip_secret_mounts=[("a", "b"), (".gitconfig", "/etc/gitconfig")],
            env={"on": True, "off": False, "none": None},
            cuda=None,
            entrypoint=[],
        )
      `,
    },
    specs: [
      {
        fields: {
          name: 'tuples',
          pip_secret_mounts: [tuple('a', 'b'), tuple('.gitconfig', '/etc/gitconfig')],
          env: dict(['on', true], ['off', false], ['none', null]),
          cuda: null,
          entrypoint: [],
        },
        at: ['main.py:2 img'],
      },
    ],
  },
  {
    name: 'dicts keep insertion order; a repeated key keeps its first place and its last value',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        BASE = {"z": "0", "a": "1"}
        img = ImageSpec(name="order", env={"b": "1", **BASE, "a": "2", "b": "3"}, builder_options={1: "x", True: "y"})
      `,
    },
    specs: [
      {
        fields: {
          name: 'order',
          env: dict(['b', '3'], ['z', '0'], ['a', '2']),
          builder_options: dict([int(1), 'y']),
        },
        at: ['main.py:3 img'],
      },
    ],
  },
]

// ---------------------------------------------------------------------------------------------------- names

const names: Row[] = [
  {
    name: 'module constants',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        REGISTRY = "ghcr.io/org"
        NAME: str = "app"
        VERSION = PY = "3.12"
        img = ImageSpec(name=NAME, registry=REGISTRY, python_version=PY)
      `,
    },
    specs: [
      { fields: { name: 'app', registry: 'ghcr.io/org', python_version: '3.12' }, at: ['main.py:5 img'] },
    ],
  },
  {
    name: 'a name bound twice: the last binding wins, the first spec is gone',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        img = ImageSpec(name="first")
        img = ImageSpec(name="second")
      `,
    },
    specs: [{ fields: { name: 'second' }, at: ['main.py:3 img'] }],
  },
  {
    name: 'a = b = ImageSpec(...): two assignment locations; another name bound to the spec is a third',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        a = b = ImageSpec(name="both")
        c = a
      `,
    },
    specs: [{ fields: { name: 'both' }, at: ['main.py:2 a', 'main.py:2 b', 'main.py:3 c'] }],
  },
  {
    name: 'constants across modules: from pkg.config import X, import pkg.images as im, from .config, from . import',
    files: {
      'pkg/__init__.py': '',
      'pkg/config.py': py`
        REGISTRY = "ghcr.io/org"
        VERSION = "3.11"
      `,
      'pkg/images.py': py`
        from flytekit import ImageSpec
        from .config import REGISTRY
        from . import config
        base = ImageSpec(name="base", registry=REGISTRY, python_version=config.VERSION)
      `,
      'wf.py': py`
        from flytekit import ImageSpec
        from pkg.config import REGISTRY as R
        import pkg.images as im
        import pkg.config
        app = ImageSpec(name="app", registry=R, python_version=pkg.config.VERSION, base_image=im.base)
      `,
    },
    entries: ['wf.py'],
    specs: [
      {
        fields: { name: 'base', registry: 'ghcr.io/org', python_version: '3.11' },
        at: ['pkg/images.py:4 base'],
      },
      {
        fields: {
          name: 'app',
          registry: 'ghcr.io/org',
          python_version: '3.11',
          base_image: { spec: 'pkg/images.py:4 base' },
        },
        at: ['wf.py:5 app'],
      },
    ],
    modules: ['pkg', 'pkg.config', 'pkg.images', 'wf'],
  },
  {
    name: 'the project root is the first folder upwards without __init__.py (module names start there)',
    files: {
      'proj/pkg/__init__.py': '',
      'proj/pkg/sub/__init__.py': '',
      'proj/pkg/common.py': 'REGISTRY = "ghcr.io/deep"\n',
      'proj/pkg/sub/wf.py': py`
        from flytekit import ImageSpec
        from ..common import REGISTRY
        from pkg.common import REGISTRY as SAME
        img = ImageSpec(name="deep", registry=REGISTRY, cuda=SAME)
      `,
    },
    entries: ['proj/pkg/sub/wf.py'],
    specs: [
      {
        fields: { name: 'deep', registry: 'ghcr.io/deep', cuda: 'ghcr.io/deep' },
        at: ['proj/pkg/sub/wf.py:4 img'],
      },
    ],
    modules: ['pkg', 'pkg.common', 'pkg.sub', 'pkg.sub.wf'],
  },
  {
    name: 'config.X = ... in another module rebinds that module’s name for later reads',
    files: {
      'config.py': 'REGISTRY = "ghcr.io/before"\n',
      'main.py': py`
        from flytekit import ImageSpec
        import config
        config.REGISTRY = "ghcr.io/after"
        img = ImageSpec(name="rebound", registry=config.REGISTRY)
      `,
    },
    specs: [{ fields: { name: 'rebound', registry: 'ghcr.io/after' }, at: ['main.py:4 img'] }],
  },
]

// ---------------------------------------------------------------------------------------------------- environment

const environment: Row[] = [
  {
    name: 'os.environ.get(N), os.environ.get(N, d), os.getenv(N), os.getenv(N, d), os.environ[N]',
    env: { READER_TEST_REGISTRY: 'ghcr.io/from-env', READER_TEST_UNSET: undefined },
    files: {
      'main.py': py`
        import os
        from flytekit import ImageSpec
        img = ImageSpec(
            name="env",
            registry=os.environ.get("READER_TEST_REGISTRY"),
            python_version=os.environ.get("READER_TEST_UNSET", "3.10"),
            cuda=os.getenv("READER_TEST_REGISTRY"),
            cudnn=os.getenv("READER_TEST_UNSET"),
            pip_index=os.getenv("READER_TEST_UNSET", "https://pypi.org/simple"),
            pip_extra_args=os.environ["READER_TEST_REGISTRY"],
        )
      `,
    },
    specs: [
      {
        fields: {
          name: 'env',
          registry: 'ghcr.io/from-env',
          python_version: '3.10',
          cuda: 'ghcr.io/from-env',
          cudnn: null,
          pip_index: 'https://pypi.org/simple',
          pip_extra_args: 'ghcr.io/from-env',
        },
        at: ['main.py:3 img'],
      },
    ],
  },
  {
    name: 'os.environ.get(N) or "fallback": unset and empty both fall back',
    env: { READER_TEST_UNSET: undefined, READER_TEST_EMPTY: '' },
    files: {
      'main.py': py`
        import os
        from flytekit import ImageSpec
        img = ImageSpec(
            name="fallback",
            registry=os.environ.get("READER_TEST_UNSET") or "ghcr.io/fallback",
            python_version=os.environ.get("READER_TEST_EMPTY") or "3.9",
            cuda=os.environ.get("READER_TEST_EMPTY", "not-used"),
        )
      `,
    },
    specs: [
      {
        fields: { name: 'fallback', registry: 'ghcr.io/fallback', python_version: '3.9', cuda: '' },
        at: ['main.py:3 img'],
      },
    ],
  },
  {
    name: 'os.environ changed at module level (set, setdefault, update, pop, del) is what later reads see',
    env: {
      READER_TEST_A: undefined,
      READER_TEST_B: 'kept',
      READER_TEST_C: undefined,
      READER_TEST_D: 'gone',
      READER_TEST_E: undefined,
    },
    files: {
      'main.py': py`
        import os
        from flytekit import ImageSpec
        os.environ["READER_TEST_A"] = "set-here"
        os.environ.setdefault("READER_TEST_B", "not-used")
        os.environ.setdefault("READER_TEST_C", "defaulted")
        os.environ.update({"READER_TEST_E": "updated"})
        popped = os.environ.pop("READER_TEST_D")
        del os.environ["READER_TEST_A"]
        img = ImageSpec(
            name="changed",
            registry=os.environ.get("READER_TEST_A", "deleted"),
            python_version=os.environ["READER_TEST_B"],
            cuda=os.getenv("READER_TEST_C"),
            cudnn=os.getenv("READER_TEST_E"),
            pip_index=popped + ":" + os.environ.get("READER_TEST_D", "popped"),
        )
      `,
    },
    specs: [
      {
        fields: {
          name: 'changed',
          registry: 'deleted',
          python_version: 'kept',
          cuda: 'defaulted',
          cudnn: 'updated',
          pip_index: 'gone:popped',
        },
        at: ['main.py:9 img'],
      },
    ],
  },
  {
    name: 'from os import environ, getenv: the same environment, read and written',
    env: { READER_TEST_A: undefined, READER_TEST_REGISTRY: 'ghcr.io/from-env' },
    files: {
      'main.py': py`
        from os import environ, getenv
        from os import environ as E
        from flytekit import ImageSpec
        environ["READER_TEST_A"] = "written"
        img = ImageSpec(name=E["READER_TEST_A"], registry=environ["READER_TEST_REGISTRY"], cuda=getenv("READER_TEST_A"))
      `,
    },
    specs: [
      { fields: { name: 'written', registry: 'ghcr.io/from-env', cuda: 'written' }, at: ['main.py:5 img'] },
    ],
  },
  {
    name: '"N" in os.environ / not in: set (even empty) or not',
    env: { READER_TEST_CI: '', READER_TEST_UNSET: undefined },
    files: {
      'main.py': py`
        import os
        from flytekit import ImageSpec
        if "READER_TEST_CI" in os.environ:
            img = ImageSpec(name="ci", cuda=str("READER_TEST_UNSET" not in os.environ))
        else:
            img = ImageSpec(name="local")
      `,
    },
    specs: [{ fields: { name: 'ci', cuda: 'True' }, at: ['main.py:4 img'] }],
  },
  {
    name: 'load_dotenv(): variables already set are read; an unset one could come from .env and is refused',
    env: { READER_TEST_REGISTRY: 'ghcr.io/from-env', READER_TEST_UNSET: undefined },
    files: {
      'main.py': py`
        import os
        from dotenv import load_dotenv
        from flytekit import ImageSpec
        before = ImageSpec(name="before", registry=os.getenv("READER_TEST_UNSET", "ghcr.io/default"))
        load_dotenv()
        set_ = ImageSpec(name="set", registry=os.getenv("READER_TEST_REGISTRY"))
        unset = ImageSpec(name="unset", registry=os.getenv("READER_TEST_UNSET", "ghcr.io/default"))
      `,
    },
    specs: [
      { fields: { name: 'before', registry: 'ghcr.io/default' }, at: ['main.py:4 before'] },
      { fields: { name: 'set', registry: 'ghcr.io/from-env' }, at: ['main.py:6 set_'] },
    ],
    errors: [{ at: 'main.py:5:1', message: 'load_dotenv()', source: 'load_dotenv()' }],
  },
]

// ---------------------------------------------------------------------------------------------------- expressions

const expressions: Row[] = [
  {
    name: 'f-strings with format specs and conversions, +, %, str.format, join, lower/upper/strip',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        N = 7
        X = "q"
        img = ImageSpec(
            name=f"app-{N:03d}",
            registry="ghcr.io/" + "org",
            python_version="%d.%d" % (3, 11),
            commands=[
                f"{X!r}", f"{N=}", f"{3.14159:.2f}", f"{N:>4}", f"{{literal}}",
                "{}-{v}".format(1, v="x"), "-".join(["a", "b", "c"]),
                " MiXed ".strip().lower(), "up".upper(), "%s/%s" % ("a", 1),
            ],
        )
      `,
    },
    specs: [
      {
        fields: {
          name: 'app-007',
          registry: 'ghcr.io/org',
          python_version: '3.11',
          commands: ["'q'", 'N=7', '3.14', '   7', '{literal}', '1-x', 'a-b-c', 'mixed', 'UP', 'a/1'],
        },
        at: ['main.py:4 img'],
      },
    ],
  },
  {
    name: 'unpacking: list + and *, dict **, ImageSpec(**COMMON, name=...), positional arguments',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        BASE = ["numpy"]
        COMMON = {"registry": "ghcr.io/org", "python_version": "3.11"}
        ENV = {"A": "1"}
        img = ImageSpec(**COMMON, name="unpacked", packages=[*BASE, "pandas"] + ["scipy"], env={**ENV, "B": "2"})
        pos = ImageSpec("positional", "3.12", None, None, {"K": "v"}, *["ghcr.io/pos"])
      `,
    },
    specs: [
      {
        fields: {
          registry: 'ghcr.io/org',
          python_version: '3.11',
          name: 'unpacked',
          packages: ['numpy', 'pandas', 'scipy'],
          env: dict(['A', '1'], ['B', '2']),
        },
        at: ['main.py:5 img'],
      },
      {
        fields: {
          name: 'positional',
          python_version: '3.12',
          builder: null,
          source_root: null,
          env: dict(['K', 'v']),
          registry: 'ghcr.io/pos',
        },
        at: ['main.py:6 pos'],
      },
    ],
  },
  {
    name: 'a list or dict changed after a spec got it: the spec holds that very object (a copy does not change)',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        PKGS = ["a"]
        ENV = {"A": "1"}
        img = ImageSpec(name="aliased", packages=PKGS, env=ENV)
        copied = ImageSpec(name="copied", packages=PKGS + [], env=dict(ENV))
        PKGS.append("b")
        PKGS += ["c"]
        PKGS[0] = "A"
        ENV["B"] = "2"
        ENV.update({"C": "3"})
      `,
    },
    specs: [
      {
        fields: { name: 'aliased', packages: ['A', 'b', 'c'], env: dict(['A', '1'], ['B', '2'], ['C', '3']) },
        at: ['main.py:4 img'],
      },
      { fields: { name: 'copied', packages: ['a'], env: dict(['A', '1']) }, at: ['main.py:5 copied'] },
    ],
  },
  {
    name: 'fields set on a spec after it is made (img.packages = ..., img.packages += ..., img.env[...] = ...)',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        img = ImageSpec(name="later")
        other = img
        img.packages = ["p"]
        img.packages += ["q"]
        img.env = {"A": "1"}
        img.env["B"] = "2"
        img.packages.append("r")
      `,
    },
    specs: [
      {
        fields: { name: 'later', packages: ['p', 'q', 'r'], env: dict(['A', '1'], ['B', '2']) },
        at: ['main.py:2 img', 'main.py:3 other'],
      },
    ],
  },
  {
    name: 'a module-level for over a literal list runs; its last binding wins',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        PKGS = []
        for p in ["a", "b"]:
            PKGS.append(p.upper())
        for n in ["x", "y"]:
            img = ImageSpec(name=n, packages=PKGS)
      `,
    },
    specs: [{ fields: { name: 'y', packages: ['A', 'B'] }, at: ['main.py:6 img'] }],
  },
]

// ---------------------------------------------------------------------------------------------------- ImageSpec

const imagespec: Row[] = [
  {
    name: 'with_* helpers: a string appended, a list extended, the original unchanged; builder options merged',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        base = ImageSpec(name="base", packages=["numpy"])
        one = base.with_packages("pandas")
        many = base.with_packages(["scipy", "polars"])
        apt = base.with_apt_packages("git").with_apt_packages(["curl"])
        cmds = base.with_commands("echo hi").with_commands(["a", "b"])
        cp = base.with_copy("src").with_copy(["data"])
        rt = base.with_runtime_packages(["rt"])
        opts = ImageSpec(name="opts", builder_options={"a": 1}).with_builder_options({"b": 2, "a": 3})
        pushed = base.force_push()
      `,
    },
    specs: [
      { fields: { name: 'base', packages: ['numpy'] }, at: ['main.py:2 base'] },
      { fields: { name: 'base', packages: ['numpy', 'pandas'] }, at: ['main.py:3 one'] },
      { fields: { name: 'base', packages: ['numpy', 'scipy', 'polars'] }, at: ['main.py:4 many'] },
      { fields: { name: 'base', packages: ['numpy'], apt_packages: ['git', 'curl'] }, at: ['main.py:5 apt'] },
      {
        fields: { name: 'base', packages: ['numpy'], commands: ['echo hi', 'a', 'b'] },
        at: ['main.py:6 cmds'],
      },
      { fields: { name: 'base', packages: ['numpy'], copy: ['src', 'data'] }, at: ['main.py:7 cp'] },
      { fields: { name: 'base', packages: ['numpy'], runtime_packages: ['rt'] }, at: ['main.py:8 rt'] },
      {
        fields: { name: 'opts', builder_options: dict(['a', int(3)], ['b', int(2)]) },
        at: ['main.py:9 opts'],
      },
      { fields: { name: 'base', packages: ['numpy'] }, at: ['main.py:10 pushed'] },
    ],
  },
  {
    name: 'with_* shares the fields it does not change (dataclasses.replace); force_push() deep-copies them',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        PKGS = ["a"]
        base = ImageSpec(name="base", packages=PKGS)
        child = base.with_apt_packages("git")
        pushed = base.force_push()
        PKGS.append("b")
      `,
    },
    specs: [
      { fields: { name: 'base', packages: ['a', 'b'] }, at: ['main.py:3 base'] },
      { fields: { name: 'base', packages: ['a', 'b'], apt_packages: ['git'] }, at: ['main.py:4 child'] },
      { fields: { name: 'base', packages: ['a'] }, at: ['main.py:5 pushed'] },
    ],
  },
  {
    name: 'a nested base_image=ImageSpec(...) is located where it is made; a base bound to a name by that name only',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        nested = ImageSpec(
            name="outer",
            base_image=ImageSpec(name="inner"),
        )
        base = ImageSpec(name="bound-base")
        child = ImageSpec(name="child", base_image=base)
        chained = ImageSpec(name="chained", base_image=base.with_packages("x"))
        string = ImageSpec(name="string", base_image="python:3.11-slim")
      `,
    },
    specs: [
      { fields: { name: 'outer', base_image: { spec: 'main.py:4 base_image' } }, at: ['main.py:2 nested'] },
      { fields: { name: 'inner' }, at: ['main.py:4 base_image'] },
      { fields: { name: 'bound-base' }, at: ['main.py:6 base'] },
      { fields: { name: 'child', base_image: { spec: 'main.py:6 base' } }, at: ['main.py:7 child'] },
      // Same line: the base, made first, comes first.
      { fields: { name: 'bound-base', packages: ['x'] }, at: ['main.py:8 base_image'] },
      {
        fields: { name: 'chained', base_image: { spec: 'main.py:8 base_image' } },
        at: ['main.py:8 chained'],
      },
      { fields: { name: 'string', base_image: 'python:3.11-slim' }, at: ['main.py:9 string'] },
    ],
  },
  {
    name: 'container_image= on @task, @dynamic, map_task, ContainerTask(image=), ActorEnvironment and in a @workflow',
    files: {
      'main.py': py`
        from flytekit import ImageSpec, task, dynamic, workflow, map_task, ContainerTask
        import union

        img = ImageSpec(name="shared")

        @task(container_image=ImageSpec(name="on-task"))
        def t1() -> None: ...

        @dynamic(container_image=img)
        def d1() -> None: ...

        mapped = map_task(t1, container_image=ImageSpec(name="on-map"))
        shell = ContainerTask(name="shell", image=ImageSpec(name="on-container-task"), command=["ls"])
        actor = union.actor.ActorEnvironment(name="actor", container_image=ImageSpec(name="on-actor"))

        @task(container_image="ghcr.io/x:1")
        def t2() -> None: ...

        @workflow
        def wf() -> None:
            t1().with_overrides(container_image=ImageSpec(name="in-workflow"))
      `,
    },
    specs: [
      { fields: { name: 'shared' }, at: ['main.py:4 img', 'main.py:9 container_image'] },
      { fields: { name: 'on-task' }, at: ['main.py:6 container_image'] },
      { fields: { name: 'on-map' }, at: ['main.py:12 container_image'] },
      { fields: { name: 'on-container-task' }, at: ['main.py:13 container_image'] },
      { fields: { name: 'on-actor' }, at: ['main.py:14 container_image'] },
      { fields: { name: 'in-workflow' }, at: ['main.py:21 container_image'] },
    ],
  },
  {
    name: 'CopyFileDetection members, imported from flytekit.constants directly and under an alias',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        from flytekit.constants import CopyFileDetection
        from flytekit.constants import CopyFileDetection as Copy
        import flytekit.constants
        a = ImageSpec(name="all", source_root=".", source_copy_mode=CopyFileDetection.ALL)
        b = ImageSpec(name="none", source_copy_mode=Copy.NO_COPY)
        c = ImageSpec(name="loaded", source_copy_mode=flytekit.constants.CopyFileDetection.LOADED_MODULES)
      `,
    },
    specs: [
      {
        fields: { name: 'all', source_root: '.', source_copy_mode: copyMode('ALL', 2) },
        at: ['main.py:5 a'],
      },
      { fields: { name: 'none', source_copy_mode: copyMode('NO_COPY', 3) }, at: ['main.py:6 b'] },
      { fields: { name: 'loaded', source_copy_mode: copyMode('LOADED_MODULES', 1) }, at: ['main.py:7 c'] },
    ],
  },
  {
    name: 'ImageSpec imported the ways users write it',
    files: {
      'main.py': py`
        import flytekit
        import flytekit as fl
        import union
        from flytekit import ImageSpec as S
        from flytekit.image_spec import ImageSpec as Sub
        from flytekit.image_spec.image_spec import ImageSpec as Deep
        from union import ImageSpec as U
        a = flytekit.ImageSpec(name="a")
        b = fl.ImageSpec(name="b")
        c = union.ImageSpec(name="c")
        d = S(name="d")
        e = Sub(name="e")
        f = Deep(name="f")
        g = U(name="g")
      `,
    },
    specs: ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n, i) => ({
      fields: { name: n },
      at: [`main.py:${8 + i} ${n}`],
    })),
  },
]

// ---------------------------------------------------------------------------------------------------- control flow

const control: Row[] = [
  {
    name: 'if __name__ == "__main__": is not run on import',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        img = ImageSpec(name="module")
        if __name__ == "__main__":
            img = ImageSpec(name="script")
            extra = ImageSpec(name="extra")
      `,
    },
    specs: [{ fields: { name: 'module' }, at: ['main.py:2 img'] }],
  },
  ...(
    [
      { gpu: '1', chosen: { fields: { name: 'gpu', cuda: '12.1' }, at: ['main.py:4 img'] } },
      { gpu: undefined, chosen: { fields: { name: 'cpu' }, at: ['main.py:6 img'] } },
      { gpu: '', chosen: { fields: { name: 'cpu' }, at: ['main.py:6 img'] } },
    ] as { gpu: string | undefined; chosen: Found }[]
  ).map(({ gpu, chosen }): Row => ({
    name: `if os.environ.get("GPU"): chooses a branch (GPU ${gpu === undefined ? 'unset' : JSON.stringify(gpu)})`,
    env: { READER_TEST_GPU: gpu },
    files: {
      'main.py': py`
        import os
        from flytekit import ImageSpec
        if os.environ.get("READER_TEST_GPU"):
            img = ImageSpec(name="gpu", cuda="12.1")
        else:
            img = ImageSpec(name="cpu")
      `,
    },
    specs: [chosen],
  })),
  {
    name: 'try: ... except ImportError: keeps the try body',
    files: {
      'main.py': py`
        try:
            from flytekit import ImageSpec
            img = ImageSpec(name="tried")
        except ImportError:
            img = None
        finally:
            done = True
      `,
    },
    specs: [{ fields: { name: 'tried' }, at: ['main.py:3 img'] }],
  },
  {
    name: 'an entry’s imports are followed (modules that are not entries too); a file never imported is not read',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        import helper
        from helper import H
        img = ImageSpec(name="main", base_image=helper.H)
      `,
      'helper.py': py`
        import flytekit
        H = flytekit.ImageSpec(name="helper")
      `,
      'unused.py': py`
        import flytekit
        U = flytekit.ImageSpec(name="unused")
      `,
    },
    specs: [
      { fields: { name: 'helper' }, at: ['helper.py:2 H'] },
      { fields: { name: 'main', base_image: { spec: 'helper.py:2 H' } }, at: ['main.py:4 img'] },
    ],
    modules: ['helper', 'main'],
  },
  {
    name: 'unknown values that never reach a spec are not refused',
    files: {
      'main.py': py`
        import glob
        from flytekit import ImageSpec, task

        def load():
            return open("data.csv").read()

        DATA = load()
        FILES = [f for f in glob.glob("*.py")]
        if DATA:
            SIZE = len(DATA)
        while False:
            pass
        CALLBACK = lambda x: x

        @task(container_image="ghcr.io/org/app:1")
        def t() -> None: ...

        img = ImageSpec(name="fine")
      `,
      'data.csv': 'a,b\n',
    },
    specs: [{ fields: { name: 'fine' }, at: ['main.py:18 img'] }],
  },
  {
    name: 'ImageSpec.from_env: the interpreter’s python_version, packages [] unless given',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        fe = ImageSpec.from_env(name="fe")
        given = ImageSpec.from_env(name="given", packages=["numpy"])
      `,
    },
    get specs() {
      return [
        { fields: { python_version: PY, name: 'fe', packages: [] }, at: ['main.py:2 fe'] },
        { fields: { python_version: PY, name: 'given', packages: ['numpy'] }, at: ['main.py:3 given'] },
      ]
    },
  },
]

describe('reader.py reads each construct as Python computes it', () => {
  test.each(
    [...values, ...names, ...environment, ...expressions, ...imagespec, ...control].map(
      (r) => [r.name, r] as const,
    ),
  )('%s', async (_name, row) => {
    await check(row)
  })

  test('ImageSpec.from_env(pinned_packages=[...]) pins the version installed in the interpreter, into the list given', async () => {
    const pin = PIN ?? { name: 'pip', version: '' }
    const files = {
      'main.py': py`
        from flytekit import ImageSpec
        PKGS = ["numpy"]
        pinned = ImageSpec.from_env(name="pinned", pinned_packages=["${pin.name}"], packages=PKGS)
        also = ImageSpec(name="also", packages=PKGS)
      `,
    }
    if (!PIN) {
      // An interpreter with no distribution at all: the pin cannot be resolved, and the reader says so.
      await check({
        name: 'no distribution',
        files,
        errors: [{ at: 'main.py:3:10', message: 'which is not installed' }],
        specs: [{ fields: { name: 'also', packages: ['numpy'] }, at: ['main.py:4 also'] }],
      })
      return
    }
    const packages = ['numpy', `${pin.name}==${pin.version}`]
    await check({
      name: 'pinned',
      files,
      specs: [
        { fields: { python_version: PY, name: 'pinned', packages }, at: ['main.py:3 pinned'] },
        { fields: { name: 'also', packages }, at: ['main.py:4 also'] },
      ],
    })
  })
})

// ---------------------------------------------------------------------------------------------------- refusals

const refusals: Row[] = [
  {
    name: 'a call of a user-defined function that makes the spec',
    files: {
      'main.py': py`
        from flytekit import ImageSpec

        def make(name):
            return ImageSpec(name=name)

        img = make("x")
      `,
    },
    errors: [{ at: 'main.py:6:7', message: 'a call of a user-defined function (make)', source: 'make("x")' }],
  },
  {
    name: 'a list comprehension in a field',
    files: { 'main.py': `${IMPORT}\nimg = ImageSpec(name="x", packages=[p for p in ["a"]])\n` },
    errors: [{ at: 'main.py:2:36', message: 'a list comprehension', source: '[p for p in ["a"]]' }],
  },
  {
    name: 'a dict comprehension in a field',
    files: { 'main.py': `${IMPORT}\nimg = ImageSpec(name="x", env={k: "1" for k in ["A"]})\n` },
    errors: [{ at: 'main.py:2:31', message: 'a dict comprehension', source: '{k: "1" for k in ["A"]}' }],
  },
  {
    name: 'a lambda',
    files: { 'main.py': `${IMPORT}\nimg = ImageSpec(name="x", registry=(lambda: "r")())\n` },
    errors: [{ at: 'main.py:2:37', message: 'a lambda', source: 'lambda: "r"' }],
  },
  {
    name: 'a condition on runtime state that decides a spec',
    files: {
      'main.py': py`
        from flytekit import ImageSpec

        def some_function():
            return True

        if some_function():
            img = ImageSpec(name="x")
      `,
    },
    errors: [{ at: 'main.py:7:5', message: 'an ImageSpec made under `if some_function()`' }],
  },
  {
    name: 'a file read into a field: open("v").read()',
    files: { 'main.py': `${IMPORT}\nimg = ImageSpec(name=open("v").read())\n`, v: 'from-file\n' },
    errors: [{ at: 'main.py:2:22', message: 'the builtin open', source: 'open' }],
  },
  {
    name: 'sys.version_info in a field',
    files: {
      'main.py': py`
        import sys
        from flytekit import ImageSpec
        a = ImageSpec(name="a", python_version=f"{sys.version_info.major}.{sys.version_info.minor}")
        b = ImageSpec(name="b", python_version=sys.version_info)
      `,
    },
    errors: [
      {
        at: 'main.py:3:43',
        message: 'an f-string of a value the reader does not model',
        source: 'sys.version_info.major',
      },
      {
        at: 'main.py:4:5',
        message: 'python_version is a value the reader does not model (sys.version_info)',
      },
    ],
  },
  {
    name: 'os.environ[N] with N unset (KeyError on import)',
    env: { READER_TEST_UNSET: undefined },
    files: {
      'main.py': `import os\n${IMPORT}\nimg = ImageSpec(name="x", registry=os.environ["READER_TEST_UNSET"])\n`,
    },
    errors: [
      {
        at: 'main.py:3:36',
        message: "os.environ['READER_TEST_UNSET'] with READER_TEST_UNSET not set",
        source: 'os.environ["READER_TEST_UNSET"]',
      },
    ],
  },
  {
    name: 'an unknown ImageSpec field',
    files: { 'main.py': `${IMPORT}\nimg = ImageSpec(nme="x")\n` },
    errors: [
      {
        at: 'main.py:2:7',
        message: "ImageSpec has no field 'nme' (TypeError)",
        source: 'ImageSpec(nme="x")',
      },
    ],
  },
  {
    name: 'a field given twice: positionally and by keyword, or by keyword and in **',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        a = ImageSpec("a", name="b")
        b = ImageSpec(name="a", **{"name": "b"})
      `,
    },
    errors: [
      { at: 'main.py:2:5', message: "ImageSpec got 'name' twice (TypeError)" },
      {
        at: 'main.py:3:27',
        message: 'the argument name is given twice (TypeError)',
        source: '{"name": "b"}',
      },
    ],
  },
  {
    name: 'a syntax error, as Python reports it (the ImageSpec docs’ own registry=registry=...)',
    files: {
      'main.py': py`
        from flytekit import ImageSpec

        image_spec = ImageSpec(
            name="say-hello",
            registry=registry="ghcr.io/unionai-demo",
        )
      `,
    },
    errors: [
      {
        at: 'main.py:5:22',
        message: 'SyntaxError: invalid syntax',
        source: '    registry=registry="ghcr.io/unionai-demo",',
      },
    ],
  },
  {
    name: 'a syntax error only the compiler finds (a keyword repeated) fails the whole file, spec or not',
    files: {
      'main.py': py`
        from flytekit import ImageSpec
        ok = ImageSpec(name="ok")
        dup = ImageSpec(name="a", name="b")
      `,
      'other.py': py`
        from flytekit import ImageSpec
        fine = ImageSpec(name="fine")
        print(end="", end="")
      `,
    },
    entries: ['main.py', 'other.py'],
    errors: [
      { at: 'main.py:3:27', message: 'SyntaxError: keyword argument repeated' },
      { at: 'other.py:3:15', message: 'SyntaxError: keyword argument repeated' },
    ],
  },
  {
    name: 'container_image= given a user function’s result',
    files: {
      'main.py': py`
        from flytekit import ImageSpec, task

        def image():
            return ImageSpec(name="x")

        @task(container_image=image())
        def t() -> None: ...
      `,
    },
    errors: [{ at: 'main.py:6:23', message: 'a call of a user-defined function (image)', source: 'image()' }],
  },
  {
    name: 'Path(__file__).parent / "x" in a field',
    files: {
      'main.py': py`
        from pathlib import Path
        from flytekit import ImageSpec
        img = ImageSpec(name="x", source_root=Path(__file__).parent / "src")
      `,
    },
    errors: [
      { at: 'main.py:3:39', message: 'an operator on a value', source: 'Path(__file__).parent / "src"' },
    ],
  },
  {
    name: 'setting a field that __post_init__ normalizes after the spec is made',
    files: { 'main.py': `${IMPORT}\nimg = ImageSpec(name="x")\nimg.registry = "GHCR.io/Org"\n` },
    errors: [{ at: 'main.py:3:1', message: 'setting ImageSpec.registry after the ImageSpec is made' }],
  },
  {
    name: 'a list a spec holds, changed under a condition the reader cannot decide (before and after the spec)',
    files: {
      'main.py': py`
        from flytekit import ImageSpec

        def gpu():
            return True

        PKGS = ["torch"]
        before = ImageSpec(name="before", packages=PKGS)
        if gpu():
            PKGS.append("cuda-python")
        after = ImageSpec(name="after", packages=PKGS)
      `,
    },
    errors: [{ at: 'main.py:9:5', message: 'changed by code the reader does not run (under `if gpu()`)' }],
  },
  {
    name: 'a function the reader does not run, called at module level, that changes the environment or globals',
    env: { READER_TEST_SETUP: undefined },
    files: {
      'main.py': py`
        import os
        from flytekit import ImageSpec

        def setup():
            os.environ.setdefault("READER_TEST_SETUP", "ghcr.io/setup")

        def add(items):
            items.append("z")

        def rebind():
            global NAME
            NAME = "rebound"

        NAME = "original"
        PKGS = ["a"]
        setup()
        add(PKGS)
        rebind()
        a = ImageSpec(name="a", registry=os.environ.get("READER_TEST_SETUP"))
        b = ImageSpec(name="b", packages=PKGS)
        c = ImageSpec(name=NAME)
      `,
    },
    errors: [
      {
        at: 'main.py:5:5',
        message: 'changed by code the reader does not run (in setup(), called at main.py:16)',
        source: 'os.environ.setdefault("READER_TEST_SETUP", "ghcr.io/setup")',
      },
      {
        at: 'main.py:17:1',
        message: 'changed by add(PKGS), which the reader does not run',
        source: 'add(PKGS)',
      },
      {
        at: 'main.py:12:5',
        message: 'changed by code the reader does not run (in rebind(), called at main.py:18)',
        source: 'NAME = "rebound"',
      },
    ],
  },
  {
    name: 'a refusal’s column counts characters, not UTF-8 bytes',
    files: { 'main.py': `${IMPORT}\nimg = ImageSpec(name="☃é", registry=open("r").read())\n` },
    errors: [{ at: 'main.py:2:37', message: 'the builtin open', source: 'open' }],
  },
  {
    name: 'ImageSpec.from_env(python_version=...) is refused (flytekit raises)',
    files: { 'main.py': `${IMPORT}\nimg = ImageSpec.from_env(name="x", python_version="3.10")\n` },
    errors: [{ at: 'main.py:2:7', message: 'ImageSpec.from_env sets python_version itself' }],
  },
]

describe('reader.py refuses what it cannot evaluate, where Python would compute it', () => {
  test.each(refusals.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    await check(row)
  })
})

// ---------------------------------------------------------------------------------------------------- decoding

describe('the reader’s output, decoded', () => {
  test('values become PyValues: ints as bigint, tuples, dicts in order, enum members, a nested base as a dict', async () => {
    const out = await read(
      {
        'main.py': py`
          from flytekit import ImageSpec
          from flytekit.constants import CopyFileDetection
          img = ImageSpec(
              name="decoded",
              base_image=ImageSpec(name="inner", python_version="3.11"),
              env={"B": 1180591620717411303424, "A": 0.1},
              pip_secret_mounts=[("a", "b")],
              source_copy_mode=CopyFileDetection.ALL,
          )
        `,
      },
      ['main.py'],
    )
    const { specs, errors } = pythonSpecs(out)
    expect(errors).toEqual([])
    // The nested base is not a spec of its own here: it comes in through its child.
    expect(specs.map((s) => ({ origin: s.origin, locations: s.locations }))).toEqual([
      { origin: 'main.py:3', locations: ['main.py:3 (img)'] },
    ])
    const fields = specs[0]!.fields
    expect(fields.get('name')).toBe('decoded')
    expect(fields.get('base_image')).toEqual(
      new PyDict([
        ['name', 'inner'],
        ['python_version', '3.11'],
      ]),
    )
    expect(fields.get('env')).toEqual(
      new PyDict([
        ['B', 2n ** 70n],
        ['A', 0.1],
      ]),
    )
    expect(fields.get('pip_secret_mounts')).toEqual([new PyTuple(['a', 'b'])])
    expect(fields.get('source_copy_mode')).toEqual(new PyEnum('CopyFileDetection', 'ALL', 2n))
    expect(specs[0]!.locate('env')).toBe('main.py:6')
    expect(specs[0]!.locate('base_image.python_version')).toBe('main.py:5')
  })

  test('a refusal becomes a spec issue at file:line:col with the expression’s source', async () => {
    const out = await read(
      { 'main.py': `${IMPORT}\nimg = ImageSpec(name="x", packages=[p for p in ["a"]])\n` },
      ['main.py'],
    )
    const { specs, errors } = pythonSpecs(out)
    expect(specs).toEqual([])
    expect(errors).toEqual([
      {
        path: '',
        location: 'main.py:2:36',
        message: expect.stringContaining('a list comprehension: `[p for p in ["a"]]`'),
      },
    ])
  })
})
