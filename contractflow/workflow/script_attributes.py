"""The attributes a script may read, by the exact type of the object, and item access.

`script_policy` turns every `a.b` into `_getattr_(a, "b")` (AttributeGuards.read_attribute):
anything not listed here for `type(a)` is refused, whatever its name (no dunder, no frame
or generator attribute, no `str.format` — it resolves `{0.__class__}` by itself). Methods
that grow a container or build a big text are wrapped so that what they add is charged to
the script's budget.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from typing import Any

from contractflow.workflow.script_guards import (
    MAX_FORMAT_WIDTH,
    MAX_UNITS,
    AttributeNotAllowed,
    Budget,
    ScriptLimitExceeded,
    check_size,
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_TEXT = _words(
    "capitalize casefold center count endswith find index isalnum isalpha isdecimal isdigit "
    "islower isnumeric isspace istitle isupper join ljust lower lstrip partition removeprefix "
    "removesuffix replace rfind rindex rjust rpartition rsplit rstrip split splitlines "
    "startswith strip swapcase title upper zfill"
)
_SEQUENCE = frozenset({"count", "index"})
_LIST = _SEQUENCE | _words("append clear copy extend insert pop remove reverse sort")
_DICT = _words("clear copy get items keys pop popitem setdefault update values")
_SET = _words(
    "add clear copy difference discard intersection isdisjoint issubset issuperset pop "
    "remove symmetric_difference union update"
)
_FROZENSET = _words(
    "copy difference intersection isdisjoint issubset issuperset symmetric_difference union"
)
_DATE = _words("year month day weekday isoweekday isoformat replace strftime toordinal")
_DATETIME = _DATE | _words(
    "hour minute second microsecond date astimezone timestamp tzinfo utcoffset"
)
_TIMEDELTA = _words("days seconds microseconds total_seconds")
_DECIMAL = _words("quantize to_integral_value is_finite is_nan is_signed is_zero copy_abs")
_NUMBER = frozenset({"real", "imag", "is_integer", "bit_length"})

INSTANCE_ATTRIBUTES: dict[type, frozenset[str]] = {
    str: _TEXT,
    list: _LIST,
    tuple: _SEQUENCE,
    dict: _DICT,
    set: _SET,
    frozenset: _FROZENSET,
    dt.date: _DATE,
    dt.datetime: _DATETIME,
    dt.timedelta: _TIMEDELTA,
    decimal.Decimal: _DECIMAL,
    int: _NUMBER - {"is_integer"},
    float: _NUMBER - {"bit_length"},
}
CLASS_ATTRIBUTES: dict[Any, frozenset[str]] = {
    dt.datetime: frozenset({"now", "fromisoformat", "combine"}),
    dt.date: frozenset({"today", "fromisoformat"}),
    dt.timezone: frozenset({"utc"}),
}
ALL_NAMES = frozenset().union(*INSTANCE_ATTRIBUTES.values(), *CLASS_ATTRIBUTES.values())


def _padding(budget: Budget, method: Callable[..., Any]) -> Callable[..., Any]:
    def pad(width: int, *fill: str) -> str:
        budget.tick()
        if width > MAX_UNITS:
            raise ScriptLimitExceeded(f"padding to more than {MAX_UNITS:,} characters")
        return method(width, *fill)

    return pad


def _join(budget: Budget, separator: str) -> Callable[[Any], str]:
    def join(parts: Any) -> str:
        parts = list(budget.iterate(parts))
        length = sum(len(p) for p in parts if isinstance(p, str))
        if length + len(separator) * max(len(parts) - 1, 0) > MAX_UNITS:
            raise ScriptLimitExceeded(f"a text of more than {MAX_UNITS:,} characters")
        return separator.join(parts)

    return join


def _replace(budget: Budget, text: str) -> Callable[..., str]:
    def replace(old: str, new: str, count: int = -1) -> str:
        budget.tick()
        found = text.count(old) if old else len(text) + 1
        if count >= 0:
            found = min(found, count)
        if len(text) + found * (len(new) - len(old)) > MAX_UNITS:
            raise ScriptLimitExceeded(f"a text of more than {MAX_UNITS:,} characters")
        return text.replace(old, new, count)

    return replace


def _strftime(budget: Budget, moment: Any) -> Callable[[str], str]:
    def strftime(pattern: str) -> str:
        budget.tick()
        if "__" in pattern or len(pattern) > MAX_FORMAT_WIDTH:
            raise AttributeNotAllowed(f"strftime pattern {pattern[:80]!r} is not allowed")
        if any(ch.isdigit() for ch in pattern):
            raise ScriptLimitExceeded("strftime patterns take no widths")
        return moment.strftime(pattern)

    return strftime


def _adding(budget: Budget, method: Callable[..., Any]) -> Callable[..., Any]:
    """append/insert/add/setdefault: the value added is charged."""

    def add(*args: Any) -> Any:
        budget.charge(args[-1] if args else None)
        return method(*args)

    return add


def _adding_all(budget: Budget, method: Callable[..., Any]) -> Callable[..., Any]:
    """extend/update/union…: every argument is read through the budget and charged."""

    def add(*others: Any, **named: Any) -> Any:
        materialised = [
            budget.charge(o if isinstance(o, dict) else list(budget.iterate(o))) for o in others
        ]
        budget.charge(named)
        result = method(*materialised, **named)
        return result if result is None else budget.charge(result)

    return add


def _returning(budget: Budget, method: Callable[..., Any]) -> Callable[..., Any]:
    """copy/split/splitlines: the new container is charged."""

    def call(*args: Any, **kwargs: Any) -> Any:
        budget.tick()
        return budget.charge(method(*args, **kwargs))

    return call


_ADDING = frozenset({"append", "insert", "add", "setdefault"})
_ADDING_ALL = frozenset({"extend", "update", "union", "intersection", "difference"})
_ADDING_ALL |= {"symmetric_difference"}
_RETURNING = frozenset({"copy", "split", "rsplit", "splitlines"})
_PADDING = frozenset({"center", "ljust", "rjust", "zfill"})


class AttributeGuards(Budget):
    GUARDS: dict[str, str] = {
        **Budget.GUARDS,
        "_getattr_": "read_attribute",
        "_getitem_": "read_item",
        "_stored_": "stored",
    }

    def read_attribute(self, obj: Any, name: str) -> Any:
        self.tick()
        kind = type(obj)
        allowed = CLASS_ATTRIBUTES.get(obj) if kind is type else INSTANCE_ATTRIBUTES.get(kind)
        if allowed is None or name not in allowed:
            raise AttributeNotAllowed(f"attribute {name!r} of {kind.__name__} is not allowed")
        value = getattr(obj, name)
        if not callable(value):
            return value
        if name in _ADDING:
            return _adding(self, value)
        if name in _ADDING_ALL:
            return _adding_all(self, value)
        if name in _RETURNING:
            return _returning(self, value)
        if name in _PADDING:
            return _padding(self, value)
        if name == "join":
            return _join(self, obj)
        if name == "replace" and kind is str:
            return _replace(self, obj)
        if name == "strftime":
            return _strftime(self, obj)
        return value

    def read_item(self, obj: Any, key: Any) -> Any:
        self.tick()
        value = obj[key]
        if type(key) is slice:
            return check_size(value) if type(value) is str else self.charge(value)
        return value

    def stored(self, value: Any, times: int) -> Any:
        """The value of `x[k] = value`: charged once per container it goes into."""
        for _ in range(times):
            self.charge(value)
        return value


def writable(obj: Any) -> Any:
    """The target of `x[k] = v` and `del x[k]`: lists and dicts only."""
    if type(obj) not in (list, dict):
        raise AttributeNotAllowed(f"items of {type(obj).__name__} cannot be assigned")
    return obj
