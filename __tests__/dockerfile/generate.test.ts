import { describe, expect, test } from '@jest/globals'
import { SpecError } from '../../src/errors.js'
import { generateDockerfile, type DockerfileOptions } from '../../src/dockerfile/generate.js'
import { PyDict, type PyValue } from '../../src/pyvalues/values.js'
import type { ImageSpec } from '../../src/spec/model.js'

/*
 * Expected Dockerfiles, written by hand from flytekit 1.16's default builder template (default_builder.py), one
 * line per instruction as the template's backslash-newlines produce. Differences from the template are on purpose
 * and named where they show: no `#syntax` line, `AS` upper-case, quoted values, the apt cache step, copy entries
 * from `copy/` as JSON, no empty commands RUN.
 */
const UV_STAGES = [
  'FROM ghcr.io/astral-sh/uv:0.5.1 AS uv',
  'FROM mambaorg/micromamba:2.0.3-debian12-slim AS micromamba',
]
const BASE = ['FROM debian:bookworm-slim', 'WORKDIR /', 'USER root']
const CA_CERTS =
  'RUN --mount=from=micromamba,source=/etc/ssl/certs/ca-certificates.crt,target=/tmp/ca-certificates.crt [ -f /etc/ssl/certs/ca-certificates.crt ] || mkdir -p /etc/ssl/certs/ && cp /tmp/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt'
const USERS = [
  'RUN id -u flytekit || useradd --create-home --shell /bin/bash flytekit',
  'RUN chown -R flytekit /root && chown -R flytekit /home',
]
const micromamba = (args: string): string =>
  'RUN --mount=type=cache,sharing=locked,mode=0777,target=/opt/micromamba/pkgs,id=micromamba --mount=from=micromamba,source=/usr/bin/micromamba,target=/usr/bin/micromamba ' +
  `micromamba config set use_lockfiles False && ( micromamba create -n runtime --root-prefix /opt/micromamba -c conda-forge ${args} || micromamba install -n runtime --root-prefix /opt/micromamba -c conda-forge ${args} ) && chown -R flytekit /opt/micromamba`
const USER_SPACE =
  'UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy FLYTE_SDK_RICH_TRACEBACKS=0 SSL_CERT_DIR=/etc/ssl/certs'
const ENV_MAMBA = `ENV PATH="/opt/micromamba/envs/runtime/bin:$PATH" UV_PYTHON=/opt/micromamba/envs/runtime/bin/python ${USER_SPACE} PYTHONPATH=/root`
const ENV_VENV = `ENV PATH="/root/.venv/bin:$PATH" UV_PYTHON=/root/.venv/bin/python ${USER_SPACE} PYTHONPATH=/root`
const UV_MOUNTS =
  '--mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/uv,id=uv --mount=from=uv,source=/uv,target=/usr/bin/uv'
const PIP_CACHE = '--mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/pip,id=pip'
const BIND_REQUIREMENTS = '--mount=type=bind,target=requirements_uv.txt,src=requirements_uv.txt'
const BIND_PYPROJECT = '--mount=type=bind,target=pyproject.toml,src=pyproject.toml'
const UV_INSTALL = `RUN ${UV_MOUNTS} ${BIND_REQUIREMENTS} uv pip install --requirement requirements_uv.txt`
const VENV_ENV = 'ENV PATH="/root/.venv/bin:$PATH" UV_PYTHON=/root/.venv/bin/python'
const NVIDIA =
  'ENV PATH="$PATH:/usr/local/nvidia/bin:/usr/local/cuda/bin" LD_LIBRARY_PATH="/usr/local/nvidia/lib64:$LD_LIBRARY_PATH"'
const TAIL = [
  'WORKDIR /root',
  'SHELL ["/bin/bash", "-c"]',
  'USER flytekit',
  'RUN mkdir -p $HOME && echo "export PATH=$PATH" >> $HOME/.profile',
  'ENV _F_IMG_ID=SPEC_id-1',
]
const APT =
  'RUN --mount=type=cache,sharing=locked,mode=0777,target=/var/cache/apt,id=apt ' +
  '{ [ ! -e /etc/apt/apt.conf.d/docker-clean ] || mv /etc/apt/apt.conf.d/docker-clean /tmp/docker-clean; } && ' +
  `echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache && ` +
  'mkdir -p /var/cache/apt/lists/partial /var/cache/apt/archives/partial && ' +
  'apt-get -o Dir::State::Lists=/var/cache/apt/lists/ update && ' +
  "apt-get -o Dir::State::Lists=/var/cache/apt/lists/ install -y --no-install-recommends git 'lib x' && " +
  'cp -a /var/cache/apt/lists/. /var/lib/apt/lists/ && rm /etc/apt/apt.conf.d/keep-cache && ' +
  '{ [ ! -e /tmp/docker-clean ] || mv /tmp/docker-clean /etc/apt/apt.conf.d/docker-clean; }'

const OPTS: DockerfileOptions = {
  installer: 'uv',
  flytekitRequirement: 'flytekit==1.16.24',
  specId: 'SPEC_id-1',
  defaultPythonVersion: '3.12',
}

const spec = (fields: Partial<ImageSpec> = {}): ImageSpec => ({
  name: 'app',
  platform: 'linux/amd64',
  ...fields,
})
const env = (entries: [PyValue, PyValue][]): PyDict => new PyDict(entries)
const file = (...lines: string[]): string => `${lines.join('\n')}\n`

interface Case {
  name: string
  spec: ImageSpec
  opts?: Partial<DockerfileOptions>
  expected: string
}

const uvCases: Case[] = [
  {
    name: 'defaults: micromamba Python of the building machine, flytekit from requirements_uv.txt',
    spec: spec(),
    expected: file(
      ...UV_STAGES,
      ...BASE,
      CA_CERTS,
      ...USERS,
      micromamba('python=3.12'),
      ENV_MAMBA,
      UV_INSTALL,
      NVIDIA,
      ...TAIL,
    ),
  },
  {
    name: 'python_version as str() prints it: YAML 3.10 is the float 3.1, an int has no decimals',
    spec: spec({ python_version: 3.1 }),
    expected: file(
      ...UV_STAGES,
      ...BASE,
      CA_CERTS,
      ...USERS,
      micromamba('python=3.1'),
      ENV_MAMBA,
      UV_INSTALL,
      NVIDIA,
      ...TAIL,
    ),
  },
  {
    name: 'python_version "" is falsy to flytekit, so the machine default applies',
    spec: spec({ python_version: '', requirements: 'requirements.txt', packages: ['pandas'] }),
    expected: file(
      ...UV_STAGES,
      ...BASE,
      CA_CERTS,
      ...USERS,
      micromamba('python=3.12'),
      ENV_MAMBA,
      UV_INSTALL,
      NVIDIA,
      ...TAIL,
    ),
  },
  {
    name: 'apt packages, with the cache that keeps .debs and lists, before the CA step',
    spec: spec({ python_version: '3.11', apt_packages: ['git', 'lib x'] }),
    expected: file(
      ...UV_STAGES,
      ...BASE,
      APT,
      CA_CERTS,
      ...USERS,
      micromamba('python=3.11'),
      ENV_MAMBA,
      UV_INSTALL,
      NVIDIA,
      ...TAIL,
    ),
  },
  {
    name: 'conda channels and packages',
    spec: spec({
      python_version: 3n,
      conda_channels: ['nvidia', 'my chan'],
      conda_packages: ['cuda-toolkit', 'numpy>=2'],
    }),
    expected: file(
      ...UV_STAGES,
      ...BASE,
      CA_CERTS,
      ...USERS,
      micromamba("-c nvidia -c 'my chan' python=3 cuda-toolkit 'numpy>=2'"),
      ENV_MAMBA,
      UV_INSTALL,
      NVIDIA,
      ...TAIL,
    ),
  },
  {
    name: 'env merged over PYTHONPATH (which keeps its place), values str()-ed and quoted when not plain',
    spec: spec({
      python_version: '3.11',
      env: env([
        ['A', 'x y'],
        ['PYTHONPATH', '/app'],
        ['N', 3n],
        ['F', true],
        ['E', ''],
        ['S', 'a"b\\c$d'],
      ]),
    }),
    expected: file(
      ...UV_STAGES,
      ...BASE,
      CA_CERTS,
      ...USERS,
      micromamba('python=3.11'),
      `ENV PATH="/opt/micromamba/envs/runtime/bin:$PATH" UV_PYTHON=/opt/micromamba/envs/runtime/bin/python ${USER_SPACE} PYTHONPATH=/app A="x y" N=3 F=True E="" S="a\\"b\\\\c\\$d"`,
      UV_INSTALL,
      NVIDIA,
      ...TAIL,
    ),
  },
  {
    name: 'index URLs, extra args split as the shell would, secret mounts',
    spec: spec({
      python_version: '3.11',
      pip_index: 'https://idx.example/simple',
      pip_extra_index_url: ['https://a.example/simple', 'https://u:p@b.example/s?x=1&y=2'],
      pip_extra_args: '--pre --config-settings "k=v w"',
      pip_secret_mounts: [
        ['.netrc', '/root/.netrc'],
        ['pip.conf', '/etc/pip.conf'],
      ],
    }),
    expected: file(
      ...UV_STAGES,
      ...BASE,
      CA_CERTS,
      ...USERS,
      micromamba('python=3.11'),
      ENV_MAMBA,
      `RUN ${UV_MOUNTS} ${BIND_REQUIREMENTS} --mount=type=secret,id=secret_0,target=/root/.netrc --mount=type=secret,id=secret_1,target=/etc/pip.conf ` +
        "uv pip install --index-url https://idx.example/simple --extra-index-url https://a.example/simple --extra-index-url 'https://u:p@b.example/s?x=1&y=2' --pre --config-settings 'k=v w' --requirement requirements_uv.txt",
      NVIDIA,
      ...TAIL,
    ),
  },
  {
    name: 'python_exec: no micromamba env, a venv from that Python with the system site-packages',
    spec: spec({ python_exec: '/usr/bin/python3.11', base_image: 'python:3.11-slim' }),
    expected: file(
      ...UV_STAGES,
      'FROM python:3.11-slim',
      'WORKDIR /',
      'USER root',
      CA_CERTS,
      ...USERS,
      ENV_VENV,
      'WORKDIR /root',
      `RUN ${UV_MOUNTS} ${BIND_REQUIREMENTS} uv venv --python /usr/bin/python3.11 --system-site-packages /root/.venv && uv pip install --python /root/.venv/bin/python --requirement requirements_uv.txt && chown -R flytekit /root/.venv`,
      'WORKDIR /',
      NVIDIA,
      ...TAIL,
    ),
  },
  {
    name: 'pyproject.toml: uv reads the file itself, one more --requirement beside packages and the pin',
    spec: spec({ python_version: '3.11', requirements: 'app/pyproject.toml', packages: ['pandas'] }),
    expected: file(
      ...UV_STAGES,
      ...BASE,
      CA_CERTS,
      ...USERS,
      micromamba('python=3.11'),
      ENV_MAMBA,
      `RUN ${UV_MOUNTS} ${BIND_REQUIREMENTS} ${BIND_PYPROJECT} uv pip install --requirement requirements_uv.txt --requirement pyproject.toml`,
      NVIDIA,
      ...TAIL,
    ),
  },
  {
    name: 'pyproject.toml with python_exec, an index and a secret: both files into the venv from /root',
    spec: spec({
      python_exec: 'python3',
      requirements: 'pyproject.toml',
      pip_index: 'https://idx.example/simple',
      pip_secret_mounts: [['.netrc', '/root/.netrc']],
    }),
    expected: file(
      ...UV_STAGES,
      ...BASE,
      CA_CERTS,
      ...USERS,
      ENV_VENV,
      'WORKDIR /root',
      `RUN ${UV_MOUNTS} ${BIND_REQUIREMENTS} ${BIND_PYPROJECT} --mount=type=secret,id=secret_0,target=/root/.netrc uv venv --python python3 --system-site-packages /root/.venv && uv pip install --python /root/.venv/bin/python --index-url https://idx.example/simple --requirement requirements_uv.txt --requirement pyproject.toml && chown -R flytekit /root/.venv`,
      'WORKDIR /',
      NVIDIA,
      ...TAIL,
    ),
  },
  {
    name: 'uv.lock: uv sync in /root, then PATH on the project venv',
    spec: spec({ python_version: '3.11', requirements: 'proj/uv.lock' }),
    expected: file(
      ...UV_STAGES,
      ...BASE,
      CA_CERTS,
      ...USERS,
      micromamba('python=3.11'),
      ENV_MAMBA,
      'WORKDIR /root',
      `RUN ${UV_MOUNTS} --mount=type=bind,target=uv.lock,src=uv.lock --mount=type=bind,target=pyproject.toml,src=pyproject.toml uv sync --locked --no-dev --no-install-project && chown -R flytekit /root/.venv`,
      'WORKDIR /',
      VENV_ENV,
      NVIDIA,
      ...TAIL,
    ),
  },
  {
    name: 'uv.lock with python_exec: the venv comes from python_exec and uv sync reuses it',
    spec: spec({ python_exec: 'python3', requirements: 'uv.lock', pip_extra_args: '--frozen' }),
    expected: file(
      ...UV_STAGES,
      ...BASE,
      CA_CERTS,
      ...USERS,
      ENV_VENV,
      'WORKDIR /root',
      `RUN ${UV_MOUNTS} --mount=type=bind,target=uv.lock,src=uv.lock --mount=type=bind,target=pyproject.toml,src=pyproject.toml uv venv --python python3 --system-site-packages /root/.venv && uv sync --frozen --locked --no-dev --no-install-project && chown -R flytekit /root/.venv`,
      'WORKDIR /',
      VENV_ENV,
      NVIDIA,
      ...TAIL,
    ),
  },
  {
    name: 'poetry.lock: poetry from uv, poetry install --no-root with its cache',
    spec: spec({ python_version: '3.11', requirements: 'poetry.lock', pip_secret_mounts: [['s', '/run/s']] }),
    expected: file(
      ...UV_STAGES,
      ...BASE,
      CA_CERTS,
      ...USERS,
      micromamba('python=3.11'),
      ENV_MAMBA,
      `RUN ${UV_MOUNTS} uv pip install poetry`,
      'ENV POETRY_CACHE_DIR=/tmp/poetry_cache POETRY_VIRTUALENVS_IN_PROJECT=true',
      'WORKDIR /root',
      'RUN --mount=type=cache,sharing=locked,mode=0777,target=/tmp/poetry_cache,id=poetry --mount=type=bind,target=poetry.lock,src=poetry.lock --mount=type=bind,target=pyproject.toml,src=pyproject.toml --mount=type=secret,id=secret_0,target=/run/s poetry install --no-root && chown -R flytekit /root/.venv',
      'WORKDIR /',
      VENV_ENV,
      NVIDIA,
      ...TAIL,
    ),
  },
  {
    name: 'entrypoint, source_root copy, copy entries from copy/, commands in one RUN',
    spec: spec({
      python_version: '3.11',
      entrypoint: ['python', '-m', 'my app'],
      source_root: '.',
      source_copy_mode: 'ALL',
      copy: ['data', './conf//app.yaml', 'top.txt', '.'],
      commands: ['echo hi > /tmp/x', 'pip list | grep "flytekit"'],
    }),
    expected: file(
      ...UV_STAGES,
      ...BASE,
      CA_CERTS,
      ...USERS,
      micromamba('python=3.11'),
      ENV_MAMBA,
      UV_INSTALL,
      NVIDIA,
      'ENTRYPOINT ["python", "-m", "my app"]',
      'COPY --chown=flytekit ./src /root',
      'COPY --chown=flytekit ["copy/data", "/root/data"]',
      'COPY --chown=flytekit ["copy/conf/app.yaml", "/root/conf/app.yaml"]',
      'COPY --chown=flytekit ["copy/top.txt", "/root/top.txt"]',
      'COPY --chown=flytekit ["copy", "/root"]',
      `RUN ${UV_MOUNTS} echo hi > /tmp/x && pip list | grep "flytekit"`,
      ...TAIL,
    ),
  },
  {
    name: 'an empty entrypoint is kept (it clears the base image entrypoint); NO_COPY copies nothing',
    spec: spec({
      python_version: '3.11',
      entrypoint: [],
      source_root: '.',
      source_copy_mode: 'NO_COPY',
      commands: [],
    }),
    expected: file(
      ...UV_STAGES,
      ...BASE,
      CA_CERTS,
      ...USERS,
      micromamba('python=3.11'),
      ENV_MAMBA,
      UV_INSTALL,
      NVIDIA,
      'ENTRYPOINT []',
      ...TAIL,
    ),
  },
  {
    name: 'a multi-line command runs through printf and eval, on one line',
    spec: spec({ python_version: '3.11', commands: ['cat > /etc/x <<EOF\nhello\nEOF', 'echo done'] }),
    expected: file(
      ...UV_STAGES,
      ...BASE,
      CA_CERTS,
      ...USERS,
      micromamba('python=3.11'),
      ENV_MAMBA,
      UV_INSTALL,
      NVIDIA,
      `RUN ${UV_MOUNTS} __imagespec_cmd=$(printf '%b' 'cat > /etc/x \\0074\\0074EOF\\nhello\\nEOF') && eval "$__imagespec_cmd" && echo done`,
      ...TAIL,
    ),
  },
  {
    name: 'builder_config images, and the options over them',
    spec: spec({
      python_version: '3.11',
      builder_config: new PyDict([['uv_image', 'mirror.example/uv:0.9.0']]),
    }),
    opts: { micromambaImage: 'mirror.example/micromamba:2' },
    expected: file(
      'FROM mirror.example/uv:0.9.0 AS uv',
      'FROM mirror.example/micromamba:2 AS micromamba',
      ...BASE,
      CA_CERTS,
      ...USERS,
      micromamba('python=3.11'),
      ENV_MAMBA,
      UV_INSTALL,
      NVIDIA,
      ...TAIL,
    ),
  },
]

const PIP_INSTALL = (args: string, mounts = BIND_REQUIREMENTS, python = 'python3'): string[] => [
  'WORKDIR /root',
  `RUN ${PIP_CACHE} ${mounts} ${python} -m venv --system-site-packages --without-pip /root/.venv && SOURCE_DATE_EPOCH=0 /root/.venv/bin/python -m pip install --disable-pip-version-check ${args} && chown -R flytekit /root/.venv`,
  'WORKDIR /',
]

const pipCases: Case[] = [
  {
    name: 'pip: no uv or micromamba stage, no CA step, the base Python makes the venv',
    spec: spec({ python_version: '3.11', base_image: 'python:3.11-slim' }),
    expected: file(
      'FROM python:3.11-slim',
      'WORKDIR /',
      'USER root',
      ...USERS,
      ENV_VENV,
      ...PIP_INSTALL('--requirement requirements_uv.txt'),
      NVIDIA,
      ...TAIL,
    ),
  },
  {
    name: 'pip: python_exec, index options, apt, commands with the pip cache',
    spec: spec({
      python_exec: '/opt/py/bin/python3',
      apt_packages: ['git', 'lib x'],
      pip_index: 'https://idx.example/simple',
      pip_extra_index_url: ['https://a.example/simple'],
      pip_extra_args: '--pre',
      pip_secret_mounts: [['.netrc', '/root/.netrc']],
      commands: ['python -c "import flytekit"'],
    }),
    expected: file(
      ...BASE,
      APT,
      ...USERS,
      ENV_VENV,
      ...PIP_INSTALL(
        '--index-url https://idx.example/simple --extra-index-url https://a.example/simple --pre --requirement requirements_uv.txt',
        `${BIND_REQUIREMENTS} --mount=type=secret,id=secret_0,target=/root/.netrc`,
        "'/opt/py/bin/python3'",
      ),
      NVIDIA,
      `RUN ${PIP_CACHE} python -c "import flytekit"`,
      ...TAIL,
    ),
  },
  {
    name: 'pip with a pyproject.toml: its dependencies are in requirements_uv.txt, no constraints, no pyproject mount',
    spec: spec({ requirements: 'app/pyproject.toml', packages: ['pandas'] }),
    expected: file(
      ...BASE,
      ...USERS,
      ENV_VENV,
      ...PIP_INSTALL('--requirement requirements_uv.txt'),
      NVIDIA,
      ...TAIL,
    ),
  },
  {
    name: 'pip with a lock file: requirements plus the locked versions as constraints',
    spec: spec({ requirements: 'uv.lock' }),
    expected: file(
      ...BASE,
      ...USERS,
      ENV_VENV,
      ...PIP_INSTALL(
        '--requirement requirements_uv.txt --constraint constraints.txt',
        `${BIND_REQUIREMENTS} --mount=type=bind,target=constraints.txt,src=constraints.txt`,
      ),
      NVIDIA,
      ...TAIL,
    ),
  },
]

describe('generateDockerfile', () => {
  test.each([...uvCases, ...pipCases.map((c) => ({ ...c, opts: { ...c.opts, installer: 'pip' as const } }))])(
    '$name',
    (c) => {
      expect(generateDockerfile(c.spec, { ...OPTS, ...c.opts })).toBe(c.expected)
    },
  )

  test('the base image comes from the options (a built nested spec) before the spec', () => {
    const text = generateDockerfile(spec({ base_image: spec({ name: 'base' }) }), {
      ...OPTS,
      baseImage: 'ghcr.io/o/base:abc',
    })
    expect(text).toContain('\nFROM ghcr.io/o/base:abc\n')
  })

  test('every line is one instruction and _F_IMG_ID is the last one', () => {
    const text = generateDockerfile(spec({ commands: ['a\nb'], env: env([['A', 'b']]) }), OPTS)
    const lines = text.trimEnd().split('\n')
    expect(lines.every((l) => /^(FROM|WORKDIR|USER|RUN|ENV|ENTRYPOINT|COPY|SHELL) /.test(l))).toBe(true)
    expect(lines[lines.length - 1]).toBe('ENV _F_IMG_ID=SPEC_id-1')
  })
})

function issuesOf(s: ImageSpec, opts: Partial<DockerfileOptions> = {}): { path: string; message: string }[] {
  try {
    generateDockerfile(s, { ...OPTS, ...opts })
  } catch (err) {
    if (err instanceof SpecError) return err.issues.map(({ path, message }) => ({ path, message }))
    throw err
  }
  throw new Error('expected a SpecError')
}

describe('generateDockerfile refuses', () => {
  test.each<[string, ImageSpec, Partial<DockerfileOptions>, string, RegExp]>([
    ['cuda', spec({ cuda: '12.1' }), {}, 'cuda', /cannot install CUDA.*CUDA base_image/],
    ['cudnn', spec({ cudnn: '8' }), {}, 'cudnn', /cannot install cuDNN/],
    [
      'conda with python_exec',
      spec({ python_exec: 'python3', conda_packages: ['x'] }),
      {},
      'conda_packages',
      /python_exec/,
    ],
    [
      'conda with installer pip',
      spec({ conda_channels: ['bioconda'] }),
      { installer: 'pip' },
      'conda_channels',
      /micromamba/,
    ],
    [
      'a lock file with packages',
      spec({ requirements: 'uv.lock', packages: [] }),
      {},
      'packages',
      /uv\.lock/,
    ],
    ['an absolute copy path', spec({ copy: ['/etc/passwd'] }), {}, 'copy[0]', /relative/],
    ['a copy path with ..', spec({ copy: ['a/../../b'] }), {}, 'copy[0]', /'\.\.'/],
    ['a copy path with $', spec({ copy: ['a$HOME'] }), {}, 'copy[0]', /\$/],
    ['a copy path with a glob', spec({ copy: ['*.txt'] }), {}, 'copy[0]', /pattern/],
    ['a copy path with a newline', spec({ copy: ['a\nRUN id'] }), {}, 'copy[0]', /U\+000A/],
    [
      'a bad env name',
      // Docker keeps names such as A-B or 10; a space is what it cannot hold.
      spec({ env: env([['A B', 'x']]) }),
      {},
      'env.A B',
      /not a valid environment variable name/,
    ],
    [
      'an env value with a newline',
      spec({ env: env([['A', 'x\nRUN id']]) }),
      {},
      'env.A',
      /U\+000A.*ENV value/,
    ],
    ['an env value with U+2028', spec({ env: env([['A', 'x\u2028y']]) }), {}, 'env.A', /U\+2028/],
    [
      'an apt package with a newline',
      spec({ apt_packages: ['git\nRUN id'] }),
      {},
      'apt_packages[0]',
      /U\+000A/,
    ],
    ['a conda package with CR', spec({ conda_packages: ['x\r'] }), {}, 'conda_packages[0]', /U\+000D/],
    [
      'a python_version with a newline',
      spec({ python_version: '3.11\nRUN id' }),
      {},
      'python_version',
      /U\+000A/,
    ],
    [
      'a default Python with a newline',
      spec(),
      { defaultPythonVersion: '3.1\n' },
      'python_version',
      /U\+000A/,
    ],
    ['a python_exec with a newline', spec({ python_exec: 'py\n' }), {}, 'python_exec', /U\+000A/],
    ['a pip_index with a newline', spec({ pip_index: 'x\ny' }), {}, 'pip_index', /U\+000A/],
    [
      'an extra index with NEL',
      spec({ pip_extra_index_url: ['x\u0085'] }),
      {},
      'pip_extra_index_url[0]',
      /U\+0085/,
    ],
    [
      'pip_extra_args with an open quote',
      spec({ pip_extra_args: "--pre 'x" }),
      {},
      'pip_extra_args',
      /unterminated single quote/,
    ],
    ['a NUL in a command', spec({ commands: ['echo \0'] }), {}, 'commands[0]', /NUL/],
    ['a NUL in the entrypoint', spec({ entrypoint: ['a\0'] }), {}, 'entrypoint[0]', /NUL/],
    [
      'a bad secret target',
      spec({ pip_secret_mounts: [['s', '/x,target=/y']] }),
      {},
      'pip_secret_mounts[0][1]',
      /letters, digits/,
    ],
    [
      'a bad base image',
      spec({ base_image: 'debian\nRUN id' }),
      {},
      'base_image',
      /not a valid image reference/,
    ],
    [
      'a base image with a variable',
      spec(),
      { baseImage: '${BASE}' },
      'base_image',
      /not a valid image reference/,
    ],
    [
      'a bad uv image',
      spec({ builder_config: new PyDict([['uv_image', 'uv AS x']]) }),
      {},
      'builder_config.uv_image',
      /image reference/,
    ],
    [
      'a non-string micromamba image',
      spec({ builder_config: new PyDict([['micromamba_image', null]]) }),
      {},
      'builder_config.micromamba_image',
      /string/,
    ],
    [
      'LOADED_MODULES',
      spec({ source_root: '.', source_copy_mode: 'LOADED_MODULES' }),
      {},
      'source_copy_mode',
      /ALL or NO_COPY/,
    ],
    ['copy mode without source_root', spec({ source_copy_mode: 'ALL' }), {}, 'source_root', /must be set/],
  ])('%s', (_name, s, opts, path, message) => {
    const issues = issuesOf(s, opts)
    expect(issues.map((i) => i.path)).toContain(path)
    expect(issues.find((i) => i.path === path)?.message).toMatch(message)
  })

  test('all problems at once', () => {
    const issues = issuesOf(
      spec({ cuda: '12', copy: ['/a', 'b/../..'], env: env([['1 X', 'y']]), apt_packages: ['a\n'] }),
    )
    expect(issues.map((i) => i.path)).toEqual(['cuda', 'apt_packages[0]', 'env.1 X', 'copy[0]', 'copy[1]'])
  })

  test('a value shown in a message or path cannot break the log line', () => {
    const [issue] = issuesOf(spec({ base_image: 'a\n::error::x' }))
    expect(issue?.message).not.toContain('\n')
    const [envIssue] = issuesOf(spec({ env: env([['A\n::error::x', 'v']]) }))
    expect(envIssue?.path).toBe('env."A\\n::error::x"')
  })
})
