"""Reads the ImageSpecs of a Flyte project from its Python source, statically.

No project code is imported or run. Each module is parsed with Python's own `ast` and its module-level statements
are interpreted by a small evaluator that only knows literals, containers, names, f-strings, string and list
operators, a few str/list/dict methods, `os.environ` / `os.getenv`, project imports, and flytekit's `ImageSpec`
(its constructor, `from_env` and the `with_*` / `force_push` helpers). Values are real Python objects, so every
value is exactly what Python computes (string escapes, big ints, float reprs, dict order, aliasing of lists).
Anything else becomes an `Unknown` that remembers where it came from; an Unknown that reaches an ImageSpec is
refused with its file, line, column and source text. Never a guess.

Input (stdin, JSON): {"entries": [file, ...], "cwd": dir}. Entry files are imported the way `pyflyte register`
imports them: as modules named by their path from the project root (the first folder upwards without
`__init__.py`), following the project's own imports.
Output (stdout, JSON): {"python", "specs": [...], "errors": [...], "modules": [...]}; see `main`.
"""

import ast
import builtins
import copy
import json
import os
import sys
import warnings

# flytekit 1.16's ImageSpec dataclass fields, in declaration order (positional arguments follow it).
FIELDS = [
    "name", "python_version", "builder", "source_root", "env", "registry", "packages", "conda_packages",
    "conda_channels", "requirements", "apt_packages", "cuda", "cudnn", "base_image", "platform", "pip_index",
    "pip_extra_index_url", "pip_secret_mounts", "pip_extra_args", "registry_config", "entrypoint", "commands",
    "tag_format", "source_copy_mode", "copy", "python_exec", "runtime_packages", "builder_options",
    "builder_config",
]
# How flytekit exposes ImageSpec and CopyFileDetection: any of these qualified names (import paths).
IMAGESPEC_NAMES = {
    "flytekit.ImageSpec", "flytekit.image_spec.ImageSpec", "flytekit.image_spec.image_spec.ImageSpec",
    "union.ImageSpec", "unionai.ImageSpec",
}
COPY_MODE_VALUES = {"LOADED_MODULES": 1, "ALL": 2, "NO_COPY": 3}
# `with_*` helpers: a string is appended, a list extended (with_runtime_packages takes a list).
LIST_HELPERS = {
    "with_commands": "commands", "with_packages": "packages", "with_apt_packages": "apt_packages",
    "with_copy": "copy", "with_runtime_packages": "runtime_packages",
}
# Fields flytekit's __post_init__ normalizes or fills in: set on a made spec, they would not be normalized again.
POST_INIT_FIELDS = {"name", "registry", "platform", "source_root", "source_copy_mode"}
# Methods that change a list, dict or os.environ in place.
MUTATORS = {
    "append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse", "update", "setdefault", "popitem",
    "__setitem__", "__delitem__", "__iadd__", "__ior__",
}
DOTENV_LOADERS = {"dotenv.load_dotenv", "dotenv.main.load_dotenv"}
SPEC_MAKERS = set(LIST_HELPERS) | {"with_builder_options", "force_push", "from_env", "ImageSpec"}
MAX_ITERATIONS = 10000
MAX_TEXT = 1 << 20


class Refusal(Exception):
    """Stops the evaluation of one expression: the Unknown says why."""

    def __init__(self, unknown):
        super().__init__(unknown.reason)
        self.unknown = unknown


class Unknown:
    """A value a static reader cannot know, with the smallest expression that made it so."""

    def __init__(self, reason, node, module):
        self.reason = reason
        self.node = node
        self.module = module


class Opaque:
    """A value that is not unknown but that the reader does not model (a task, a Resources object)."""

    def __init__(self, what):
        self.what = what


class External:
    """A module or attribute outside the project (flytekit, union, os...), by its qualified name."""

    def __init__(self, qualname):
        self.qualname = qualname


class CopyMode:
    def __init__(self, name):
        self.name = name


class UserFunction:
    def __init__(self, name, node, module):
        self.name = name
        self.node = node
        self.module = module


class Bound:
    """A method bound to a value the reader models (a str, a list, an ImageSpec, os.environ)."""

    def __init__(self, target, name):
        self.target = target
        self.name = name


MISSING = object()


class Environ:
    """os.environ: the step's environment, which the register step shares."""


ENVIRON = Environ()


class Spec:
    """An ImageSpec object: its arguments as given (flytekit's __post_init__ is applied by the action)."""

    count = 0

    def __init__(self, fields, module, node, field_lines):
        self.id = Spec.count
        Spec.count += 1
        self.fields = fields
        self.file = module.file
        self.line = node.lineno
        self.field_lines = field_lines  # field -> (file, line) of the value, for messages about it
        self.locations = []

    def __deepcopy__(self, memo):
        # copy.deepcopy of an ImageSpec (force_push, or a spec inside a copied value): a new object whose lists and
        # dicts are copies, so changing the original's afterwards does not reach it.
        clone = copy.copy(self)
        memo[id(self)] = clone
        clone.id = Spec.count
        Spec.count += 1
        clone.fields = copy.deepcopy(self.fields, memo)
        clone.field_lines = dict(self.field_lines)
        clone.locations = []
        return clone

    def replace(self, changes, node, module):
        fields = dict(self.fields)
        fields.update(changes)
        lines = dict(self.field_lines)
        lines.update({k: (module.file, node.lineno) for k in changes})
        return Spec(fields, module, node, lines)


class Module:
    def __init__(self, name, file, is_package):
        self.name = name
        self.file = file
        self.is_package = is_package
        self.globals = {"__name__": name, "__file__": Unknown("__file__ (a path on the machine that imports it)", None, self)}
        self.assigned = {}  # name -> line of the assignment statement that bound it last
        self.done = False
        self.source = ""


class Reader:
    def __init__(self, cwd):
        self.cwd = cwd
        self.roots = []
        self.modules = {}
        self.errors = []
        self.reported = set()
        self.container_uses = []  # (Spec, module, line)
        self.env = dict(os.environ)  # a value may be an Unknown: set by code the reader does not run
        self.env_unknown = None  # an Unknown when code the reader does not run may have changed any variable
        self.env_unset_unknown = None  # an Unknown when it may have set variables that are unset (load_dotenv)
        self.tainted = {}  # id -> (list, dict or Spec, Unknown): changed by code the reader does not run

    def env_read(self, key, node, module):
        """os.environ[key] as the module sees it: a str, MISSING, or an Unknown when code the reader does not run
        may have changed it."""
        if self.env_unknown is not None:
            return self.env_unknown
        if key in self.env:
            return self.env[key]
        return self.env_unset_unknown if self.env_unset_unknown is not None else MISSING

    # ----------------------------------------------------------------------------------------------- errors

    def refuse(self, unknown, context=None):
        key = (id(unknown.node), unknown.reason)
        if key in self.reported:
            return
        self.reported.add(key)
        module = unknown.module
        node = unknown.node
        if isinstance(node, ast.keyword) and not hasattr(node, "lineno"):
            node = node.value  # Python 3.8: keywords have no position; their value has
        source = ""
        col = getattr(node, "col_offset", -1) + 1
        if node is not None and module is not None:
            source = ast.get_source_segment(module.source, node) or ""
            if len(source) > 200:
                source = source[:197] + "..."
            col = char_column(module.source, getattr(node, "lineno", 0), col)
        self.errors.append({
            "file": module.file if module else "",
            "line": getattr(node, "lineno", 0),
            "col": col,
            "source": source,
            "message": unknown.reason + (f" ({context})" if context else ""),
        })

    # ----------------------------------------------------------------------------------------------- modules

    def add_entry(self, path):
        full = os.path.abspath(os.path.join(self.cwd, path))
        root = os.path.dirname(full)
        while os.path.isfile(os.path.join(root, "__init__.py")) and os.path.dirname(root) != root:
            root = os.path.dirname(root)
        if root not in self.roots:
            self.roots.append(root)
        rel = os.path.relpath(full, root)[:-3].split(os.sep)
        is_package = rel[-1] == "__init__"
        if is_package:
            rel = rel[:-1]
        name = ".".join(rel)
        self.import_module(name, None)

    def find(self, name):
        parts = name.split(".")
        for root in self.roots:
            base = os.path.join(root, *parts)
            if os.path.isfile(os.path.join(base, "__init__.py")):
                return os.path.join(base, "__init__.py"), True
            if os.path.isfile(base + ".py"):
                return base + ".py", False
            if os.path.isdir(base) and parts and all(p.isidentifier() for p in parts):
                return None, True  # a namespace package
        return None, False

    def import_module(self, name, at):
        """The project module `name` (importing its parent packages first), or None when it is not the project's."""
        if name in self.modules:
            return self.modules[name]
        if "." in name:
            parent = self.import_module(name.rsplit(".", 1)[0], at)
            if parent is None:
                return None
        file, is_package = self.find(name)
        if file is None and not is_package:
            return None
        rel = os.path.relpath(file, self.cwd) if file else name.replace(".", "/")
        module = Module(name, rel.replace(os.sep, "/"), is_package)
        self.modules[name] = module
        if "." in name:
            parent_name, leaf = name.rsplit(".", 1)
            self.modules[parent_name].globals.setdefault(leaf, module)
        if file is None:
            module.done = True
            return module
        try:
            with open(file, "rb") as f:
                data = f.read()
            module.source = data.decode("utf-8-sig", errors="replace")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarnings (invalid escapes...) are Python's to print, not ours
                tree = ast.parse(data, filename=module.file)
                # ast.parse accepts code that Python's compiler then rejects (a keyword argument given twice,
                # `return` outside a function, a late `from __future__` import): importing such a file raises
                # SyntaxError, so it is one here too. Compiling runs nothing.
                compile(tree, module.file, "exec", dont_inherit=True)
        except SyntaxError as e:
            text = e.text or source_line(module.source, e.lineno or 0)
            self.errors.append({
                "file": module.file, "line": e.lineno or 0, "col": e.offset or 0,
                "source": text.rstrip("\n"), "message": f"SyntaxError: {e.msg}", "syntax": True,
            })
            module.done = True
            return module
        except (OSError, ValueError) as e:
            self.errors.append({"file": module.file, "line": 0, "col": 0, "source": "", "message": f"cannot read: {e}"})
            module.done = True
            return module
        self.run_body(tree.body, module)
        module.done = True
        return module

    def resolve_relative(self, module, level, name):
        package = module.name if module.is_package else module.name.rpartition(".")[0]
        parts = package.split(".") if package else []
        if level - 1 > len(parts):
            return None
        base = parts[: len(parts) - (level - 1)]
        return ".".join(base + ([name] if name else []))

    # ----------------------------------------------------------------------------------------------- statements

    def bind(self, module, name, value, line=None):
        module.globals[name] = value
        if line is None:
            module.assigned.pop(name, None)
        else:
            module.assigned[name] = line

    def run_body(self, body, module):
        for stmt in body:
            self.run_stmt(stmt, module)

    def run_stmt(self, stmt, module):
        try:
            self._run_stmt(stmt, module)
        except Refusal as r:
            # An unknown that could make an ImageSpec is refused; any other is harmless until a spec uses it.
            if self.makes_spec(stmt, module):
                self.refuse(r.unknown)
            for name in assigned_names(stmt):
                self.bind(module, name, r.unknown)

    def _run_stmt(self, stmt, module):
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                target = self.import_module(alias.name, stmt)
                if alias.asname:
                    value = target if target is not None else External(alias.name)
                    if target is not None:
                        value = self.modules.get(alias.name, target)
                    self.bind(module, alias.asname, value)
                else:
                    top = alias.name.split(".")[0]
                    self.bind(module, top, self.modules.get(top) or External(top))
        elif isinstance(stmt, ast.ImportFrom):
            self.run_import_from(stmt, module)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            if stmt.value is None:
                return
            value = self.eval(stmt.value, module)
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                self.assign(target, value, module, stmt.lineno)
        elif isinstance(stmt, ast.AugAssign):
            self.run_aug_assign(stmt, module)
        elif isinstance(stmt, ast.Expr):
            self.eval(stmt.value, module)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in stmt.decorator_list:
                value = self.eval(decorator, module)
                if isinstance(value, UserFunction):
                    self.call_effects(value, decorator, module)  # @my_decorator: Python calls it with the function
            if any(is_workflow_decorator(d) for d in stmt.decorator_list):
                self.scan_workflow_body(stmt, module)
            self.bind(module, stmt.name, UserFunction(stmt.name, stmt, module))
        elif isinstance(stmt, ast.ClassDef):
            # The class body runs now; the reader does not run it, so what it could change is unknown.
            class_locals = frozenset(n.id for n in walk_code(stmt.body) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
            self.effects(stmt.body, module, f"in the body of class {stmt.name}", class_locals, frozenset(), {})
            self.bind(module, stmt.name, UserFunction(stmt.name, stmt, module))
        elif isinstance(stmt, ast.If):
            test = self.try_eval(stmt.test, module)
            if isinstance(test, Unknown):
                self.unknown_branch(stmt.body + stmt.orelse, module, test, f"under `if {self.text(stmt.test, module)}`")
            else:
                self.run_body(stmt.body if truthy(test, stmt.test, module) else stmt.orelse, module)
        elif isinstance(stmt, ast.For):
            self.run_for(stmt, module)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                value = self.try_eval(item.context_expr, module)
                if item.optional_vars is not None:
                    for name in target_names(item.optional_vars):
                        self.bind(module, name, Opaque("a context manager's value"))
                del value
            self.run_body(stmt.body, module)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            # The body runs as if nothing raises; a handler runs only when something does, which the reader
            # cannot tell, so names it binds are unknown (and an ImageSpec made there is refused).
            self.run_body(stmt.body, module)
            for handler in stmt.handlers:
                handled = Unknown("a name bound in an exception handler, which runs only if the code above it raises", handler, module)
                for name in assigned_names(handler):
                    if name not in module.globals:
                        self.bind(module, name, handled)
            self.run_body(stmt.orelse, module)
            self.run_body(stmt.finalbody, module)
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    module.globals.pop(target.id, None)
                    module.assigned.pop(target.id, None)
                elif isinstance(target, ast.Subscript):
                    self.delete_item(target, module)
        elif isinstance(stmt, (ast.Pass, ast.Global, ast.Nonlocal, ast.Assert)):
            return
        elif isinstance(stmt, (ast.Break, ast.Continue)):
            raise LoopControl(isinstance(stmt, ast.Break))
        else:
            # while, match, raise, return...: not evaluated.
            what = type(stmt).__name__.lower()
            self.unknown_branch([stmt], module, Unknown(f"a `{what}` statement", stmt, module), f"in a `{what}` statement")

    def run_import_from(self, stmt, module):
        if stmt.level:
            name = self.resolve_relative(module, stmt.level, stmt.module)
            if name is None:
                raise Refusal(Unknown("a relative import beyond the project root", stmt, module))
        else:
            name = stmt.module or ""
        source = self.import_module(name, stmt) if name else None
        for alias in stmt.names:
            if alias.name == "*":
                if source is not None:
                    for key, value in list(source.globals.items()):
                        if not key.startswith("_"):
                            self.bind(module, key, value)
                continue
            if source is not None:
                if alias.name in source.globals:
                    value = source.globals[alias.name]
                else:
                    value = self.import_module(f"{name}.{alias.name}", stmt)
                    if value is None:
                        value = Unknown(f"'{alias.name}' is not defined in {name}", stmt, module)
            elif f"{name}.{alias.name}" == "os.environ":
                value = ENVIRON  # `from os import environ`: the same mapping as os.environ, reads and writes alike
            else:
                value = External(f"{name}.{alias.name}")
            self.bind(module, alias.asname or alias.name, value)

    def assign(self, target, value, module, line):
        if isinstance(target, ast.Name):
            self.bind(module, target.id, value, line)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, Unknown):
                for name in target_names(target):
                    self.bind(module, name, value)
                return
            if not isinstance(value, (list, tuple, str, dict)) or any(isinstance(e, ast.Starred) for e in target.elts):
                raise Refusal(Unknown("unpacking a value the reader does not model", target, module))
            items = list(value)
            if len(items) != len(target.elts):
                raise Refusal(Unknown("unpacking the wrong number of values", target, module))
            for elt, item in zip(target.elts, items):
                self.assign(elt, item, module, line)
        elif isinstance(target, ast.Subscript):
            container = self.eval(target.value, module)
            key = self.item_key(target, module)
            if container is ENVIRON:
                if not isinstance(value, str) or not isinstance(key, str):
                    raise Refusal(Unknown("os.environ takes strings only", target, module))
                self.env[key] = value
            elif isinstance(container, (dict, list)) and (is_hashable_plain(key) or isinstance(key, slice) and isinstance(container, list)):
                try:
                    container[key] = value
                except (IndexError, TypeError) as e:
                    raise Refusal(Unknown(f"this assignment raises {type(e).__name__}", target, module))
        elif isinstance(target, ast.Attribute):
            obj = self.eval(target.value, module)
            if isinstance(obj, Spec) and target.attr in FIELDS:
                self.set_spec_field(obj, target.attr, value, target, module)
            elif isinstance(obj, Module):
                # config.REGISTRY = ...: rebinds the other module's name (not an assignment statement of its own).
                obj.globals[target.attr] = value
                obj.assigned.pop(target.attr, None)
            # Other attribute targets (a task's attribute, a spec's _is_force_push) change nothing the reader
            # models.

    def item_key(self, target, module):
        """The key of a subscript target: a plain key, or a slice object for `PKGS[1:] = ...` / `del PKGS[:1]`."""
        if isinstance(target.slice, ast.Slice):
            bounds = [None if n is None else self.eval(n, module) for n in (target.slice.lower, target.slice.upper, target.slice.step)]
            if not all(b is None or isinstance(b, int) for b in bounds):
                raise Refusal(Unknown("a slice the reader does not model", target, module))
            return slice(*bounds)
        return self.eval(target.slice, module)

    def delete_item(self, target, module):
        """`del os.environ["X"]`, `del ENV["A"]`: later reads (and specs holding that dict) see it gone."""
        container = self.eval(target.value, module)
        key = self.item_key(target, module)
        if container is ENVIRON:
            container = self.env
        if not isinstance(container, (dict, list)) or not (is_hashable_plain(key) or isinstance(key, slice)):
            raise Refusal(Unknown("deleting an item of a value the reader does not model", target, module))
        try:
            del container[key]
        except (KeyError, IndexError, TypeError) as e:
            raise Refusal(Unknown(f"this del raises {type(e).__name__}: {e}", target, module))

    def set_spec_field(self, spec, name, value, target, module):
        """`img.packages = [...]`: an ImageSpec is a mutable dataclass, so the image changes, for every name bound
        to it. Setting a field does not run __post_init__ again, which the action applies to the fields as given:
        the fields it normalizes (name and registry lower-cased, platform and source_copy_mode defaulted) are
        refused rather than read differently from flytekit."""
        if name in POST_INIT_FIELDS:
            refused = Unknown(f"setting ImageSpec.{name} after the ImageSpec is made (flytekit's __post_init__ does not run again, and the action cannot model that)", target, module)
            self.taint_value(spec, refused)  # the spec (under any name) is no longer what its fields say
            raise Refusal(refused)
        self.check_field(name, value, target, module)
        spec.fields[name] = value
        spec.field_lines[name] = (module.file, target.lineno)

    def run_aug_assign(self, stmt, module):
        target = stmt.target
        current = self.eval(target, module)
        value = self.eval(stmt.value, module)
        result = self.binop(stmt.op, current, value, stmt, module, in_place=True)
        if isinstance(result, Unknown):
            raise Refusal(result)
        if isinstance(target, ast.Name):
            self.bind(module, target.id, result, module.assigned.get(target.id))
        else:
            # PKGS[0] += "x", img.packages += ["y"] (extends that very list, then stores it back).
            self.assign(target, result, module, None)

    def run_for(self, stmt, module):
        iterable = self.try_eval(stmt.iter, module)
        if isinstance(iterable, Unknown) or not isinstance(iterable, (list, tuple, dict, str)):
            if not isinstance(iterable, Unknown):
                iterable = Unknown("a loop over a value the reader does not model", stmt.iter, module)
            self.unknown_branch(stmt.body + stmt.orelse, module, iterable, f"in `for ... in {self.text(stmt.iter, module)}`")
            for name in target_names(stmt.target):
                self.bind(module, name, iterable)
            return
        broke = False
        for count, item in enumerate(list(iterable)):
            if count > MAX_ITERATIONS:
                raise Refusal(Unknown("a loop with too many iterations", stmt, module))
            self.assign(stmt.target, item, module, None)
            for name in target_names(stmt.target):
                module.assigned.pop(name, None)
            try:
                self.run_body(stmt.body, module)
            except LoopControl as c:
                if c.is_break:
                    broke = True
                    break
        if not broke:
            self.run_body(stmt.orelse, module)

    def unknown_branch(self, body, module, why, where):
        """Statements that may or may not run: an ImageSpec made there is refused; names bound there become unknown,
        and so does what they may change in place (a list, a dict, an ImageSpec, os.environ)."""
        for stmt in body:
            if self.makes_spec(stmt, module):
                self.refuse(Unknown(f"an ImageSpec made {where}, which the reader cannot decide without running code", stmt, module))
            for name in assigned_names(stmt):
                self.bind(module, name, why)
        self.effects(body, module, where, frozenset(), frozenset(), {})

    # ----------------------------------------------------------------------------------------------- effects
    # Code the reader does not run (a branch it cannot decide, a user function called at module level, a class
    # body, load_dotenv()) may still change values it has read: PKGS.append(...) on a list a spec already holds,
    # os.environ["REGISTRY"] = ..., config.REGISTRY = ..., img.packages = ... Whatever such code could change
    # becomes unknown from there on, and a spec that holds it is refused, rather than read as if nothing ran.

    def call_effects(self, func, call, module, seen=None, local=frozenset(), params=frozenset()):
        """A call of a user function (or class) that the reader does not run: what its body could change. Returns
        whether it changes in place one of `params` (the calling function's own parameters, passed to it)."""
        seen = seen if seen is not None else {}
        key = id(func.node)
        if key not in seen:
            seen[key] = False  # a recursive call: no change of its parameters known yet
            seen[key] = self.function_effects(func, call, module, seen)
        if not seen[key] or not isinstance(call, ast.Call):
            return False
        # def add(items): items.append(...)  ->  add(PKGS) changes PKGS.
        changes_params = False
        why = Unknown(f"changed by {self.text(call, module)}, which the reader does not run", call, module)
        for arg in list(call.args) + [k.value for k in call.keywords]:
            base = arg.value if isinstance(arg, ast.Starred) else arg
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name) and base.id in params and base.id in local:
                changes_params = True
            else:
                self.taint_value(self.safe_eval(arg, module, local), why)
        return changes_params

    def function_effects(self, func, call, module, seen):
        where = f"in {func.name}(), called at {module.file}:{call.lineno}"
        if isinstance(func.node, ast.ClassDef):
            # Instantiating runs __init__ (and whatever it calls): every method's effects, conservatively.
            for stmt in func.node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.effects(stmt.body, func.module, where, local_names(stmt) - global_names(stmt), frozenset(), seen)
            return False
        node = func.node
        params = frozenset(a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg))
        return self.effects(node.body, func.module, where, local_names(node) - global_names(node), params, seen)

    def effects(self, body, module, where, local, params, seen):
        """Makes unknown what `body` (not run) could change. Returns whether it changes one of `params` in place."""
        changed_params = False
        global_decl = set()
        for node in walk_code(body):
            if isinstance(node, ast.Global):
                global_decl.update(node.names)
        for node in walk_code(body):
            why = Unknown(f"changed by code the reader does not run ({where})", node, module)
            targets = []
            if isinstance(node, (ast.Assign, ast.Delete)):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
                targets = [node.target]
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                targets = [node.optional_vars]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name) and sub.id in global_decl:
                        # `global X` in a function: X = ... rebinds the module's X.
                        self.bind(module, sub.id, why)
                    elif isinstance(sub, ast.Subscript):
                        changed_params |= self.taint_root(sub.value, sub.slice, module, local, params, why)
                    elif isinstance(sub, ast.Attribute):
                        root = self.safe_eval(sub.value, module, local)
                        if isinstance(root, Module):
                            root.globals[sub.attr] = why  # config.REGISTRY = ... rebinds config's REGISTRY
                            root.assigned.pop(sub.attr, None)
                        else:
                            changed_params |= self.taint_root(sub.value, None, module, local, params, why)
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr in MUTATORS:
                    changed_params |= self.taint_root(func.value, node.args[0] if node.args and func.attr in ("pop", "setdefault") else None, module, local, params, why)
                callee = self.safe_eval(func, module, local)
                if isinstance(callee, UserFunction):
                    changed_params |= self.call_effects(callee, node, module, seen, local, params)
                elif isinstance(callee, External) and callee.qualname in DOTENV_LOADERS:
                    self.dotenv_effects(node, module, why)
        return changed_params

    def taint_root(self, root_node, key_node, module, local, params, why):
        """`root[key] = ...`, `root.x = ...`, `root.append(...)` in code not run: root's value becomes unknown."""
        base = root_node
        while isinstance(base, (ast.Attribute, ast.Subscript)):
            base = base.value
        if isinstance(base, ast.Name) and base.id in params and base.id in local:
            return True
        value = self.safe_eval(root_node, module, local)
        if value is ENVIRON:
            key = self.safe_eval(key_node, module, local) if key_node is not None else None
            if isinstance(key, str):
                self.env[key] = why
            else:
                self.env_unknown = why
        else:
            self.taint_value(value, why)
        return False

    def taint_value(self, value, why):
        if isinstance(value, (list, dict, Spec)) and id(value) not in self.tainted:
            self.tainted[id(value)] = (value, why)

    def dotenv_effects(self, call, module, why):
        """load_dotenv() sets, from a .env file the reader does not read, the variables that are not set yet (all of
        them with override=True)."""
        override = any(k.arg == "override" and not (isinstance(k.value, ast.Constant) and not k.value.value) for k in call.keywords)
        why = Unknown(f"the environment after {self.text(call, module)}, which sets variables from a file the reader does not read", call, module)
        if override:
            self.env_unknown = why
        elif self.env_unset_unknown is None:
            self.env_unset_unknown = why

    def safe_eval(self, node, module, local):
        """The value of a name, attribute or constant-subscript chain, evaluated without side effects; None when it
        is anything else or a function's local."""
        if node is None:
            return None
        if type(node).__name__ == "Index":  # Python 3.8
            node = node.value
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in local:
                return None
        elif isinstance(node, ast.Attribute):
            base = self.safe_eval(node.value, module, local)
            if base is None or isinstance(base, Module) and node.attr not in base.globals:
                return None  # (and never import a submodule the code itself may not import)
        elif isinstance(node, ast.Subscript):
            if self.safe_eval(node.value, module, local) is None or self.safe_eval(node.slice, module, local) is None:
                return None
        else:
            return None
        value = self.try_eval(node, module)
        return None if isinstance(value, Unknown) else value

    def scan_workflow_body(self, func, module):
        """A @workflow body runs when flytekit compiles it at import: its container_image= arguments count."""
        for node in ast.walk(func):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "container_image":
                        self.record_container(kw.value, node, module, local_names(func))

    # ----------------------------------------------------------------------------------------------- expressions

    def text(self, node, module):
        return ast.get_source_segment(module.source, node) or type(node).__name__

    def try_eval(self, node, module):
        try:
            return self.eval(node, module)
        except Refusal as r:
            return r.unknown

    def eval(self, node, module):
        value = self._eval(node, module)
        if isinstance(value, Unknown):
            raise Refusal(value)
        if self.tainted and isinstance(value, (list, dict, Spec)):
            taint = self.tainted.get(id(value))
            if taint is not None and taint[0] is value:
                raise Refusal(taint[1])
        return value

    def _eval(self, node, module):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (bytes, complex)) or node.value is Ellipsis:
                return Opaque(type(node.value).__name__)
            return node.value
        if isinstance(node, ast.Name):
            if node.id in module.globals:
                value = module.globals[node.id]
                if isinstance(value, Unknown) and value.node is None:
                    return Unknown(value.reason, node, module)
                return value
            if node.id in BUILTINS:
                return BUILTINS[node.id]
            if hasattr(builtins, node.id):
                # open, print, input, exec...: defined, but not something a static reader may call.
                return Unknown(f"the builtin {node.id}, which a static reader does not run", node, module)
            return Unknown(f"'{node.id}' is not defined at module level", node, module)
        if isinstance(node, ast.JoinedStr):
            return self.eval_fstring(node, module)
        if isinstance(node, ast.FormattedValue):
            return self.eval_formatted(node, module)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    items.extend(self.iterate(self.eval(elt.value, module), elt, module))
                else:
                    items.append(self.eval(elt, module))
            if isinstance(node, ast.Set):
                return Opaque("set")
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Dict):
            out = {}
            for key, value in zip(node.keys, node.values):
                if key is None:
                    mapping = self.eval(value, module)
                    if not isinstance(mapping, dict):
                        raise Refusal(Unknown("** of a value that is not a dict", value, module))
                    out.update(mapping)
                else:
                    k = self.eval(key, module)
                    if not is_hashable_plain(k):
                        raise Refusal(Unknown("a dict key the reader does not model", key, module))
                    out[k] = self.eval(value, module)
            return out
        if isinstance(node, ast.BinOp):
            left = self.eval(node.left, module)
            right = self.eval(node.right, module)
            return self.binop(node.op, left, right, node, module)
        if isinstance(node, ast.UnaryOp):
            operand = self.eval(node.operand, module)
            if isinstance(node.op, ast.Not):
                return not truthy(operand, node.operand, module)
            if is_plain(operand) and isinstance(operand, (int, float)):
                return {ast.USub: lambda v: -v, ast.UAdd: lambda v: +v, ast.Invert: lambda v: ~v}[type(node.op)](operand)
            return Unknown("an operator on a value the reader does not model", node, module)
        if isinstance(node, ast.BoolOp):
            result = None
            for value_node in node.values:
                result = self.eval(value_node, module)
                t = truthy(result, value_node, module)
                if isinstance(node.op, ast.Or) and t:
                    return result
                if isinstance(node.op, ast.And) and not t:
                    return result
            return result
        if isinstance(node, ast.Compare):
            return self.compare(node, module)
        if isinstance(node, ast.IfExp):
            test = self.eval(node.test, module)
            return self.eval(node.body if truthy(test, node.test, module) else node.orelse, module)
        if isinstance(node, ast.Subscript):
            return self.subscript(node, module)
        if isinstance(node, ast.Attribute):
            return self.attribute(self.eval(node.value, module), node.attr, node, module)
        if isinstance(node, ast.Call):
            return self.call(node, module)
        if isinstance(node, ast.NamedExpr):
            value = self.eval(node.value, module)
            self.bind(module, node.target.id, value)
            return value
        if type(node).__name__ == "Index":  # Python 3.8
            return self._eval(node.value, module)
        names = {
            "ListComp": "a list comprehension", "DictComp": "a dict comprehension", "SetComp": "a set comprehension",
            "GeneratorExp": "a generator expression", "Lambda": "a lambda", "Await": "await", "Yield": "yield",
            "Slice": "a slice",
        }
        return Unknown(names.get(type(node).__name__, f"a {type(node).__name__} expression"), node, module)

    def eval_fstring(self, node, module):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(value.value)
            else:
                parts.append(self.eval_formatted(value, module))
        return "".join(parts)

    def eval_formatted(self, node, module):
        value = self.eval(node.value, module)
        if not is_plain(value):
            raise Refusal(Unknown("an f-string of a value the reader does not model", node.value, module))
        spec = self.eval_fstring(node.format_spec, module) if node.format_spec is not None else ""
        if node.conversion == ord("r"):
            value = repr(value)
        elif node.conversion == ord("s"):
            value = str(value)
        elif node.conversion == ord("a"):
            value = ascii(value)
        try:
            return format(value, spec)
        except (ValueError, TypeError) as e:
            raise Refusal(Unknown(f"this f-string raises {type(e).__name__}: {e}", node, module))

    def iterate(self, value, node, module):
        if isinstance(value, (list, tuple, str)):
            return list(value)
        if isinstance(value, dict):
            return list(value.keys())
        raise Refusal(Unknown("unpacking a value the reader does not model", node, module))

    def binop(self, op, left, right, node, module, in_place=False):
        if not (is_plain(left) and is_plain(right)):
            return Unknown("an operator on a value the reader does not model", node, module)
        ops = {
            ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
            ast.Mod: lambda a, b: a % b, ast.FloorDiv: lambda a, b: a // b, ast.Div: lambda a, b: a / b,
            ast.BitOr: lambda a, b: a | b, ast.BitAnd: lambda a, b: a & b, ast.BitXor: lambda a, b: a ^ b,
            ast.Pow: lambda a, b: a ** b, ast.LShift: lambda a, b: a << b, ast.RShift: lambda a, b: a >> b,
        }
        if type(op) not in ops:
            return Unknown("an operator the reader does not evaluate", node, module)
        if isinstance(op, ast.Mult) and too_big(left, right):
            return Unknown("a repetition too large to evaluate", node, module)
        if isinstance(op, (ast.Pow, ast.LShift)) and too_many_bits(op, left, right):
            # 2 ** 70 is plain arithmetic, but 10 ** 10 ** 9 would not finish (nor print: Python refuses to turn
            # ints of more than 4300 digits into text, which flytekit's hash does).
            return Unknown("a number too large to evaluate", node, module)
        if isinstance(op, ast.Mod) and isinstance(left, str):
            # str % args may call repr/str of the arguments only: they are plain values here.
            pass
        try:
            if in_place and isinstance(left, list) and isinstance(op, ast.Add):
                left += right  # list += extends in place: other names of the list see it too
                return left
            if in_place and isinstance(left, dict) and isinstance(op, ast.BitOr):
                left |= right
                return left
            return ops[type(op)](left, right)
        except Exception as e:  # TypeError, ValueError, ZeroDivisionError: what Python would raise
            return Unknown(f"this expression raises {type(e).__name__}: {e}", node, module)

    def compare(self, node, module):
        left = self.eval(node.left, module)
        for op, right_node in zip(node.ops, node.comparators):
            right = self.eval(right_node, module)
            if isinstance(op, (ast.Is, ast.IsNot)):
                if not (left is None or right is None or isinstance(left, bool) or isinstance(right, bool)):
                    return Unknown("`is` between values the reader does not model", node, module)
                result = (left is right) == isinstance(op, ast.Is)
            elif isinstance(op, (ast.In, ast.NotIn)) and right is ENVIRON and isinstance(left, str):
                # `if "CI" in os.environ:` is as static as os.environ.get("CI").
                value = self.env_read(left, node, module)
                if isinstance(value, Unknown):
                    return value
                result = (value is not MISSING) == isinstance(op, ast.In)
            else:
                if not (is_plain(left) and is_plain(right)):
                    return Unknown("a comparison of values the reader does not model", node, module)
                fn = {
                    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
                    ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
                    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
                }[type(op)]
                try:
                    result = fn(left, right)
                except TypeError as e:
                    return Unknown(f"this comparison raises TypeError: {e}", node, module)
            if not result:
                return False
            left = right
        return True

    def subscript(self, node, module):
        container = self.eval(node.value, module)
        if isinstance(node.slice, ast.Slice):
            lower, upper, step = (None if n is None else self.eval(n, module) for n in (node.slice.lower, node.slice.upper, node.slice.step))
            if isinstance(container, (list, tuple, str)) and all(v is None or isinstance(v, int) for v in (lower, upper, step)):
                return container[lower:upper:step]
            return Unknown("a slice of a value the reader does not model", node, module)
        key = self.eval(node.slice, module)
        if container is ENVIRON:
            value = self.env_read(key, node, module)
            if value is MISSING:
                return Unknown(f"os.environ[{key!r}] with {key} not set in the step's environment (importing this module would raise KeyError); set it in the step's env", node, module)
            return value
        if isinstance(container, (list, tuple, str, dict)) and is_hashable_plain(key):
            try:
                return container[key]
            except (KeyError, IndexError, TypeError) as e:
                return Unknown(f"this subscript raises {type(e).__name__}: {e}", node, module)
        return Unknown("a subscript of a value the reader does not model", node, module)

    def attribute(self, value, attr, node, module):
        if isinstance(value, Module):
            if attr in value.globals:
                return value.globals[attr]
            sub = self.import_module(f"{value.name}.{attr}", node) if value.is_package else None
            if sub is not None:
                return sub
            return Unknown(f"'{attr}' is not defined in {value.name}", node, module)
        if isinstance(value, External):
            qualname = f"{value.qualname}.{attr}"
            if qualname == "os.environ":
                return ENVIRON
            if qualname == "typing.TYPE_CHECKING":
                return False
            if value.qualname.endswith("CopyFileDetection") and attr in COPY_MODE_VALUES:
                if value.qualname.split(".")[0] in ("flytekit", "union", "unionai"):
                    return CopyMode(attr)
            return External(qualname)
        if isinstance(value, Spec):
            if attr in LIST_HELPERS or attr in ("with_builder_options", "force_push"):
                return Bound(value, attr)
            if attr in ("name", "registry"):
                v = value.fields.get(attr)
                return v.lower() if isinstance(v, str) else v
            if attr in FIELDS and attr not in ("platform", "source_copy_mode", "builder"):
                return value.fields.get(attr)
            return Unknown(f"ImageSpec.{attr}, which the reader does not model", node, module)
        if value is ENVIRON and attr in ("get", "setdefault", "update", "pop"):
            return Bound(ENVIRON, attr)
        if isinstance(value, str) and attr in STR_METHODS:
            return Bound(value, attr)
        if isinstance(value, list) and attr in ("copy", "append", "extend", "insert", "index", "count"):
            return Bound(value, attr)
        if isinstance(value, dict) and attr in ("get", "copy", "update", "setdefault", "keys", "values", "items"):
            return Bound(value, attr)
        if isinstance(value, Opaque):
            return Opaque(f"{value.what}.{attr}")
        return Unknown(f".{attr} of a value the reader does not model", node, module)

    def call(self, node, module):
        func = self.eval(node.func, module)
        if isinstance(func, UserFunction):
            kind = "class" if isinstance(func.node, ast.ClassDef) else "user-defined function"
            self.call_effects(func, node, module)
            return self.opaque_call(node, module, Unknown(f"a call of a {kind} ({func.name}), which a static reader does not run", node, module))
        if isinstance(func, External):
            qualname = func.qualname
            if qualname in DOTENV_LOADERS:
                self.dotenv_effects(node, module, None)
            if qualname in IMAGESPEC_NAMES:
                args, kwargs = self.arguments(node, module)
                return self.make_spec(args, kwargs, node, module, argument_lines(node))
            if qualname.endswith(".from_env") and qualname[: -len(".from_env")] in IMAGESPEC_NAMES:
                args, kwargs = self.arguments(node, module)
                return self.from_env(args, kwargs, node, module)
            if qualname in ("os.getenv", "os.environ.get"):
                args, kwargs = self.arguments(node, module)
                return self.env_get(args, kwargs, node, module)
            return self.opaque_call(node, module, Opaque(qualname))
        if isinstance(func, Bound):
            args, kwargs = self.arguments(node, module)
            return self.call_bound(func, args, kwargs, node, module)
        if isinstance(func, Builtin):
            args, kwargs = self.arguments(node, module)
            try:
                return func.fn(*args, **kwargs)
            except Exception as e:
                return Unknown(f"{func.name}(...) raises {type(e).__name__}: {e}", node, module)
        if isinstance(func, Opaque):
            return self.opaque_call(node, module, Opaque(f"{func.what}(...)"))
        return Unknown("a call of a value the reader does not model", node, module)

    def opaque_call(self, node, module, result):
        """A call the reader does not model (a task decorator, ActorEnvironment, map_task, a user function)."""
        for kw in node.keywords:
            if kw.arg == "container_image":
                self.record_container(kw.value, node, module)
            elif kw.arg == "image" and isinstance(result, Opaque) and result.what.endswith("ContainerTask"):
                self.record_container(kw.value, node, module)
        return result

    def record_container(self, value_node, call, module, local=frozenset()):
        if is_string_expression(value_node):
            return  # an image URI given as a string
        if local and any(isinstance(n, ast.Name) and n.id in local for n in ast.walk(value_node)):
            self.refuse(Unknown("a container_image made from a workflow's local values", value_node, module))
            return
        value = self.try_eval(value_node, module)
        if isinstance(value, Spec):
            self.container_uses.append((value, module, call.lineno))
        elif isinstance(value, Unknown):
            self.refuse(value, "passed as container_image")
        elif isinstance(value, (str, type(None))):
            return
        # Other values (a task's image config object) are not ImageSpecs.

    def arguments(self, node, module):
        args = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                args.extend(self.iterate(self.eval(arg.value, module), arg, module))
            else:
                args.append(self.eval(arg, module))
        kwargs = {}
        for kw in node.keywords:
            if kw.arg is None:
                mapping = self.eval(kw.value, module)
                if not isinstance(mapping, dict) or not all(isinstance(k, str) for k in mapping):
                    raise Refusal(Unknown("** of a value that is not a dict of names", kw.value, module))
                for k, v in mapping.items():
                    if k in kwargs:
                        raise Refusal(Unknown(f"the argument {k} is given twice (TypeError)", kw.value, module))
                    kwargs[k] = v
            else:
                if kw.arg in kwargs:
                    raise Refusal(Unknown(f"the argument {kw.arg} is given twice (TypeError)", kw, module))
                kwargs[kw.arg] = self.eval(kw.value, module)
        return args, kwargs

    def make_spec(self, args, kwargs, node, module, lines=None):
        if len(args) > len(FIELDS):
            raise Refusal(Unknown("too many positional arguments for ImageSpec (TypeError)", node, module))
        fields = {}
        for name, value in zip(FIELDS, args):
            fields[name] = value
        for name, value in kwargs.items():
            if name not in FIELDS:
                raise Refusal(Unknown(f"ImageSpec has no field '{name}' (TypeError){did_you_mean(name)}", node, module))
            if name in fields:
                raise Refusal(Unknown(f"ImageSpec got '{name}' twice (TypeError)", node, module))
            fields[name] = value
        for name, value in fields.items():
            self.check_field(name, value, node, module)
        field_lines = {name: (module.file, (lines or {}).get(name, node.lineno)) for name in fields}
        return Spec(fields, module, node, field_lines)

    def check_field(self, name, value, node, module):
        if isinstance(value, (Spec, CopyMode)) or is_plain(value):
            if isinstance(value, Spec) and name != "base_image":
                raise Refusal(Unknown(f"an ImageSpec as {name}", node, module))
            return
        raise Refusal(Unknown(f"{name} is a value the reader does not model ({describe(value)})", node, module))

    def from_env(self, args, kwargs, node, module):
        # ImageSpec.from_env(*, pinned_packages=None, **kwargs): python_version is the running interpreter's.
        if args:
            raise Refusal(Unknown("ImageSpec.from_env takes keyword arguments only (TypeError)", node, module))
        if "python_version" in kwargs:
            raise Refusal(Unknown("ImageSpec.from_env sets python_version itself (ValueError)", node, module))
        pinned = kwargs.pop("pinned_packages", None)
        python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
        # flytekit: `packages = kwargs.pop("packages") if given else []`, then appends the pins to that very list
        # (a list the caller passed grows too) and passes packages=packages: without packages the spec has [].
        packages = kwargs.pop("packages") if "packages" in kwargs else []
        if pinned:
            if not isinstance(packages, list) or not isinstance(pinned, (list, tuple)):
                raise Refusal(Unknown("from_env needs lists for packages and pinned_packages", node, module))
            from importlib.metadata import PackageNotFoundError, version

            for package in pinned:
                try:
                    packages.append(f"{package}=={version(package)}")
                except PackageNotFoundError:
                    raise Refusal(Unknown(f"from_env pins {package}, which is not installed in the Python that runs register ({sys.executable})", node, module))
        kwargs["packages"] = packages
        return self.make_spec([], {"python_version": python_version, **kwargs}, node, module, argument_lines(node))

    def env_get(self, args, kwargs, node, module):
        if kwargs or not 1 <= len(args) <= 2 or not isinstance(args[0], str):
            raise Refusal(Unknown("os.getenv / os.environ.get with arguments the reader does not model", node, module))
        value = self.env_read(args[0], node, module)
        if value is MISSING:
            return args[1] if len(args) == 2 else None
        return value

    def call_bound(self, bound, args, kwargs, node, module):
        target, name = bound.target, bound.name
        if isinstance(target, Spec):
            return self.spec_helper(target, name, args, kwargs, node, module)
        if target is ENVIRON:
            if name == "get":
                return self.env_get(args, kwargs, node, module)
            # Changes to the environment that later reads see (os.environ takes str keys and values only).
            if name == "setdefault" and not kwargs and len(args) == 2 and all(isinstance(a, str) for a in args):
                value = self.env_read(args[0], node, module)
                if value is MISSING:
                    value = self.env[args[0]] = args[1]
                return value
            if name == "update" and not kwargs and len(args) == 1 and isinstance(args[0], dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in args[0].items()):
                self.env.update(args[0])
                return None
            if name == "pop" and not kwargs and 1 <= len(args) <= 2 and isinstance(args[0], str):
                value = self.env_read(args[0], node, module)
                if value is MISSING and len(args) == 1:
                    return Unknown(f"os.environ.pop({args[0]!r}) with {args[0]} not set (KeyError)", node, module)
                self.env.pop(args[0], None)
                return args[1] if value is MISSING else value
            raise Refusal(Unknown(f"os.environ.{name} with arguments the reader does not model", node, module))
        if not all(is_plain(a) for a in args) or not all(is_plain(v) for v in kwargs.values()):
            raise Refusal(Unknown(f".{name}() with arguments the reader does not model", node, module))
        if name in ("format", "format_map") and isinstance(target, str):
            pass
        try:
            result = getattr(target, name)(*args, **kwargs)
        except Exception as e:
            return Unknown(f".{name}() raises {type(e).__name__}: {e}", node, module)
        if name in ("keys", "values", "items"):
            return list(result) if name != "items" else [tuple(i) for i in result]
        if isinstance(result, str) and len(result) > MAX_TEXT:
            return Unknown("a string too large to evaluate", node, module)
        return result

    def spec_helper(self, spec, name, args, kwargs, node, module):
        if kwargs or (name == "force_push" and args) or (name != "force_push" and len(args) != 1):
            raise Refusal(Unknown(f"ImageSpec.{name} with arguments the reader does not model", node, module))
        if name == "force_push":
            # copy.deepcopy(self) with _is_force_push set: the same image, but its lists and dicts are copies, so a
            # list changed after force_push() (PKGS.append(...)) is not in the pushed spec.
            pushed = copy.deepcopy(spec)
            pushed.file, pushed.line = module.file, node.lineno
            return pushed
        value = args[0]
        if name == "with_builder_options":
            if not isinstance(value, dict):
                raise Refusal(Unknown("with_builder_options takes a dict", node, module))
            options = copy.deepcopy(spec.fields.get("builder_options")) or {}
            options.update(value)
            return spec.replace({"builder_options": options}, node, module)
        field = LIST_HELPERS[name]
        current = copy.deepcopy(spec.fields.get(field)) or []
        if not isinstance(current, list):
            raise Refusal(Unknown(f"ImageSpec.{name} on a spec whose {field} is not a list", node, module))
        if isinstance(value, str) and name != "with_runtime_packages":
            current.append(value)
        elif isinstance(value, list):
            current.extend(value)
        else:
            raise Refusal(Unknown(f"ImageSpec.{name} takes {'a list' if name == 'with_runtime_packages' else 'a string or a list'}", node, module))
        return spec.replace({field: current}, node, module)

    # ----------------------------------------------------------------------------------------------- spec scans

    def makes_spec(self, node, module, seen=None):
        """Whether running `node` could make an ImageSpec or hand one to a task (then an unknown in it matters)."""
        seen = seen if seen is not None else set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.keyword) and sub.arg == "container_image":
                return True
            if isinstance(sub, ast.Attribute) and sub.attr in SPEC_MAKERS:
                return True
            if isinstance(sub, ast.Name):
                value = module.globals.get(sub.id)
                if isinstance(value, External) and value.qualname in IMAGESPEC_NAMES:
                    return True
                if isinstance(value, Spec):
                    return True
                if isinstance(value, UserFunction) and id(value.node) not in seen:
                    seen.add(id(value.node))
                    if self.makes_spec(value.node, value.module, seen):
                        return True
        return False

    # ----------------------------------------------------------------------------------------------- results

    def taint_in(self, value, seen):
        """The Unknown of a changed-by-unrun-code list, dict or spec inside value (a spec's fields, a nested base)."""
        if not self.tainted or id(value) in seen:
            return None
        if isinstance(value, (list, dict, Spec)):
            seen.add(id(value))
            taint = self.tainted.get(id(value))
            if taint is not None and taint[0] is value:
                return taint[1]
        children = ()
        if isinstance(value, Spec):
            children = value.fields.values()
        elif isinstance(value, (list, tuple)):
            children = value
        elif isinstance(value, dict):
            children = list(value.keys()) + list(value.values())
        for child in children:
            taint = self.taint_in(child, seen)
            if taint is not None:
                return taint
        return None

    def results(self):
        specs = {}

        def visit(spec, location):
            if spec.id not in specs:
                specs[spec.id] = spec
            if location is not None and location not in spec.locations:
                spec.locations.append(location)
            base = spec.fields.get("base_image")
            if isinstance(base, Spec):
                visit(base, None)

        for module in self.modules.values():
            for name, line in module.assigned.items():
                value = module.globals.get(name)
                if isinstance(value, Spec):
                    visit(value, {"file": module.file, "line": line, "name": name, "kind": "assignment"})
        for spec, module, line in self.container_uses:
            visit(spec, {"file": module.file, "line": line, "name": None, "kind": "container_image"})
        for spec in specs.values():
            if not spec.locations:
                spec.locations.append({"file": spec.file, "line": spec.line, "name": None, "kind": "base_image"})
            spec.locations.sort(key=lambda l: (l["file"], l["line"], l["kind"], l["name"] or ""))
        out = []
        for spec in sorted(specs.values(), key=lambda s: (s.locations[0]["file"], s.locations[0]["line"], s.id)):
            taint = self.taint_in(spec, set())
            if taint is not None:
                # It holds a list, dict or spec that code the reader did not run may have changed after it was made.
                first = spec.locations[0]
                self.refuse(taint, f"it reaches the ImageSpec at {first['file']}:{first['line']}")
                continue
            try:
                fields = [[k, encode(v)] for k, v in spec.fields.items()]
            except (TypeError, ValueError) as e:  # ValueError: an int too long to print (Python 3.11+), as in flytekit
                first = spec.locations[0]
                self.errors.append({"file": first["file"], "line": first["line"], "col": 0, "source": "", "message": str(e)})
                continue
            lines = {k: {"file": f, "line": n} for k, (f, n) in spec.field_lines.items()}
            out.append({"id": spec.id, "fields": fields, "lines": lines, "locations": spec.locations})
        return out


class LoopControl(Exception):
    def __init__(self, is_break):
        super().__init__()
        self.is_break = is_break


class Builtin:
    def __init__(self, name, fn):
        self.name = name
        self.fn = fn


def plain_builtin(name, fn):
    def checked(*args, **kwargs):
        if not all(is_plain(a) for a in args) or not all(is_plain(v) for v in kwargs.values()):
            raise TypeError("arguments the reader does not model")
        return fn(*args, **kwargs)

    return Builtin(name, checked)


BUILTINS = {
    name: plain_builtin(name, fn)
    for name, fn in {
        "str": str, "int": int, "float": float, "bool": bool, "len": len, "list": list, "tuple": tuple, "dict": dict,
        "sorted": sorted, "min": min, "max": max, "abs": abs, "repr": repr,
    }.items()
}
STR_METHODS = {
    "lower", "upper", "strip", "lstrip", "rstrip", "format", "join", "replace", "split", "rsplit", "startswith",
    "endswith", "removeprefix", "removesuffix", "title", "capitalize", "casefold", "zfill", "partition",
    "rpartition", "splitlines", "count", "find", "rfind", "isdigit", "isalpha", "isalnum",
}


def is_plain(value):
    """Builtin values whose operations are exactly Python's and run no project code."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(is_plain(k) and is_plain(v) for k, v in value.items())
    return False


def is_hashable_plain(value):
    return value is None or isinstance(value, (bool, int, float, str)) or (isinstance(value, tuple) and all(is_hashable_plain(v) for v in value))


def too_big(left, right):
    count = right if isinstance(right, int) else left if isinstance(left, int) else 0
    seq = left if not isinstance(left, int) else right
    return isinstance(seq, (str, list, tuple)) and count * max(len(seq), 1) > MAX_TEXT


def too_many_bits(op, left, right):
    if not (isinstance(left, int) and isinstance(right, int)):
        return False
    if isinstance(op, ast.LShift):
        return right > 0 and left.bit_length() + right > 14000
    return right > 0 and abs(left) > 1 and left.bit_length() * right > 14000


def truthy(value, node, module):
    if is_plain(value):
        return bool(value)
    if isinstance(value, (Spec, Module, UserFunction)):
        return True
    raise Refusal(Unknown("the truth of a value the reader does not model", node, module))


def is_string_expression(node):
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return is_string_expression(node.left)
    return False


def is_workflow_decorator(node):
    target = node.func if isinstance(node, ast.Call) else node
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
    return name == "workflow"


def target_names(target):
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def assigned_names(stmt):
    """Names a statement binds in its own scope (not inside the functions or classes it defines)."""
    names = []

    def visit(node):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, (ast.Name, ast.Tuple, ast.List)):
                    names.extend(target_names(target))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
            return
        elif isinstance(node, ast.Lambda):
            return
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.extend((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            names.extend(target_names(node.target))
        elif isinstance(node, ast.NamedExpr):
            names.append(node.target.id)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            names.extend(target_names(node.optional_vars))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(stmt)
    return names


def source_line(source, lineno):
    """Line `lineno` (1-based) of a module's text, split as Python's tokenizer splits lines."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[lineno - 1] if 0 < lineno <= len(lines) else ""


def char_column(source, lineno, col):
    """A 1-based column in characters: ast gives col_offset in UTF-8 bytes, which a non-ASCII character earlier on
    the line would push to the right of where an editor (and Python's own traceback) shows it."""
    if col <= 0:
        return col
    line = source_line(source, lineno)
    return len(line.encode("utf-8")[: col - 1].decode("utf-8", errors="replace")) + 1


def did_you_mean(name):
    """`; did you mean packages?` for a misspelt field name, or nothing."""
    import difflib

    close = difflib.get_close_matches(name, FIELDS, n=1)
    return f"; did you mean {close[0]}?" if close else "; the fields are " + ", ".join(FIELDS)


def argument_lines(call):
    """The line of each field's value in an ImageSpec(...) call (a ** mapping's fields: the line of the mapping)."""
    lines = {}
    for name, arg in zip(FIELDS, call.args):
        lines[name] = arg.lineno
    for kw in call.keywords:
        if kw.arg is not None:
            lines[kw.arg] = kw.value.lineno
    return lines


def walk_code(body):
    """The nodes of statements that run with them: not the bodies of functions and lambdas they define (their
    decorators and defaults do run; class bodies run too)."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            children = node.decorator_list + node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
        elif isinstance(node, ast.Lambda):
            children = node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
        else:
            children = list(ast.iter_child_nodes(node))
        stack.extend(reversed(children))


def global_names(func):
    return frozenset(n for node in walk_code(func.body) if isinstance(node, ast.Global) for n in node.names)


def local_names(func):
    names = {a.arg for a in ast.walk(func.args) if isinstance(a, ast.arg)}
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return frozenset(names)


def describe(value):
    if isinstance(value, Opaque):
        return value.what
    if isinstance(value, External):
        return value.qualname
    if isinstance(value, UserFunction):
        return value.name
    if isinstance(value, Module):
        return f"module {value.name}"
    return type(value).__name__


def encode(value):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, Spec):
        return {"spec": value.id}
    if isinstance(value, CopyMode):
        return {"enum": ["CopyFileDetection", value.name, COPY_MODE_VALUES[value.name]]}
    raise TypeError(f"a value of type {describe(value)} that the action cannot carry")


def main():
    # The request comes as a file named on the command line (a process that exits before reading its stdin would
    # make the caller's write fail), or on stdin.
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8") as f:
            request = json.load(f)
    else:
        request = json.load(sys.stdin)
    reader = Reader(request.get("cwd") or os.getcwd())
    for entry in request["entries"]:
        reader.add_entry(entry)
    specs = reader.results()
    json.dump(
        {
            "python": f"{sys.version_info.major}.{sys.version_info.minor}",
            "specs": specs,
            "errors": reader.errors,
            "modules": sorted(reader.modules),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    sys.setrecursionlimit(5000)
    main()
