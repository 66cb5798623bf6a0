/**
 * Helpers for the end-to-end tests of examples/flyte-project: a copy of the project in a temporary workspace, and
 * the images flytekit names for it, computed without the action's code. Python imports the project as
 * `pyflyte register workflows/` does (every module under the folder, by its dotted name from the project root),
 * with a small stand-in for flytekit whose ImageSpec implements flytekit 1.16's hashing: the dict of the
 * non-None fields in dataclass order, `requirements` replaced by the sha1 of the file's stripped bytes, a nested
 * base by its image name, md5, URL-safe base64 without '=', '-' to '_'. Running the code (rather than reading it)
 * is what flytekit does, so the helpers `with_packages` and friends and Python's own import rules apply as they
 * do for register.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Workspace } from './graph-workspace.js'

export const EXAMPLE_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../examples/flyte-project',
)

/** A fresh copy of examples/flyte-project (the tests change files in it). */
export function copyExample(): Workspace {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'e2e-flyte-project-'))
  cpSync(EXAMPLE_DIR, dir, {
    recursive: true,
    filter: (src) => !/(^|[/\\])(__pycache__|\.pytest_cache)([/\\]|$)/.test(src),
  })
  return new Workspace(dir)
}

/** One image of the project, as flytekit names it. */
export interface ProjectImage {
  name: string
  registry: string
  tag: string
  image: string
  /** `ImageSpec.id` (the `_F_IMG_ID` value). */
  id: string
  /** The image a nested base ImageSpec gives, when the spec's base_image is one. */
  base: string | null
  /** No module-level name and no task names this image: it is only some spec's nested base_image. */
  nestedBase: boolean
  /** The requirements files this image's tag depends on (its own and those of its nested bases). */
  requirements: string[]
  /**
   * What names the spec: module-level names (`workflows.images.base`, also where it is imported) and tasks it is
   * the container_image of (`workflows.train.report`).
   */
  names: string[]
}

const FLYTEKIT_STAND_IN = String.raw`
import base64, copy as _copy, hashlib, importlib, json, os, platform as _platform, sys, types
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

EXCLUDED = ("pip_secret_mounts", "builder", "runtime_packages")


def b64md5(text):
    return base64.urlsafe_b64encode(hashlib.md5(text.encode("utf-8")).digest()).decode("ascii").rstrip("=")


@dataclass
class ImageSpec:
    # flytekit 1.16's fields, in its order: the order of the hashed dict.
    name: str = "flytekit"
    python_version: Optional[str] = None
    builder: Optional[str] = None
    source_root: Optional[str] = None
    env: Optional[Dict[str, str]] = None
    registry: Optional[str] = None
    packages: Optional[List[str]] = None
    conda_packages: Optional[List[str]] = None
    conda_channels: Optional[List[str]] = None
    requirements: Optional[str] = None
    apt_packages: Optional[List[str]] = None
    cuda: Optional[str] = None
    cudnn: Optional[str] = None
    base_image: Optional[Union[str, "ImageSpec"]] = None
    platform: Optional[str] = None
    pip_index: Optional[str] = None
    pip_extra_index_url: Optional[List[str]] = None
    pip_secret_mounts: Optional[List[Any]] = None
    pip_extra_args: Optional[str] = None
    registry_config: Optional[str] = None
    entrypoint: Optional[List[str]] = None
    commands: Optional[List[str]] = None
    tag_format: Optional[str] = None
    source_copy_mode: Optional[Any] = None
    copy: Optional[List[str]] = None
    python_exec: Optional[str] = None
    runtime_packages: Optional[List[str]] = None
    builder_options: Optional[Dict[str, Any]] = None
    builder_config: Optional[Dict[str, Any]] = None

    def __post_init__(self):
        self.name = self.name.lower()
        if self.registry:
            self.registry = self.registry.lower()
        if self.platform is None:
            arm = _platform.machine() in ("arm64", "aarch64")
            self.platform = "linux/arm64" if arm and (self.registry or "").startswith("localhost:") else "linux/amd64"
        # What this stand-in does not hash (file digests of copy and source_root): the example has none.
        for field in ("source_root", "source_copy_mode", "copy"):
            if getattr(self, field) is not None:
                raise NotImplementedError(f"the flytekit stand-in does not hash {field}")

    @property
    def id(self):
        d = asdict(self, dict_factory=lambda kv: {k: v for k, v in kv if v is not None and k not in EXCLUDED})
        return b64md5(str(d))

    @property
    def tag(self):
        spec = _copy.deepcopy(self)
        if isinstance(spec.base_image, ImageSpec):
            spec = replace(spec, base_image=spec.base_image.image_name())
        if spec.requirements:
            digest = hashlib.sha1(Path(spec.requirements).read_bytes().strip()).hexdigest()
            spec = replace(spec, requirements=digest)
        spec = replace(spec, registry_config=None)
        tag = spec.id.replace("-", "_")
        return self.tag_format.format(spec_hash=tag) if self.tag_format else tag

    def image_name(self):
        name = f"{self.name}:{self.tag}"
        return f"{self.registry}/{name}" if self.registry else name

    def _extended(self, field, values):
        current = _copy.deepcopy(getattr(self, field)) or []
        if isinstance(values, list):
            current.extend(values)
        else:
            current.append(values)
        return replace(self, **{field: current})

    def with_packages(self, packages):
        return self._extended("packages", packages)

    def with_apt_packages(self, apt_packages):
        return self._extended("apt_packages", apt_packages)

    def with_commands(self, commands):
        return self._extended("commands", commands)


TASK_IMAGES = []


def task(_fn=None, **kwargs):
    def wrap(fn):
        if isinstance(kwargs.get("container_image"), ImageSpec):
            TASK_IMAGES.append((kwargs["container_image"], f"{fn.__module__}.{fn.__name__}"))
        return fn

    return wrap(_fn) if _fn is not None else wrap


def workflow(_fn=None, **kwargs):
    return _fn if _fn is not None else (lambda fn: fn)


flytekit = types.ModuleType("flytekit")
flytekit.ImageSpec, flytekit.task, flytekit.workflow = ImageSpec, task, workflow
sys.modules["flytekit"] = flytekit

root, package = sys.argv[1], sys.argv[2]
os.chdir(root)  # where register runs: requirements paths are relative to it
sys.path.insert(0, root)
names = []
for folder, dirs, files in os.walk(package):
    dirs[:] = sorted(d for d in dirs if d != "__pycache__")
    for f in sorted(files):
        if f.endswith(".py"):
            parts = os.path.relpath(os.path.join(folder, f[:-3]), root).split(os.sep)
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))

named = []  # (spec, what names it)
for name in names:
    module = importlib.import_module(name)
    for key, value in vars(module).items():
        if isinstance(value, ImageSpec):
            named.append((value, f"{name}.{key}"))
named.extend(TASK_IMAGES)

images = {}


def visit(spec, by):
    ref = spec.image_name()
    entry = images.get(ref)
    if entry is None:
        base = spec.base_image if isinstance(spec.base_image, ImageSpec) else None
        requirements = [spec.requirements] if spec.requirements else []
        if base is not None:
            requirements = visit(base, None)["requirements"] + requirements
        entry = images[ref] = {
            "name": spec.name, "registry": spec.registry or "", "tag": spec.tag, "image": ref, "id": spec.id,
            "base": base.image_name() if base is not None else None, "nestedBase": True,
            "requirements": sorted(set(requirements)), "names": [],
        }
    if by is not None:
        entry["nestedBase"] = False
        if by not in entry["names"]:
            entry["names"].append(by)
    return entry


for spec, by in named:
    visit(spec, by)
print(json.dumps(list(images.values())))
`

/**
 * The images of the project in `dir` (package folder `workflows`), as flytekit names them with `env` set, each
 * once, in no particular order.
 */
export function flytekitImages(dir: string, env: Record<string, string>, pkg = 'workflows'): ProjectImage[] {
  const scripts = mkdtempSync(path.join(os.tmpdir(), 'flytekit-stand-in-'))
  const script = path.join(scripts, 'images.py')
  writeFileSync(script, FLYTEKIT_STAND_IN)
  try {
    // -I: neither the project's folder nor PYTHONPATH nor an installed flytekit comes before the stand-in.
    const out = execFileSync('python3', ['-I', '-B', script, dir, pkg], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    })
    return JSON.parse(out) as ProjectImage[]
  } finally {
    rmSync(scripts, { recursive: true, force: true })
  }
}

/** The image whose spec `name` names (`workflows.images.base`, or a task: `workflows.train.report`). */
export function imageNamed(images: ProjectImage[], name: string): ProjectImage {
  const found = images.filter((i) => i.names.includes(name))
  if (found.length !== 1) throw new Error(`expected one image named by ${name}: ${JSON.stringify(images)}`)
  return found[0] as ProjectImage
}

/** The 1-based number of the first line of a workspace file that contains `text`. */
export function lineOf(dir: string, file: string, text: string): number {
  const lines = readFileSync(path.join(dir, file), 'utf8').split('\n')
  const i = lines.findIndex((l) => l.includes(text))
  if (i < 0) throw new Error(`${file} has no line with ${JSON.stringify(text)}`)
  return i + 1
}
