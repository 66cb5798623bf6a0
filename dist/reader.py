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
import copy
import json
import os
import sys

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
        self.env = dict(os.environ)

    # ----------------------------------------------------------------------------------------------- errors

    def refuse(self, unknown, context=None):
        key = (id(unknown.node), unknown.reason)
        if key in self.reported:
            return
        self.reported.add(key)
        module = unknown.module
        node = unknown.node
        source = ""
        if node is not None and module is not None:
            source = ast.get_source_segment(module.source, node) or ""
            if len(source) > 200:
                source = source[:197] + "..."
        self.errors.append({
            "file": module.file if module else "",
            "line": getattr(node, "lineno", 0),
            "col": getattr(node, "col_offset", -1) + 1,
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
            tree = ast.parse(data, filename=module.file)
        except SyntaxError as e:
            self.errors.append({
                "file": module.file, "line": e.lineno or 0, "col": e.offset or 0,
                "source": (e.text or "").rstrip("\n"), "message": f"SyntaxError: {e.msg}", "syntax": True,
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
                self.eval(decorator, module)
            if any(is_workflow_decorator(d) for d in stmt.decorator_list):
                self.scan_workflow_body(stmt, module)
            self.bind(module, stmt.name, UserFunction(stmt.name, stmt, module))
        elif isinstance(stmt, ast.ClassDef):
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
            key = self.eval(target.slice, module)
            if container is ENVIRON:
                if not isinstance(value, str):
                    raise Refusal(Unknown("os.environ takes strings only", target, module))
                self.env[key] = value
            elif isinstance(container, (dict, list)) and is_plain(key):
                try:
                    container[key] = value
                except (IndexError, TypeError) as e:
                    raise Refusal(Unknown(f"this assignment raises {type(e).__name__}", target, module))
        # Attribute targets (obj.x = ...) change nothing the reader models.

    def run_aug_assign(self, stmt, module):
        if not isinstance(stmt.target, ast.Name):
            return
        current = self.eval(stmt.target, module)
        value = self.eval(stmt.value, module)
        result = self.binop(stmt.op, current, value, stmt, module, in_place=True)
        self.bind(module, stmt.target.id, result, module.assigned.get(stmt.target.id))

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
        """Statements that may or may not run: an ImageSpec made there is refused; names bound there become unknown."""
        for stmt in body:
            if self.makes_spec(stmt, module):
                self.refuse(Unknown(f"an ImageSpec made {where}, which the reader cannot decide without running code", stmt, module))
            for name in assigned_names(stmt):
                self.bind(module, name, why)

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
            ast.BitOr: lambda a, b: a | b,
        }
        if type(op) not in ops:
            return Unknown("an operator the reader does not evaluate", node, module)
        if isinstance(op, ast.Mult) and too_big(left, right):
            return Unknown("a repetition too large to evaluate", node, module)
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
            if key not in self.env:
                return Unknown(f"os.environ[{key!r}] with {key} not set in the step's environment (importing this module would raise KeyError); set it in the step's env", node, module)
            return self.env[key]
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
        if value is ENVIRON and attr in ("get", "setdefault"):
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
            return self.opaque_call(node, module, Unknown(f"a call of a {kind} ({func.name}), which a static reader does not run", node, module))
        if isinstance(func, External):
            qualname = func.qualname
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
                raise Refusal(Unknown(f"ImageSpec has no field '{name}' (TypeError)", node, module))
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
        if pinned is not None:
            packages = kwargs.pop("packages", None) or []
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
        default = args[1] if len(args) == 2 else None
        return self.env.get(args[0], default)

    def call_bound(self, bound, args, kwargs, node, module):
        target, name = bound.target, bound.name
        if isinstance(target, Spec):
            return self.spec_helper(target, name, args, kwargs, node, module)
        if target is ENVIRON:
            if name == "get":
                return self.env_get(args, kwargs, node, module)
            if name == "setdefault" and len(args) == 2 and all(isinstance(a, str) for a in args):
                return self.env.setdefault(args[0], args[1])
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
            # A deep copy with _is_force_push set: the same fields, so the same image.
            return spec.replace({}, node, module)
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
            try:
                fields = [[k, encode(v)] for k, v in spec.fields.items()]
            except TypeError as e:
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


def argument_lines(call):
    """The line of each field's value in an ImageSpec(...) call (a ** mapping's fields: the line of the mapping)."""
    lines = {}
    for name, arg in zip(FIELDS, call.args):
        lines[name] = arg.lineno
    for kw in call.keywords:
        if kw.arg is not None:
            lines[kw.arg] = kw.value.lineno
    return lines


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
