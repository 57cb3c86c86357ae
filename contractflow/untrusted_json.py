"""Parsing JSON that came from outside (an HTTP body, a Kafka message) without letting its
shape crash the reader.

Python's json raises `RecursionError` for documents nested about a thousand deep and
`ValueError` for integers of more than 4,300 digits; both escaped the callers' handling of
a syntax error. Here the nesting is bounded *before* parsing (so the parser cannot recurse
past it) and every way the bytes can fail to be a document is one `UntrustedJsonError`
saying what was wrong.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Deeper than any document this product reads or writes (events carry contract terms a
# few levels deep), far below the interpreter's recursion limit.
MAX_JSON_DEPTH = 64

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# A string literal (skipped whole, so brackets inside it do not count) or a bracket.
# Possessive quantifiers: an unterminated string costs one linear scan, not backtracking.
_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')


class UntrustedJsonError(ValueError):
    """The bytes are not a JSON document we accept; the message says why."""


class WrittenFloat(float):
    """A JSON number with a fraction or exponent: a float to every reader, which also keeps
    the digits it was written with, so a reader of money can take the exact decimal."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str | float) -> WrittenFloat:
        number = super().__new__(cls, text)
        number.text = text if isinstance(text, str) else repr(float(text))
        return number


def loads(
    raw: bytes | str,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    keep_number_text: bool = False,
    allow_nan: bool = True,
) -> Any:
    """The document in `raw`, or UntrustedJsonError (never RecursionError or the like).

    `keep_number_text`: its non-integer numbers are `WrittenFloat`s. `allow_nan=False`:
    NaN and Infinity, which Python reads but JSON has not, are refused."""
    try:
        text = raw if isinstance(raw, str) else raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UntrustedJsonError(f"not UTF-8 text: {exc}") from None
    if nesting_depth(text, stop_after=max_depth) > max_depth:
        raise UntrustedJsonError(f"nested deeper than {max_depth} levels")
    try:
        return json.loads(
            text,
            parse_float=WrittenFloat if keep_number_text else None,
            parse_constant=None if allow_nan else _not_json,
        )
    except json.JSONDecodeError as exc:
        raise UntrustedJsonError(str(exc)) from None
    except UntrustedJsonError:
        raise
    except (ValueError, RecursionError, MemoryError) as exc:
        # E.g. an integer longer than Python's digit limit.
        raise UntrustedJsonError(f"cannot be read: {exc}") from None


def _not_json(constant: str) -> Any:
    raise UntrustedJsonError(f"{constant} is not a JSON number")


def nesting_depth(text: str, *, stop_after: int | None = None) -> int:
    """How deeply arrays and objects nest in `text` (counting stops past `stop_after`)."""
    # Cheap and exact enough for ordinary documents: fewer brackets than the limit cannot
    # nest deeper than it.
    if stop_after is not None and text.count("[") + text.count("{") <= stop_after:
        return 0
    depth = deepest = 0
    for token in _TOKEN.finditer(text):
        char = token.group()
        if char in ("[", "{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_after is not None and deepest > stop_after:
                    return deepest
        elif char in ("]", "}"):
            depth -= 1
    return deepest


def integers_out_of_range(
    value: Any, low: int = INT64_MIN, high: int = INT64_MAX, path: str = ""
) -> dict[str, str]:
    """Where a parsed document holds an integer outside [low, high]: dotted path -> message.

    The document's depth was bounded by `loads`, so recursing over it is safe.
    """
    found: dict[str, str] = {}
    if isinstance(value, bool):
        return found
    if isinstance(value, int):
        if not low <= value <= high:
            found[path or "_body"] = f"integer out of range: must be between {low} and {high}"
    elif isinstance(value, dict):
        for key, item in value.items():
            found.update(integers_out_of_range(item, low, high, _child(path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.update(integers_out_of_range(item, low, high, _child(path, index)))
    return found


def _child(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)
