"""Validation messages that tell a client what to send instead.

marshmallow answers an unexpected key with "Unknown field." and nothing else; a client
then learns the allowed names only by reading code. `name_allowed_fields` walks the error
messages alongside the schema (nested schemas and lists of them included) and says, for
each unknown key, which fields that object accepts.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

UNKNOWN = "Unknown field."


def name_allowed_fields(schema: Schema, messages: Any) -> Any:
    """`messages` as marshmallow gave them, with each "Unknown field." naming the fields
    its object allows."""
    if not isinstance(messages, dict):
        return messages
    by_key = {f.data_key or name: f for name, f in schema.load_fields.items()}
    allowed = ", ".join(sorted(by_key))
    named: dict[Any, Any] = {}
    for key, value in messages.items():
        field = by_key.get(key) if isinstance(key, str) else None
        if field is None and isinstance(value, list) and UNKNOWN in value:
            named[key] = [
                f"Unknown field; allowed here: {allowed}." if m == UNKNOWN else m for m in value
            ]
        elif field is not None:
            named[key] = _within(field, value)
        else:
            named[key] = value
    return named


def _within(field: fields.Field, value: Any) -> Any:
    if isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
        if field.many and isinstance(value, dict):
            return {i: name_allowed_fields(field.schema, v) for i, v in value.items()}
        return name_allowed_fields(field.schema, value)
    if isinstance(field, fields.List) and isinstance(value, dict):
        return {i: _within(field.inner, v) for i, v in value.items()}
    return value
