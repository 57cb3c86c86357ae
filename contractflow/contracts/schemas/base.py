"""Building blocks for the contract schemas: strict decimals, money, error paths.

Decimals (money, rates, percentages, volumes) are `StrictDecimal`s: a decimal string or
an exact JSON number (see `decimals.py`). Every schema is closed: an unknown field is an
error, and /openapi.json says so (`additionalProperties: false`) at every level.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Mapping
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from contractflow.contracts.money import DEFAULT_CURRENCY, Money
from contractflow.contracts.schemas.decimals import StrictDecimal

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


@functools.cache
def iana_time_zones() -> tuple[str, ...]:
    """The zone names this process knows, published as the field's enum (and checked)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def validate_timezone(name: str) -> None:
    if name not in iana_time_zones():
        raise ValidationError(f"unknown IANA time zone {name!r}")


class TimezoneName(fields.String):
    """An IANA time zone this process knows; /openapi.json lists them (`enum`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate_timezone, **kwargs)

    def openapi_schema(self, generated: dict[str, Any]) -> dict[str, Any]:
        return {**generated, "enum": list(iana_time_zones())}


class UniqueList(fields.List):
    """A list without repeats; /openapi.json says so (`uniqueItems`)."""

    def __init__(self, inner: fields.Field, **kwargs: Any) -> None:
        super().__init__(inner, load_default=(), validate=no_duplicates, **kwargs)

    def openapi_schema(self, generated: dict[str, Any]) -> dict[str, Any]:
        return {**generated, "uniqueItems": True}


def nested_list(schema: type[Schema], **kwargs: Any) -> fields.List:
    return fields.List(fields.Nested(schema), load_default=(), **kwargs)


def enum_list(enum: type, **kwargs: Any) -> fields.List:
    return UniqueList(fields.Enum(enum, by_value=True), **kwargs)


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
