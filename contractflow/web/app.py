"""Flask app factory shared by the services: their blueprints plus the operational endpoints.

The service's own `create_app()` builds its container and calls `create_service_app`; nothing
here runs at import time, so tests build as many apps as they like with their own settings.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import Blueprint, Flask, Response, g, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
)
from werkzeug.exceptions import HTTPException

from contractflow.metrics import exposition
from contractflow.web.openapi import build_openapi
from contractflow.web.problems import ProblemError, problem_response
from contractflow.web.routing import install_bounded_integers
from contractflow.web.trace_context import TraceContextMiddleware

if TYPE_CHECKING:
    from contractflow.auth import TokenService

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], bool]


@dataclass
class ServiceWeb:
    """What the HTTP side of one service is made of; built by the service's bootstrap."""

    service: str
    tokens: TokenService
    blueprints: Sequence[Blueprint]
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    extensions: dict[str, object] = field(default_factory=dict)
    # The AsyncAPI document of the events (the same for every service), built on first use.
    event_catalogue_document: Callable[[], dict] | None = None


def create_service_app(web: ServiceWeb) -> Flask:
    app = Flask(f"contractflow.{web.service}")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["contractflow.tokens"] = web.tokens
    app.extensions.update(web.extensions)
    install_bounded_integers(app)
    app.wsgi_app = TraceContextMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    for blueprint in web.blueprints:
        app.register_blueprint(blueprint)
    app.register_blueprint(_operations_blueprint(web))
    _install_metrics(app, web.registry)
    _install_error_handlers(app)
    return app


def _operations_blueprint(web: ServiceWeb) -> Blueprint:
    ops = Blueprint("operations", __name__)

    @ops.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok", service=web.service)

    @ops.get("/readyz")
    def readyz() -> tuple[Response, int]:
        results = {name: _safe(check) for name, check in web.readiness.items()}
        ready = all(results.values())
        body = {"status": "ready" if ready else "not ready", "checks": results}
        return jsonify(body), 200 if ready else 503

    @ops.get("/metrics")
    def metrics() -> Response:
        # Under gunicorn: every worker process's counters, not only this one's.
        return Response(exposition(web.registry), mimetype=CONTENT_TYPE_LATEST)

    @ops.get("/openapi.json")
    def openapi() -> Response:
        from flask import current_app

        return jsonify(build_openapi(current_app, f"contractflow {web.service} API"))

    asyncapi: list[dict] = []

    @ops.get("/asyncapi.json")
    def asyncapi_document() -> Response:
        if web.event_catalogue_document is None:
            raise ProblemError(404, "No event catalogue", f"{web.service} publishes no events")
        if not asyncapi:
            asyncapi.append(web.event_catalogue_document())
        return jsonify(asyncapi[0])

    return ops


def _safe(check: ReadinessCheck) -> bool:
    try:
        return bool(check())
    except Exception:
        log.warning("readiness check failed", exc_info=True)
        return False


def _install_metrics(app: Flask, registry: CollectorRegistry) -> None:
    requests = Counter(
        "http_requests_total",
        "HTTP requests by endpoint and status",
        ["method", "endpoint", "status"],
        registry=registry,
    )
    latency = Histogram(
        "http_request_duration_seconds",
        "HTTP request latency by endpoint",
        ["method", "endpoint"],
        registry=registry,
    )

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        requests.labels(request.method, endpoint, str(response.status_code)).inc()
        started = g.get("request_started")
        if started is not None:
            latency.labels(request.method, endpoint).observe(time.perf_counter() - started)
        return response


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(ProblemError)
    def _problem(exc: ProblemError) -> Response:
        return problem_response(exc.status, exc.title, exc.detail, exc.headers, **exc.extra)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        # The exception's own headers matter: a 405 names the methods allowed (Allow).
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        return problem_response(exc.code or 500, exc.name, exc.description, headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return problem_response(500, "Internal Server Error", "the error was logged")
