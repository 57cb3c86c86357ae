"""Which Python a BPMN/DMN script may be written in: an allowlist of syntax, compiled with
the run-time guards in place.

RestrictedPython's transformer is the base: it refuses every AST node it has no rule for
(so a node a new Python version adds is refused until reviewed, and a `match` statement
is refused outright), refuses names and attributes starting with `_`, and routes
attribute reads, subscripts, iteration, unpacking and in-place operators through guard
functions. On top of that this policy
- refuses what a business script does not need and what would let it hide from the
  guards: functions, lambdas, classes, `while`, `try`, `with`, imports, walrus, `*`/`**`
  unpacking in calls and literals, attribute assignment, bytes, dunder text;
- refuses attributes outside the run-time allowlist (script_attributes) at deploy time;
- routes every binary operator, comparison, f-string field, container literal and
  comprehension result through script_guards, which bound steps, time and size.
"""

from __future__ import annotations

import ast
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations
from SpiffWorkflow.exceptions import SpiffWorkflowException

from contractflow.workflow.script_attributes import ALL_NAMES

MAX_SOURCE_CHARS = 20_000

# Names that exist in Python but not for scripts; refused with a sentence, not a NameError.
FORBIDDEN_NAMES = frozenset(
    str.split(
        "eval exec open compile globals locals getattr setattr delattr hasattr vars dir type "
        "breakpoint input help memoryview object super classmethod staticmethod property exit "
        "quit id hash iter next format repr ascii chr ord print printed bytes bytearray "
        "callable issubclass pow"
    )
)
CONSTANT_TYPES = (str, int, float, bool, type(None))

_REFUSED = {
    "FunctionDef": "function definitions",
    "AsyncFunctionDef": "function definitions",
    "Lambda": "lambdas",
    "ClassDef": "class definitions",
    "While": "while loops (loop with for over data)",
    "Try": "try statements",
    "TryStar": "try statements",
    "With": "with statements",
    "AsyncWith": "with statements",
    "AsyncFor": "async code",
    "Await": "async code",
    "Yield": "generators",
    "YieldFrom": "generators",
    "Import": "imports",
    "ImportFrom": "imports",
    "Global": "global/nonlocal",
    "Nonlocal": "global/nonlocal",
    "NamedExpr": "assignment expressions (:=)",
    "Return": "return",
    "Match": "match statements",
    "TemplateStr": "template strings",
}


class UnsafeScript(ValueError):
    """A script or expression uses something the restricted environment forbids."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        where = f" (line {line})" if line else ""
        super().__init__(f"{reason}{where}")
        self.reason = reason
        self.line = line


class RefusedAtRunTime(SpiffWorkflowException, UnsafeScript):
    """UnsafeScript met when the engine is about to run the script (deployment missed it):
    a SpiffWorkflowException, so the incident says why."""

    def __init__(self, refused: UnsafeScript) -> None:
        UnsafeScript.__init__(self, f"not allowed in scripts: {refused.reason}", refused.line)
        self.notes: list[str] = []


def _call(name: str, *args: ast.expr, like: Any) -> ast.Call:
    node = ast.Call(func=ast.Name(name, ast.Load()), args=list(args), keywords=[])
    copy_locations(node, like)
    return node


def _has_subscript(target: ast.AST) -> int:
    if isinstance(target, ast.Subscript):
        return 1
    if isinstance(target, ast.Tuple | ast.List):
        return sum(_has_subscript(t) for t in target.elts)
    if isinstance(target, ast.Starred):
        return _has_subscript(target.value)
    return 0


class ScriptPolicy(RestrictingNodeTransformer):
    def error(self, node: ast.AST, info: str) -> None:
        self.errors.append((getattr(node, "lineno", None), info))  # type: ignore[arg-type]

    def not_allowed(self, node: ast.AST) -> None:
        kind = type(node).__name__
        self.error(node, f"{_REFUSED.get(kind, kind)} are not allowed in scripts")

    def generic_visit(self, node: ast.AST) -> Any:
        self.not_allowed(node)
        return node

    def visit_Constant(self, node: ast.Constant) -> Any:
        if not isinstance(node.value, CONSTANT_TYPES):
            self.error(node, f"{type(node.value).__name__} literals are not allowed")
        elif isinstance(node.value, str) and "__" in node.value:
            self.error(node, f"text {node.value[:40]!r} contains a dunder ('__')")
        return node

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in FORBIDDEN_NAMES:
            self.error(node, f"{node.id!r} is not available in scripts")
            return node
        return super().visit_Name(node)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if not isinstance(node.ctx, ast.Load):
            self.error(node, f"attribute {node.attr!r} cannot be assigned or deleted")
            return node
        if node.attr not in ALL_NAMES:
            self.error(node, f"attribute {node.attr!r} is not allowed")
            return node
        return super().visit_Attribute(node)

    def visit_Starred(self, node: ast.Starred) -> Any:
        if not isinstance(node.ctx, ast.Store):
            self.error(node, "* unpacking is only allowed on the left of an assignment")
            return node
        return super().visit_Starred(node)

    def visit_keyword(self, node: ast.keyword) -> Any:
        if node.arg is None:
            self.error(node, "** unpacking is not allowed")
            return node
        return super().visit_keyword(node)

    def visit_Dict(self, node: ast.Dict) -> Any:
        if any(key is None for key in node.keys):
            self.error(node, "** unpacking is not allowed")
            return node
        return self._charged(super().visit_Dict(node))

    def visit_List(self, node: ast.List) -> Any:
        return self._charged(super().visit_List(node))

    def visit_Tuple(self, node: ast.Tuple) -> Any:
        return self._charged(super().visit_Tuple(node))

    def visit_Set(self, node: ast.Set) -> Any:
        return self._charged(super().visit_Set(node))

    def visit_ListComp(self, node: ast.ListComp) -> Any:
        return self._charged(super().visit_ListComp(node))

    def visit_SetComp(self, node: ast.SetComp) -> Any:
        return self._charged(super().visit_SetComp(node))

    def visit_DictComp(self, node: ast.DictComp) -> Any:
        return self._charged(super().visit_DictComp(node))

    def _charged(self, node: Any) -> Any:
        """A container literal with computed parts, or a comprehension: its size is
        charged once it exists (`[a, a, a]` may hold a big `a` three times)."""
        if getattr(node, "ctx", None) is not None and not isinstance(node.ctx, ast.Load):
            return node
        elements = [
            *getattr(node, "elts", ()),
            *(getattr(node, "keys", None) or ()),
            *(getattr(node, "values", None) or ()),
        ]
        is_comprehension = isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp)
        if not is_comprehension and all(isinstance(e, ast.Constant) for e in elements):
            return node
        return _call("_charge_", node, like=node)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        name = type(node.op).__name__
        if name == "MatMult":
            self.error(node, "the @ operator is not allowed")
            return node
        return _call(f"_op_{name}_", node.left, node.right, like=node)

    def visit_Compare(self, node: ast.Compare) -> Any:
        # Each comparison of a chain is preceded by a tick, laziness kept: `a < b < c`
        # becomes `a < _ticked_(b) < _ticked_(c)`.
        node = self.node_contents_visit(node)
        node.comparators = [_call("_ticked_", c, like=c) for c in node.comparators]
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        node = self.node_contents_visit(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        node.value = _call(
            "_format_", node.value, ast.Constant(node.conversion), spec, like=node.value
        )
        node.conversion, node.format_spec = -1, None
        return node

    def visit_Assign(self, node: ast.Assign) -> Any:
        result: Any = super().visit_Assign(node)  # a list when it unpacks into several targets
        for assign in result if isinstance(result, list) else [result]:
            stores = sum(_has_subscript(t) for t in assign.targets)
            if stores:
                value = assign.value
                assign.value = _call("_stored_", value, ast.Constant(stores), like=value)
        return result


for _kind in _REFUSED:
    setattr(ScriptPolicy, f"visit_{_kind}", ScriptPolicy.not_allowed)


def compile_script(source: str, mode: str = "exec") -> Any:
    """Code for `source` with every guard in place, or UnsafeScript naming the first reason."""
    if len(source) > MAX_SOURCE_CHARS:
        raise UnsafeScript(f"longer than {MAX_SOURCE_CHARS:,} characters")
    try:
        compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
        result = compiler(source, "<string>", policy=ScriptPolicy)
    except (RecursionError, MemoryError):
        raise UnsafeScript("nested too deeply") from None
    except (SyntaxError, ValueError) as exc:  # e.g. a literal past Python's digit limit
        raise UnsafeScript(f"cannot be compiled: {exc}") from None
    if result.errors:
        first = result.errors[0]
        if isinstance(first, tuple):
            raise UnsafeScript(first[1], first[0])
        raise UnsafeScript(f"syntax error: {first}")
    return result.code
