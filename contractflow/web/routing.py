"""Integer path parameters the database can hold: `<int:incident_id>` stops at 2^63 - 1.

werkzeug's `int` converter takes any number of digits, and an id of 2^63 made the database
driver raise OverflowError (a 500). Such an id cannot exist, so it answers 404 naming the
parameter; /openapi.json documents the same bounds.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter, IntegerConverter, Rule

from contractflow.untrusted_json import INT64_MAX


class Int64Converter(IntegerConverter):
    """`int` bounded to what a BIGINT column holds; knows its parameter's name."""

    argument = "id"

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT64_MAX)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> Any:
        limit = INT64_MAX if self.max is None else self.max
        # Lengths first: int() of thousands of digits costs, and Python refuses past 4,300.
        if len(value) > len(str(limit)) or (value.isdigit() and int(value) > limit):
            raise NotFound(
                f"{self.argument} {value[:40]} does not exist: ids are integers up to {limit}"
            )
        return super().to_python(value)


class NamedConverterRule(Rule):
    """A rule telling each converter the name of the parameter it reads (for its errors)."""

    def get_converter(
        self, variable_name: str, converter_name: str, args: Any, kwargs: Any
    ) -> BaseConverter:
        converter = super().get_converter(variable_name, converter_name, args, kwargs)
        if isinstance(converter, Int64Converter):
            converter.argument = variable_name
        return converter


def install_bounded_integers(app: Flask) -> None:
    """Before any blueprint is registered: every `<int:...>` from then on is bounded."""
    app.url_map.converters["int"] = Int64Converter
    app.url_rule_class = NamedConverterRule
