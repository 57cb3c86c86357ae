"""Restricted Python for BPMN scripts and expressions: allowlisted syntax, guarded run.

SpiffWorkflow runs scripts with `exec`; restricted builtins alone are no sandbox
(`().__class__.__base__.__subclasses__()` reaches everything), so every script is compiled
by `script_policy` (an allowlist of syntax, with guards in place) before it is deployed and
again before it first runs in this process, and runs inside a fresh `script_guards.Budget`
that bounds its steps, time and the size of what it builds. A script that breaks a rule
at run time, or goes past a bound, raises: its task fails and opens an incident.
"""

from __future__ import annotations

from collections.abc import Callable
from types import CodeType
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

from contractflow.workflow.script_attributes import AttributeGuards, writable
from contractflow.workflow.script_builtins import (
    BUILTIN_GUARDS,
    PURE_BUILTINS,
    PURE_GLOBALS,
    BuiltinGuards,
)
from contractflow.workflow.script_guards import check_size
from contractflow.workflow.script_policy import RefusedAtRunTime, UnsafeScript, compile_script

__all__ = ["SCRIPT_GLOBALS", "RestrictedEnvironment", "UnsafeScript", "check_script"]


class ScriptRun(AttributeGuards, BuiltinGuards):
    """The budget of one evaluation, with every guard the compiled code may call."""

    GUARDS: dict[str, str] = {**AttributeGuards.GUARDS, **BUILTIN_GUARDS}


# Guards that need no budget live in the builtins, which task data cannot replace.
_BUILTINS = {
    **PURE_BUILTINS,
    "_write_": writable,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
}
# Names every namespace starts with; the guarded builtins are bound per evaluation, only
# those the code uses.
SCRIPT_GLOBALS: dict[str, Any] = dict(PURE_GLOBALS)


def _names_of(code: CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):  # comprehensions and generator expressions
            names |= _names_of(const)
    return names


def check_script(source: str, *, mode: str = "exec") -> None:
    """Raise UnsafeScript if `source` is not in the allowlisted subset of Python."""
    compile_script(source, mode)


class RestrictedEnvironment(TaskDataEnvironment):
    """Task data as the namespace, guarded builtins, compiled code cached per source text.

    The cache matters for speed (the same few expressions run for every instance) and
    for safety: nothing runs that `compile_script` did not compile in this process.
    """

    def __init__(self, extra_globals: dict[str, Any] | None = None) -> None:
        super().__init__({**SCRIPT_GLOBALS, **(extra_globals or {})})
        self._compiled: dict[tuple[str, str], tuple[CodeType, tuple[tuple[str, str], ...]]] = {}

    def _compile(self, source: str, mode: str) -> tuple[CodeType, tuple[tuple[str, str], ...]]:
        """The code, and (name, ScriptRun method) of each guard it calls."""
        key = (source, mode)
        entry = self._compiled.get(key)
        if entry is None:
            try:
                code = compile_script(source, mode)
            except UnsafeScript as refused:
                raise RefusedAtRunTime(refused) from None
            names = _names_of(code)
            guards = tuple((n, m) for n, m in ScriptRun.GUARDS.items() if n in names)
            if len(self._compiled) > 10_000:
                self._compiled.clear()
            entry = self._compiled[key] = (code, guards)
        return entry

    def _namespace(
        self,
        context: dict[str, Any],
        external: dict[str, Any] | None,
        guards: tuple[tuple[str, str], ...],
    ) -> dict:
        namespace = dict(self.globals)
        if external:
            namespace.update(external)
        namespace.update(context)
        run = ScriptRun()  # bound last: task data named like a guard cannot replace it
        for name, method in guards:
            namespace[name] = getattr(run, method)
        namespace["__builtins__"] = _BUILTINS
        return namespace

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None):
        code, guards = self._compile(expression, "eval")
        return check_size(eval(code, self._namespace(context, external_context, guards)))

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        self.check_for_overwrite(context, external_context or {})
        code, guards = self._compile(script, "exec")
        namespace = self._namespace(context, external_context, guards)
        exec(code, namespace)
        updates = {}
        for key, value in namespace.items():
            if key == "__builtins__" or key in self.globals or callable(value):
                continue
            if external_context and key in external_context:
                continue
            if context.get(key, namespace) is not value:
                check_size(value, storable=True)  # what the instance stores and serialises
            updates[key] = value
        context.update(updates)  # all or nothing: a refused value leaves the data as it was
        for key in [k for k in context if k not in namespace and not k.startswith("_")]:
            del context[key]  # `del x` inside the script
        context.pop("__builtins__", None)
        return True

    def call_service(self, context: dict, **kwargs: Any) -> Any:
        raise NotImplementedError("service tasks go through the script engine's registry")


ExpressionCheck = Callable[[str], None]
