"""The HTTP side every service shares: app factory, problem errors, health, metrics, OpenAPI."""

from contractflow.web.app import ServiceWeb, create_service_app
from contractflow.web.openapi import api_doc
from contractflow.web.problems import ProblemError, problem_response
from contractflow.web.requests import load_json, load_query

__all__ = [
    "ProblemError",
    "ServiceWeb",
    "api_doc",
    "create_service_app",
    "load_json",
    "load_query",
    "problem_response",
]
