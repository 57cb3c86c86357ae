"""Request bodies and query strings loaded through marshmallow, failing as problem+json."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, ValidationError

from contractflow.schema_errors import name_allowed_fields
from contractflow.web.problems import ProblemError


def load_json(schema: Schema) -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise ProblemError(
            400,
            "Body is not JSON",
            "send a JSON document with 'Content-Type: application/json'",
        )
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise ProblemError(
            422,
            "Invalid request body",
            "some fields are invalid; see 'errors'",
            errors=name_allowed_fields(schema, exc.messages),
        ) from None


def load_query(schema: Schema) -> Any:
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as exc:
        raise ProblemError(
            400,
            "Invalid query parameters",
            "some parameters are invalid; see 'errors'",
            errors=name_allowed_fields(schema, exc.messages),
        ) from None
