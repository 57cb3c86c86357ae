"""Request bodies and query strings loaded through marshmallow, failing as problem+json."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, ValidationError

from contractflow import untrusted_json
from contractflow.schema_errors import name_allowed_fields
from contractflow.web.problems import ProblemError
from contractflow.web.strict_json import query_range_errors, type_errors

# How deeply a request body may nest: well below what an event may (the body travels on
# inside one), far above any body the API defines.
MAX_BODY_DEPTH = 32


def json_body() -> Any:
    """The request's JSON document; 400 naming what is wrong when it is none we read
    (not JSON, nested deeper than MAX_BODY_DEPTH, a number Python refuses to convert,
    NaN or Infinity: Python reads them, no other JSON reader would)."""
    if not request.is_json:
        raise ProblemError(
            400,
            "Body is not JSON",
            "send a JSON document with 'Content-Type: application/json'",
        )
    try:
        # Numbers keep their digits: a decimal field takes 1234.50 exactly, not via a float.
        return untrusted_json.loads(
            request.get_data(cache=True),
            max_depth=MAX_BODY_DEPTH,
            keep_number_text=True,
            allow_nan=False,
        )
    except untrusted_json.UntrustedJsonError as exc:
        raise ProblemError(400, "Body is not JSON", f"the body cannot be read: {exc}") from None


def load_json(schema: Schema) -> Any:
    body = json_body()
    wrong_types = type_errors(schema, body)
    if wrong_types:
        raise ProblemError(
            422,
            "Invalid request body",
            "some fields are invalid; see 'errors'",
            errors=wrong_types,
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
        loaded = schema.load(request.args.to_dict())
    except ValidationError as exc:
        # A rule across parameters may fail too: the out-of-range ones are named as well.
        errors = name_allowed_fields(schema, exc.messages)
        if isinstance(errors, dict) and isinstance(exc.valid_data, dict):
            errors = {**query_range_errors(schema, exc.valid_data), **errors}
    else:
        errors = query_range_errors(schema, loaded)
        if not errors:
            return loaded
    raise ProblemError(
        400,
        "Invalid query parameters",
        "some parameters are invalid; see 'errors'",
        errors=errors,
    )
