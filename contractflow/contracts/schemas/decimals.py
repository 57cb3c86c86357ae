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
    decimal places; its range comes from `validate.Range` validators (bounds 0 and 100
    only, the ones a string pattern can state; others are refused at import)."""

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
        sign = {None: "a", 0: "a non-negative"}[self.low] if self.low_inclusive else "a positive"
        cap = "" if self.high is None else f" of at most {self.high}"
        return f"{sign} decimal{cap} with at most {self.max_places} decimal places, no exponent"

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


def decimal_pattern(places: int, low: int | None, low_inclusive: bool, high: int | None) -> str:
    """A regular expression (the ECMA 262 subset JSON Schema uses) for decimal strings of at
    most `places` decimal places in the range: no bound, >= 0 or > 0, optionally <= 100."""
    if low not in (None, 0) or high not in (None, 100) or (high is not None and low is None):
        raise ValueError(f"no decimal pattern for the range {low}..{high}")
    fraction = rf"(\.\d{{1,{places}}})?" if places else ""
    zeros = rf"(\.0{{1,{places}}})?" if places else ""
    # > 0 below 1: "0." then a fraction with a non-zero digit within the places.
    tiny = "|".join("0" * k + "[1-9]" + _digits(places - 1 - k) for k in range(places))
    below_one = rf"|0\.({tiny})" if places else ""
    if high is None:
        if low is None:
            body = rf"-?(0|[1-9]\d*){fraction}"
        elif low_inclusive:
            body = rf"(0|[1-9]\d*){fraction}"
        else:
            body = rf"[1-9]\d*{fraction}{below_one}"
    else:
        first = r"(0|[1-9]\d?)" if low_inclusive else r"[1-9]\d?"
        body = rf"100{zeros}|{first}{fraction}"
        if not low_inclusive:
            body += below_one
    return rf"^({body})$"


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
