"""Building blocks for the contract schemas: strict decimals, money, error paths.

JSON numbers: decimals (money, rates, percentages, volumes) are accepted as decimal
strings ("1234.50") or integers (1234), and as `Decimal` when the caller parsed the body
with `json.loads(..., parse_float=Decimal)`. A JSON float such as 1234.5 is rejected:
by the time it reaches us it has passed through a binary float and may no longer be the
number the client meant.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from contractflow.contracts.money import DEFAULT_CURRENCY, Money

CURRENCY_CODE = validate.Regexp(r"^[A-Z]{3}$", error="must be an ISO 4217 code such as CNY")
NOT_BLANK = validate.Length(min=1, error="must not be empty")


class ModelSchema(Schema):
    """Loads into the frozen dataclass `model`; unknown fields are an error, not ignored.

    JSON lists become tuples so that the loaded terms are immutable and hashable.
    """

    model: ClassVar[type]

    class Meta:
        unknown = RAISE

    @post_load
    def make_model(self, data: dict[str, Any], **_: Any) -> Any:
        values = {key: tuple(v) if isinstance(v, list) else v for key, v in data.items()}
        return self.model(**values)


class StrictDecimal(fields.Decimal):
    """A Decimal that refuses JSON floats and more decimal places than `max_places`."""

    default_error_messages = {
        "float": 'send a decimal string such as "1234.50" or an integer, not a JSON float',
        "places": "must have at most {max_places} decimal places",
    }

    def __init__(self, *, max_places: int = 2, **kwargs: Any) -> None:
        super().__init__(as_string=True, **kwargs)
        self.max_places = max_places

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool | float):
            raise self.make_error("float")
        if not isinstance(value, str | int | Decimal):
            raise self.make_error("invalid")
        number = super()._deserialize(value, attr, data, **kwargs)
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -self.max_places:
            raise self.make_error("places", max_places=self.max_places)
        return number


class StrictInteger(fields.Integer):
    """An integer that refuses true/false and 3.0 (JSON has no integer type of its own)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class MoneySchema(ModelSchema):
    model = Money

    amount = StrictDecimal(required=True, max_places=2)
    currency = fields.String(load_default=DEFAULT_CURRENCY, validate=CURRENCY_CODE)


def validate_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown IANA time zone {name!r}") from None


def nested_list(schema: type[Schema], **kwargs: Any) -> fields.List:
    return fields.List(fields.Nested(schema), load_default=(), **kwargs)


def enum_list(enum: type, **kwargs: Any) -> fields.List:
    return fields.List(
        fields.Enum(enum, by_value=True), load_default=(), validate=no_duplicates, **kwargs
    )


def no_duplicates(values: list[Any]) -> None:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ValidationError(f"{getattr(value, 'value', value)!r} is listed twice")
        seen.add(value)


def flatten_errors(
    messages: Mapping[str, Any] | list[Any], prefix: str = ""
) -> dict[str, list[str]]:
    """Turn marshmallow's nested error dict into {"fees.upgrades.0.count": [messages]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, list):
        flat.setdefault(prefix or "_schema", []).extend(str(m) for m in messages)
        return flat
    for key, value in messages.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if key == "_schema":
            path = prefix or "_schema"
        if isinstance(value, Mapping):
            for sub_path, sub_messages in flatten_errors(value, path).items():
                flat.setdefault(sub_path, []).extend(sub_messages)
        else:
            flat.setdefault(path, []).extend(str(m) for m in value)
    return flat
