"""What a running BPMN/DMN script may cost, and the guarded operations that enforce it.

A thread cannot be stopped in CPython, and a C loop (`sum(range(10**18))`) does not even
look at signals, so the bound is kept from the inside: `script_policy` rewrites a script
so that every loop iteration, operator, comparison, subscript, attribute read and call of
a builtin goes through a method of the evaluation's Budget, and each of them ticks it (a
step count, and the clock every CLOCK_EVERY steps). Between two ticks only one C
operation runs, on values whose size is bounded too: operators that make big values
(`**`, `*`, `<<`, `+`, `%`, f-strings) check the size of their result before computing
it, and every container a script builds or grows is charged by its flattened size, so
shared references (`[[big] * n] * n`) cannot hide what a later comparison or dump walks.
Exceeding a bound raises ScriptLimitExceeded: the task fails and opens an incident.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from SpiffWorkflow.exceptions import SpiffWorkflowException

MAX_SECONDS = 0.5  # wall clock of one evaluation (a step holds its database transaction meanwhile)
MAX_STEPS = 1_000_000  # loop iterations, guarded operations and calls of one evaluation
MAX_UNITS = 1_000_000  # items + characters one evaluation may build into values
MAX_INT_BITS = 14_000  # about the 4,300 digits Python still prints
MAX_FORMAT_WIDTH = 1_000  # widths and precisions in f-string specs, `%` and strftime
CLOCK_EVERY = 64  # steps between two looks at the clock (a clock read costs ~10 steps)


class ScriptLimitExceeded(SpiffWorkflowException):
    """A script or expression went past one of the bounds above.

    A SpiffWorkflowException, so that the engine passes it on with its reason instead of
    wrapping it into a bare "Error evaluating expression": it is what the incident says."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"script limit exceeded: {reason}")


class AttributeNotAllowed(SpiffWorkflowException):
    """Something outside the allowlist was reached at run time."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"not allowed in scripts: {reason}")


# What a script may leave in task data: what the instance serialiser stores.
STORABLE = (
    bool,
    float,
    type(None),
    decimal.Decimal,
    dt.date,
    dt.datetime,
    dt.timedelta,
)


def size_of(value: Any, limit: int, *, storable: bool = False) -> int:
    """Items plus characters reachable from `value`, counted per reference (a list holding
    one big list twice counts it twice: that is what a comparison or a JSON dump walks);
    stops once past `limit`, so cycles and huge shared structures cost at most `limit`.
    `storable`: raise TypeError on anything the instance state cannot hold."""
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            total += 1 + len(item)
        elif kind is int:
            total += 1 + item.bit_length() // 64
        elif kind in (list, tuple, set, frozenset):
            total += 1 + len(item)
            if total <= limit:
                stack.extend(item)
        elif kind is dict:
            total += 1 + 2 * len(item)
            if total <= limit:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif storable and kind not in STORABLE:
            raise TypeError(f"a {kind.__name__} cannot be kept in the process variables")
        else:
            total += 1
        if total > limit:
            return total
    return total


def check_size(value: Any, *, storable: bool = False) -> Any:
    if size_of(value, MAX_UNITS, storable=storable) > MAX_UNITS:
        raise ScriptLimitExceeded(f"a value of more than {MAX_UNITS:,} items and characters")
    return value


_SEQUENCES = (str, list, tuple)
# `%` and format specs: no widths past MAX_FORMAT_WIDTH, no `*`, no dunder names.
_PERCENT_STAR = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(?:\*|\d*\.\*)")
_NUMBER = re.compile(r"\d+")


def check_format(text: str, what: str) -> None:
    if "__" in text:
        raise AttributeNotAllowed(f"{what} {text[:80]!r} names a dunder")
    if len(text) > MAX_FORMAT_WIDTH or any(
        int(n) > MAX_FORMAT_WIDTH for n in _NUMBER.findall(text)
    ):
        raise ScriptLimitExceeded(f"{what} {text[:80]!r} asks for more than {MAX_FORMAT_WIDTH}")


def _bits(value: Any) -> int:
    return value.bit_length() if isinstance(value, int) else 0


MAX_STEP_SECONDS = 2.0  # all evaluations of one engine step (a DMN table, a long sequence)
_step = threading.local()


class StepAllowance:
    """`with StepAllowance():` around an engine step bounds the time of all the scripts it
    runs together (each one alone is bounded by MAX_SECONDS). Nested ones keep the outer
    deadline. It is read only when a Budget looks at the clock, so it costs nothing to
    the many tiny evaluations."""

    def __enter__(self) -> None:
        self.outer = getattr(_step, "deadline", 0.0)
        if not self.outer:
            _step.deadline = time.monotonic() + MAX_STEP_SECONDS

    def __exit__(self, *exc: object) -> None:
        _step.deadline = self.outer


class Budget:
    """One evaluation's allowance, and the guarded operations that spend it."""

    GUARDS: dict[str, str] = {
        "_getiter_": "iterate",
        "_ticked_": "ticked",
        "_charge_": "charge",
        "_inplacevar_": "in_place",
        "_format_": "format_value",
        "_op_Add_": "op_add",
        "_op_Mult_": "op_mult",
        "_op_Pow_": "op_pow",
        "_op_LShift_": "op_lshift",
        "_op_Mod_": "op_mod",
        "_op_Sub_": "op_sub",
        "_op_Div_": "op_div",
        "_op_FloorDiv_": "op_floordiv",
        "_op_RShift_": "op_rshift",
        "_op_BitOr_": "op_bitor",
        "_op_BitXor_": "op_bitxor",
        "_op_BitAnd_": "op_bitand",
    }

    def __init__(self) -> None:
        self.steps = MAX_STEPS
        self.units = MAX_UNITS
        self.deadline = 0.0  # set at the first look at the clock: most evaluations never do

    def tick(self) -> None:
        self.steps -= 1
        if not self.steps % CLOCK_EVERY:
            self._look_at_clock()

    def _look_at_clock(self) -> None:
        if self.steps <= 0:
            raise ScriptLimitExceeded(f"more than {MAX_STEPS:,} steps (loop iterations, calls)")
        now = time.monotonic()
        if not self.deadline:
            self.deadline = now + MAX_SECONDS
        elif now > self.deadline:
            raise ScriptLimitExceeded(f"ran longer than {MAX_SECONDS} s")
        step_deadline = getattr(_step, "deadline", 0.0)
        if step_deadline and now > step_deadline:
            raise ScriptLimitExceeded(
                f"the scripts of this step ran longer than {MAX_STEP_SECONDS} s"
            )

    def charge(self, value: Any) -> Any:
        """Count `value`'s flattened size against what the evaluation may still build."""
        self.tick()
        self.units -= size_of(value, self.units)
        if self.units < 0:
            raise ScriptLimitExceeded(f"built more than {MAX_UNITS:,} items and characters")
        return value

    def ticked(self, value: Any) -> Any:
        self.tick()
        return value

    def iterate(self, iterable: Iterable[Any]) -> Iterator[Any]:
        tick = self.tick
        for item in iterable:
            tick()
            yield item

    # Operators that can make big values check the size before computing it.

    def _repeat(self, sequence: Any, times: int) -> Any:
        if times > 0 and size_of(sequence, self.units) * times > self.units:
            raise ScriptLimitExceeded(f"repeating a value would exceed {MAX_UNITS:,} items")
        result = sequence * times
        return result if type(result) is str else self.charge(result)

    def op_mult(self, a: Any, b: Any) -> Any:
        self.tick()
        if isinstance(a, _SEQUENCES) and isinstance(b, int):
            return self._repeat(a, b)
        if isinstance(b, _SEQUENCES) and isinstance(a, int):
            return self._repeat(b, a)
        if isinstance(a, int) and isinstance(b, int) and _bits(a) + _bits(b) > MAX_INT_BITS:
            raise ScriptLimitExceeded(f"a product of more than {MAX_INT_BITS:,} bits")
        return a * b

    def op_pow(self, a: Any, b: Any) -> Any:
        self.tick()
        both_int = isinstance(a, int) and isinstance(b, int)
        if both_int and b > 0 and abs(a) > 1 and (a.bit_length() - 1) * b > MAX_INT_BITS:
            raise ScriptLimitExceeded(f"a power of more than {MAX_INT_BITS:,} bits")
        return a**b

    def op_lshift(self, a: Any, b: Any) -> Any:
        self.tick()
        if isinstance(a, int) and isinstance(b, int) and a and _bits(a) + b > MAX_INT_BITS:
            raise ScriptLimitExceeded(f"a shift to more than {MAX_INT_BITS:,} bits")
        return a << b

    def op_add(self, a: Any, b: Any) -> Any:
        self.tick()
        if type(a) is str and type(b) is str and len(a) + len(b) > MAX_UNITS:
            raise ScriptLimitExceeded(f"a text of more than {MAX_UNITS:,} characters")
        result = a + b
        return self.charge(result) if isinstance(result, list | tuple) else result

    def op_mod(self, a: Any, b: Any) -> Any:
        self.tick()
        if isinstance(a, str):
            check_format(a, "format")
            if _PERCENT_STAR.search(a):
                raise ScriptLimitExceeded("`*` widths are not allowed in % formatting")
            check_size(b)
            return check_size(a % b)
        return a % b

    def op_sub(self, a: Any, b: Any) -> Any:
        self.tick()
        return a - b

    def op_div(self, a: Any, b: Any) -> Any:
        self.tick()
        return a / b

    def op_floordiv(self, a: Any, b: Any) -> Any:
        self.tick()
        return a // b

    def op_rshift(self, a: Any, b: Any) -> Any:
        self.tick()
        return a >> b

    def op_bitor(self, a: Any, b: Any) -> Any:
        self.tick()
        return self.charge(a | b) if isinstance(a, set | frozenset | dict) else a | b

    def op_bitxor(self, a: Any, b: Any) -> Any:
        self.tick()
        return a ^ b

    def op_bitand(self, a: Any, b: Any) -> Any:
        self.tick()
        return a & b

    def in_place(self, op: str, target: Any, value: Any) -> Any:
        method = _IN_PLACE.get(op)
        if op == "+=" and type(target) is list:  # extends in place, as Python does
            self.charge(value)
            target += value
            return target
        if method is None:
            raise AttributeNotAllowed(f"operator {op} is not allowed")
        result: Any = getattr(self, method)(target, value)
        return result

    def format_value(self, value: Any, conversion: int, spec: str) -> str:
        """One `{value!conversion:spec}` of an f-string."""
        self.tick()
        check_size(value)
        check_format(spec, "format spec")
        if conversion == ord("r"):
            value = repr(value)
        elif conversion == ord("a"):
            value = ascii(value)
        elif conversion == ord("s"):
            value = str(value)
        result: str = check_size(format(value, spec))
        return result


_IN_PLACE: dict[str, str] = {
    f"{symbol}=": method
    for symbol, method in {
        "+": "op_add",
        "-": "op_sub",
        "*": "op_mult",
        "/": "op_div",
        "//": "op_floordiv",
        "%": "op_mod",
        "**": "op_pow",
        "<<": "op_lshift",
        ">>": "op_rshift",
        "|": "op_bitor",
        "^": "op_bitxor",
        "&": "op_bitand",
    }.items()
}
