"""OpenAPI 3 document generated from the marshmallow schemas views declare with @api_doc."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema

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
) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        view.__api_doc__ = {  # type: ignore[attr-defined]
            "summary": summary,
            "body": body,
            "query": query,
            "response": response,
            "status": status,
            "tags": tags,
        }
        return view

    return decorate


def build_openapi(app: Flask, title: str, version: str = "1") -> dict[str, Any]:
    spec = APISpec(
        title=title, version=version, openapi_version="3.0.3", plugins=[MarshmallowPlugin()]
    )
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
            operations[method.lower()] = _operation(view, rule.arguments, doc)
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation(view: Any, path_args: Any, doc: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": doc["summary"], "tags": list(doc["tags"])}
    parameters: list[dict[str, Any]] = [
        {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
        for name in sorted(path_args)
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
    problem = {"description": "Problem", "content": {"application/problem+json": {}}}
    operation["responses"] = {str(doc["status"]): ok, "default": problem}
    roles = getattr(view, "required_roles", None)
    if roles is not None:
        operation["security"] = [{"bearer": []}]
        if roles:
            operation["description"] = "Roles: " + ", ".join(sorted(roles))
    return operation
