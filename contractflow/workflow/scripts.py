"""Restricted Python for BPMN scripts and expressions: an AST check plus a minimal builtins.

SpiffWorkflow runs scripts with `exec`; restricted builtins alone are no sandbox
(`().__class__.__base__.__subclasses__()` reaches everything), so every script is checked
before it is deployed and again before it is first compiled at run time.
"""

from __future__ import annotations

import ast
import datetime as dt
import decimal
import math
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

FORBIDDEN_NAMES = frozenset(
    {
        "eval",
        "exec",
        "open",
        "compile",
        "globals",
        "locals",
        "getattr",
        "setattr",
        "delattr",
        "vars",
        "dir",
        "type",
        "breakpoint",
        "input",
        "help",
        "memoryview",
        "object",
        "super",
        "classmethod",
        "staticmethod",
        "property",
        "exit",
        "quit",
        "__import__",
        "__builtins__",
        "__loader__",
        "__spec__",
    }
)

# Attributes without a leading underscore that still lead out: frames of generators and
# coroutines reach the caller's globals, and str.format resolves "{0.__class__}" itself.
FORBIDDEN_ATTRIBUTES = frozenset(
    {
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "cr_frame",
        "cr_code",
        "cr_await",
        "ag_frame",
        "ag_code",
        "f_globals",
        "f_locals",
        "f_back",
        "f_builtins",
        "f_code",
        "tb_frame",
        "tb_next",
        "format",
        "format_map",
        "mro",
    }
)

SAFE_BUILTINS: dict[str, Any] = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in (
        "abs",
        "all",
        "any",
        "bool",
        "dict",
        "divmod",
        "enumerate",
        "filter",
        "float",
        "frozenset",
        "int",
        "isinstance",
        "len",
        "list",
        "map",
        "max",
        "min",
        "range",
        "reversed",
        "round",
        "set",
        "sorted",
        "str",
        "sum",
        "tuple",
        "zip",
        "ValueError",
        "KeyError",
        "TypeError",
        "Exception",
        "True",
        "False",
        "None",
    )
}

# Values scripts may use without importing anything: dates, decimals, maths.
SCRIPT_GLOBALS: dict[str, Any] = {
    "datetime": dt.datetime,
    "date": dt.date,
    "timedelta": dt.timedelta,
    "timezone": dt.timezone,
    "Decimal": decimal.Decimal,
    "ceil": math.ceil,
    "floor": math.floor,
}


class UnsafeScript(ValueError):
    """A script or expression uses something the restricted environment forbids."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        where = f" (line {line})" if line else ""
        super().__init__(f"{reason}{where}")
        self.reason = reason
        self.line = line


def check_script(source: str, *, mode: str = "exec") -> None:
    """Raise UnsafeScript if `source` imports, touches `_` names or calls a forbidden name."""
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise UnsafeScript(f"syntax error: {exc.msg}", exc.lineno) from None
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise UnsafeScript("imports are not allowed", line)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise UnsafeScript(f"attribute {node.attr!r} is not allowed", line)
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise UnsafeScript(f"name {node.id!r} is not allowed", line)
            if node.id in FORBIDDEN_NAMES:
                raise UnsafeScript(f"{node.id!r} is not allowed", line)
        if isinstance(node, ast.Global | ast.Nonlocal):
            raise UnsafeScript("global/nonlocal are not allowed", line)
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            raise UnsafeScript(f"attribute {node.attr!r} is not allowed", line)
        if isinstance(node, ast.ClassDef):
            raise UnsafeScript("class definitions are not allowed", line)
        if isinstance(node, ast.Await | ast.Yield | ast.YieldFrom | ast.AsyncFunctionDef):
            raise UnsafeScript("async code and generators are not allowed", line)


def check_expression(source: str) -> None:
    check_script(source, mode="eval")


class RestrictedEnvironment(TaskDataEnvironment):
    """Task data as the namespace, minimal builtins, compiled code cached per source text.

    The cache matters for speed (the same few expressions run for every instance) and
    for safety: nothing is compiled that has not passed `check_script` in this process.
    """

    def __init__(self, extra_globals: dict[str, Any] | None = None) -> None:
        super().__init__({**SCRIPT_GLOBALS, **(extra_globals or {})})
        self._compiled: dict[tuple[str, str], Any] = {}

    def _compile(self, source: str, mode: str) -> Any:
        key = (source, mode)
        code = self._compiled.get(key)
        if code is None:
            check_script(source, mode=mode)
            code = compile(source, "<string>", mode)
            if len(self._compiled) > 10_000:
                self._compiled.clear()
            self._compiled[key] = code
        return code

    def _namespace(self, context: dict[str, Any], external: dict[str, Any] | None) -> dict:
        namespace = dict(self.globals)
        if external:
            namespace.update(external)
        namespace.update(context)
        # Task data comes from forms and messages: it must never replace the builtins.
        namespace["__builtins__"] = SAFE_BUILTINS
        return namespace

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None):
        return eval(self._compile(expression, "eval"), self._namespace(context, external_context))

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        self.check_for_overwrite(context, external_context or {})
        namespace = self._namespace(context, external_context)
        exec(self._compile(script, "exec"), namespace)
        for key, value in namespace.items():
            if key == "__builtins__" or key in self.globals or callable(value):
                continue
            if external_context and key in external_context:
                continue
            context[key] = value
        for key in [k for k in context if k not in namespace]:
            del context[key]  # `del x` inside the script
        context.pop("__builtins__", None)
        return True

    def call_service(self, context: dict, **kwargs: Any) -> Any:
        raise NotImplementedError("service tasks go through the script engine's registry")


ExpressionCheck = Callable[[str], None]
