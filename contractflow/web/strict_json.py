"""A JSON body holds the types its published schema promises, before marshmallow reads it.

marshmallow is lenient where /openapi.json is not: a Boolean field takes `0`, `"no"` or
`"off"` as false and an Integer field takes `"5"`, `5.0` or an integer of any size, which a
client must not rely on and the database cannot always store. So every Boolean field of a
body must be a JSON boolean and every Integer field a JSON integer inside the range the
schema documents (at most 64 bits; `openapi.integer_bounds`), named by its dotted path when
not — whatever service declared the schema. A string with a pattern must match it as
JSON Schema reads it (see `_pattern_mismatch`).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from contractflow.untrusted_json import INT64_MAX, INT64_MIN


def type_errors(schema: Schema, body: Any, path: str = "") -> dict[str, list[str]]:
    """Dotted path -> messages, for the fields of `schema` whose JSON type is wrong."""
    errors: dict[str, list[str]] = {}
    if not isinstance(body, dict):
        return errors
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        if key in body:
            _check(field, body[key], f"{path}.{key}" if path else key, errors)
    return errors


def _check(field: fields.Field, value: Any, path: str, errors: dict[str, list[str]]) -> None:
    if value is None:
        return  # allow_none is marshmallow's to decide
    if isinstance(field, fields.String) and isinstance(value, str):
        mismatch = _pattern_mismatch(field, value)
        if mismatch:
            errors[path] = [mismatch]
        return
    if isinstance(field, fields.Boolean):
        if not isinstance(value, bool):
            errors[path] = ["Not a boolean: send true or false."]
    elif isinstance(field, fields.Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            errors[path] = ["Not an integer."]
        elif not INT64_MIN <= value <= INT64_MAX:
            errors[path] = [_beyond_64_bits(value)]
    elif isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
        items = value if field.many and isinstance(value, list) else [value]
        for index, item in enumerate(items):
            where = f"{path}.{index}" if field.many else path
            errors.update(type_errors(field.schema, item, where))
    elif isinstance(field, fields.List) and isinstance(value, list):
        for index, item in enumerate(value):
            _check(field.inner, item, f"{path}.{index}", errors)


def _pattern_mismatch(field: fields.String, value: str) -> str | None:
    """A published `pattern` ending in `$` ends the string (JSON Schema's regular
    expressions); Python's `$` also matches before a final newline, so marshmallow would
    take "CNY\n" for ^[A-Z]{3}$. The value must match the whole pattern."""
    for rule in field.validators:
        if not isinstance(rule, validate.Regexp):
            continue
        regex = rule.regex
        pattern = regex.pattern
        if not isinstance(pattern, str):
            continue
        ends = pattern.endswith("$") and not pattern.endswith("\\$")
        if ends and regex.match(value) and not regex.fullmatch(value):  # type: ignore[call-overload]
            return f"Does not match the pattern {pattern} (a line break ends it)."
    return None


def query_range_errors(schema: Schema, loaded: dict[str, Any]) -> dict[str, list[str]]:
    """Integer query parameters beyond 64 bits (a query string has no JSON types to check)."""
    errors: dict[str, list[str]] = {}
    for name, field in schema.load_fields.items():
        value = loaded.get(field.attribute or name)
        if (
            isinstance(field, fields.Integer)
            and isinstance(value, int)
            and not INT64_MIN <= value <= INT64_MAX
        ):
            errors[field.data_key or name] = [_beyond_64_bits(value)]
    return errors


def _beyond_64_bits(value: int) -> str:
    return f"Must be at most {INT64_MAX}." if value > 0 else f"Must be at least {INT64_MIN}."
