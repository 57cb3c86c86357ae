"""The builtins and globals a script sees, each guarded where it could cost without bound.

Everything that consumes an iterable reads it through the Budget (`1.5 in range(10**18)`,
`sum(...)`, `list(map(...))` all loop in C otherwise), everything that builds a container
charges it, and conversions to int refuse a Decimal whose integer would be huge.
Names bound to a Budget method are put into each evaluation's namespace (BUILTIN_GUARDS);
the pure ones are shared (PURE_BUILTINS).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Iterable, Iterator
from typing import Any

from contractflow.workflow.script_guards import (
    MAX_INT_BITS,
    MAX_STEPS,
    Budget,
    ScriptLimitExceeded,
    check_size,
)

MAX_DECIMAL_CHARS = 1_000  # of a Decimal built from text; arithmetic rounds to 28 digits

PURE_BUILTINS: dict[str, Any] = {
    "abs": abs,
    "bool": bool,
    "divmod": divmod,
    "float": float,
    "len": len,
    "ValueError": ValueError,
    "KeyError": KeyError,
    "TypeError": TypeError,
    "Exception": Exception,
    "True": True,
    "False": False,
    "None": None,
}
PURE_GLOBALS: dict[str, Any] = {
    "datetime": dt.datetime,
    "date": dt.date,
    "timedelta": dt.timedelta,
    "timezone": dt.timezone,
}
# name a script uses -> BuiltinGuards method
BUILTIN_GUARDS: dict[str, str] = {
    "isinstance": "isinstance_",
    "all": "all_",
    "any": "any_",
    "dict": "dict_",
    "list": "list_",
    "tuple": "tuple_",
    "set": "set_",
    "frozenset": "frozenset_",
    "str": "str_",
    "int": "int_",
    "range": "range_",
    "sorted": "sorted_",
    "sum": "sum_",
    "min": "min_",
    "max": "max_",
    "round": "round_",
    "enumerate": "enumerate_",
    "zip": "zip_",
    "map": "map_",
    "filter": "filter_",
    "reversed": "reversed_",
    "Decimal": "decimal_",
    "ceil": "ceil_",
    "floor": "floor_",
}
# `isinstance(x, str)` still works although `str` is the guarded constructor.
GUARDED_TYPES: dict[str, type] = {
    "list_": list,
    "tuple_": tuple,
    "set_": set,
    "frozenset_": frozenset,
    "dict_": dict,
    "str_": str,
    "int_": int,
    "decimal_": decimal.Decimal,
}


def _bounded_number(value: Any) -> Any:
    big = isinstance(value, decimal.Decimal) and value.is_finite()
    if big and value.adjusted() > MAX_INT_BITS // 4:
        raise ScriptLimitExceeded(f"a number of more than {MAX_INT_BITS // 4:,} digits")
    return value


class BuiltinGuards(Budget):
    def isinstance_(self, value: Any, kinds: Any) -> bool:
        self.tick()
        if not isinstance(kinds, tuple):
            kinds = (kinds,)
        return isinstance(value, tuple(self._as_type(k) for k in kinds))

    @staticmethod
    def _as_type(kind: Any) -> Any:
        method = getattr(kind, "__func__", None)
        return GUARDED_TYPES.get(getattr(method, "__name__", ""), kind)

    def all_(self, iterable: Iterable[Any]) -> bool:
        return all(self.iterate(iterable))

    def any_(self, iterable: Iterable[Any]) -> bool:
        return any(self.iterate(iterable))

    def list_(self, iterable: Iterable[Any] = ()) -> list[Any]:
        return self.charge(list(self.iterate(iterable)))

    def tuple_(self, iterable: Iterable[Any] = ()) -> tuple[Any, ...]:
        return self.charge(tuple(self.iterate(iterable)))

    def set_(self, iterable: Iterable[Any] = ()) -> set[Any]:
        return self.charge(set(self.iterate(iterable)))

    def frozenset_(self, iterable: Iterable[Any] = ()) -> frozenset[Any]:
        return self.charge(frozenset(self.iterate(iterable)))

    def dict_(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        if args and not isinstance(args[0], dict):
            args = (self.iterate(args[0]), *args[1:])
        return self.charge(dict(*args, **kwargs))

    def str_(self, value: Any = "") -> str:
        self.tick()
        text: str = check_size(str(check_size(value)))
        return text

    def int_(self, value: Any = 0, *base: int) -> int:
        self.tick()
        return int(_bounded_number(value), *base)

    def round_(self, value: Any, *digits: int) -> Any:
        self.tick()
        return round(_bounded_number(value), *digits)

    def ceil_(self, value: Any) -> int:
        self.tick()
        return math.ceil(_bounded_number(value))

    def floor_(self, value: Any) -> int:
        self.tick()
        return math.floor(_bounded_number(value))

    def decimal_(self, value: Any = "0") -> decimal.Decimal:
        self.tick()
        if isinstance(value, str) and len(value) > MAX_DECIMAL_CHARS:
            raise ScriptLimitExceeded(f"a Decimal of more than {MAX_DECIMAL_CHARS:,} characters")
        return decimal.Decimal(value)

    def range_(self, *args: int) -> range:
        self.tick()
        numbers = range(*args)
        # `1.5 in range(n)` scans the range in C: keep every range within the steps.
        if len(numbers) > MAX_STEPS:
            raise ScriptLimitExceeded(f"range of more than {MAX_STEPS:,} numbers")
        return numbers

    def sorted_(self, iterable: Iterable[Any], *, key: Any = None, reverse: bool = False) -> Any:
        return self.charge(sorted(self.iterate(iterable), key=key, reverse=reverse))

    def sum_(self, iterable: Iterable[Any], start: Any = 0) -> Any:
        if not isinstance(start, int | float | decimal.Decimal):
            raise TypeError("sum() adds numbers; its start must be a number")
        return sum(self.iterate(iterable), start)

    def min_(self, *args: Any, **kwargs: Any) -> Any:
        self.tick()
        return min(self.iterate(args[0]), **kwargs) if len(args) == 1 else min(*args, **kwargs)

    def max_(self, *args: Any, **kwargs: Any) -> Any:
        self.tick()
        return max(self.iterate(args[0]), **kwargs) if len(args) == 1 else max(*args, **kwargs)

    # Lazy ones: input and output are both counted (`x in reversed(...)` iterates in C).

    def enumerate_(self, iterable: Iterable[Any], start: int = 0) -> Iterator[Any]:
        return self.iterate(enumerate(self.iterate(iterable), start))

    def zip_(self, *iterables: Iterable[Any], strict: bool = False) -> Iterator[Any]:
        return self.iterate(zip(*(self.iterate(i) for i in iterables), strict=strict))

    def map_(self, function: Any, *iterables: Iterable[Any]) -> Iterator[Any]:
        return self.iterate(map(function, *(self.iterate(i) for i in iterables)))

    def filter_(self, function: Any, iterable: Iterable[Any]) -> Iterator[Any]:
        return self.iterate(filter(function, self.iterate(iterable)))

    def reversed_(self, sequence: Any) -> Iterator[Any]:
        return self.iterate(reversed(sequence))
