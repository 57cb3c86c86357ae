"""OpenAPI 3 document generated from the marshmallow schemas views declare with @api_doc."""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable
from typing import Any, TypeVar

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema, fields
from werkzeug.routing import IntegerConverter

from contractflow.contracts.schemas.decimals import decimal_text
from contractflow.untrusted_json import INT64_MAX, INT64_MIN
from contractflow.web import trace_context
from contractflow.web.problems import PROBLEM_JSON

F = TypeVar("F", bound=Callable[..., Any])
_CONVERTER = re.compile(r"<(?:[a-z_]+:)?([a-zA-Z_][a-zA-Z0-9_]*)>")


def api_doc(
    summary: str,
    *,
    body: type[Schema] | Schema | None = None,
    query: type[Schema] | Schema | None = None,
    response: type[Schema] | Schema | None = None,
    status: int = 200,
    tags: tuple[str, ...] = (),
    html: bool = False,
) -> Callable[[F], F]:
    """`html`: a page a person opens (from an email): it answers text/html, refusals too."""

    def decorate(view: F) -> F:
        view.__api_doc__ = {  # type: ignore[attr-defined]
            "summary": summary,
            "body": body,
            "query": query,
            "response": response,
            "status": status,
            "tags": tags,
            "html": html,
        }
        return view

    return decorate


def build_openapi(app: Flask, title: str, version: str = "1") -> dict[str, Any]:
    marshmallow_plugin = MarshmallowPlugin()
    spec = APISpec(
        title=title,
        version=version,
        openapi_version="3.0.3",
        plugins=[marshmallow_plugin],
        info={"description": trace_context.DESCRIPTION},
    )
    assert marshmallow_plugin.converter is not None
    marshmallow_plugin.converter.add_attribute_function(integer_bounds)
    marshmallow_plugin.converter.add_attribute_function(closed_when_nullable)
    marshmallow_plugin.converter.add_attribute_function(decimal_text)
    marshmallow_plugin.converter.add_attribute_function(self_described)
    spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        doc = getattr(view, "__api_doc__", None)
        if doc is None:
            continue
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        operations = {}
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operations[method.lower()] = _operation(view, _path_parameters(rule), doc)
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation(view: Any, path_args: Any, doc: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": doc["summary"], "tags": list(doc["tags"])}
    parameters: list[dict[str, Any]] = [
        {"in": "path", "name": name, "required": True, "schema": schema}
        for name, schema in sorted(path_args.items())
    ]
    if doc["query"] is not None:
        parameters.append({"in": "query", "schema": doc["query"]})
    if parameters:
        operation["parameters"] = parameters
    if doc["body"] is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": doc["body"]}},
        }
    ok: dict[str, Any] = {"description": "OK"}
    if doc["response"] is not None:
        ok["content"] = {"application/json": {"schema": doc["response"]}}
    problem: dict[str, Any] = {"description": "Problem", "content": {PROBLEM_JSON: {}}}
    if doc.get("html"):
        page = {"text/html": {"schema": {"type": "string"}}}
        ok["content"] = page
        # A refused link is a page in the reader's language; what fails before the view
        # (a method not allowed, an internal error) is still a problem document.
        problem = {
            "description": "A page saying why, or a problem",
            "content": {**page, **problem["content"]},
        }
    operation["responses"] = {str(doc["status"]): ok, "default": problem}
    roles = getattr(view, "required_roles", None)
    if roles is not None:
        operation["security"] = [{"bearer": []}]
        if roles:
            operation["description"] = "Roles: " + ", ".join(sorted(roles))
    return operation


def integer_bounds(converter: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict:
    """Every integer says the range the server accepts: its own, else 64 bits (what the
    database holds; contractflow.web.strict_json refuses the rest). A Decimal's bounds are
    numbers too (apispec serializes the validator's bounds with the field, so a Decimal
    field's come out as strings: an invalid schema)."""
    if isinstance(field, fields.Number) and not isinstance(field, fields.Integer):
        return {
            key: _json_number(ret[key])
            for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
            if isinstance(ret.get(key), decimal.Decimal | str)
        }
    if not isinstance(field, fields.Integer):
        return {}
    bounds: dict[str, int] = {}
    if "minimum" not in ret:
        bounds["minimum"] = INT64_MIN
    if "maximum" not in ret:
        bounds["maximum"] = INT64_MAX
    return bounds


def closed_when_nullable(converter: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict:
    """A nullable nested object is its schema or null. apispec writes it (OpenAPI 3.0) as
    `anyOf: [{type: object, nullable: true}, {$ref}]`, whose first branch is *any* object:
    the published schema then allowed unknown fields the server refuses."""
    branches = ret.get("anyOf")
    if not (isinstance(branches, list) and _OPEN_NULLABLE_OBJECT in branches):
        return {}
    ret.pop("anyOf")
    return {"allOf": [b for b in branches if b != _OPEN_NULLABLE_OBJECT], "nullable": True}


_OPEN_NULLABLE_OBJECT = {"type": "object", "nullable": True}


def self_described(converter: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict:
    """A field that knows exactly what it accepts (an `openapi_schema(generated)` method:
    a decimal taken as a string or a number, a list without repeats) is published as it
    says, given what apispec generated for it."""
    describe = getattr(field, "openapi_schema", None)
    if not callable(describe):
        return {}
    described: dict[str, Any] = describe(dict(ret))
    ret.clear()
    return described


def _path_parameters(rule: Any) -> dict[str, dict[str, Any]]:
    """Each path parameter's schema: an `int` one is an integer within its converter's bounds."""
    parameters: dict[str, dict[str, Any]] = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        if isinstance(converter, IntegerConverter):
            minimum = converter.min if converter.min is not None else 0
            maximum = converter.max if converter.max is not None else INT64_MAX
            parameters[name] = {"type": "integer", "minimum": minimum, "maximum": maximum}
        else:
            parameters[name] = {"type": "string"}
    return parameters


def _json_number(value: decimal.Decimal | str) -> int | float:
    number = decimal.Decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)
