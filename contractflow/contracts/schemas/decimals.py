"""Decimals (money, rates, percentages, volumes) as an ERP sends them: exactly.

Two spellings are accepted, and /openapi.json publishes both (`StrictDecimal.json_schema`):

- a decimal string, `"1234.50"`: any size, at most the field's decimal places, no
  exponent; what the API has always taken, and what it answers with;
- a JSON number, `1234.5` or `1234`: read from the digits the client wrote when the body
  was parsed with `untrusted_json.loads(..., keep_number_text=True)` (every HTTP body is),
  else from the float's shortest round-trip form. Numbers are bounded to 15 significant
  digits (a double carries no more, so many clients could not send more exactly) and to
  the field's decimal places; a number beyond either is refused with the field's name,
  never rounded.

`true`/`false`, NaN, Infinity and exponent strings are refused.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import fields, validate

from contractflow.untrusted_json import WrittenFloat

# Significant digits a JSON number may carry here: every decimal of at most 15 digits
# survives a trip through an IEEE 754 double (DBL_DIG), whichever language the client is.
JSON_NUMBER_DIGITS = 15


class StrictDecimal(fields.Decimal):
    """A Decimal from a decimal string or an exact JSON number, at most `max_places`
    decimal places; its range comes from `validate.Range` validators (integer bounds, the
    minimum exclusive only at 0: what the string pattern states; others are refused at
    import)."""

    default_error_messages = {
        "invalid": "Not a decimal: send a decimal string such as {example} or a JSON number.",
        "pattern": "Not a decimal of this field: {what}; send e.g. {example}.",
        "places": "Has more than {max_places} decimal places ({value}); nothing is rounded.",
        "digits": (
            "The JSON number {value} is beyond what a JSON number carries exactly here "
            "(at most {limit}); send it as a decimal string."
        ),
    }

    def __init__(self, *, max_places: int = 2, **kwargs: Any) -> None:
        super().__init__(as_string=True, allow_nan=False, **kwargs)
        self.max_places = max_places
        self.low, self.low_inclusive, self.high = _bounds(self.validators)
        # ASCII: Python's \d also matches other scripts' digits, JSON Schema's does not.
        self.pattern = re.compile(
            decimal_pattern(max_places, self.low, self.low_inclusive, self.high), re.ASCII
        )
        step = Decimal(10) ** -max_places
        self.number_limit = Decimal(10) ** (JSON_NUMBER_DIGITS - max_places) - step
        self.example = _example(self)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, str):
            if not self.pattern.fullmatch(value):
                raise self.make_error("pattern", what=self.describe(), example=self.example)
            return Decimal(value)
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise self.make_error("invalid", example=self.example)
        number = _exact(value)
        if number is None or not number.is_finite() or abs(number) > self.number_limit:
            raise self.make_error("digits", value=_shown(value), limit=self.number_limit)
        exponent = number.normalize().as_tuple().exponent
        places = max(0, -exponent) if isinstance(exponent, int) else 0
        if places > self.max_places:
            raise self.make_error("places", max_places=self.max_places, value=_shown(value))
        # The plain fixed-point form (no 1E+2, no trailing zeros past the field's places),
        # so what is stored and answered matches the string pattern.
        return number.quantize(Decimal(10) ** -places)

    def describe(self) -> str:
        if not self.low_inclusive:
            sign = "a positive decimal"
        elif self.low == 0:
            sign = "a non-negative decimal"
        elif self.low is not None:
            sign = f"a decimal of at least {self.low}"
        else:
            sign = "a decimal"
        cap = "" if self.high is None else f" {'and' if self.low else 'of'} at most {self.high}"
        return f"{sign}{cap} with at most {self.max_places} decimal places, no exponent"

    def openapi_schema(self, generated: dict[str, Any]) -> dict[str, Any]:
        """What /openapi.json says this field accepts (`default`, `nullable` as generated)."""
        kept = {k: v for k, v in generated.items() if k in ("default", "nullable")}
        return {**kept, **self.json_schema()}

    def json_schema(self) -> dict[str, Any]:
        """Exactly what `_deserialize` takes, as JSON Schema (OpenAPI 3.0's dialect)."""
        step = 10.0**-self.max_places if self.max_places else 1
        number: dict[str, Any] = {"type": "number", "multipleOf": step}
        low = -self.number_limit if self.low is None else Decimal(self.low)
        high = (
            self.number_limit if self.high is None else min(Decimal(self.high), self.number_limit)
        )
        number["minimum"] = _json_number(low)
        if not self.low_inclusive:
            number["exclusiveMinimum"] = True
        number["maximum"] = _json_number(high)
        string = {"type": "string", "pattern": self.pattern.pattern}
        return {"anyOf": [string, number], "description": self.describe().capitalize() + "."}


def decimal_text(converter: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict:
    """An apispec attribute function (OpenAPI and AsyncAPI both register it): a
    `fields.Decimal(as_string=True)` is sent as a string ("1234.50"); apispec says `number`,
    so a client generated from the document expected a number it never got."""
    described = answered_as_text(field)
    if described is None:
        return {}
    for key in ("type", "format", *_NUMBER_KEYWORDS):
        ret.pop(key, None)
    return {**described, **({"description": ret["description"]} if "description" in ret else {})}


_NUMBER_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


def answered_as_text(field: Any) -> dict[str, Any] | None:
    """How a `fields.Decimal(as_string=True)` that is written, not read (an answer, an event's
    data), is published: a decimal string, as marshmallow writes it (`str(Decimal)`, fixed
    point for the database's and the events' values), never the `number` apispec says.
    None for any other field (and for a StrictDecimal, which describes itself)."""
    if not isinstance(field, fields.Decimal) or not field.as_string:
        return None
    if isinstance(field, StrictDecimal):
        return None
    places = field.places.as_tuple().exponent if field.places is not None else None
    pattern = (
        decimal_pattern(-places, None, True, None)
        if isinstance(places, int)
        else r"^-?(0|[1-9]\d*)(\.\d+)?$"
    )
    return {"type": "string", "pattern": pattern, "description": "A decimal, as a string."}


def decimal_pattern(places: int, low: int | None, low_inclusive: bool, high: int | None) -> str:
    """A regular expression (the ECMA 262 subset JSON Schema uses) for decimal strings of at
    most `places` decimal places from `low` (inclusive or not; None: unbounded) to `high`
    (inclusive; None: unbounded). Integer bounds only; an exclusive bound other than 0 has
    no pattern here."""
    if low is not None and high is not None and low > high:
        raise ValueError(f"no decimal pattern for the range {low}..{high}")
    if any(b is not None and b != int(b) for b in (low, high)):
        raise ValueError(f"no decimal pattern for the non-integer range {low}..{high}")
    low, high = (None if b is None else int(b) for b in (low, high))
    if not low_inclusive and low not in (None, 0):
        raise ValueError(f"no decimal pattern for an exclusive minimum {low}")
    fraction = rf"(\.\d{{1,{places}}})?" if places else ""
    zeros = rf"(\.0{{1,{places}}})?" if places else ""
    positive_low = max(low, 0) if low is not None else 0
    branches = [_magnitudes(positive_low, high, places, fraction, zeros)]
    if not low_inclusive:  # > 0: no zero, but "0." then a non-zero digit within the places
        tiny = "|".join("0" * k + "[1-9]" + _digits(places - 1 - k) for k in range(places))
        branches = [_magnitudes(1, high, places, fraction, zeros)]
        if places and (high is None or high >= 1):
            branches.append(rf"0\.({tiny})")
    if low is None or low < 0:  # the negatives, as "-" and their magnitude
        branches.append(
            "-(" + _magnitudes(0, None if low is None else -low, places, fraction, zeros) + ")"
        )
    return rf"^({'|'.join(branches)})$"


def _magnitudes(low: int, high: int | None, places: int, fraction: str, zeros: str) -> str:
    """Non-negative decimals from `low` to `high` (integers; None: unbounded), as a regex:
    an integer part in low..high-1 with any fraction, or exactly `high` with zeros."""
    if high is None:
        return rf"({_integers_from(low)}){fraction}"
    parts = [f"{high}{zeros}"]
    if high > low:
        parts.append(rf"({_integer_range(low, high - 1)}){fraction}")
    return "|".join(parts)


def _integers_from(low: int) -> str:
    """Integers >= low (0 or more) without leading zeros."""
    if low == 0:
        return r"0|[1-9]\d*"
    digits = len(str(low))
    longer = rf"[1-9]\d{{{digits},}}"
    return f"{_integer_range(low, 10**digits - 1)}|{longer}"


def _integer_range(low: int, high: int) -> str:
    """Integers in low..high (0 <= low <= high) without leading zeros, as regex alternatives."""
    return "|".join(_at_most(high, low))


def _at_most(high: int, low: int) -> list[str]:
    """Each integer in low..high: by length, then digit by digit against the bounds."""
    out: list[str] = []
    for length in range(len(str(low)), len(str(high)) + 1):
        lo = max(low, 10 ** (length - 1) if length > 1 else 0)
        hi = min(high, 10**length - 1)
        out.extend(_same_length(str(lo), str(hi)))
    return out


def _same_length(lo: str, hi: str) -> list[str]:
    """Integers of one length from lo to hi (strings of equal length), as regexes."""
    if len(lo) == 1:
        return [lo if lo == hi else f"[{lo}-{hi}]"]
    if lo[0] == hi[0]:
        return [lo[0] + "(" + "|".join(_same_length(lo[1:], hi[1:])) + ")"]
    rest = len(lo) - 1
    out = [lo[0] + "(" + "|".join(_same_length(lo[1:], "9" * rest)) + ")"]
    if int(hi[0]) - int(lo[0]) > 1:
        out.append(f"[{int(lo[0]) + 1}-{int(hi[0]) - 1}]" + rf"\d{{{rest}}}")
    out.append(hi[0] + "(" + "|".join(_same_length("0" * rest, hi[1:])) + ")")
    return out


def _digits(most: int) -> str:
    return {0: "", 1: r"\d?"}.get(most, rf"\d{{0,{most}}}")


def _bounds(validators: list[Any]) -> tuple[int | None, bool, int | None]:
    low, low_inclusive, high = None, True, None
    for rule in validators:
        if isinstance(rule, validate.Range):
            if rule.min is not None:
                low, low_inclusive = rule.min, rule.min_inclusive
            if rule.max is not None:
                if not rule.max_inclusive:
                    raise ValueError("an exclusive maximum has no decimal pattern")
                high = rule.max
    return low, low_inclusive, high


def _exact(value: int | float | Decimal) -> Decimal | None:
    try:
        if isinstance(value, WrittenFloat):
            return Decimal(value.text)  # the digits as written: 1234.50000000000000001 stays so
        if isinstance(value, float):
            return Decimal(repr(value))
        return Decimal(value)
    except (InvalidOperation, ValueError):
        return None


def _shown(value: Any) -> str:
    text = value.text if isinstance(value, WrittenFloat) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _example(field: StrictDecimal) -> str:
    places = "." + "5" * field.max_places if field.max_places else ""
    return f'"{"12" if field.high else "1234"}{places}"'
