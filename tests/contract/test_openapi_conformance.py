"""Every service against its own /openapi.json: schemathesis generates valid and invalid
requests for each operation and runs all its checks on every response — no 5xx, status,
content type, headers and body as documented, valid requests accepted, invalid ones
refused, authentication enforced — and a method a path does not document answers 405
with `Allow`.

Bounded in time: a fixed number of examples per operation and mode, a deadline per
example, derandomized so a CI failure replays locally.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from contractflow.auth import TokenService
from contractflow.db import make_engine
from contractflow.migrate import upgrade
from tests.conftest import service_settings

SERVICES = ("negotiation", "approval", "renewal")
SECRET = "test-secret-that-is-long-enough-for-hs256"
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 4}
METHODS = ("get", "put", "post", "delete", "patch")

# Rules JSON Schema cannot state (they relate several fields, or need a document parsed):
# a schema-valid request may be refused for one of them, with a 400/422 naming it. Each
# operation lists the rules it may refuse for, as regular expressions over the answer's
# "<field path>: <message>" lines; a 4xx naming anything else is still a mismatch between
# the published schema and the server. Shrink this, never grow it silently.
CROSS_FIELD_TERMS = (
    r"(^|\.)end_date: must not be before start_date",
    r"\.resolution_hours: must not be shorter than the response time",
    r"\.milestones: percentages must add up to 100",
    r"\.(fixed_monthly_fee|agreed_rates): must be in the fees currency",
    r"\.severity_targets: .* is listed twice",  # one target per severity
)
BUSINESS_RULES: dict[str, tuple[str, ...]] = {
    "POST /contracts": CROSS_FIELD_TERMS,
    "PUT /contracts/{contract_id}/terms": CROSS_FIELD_TERMS,
    "POST /checks/clauses": CROSS_FIELD_TERMS,
    "POST /checks/qualification": CROSS_FIELD_TERMS,
    "POST /checks/licence-conflicts": CROSS_FIELD_TERMS,
    "POST /checks/fees": (*CROSS_FIELD_TERMS, r"^terms\.[a-z_.]+: is needed to price the contract"),
    "POST /contracts/{contract_id}/evaluations": (r"^period_end: must not be before period_start",),
    "GET /deadlines": (r"^day: give either day or week",),
    # The content must be a BPMN/DMN document that deploys.
    "POST /workflow/definitions": (r"^Definition invalid: ",),
    "POST /approval/change-requests": (
        *CROSS_FIELD_TERMS,  # its current_terms and new_terms are contract terms
        r"^changes: name at least one change",
        r"^current_terms: the contract's signed terms are not known here",
        r"^effective_date: an amendment cannot take effect before it is signed",
    ),
    "POST /approval/termination-requests": (
        r"^current_terms: the contract's signed terms are not known here",
        r"^effective_date: ",
    ),
}
# Pages a person opens from an email (text/html, documented so): a valid request needs a
# signed link, which cannot be generated from a schema, so its refusal is not counted.
HTML_PAGES = {
    "GET /approval/links/{task_id}",
    "POST /approval/links/{task_id}",
    "GET /approval/links/{task_id}/details",
}


def every_role(app) -> list[str]:
    roles: set[str] = set()
    for view in app.view_functions.values():
        roles |= set(getattr(view, "required_roles", ()) or ())
    return sorted(roles)


@pytest.fixture(params=SERVICES)
def service(request, tmp_path_factory) -> Iterator[tuple]:
    name = request.param
    path: Path = tmp_path_factory.mktemp(name) / f"{name}.sqlite3"
    settings_ = service_settings(name, f"sqlite:///{path}", "contract-test.")
    upgrade(make_engine(settings_.database_url), name)
    app = importlib.import_module(f"services.{name}.app").create_app(settings_)
    token = TokenService(SECRET, "contractflow").mint(
        "schemathesis", every_role(app), dt.timedelta(hours=2)
    )
    yield app, schemathesis.openapi.from_wsgi("/openapi.json", app), token


def failures_of(operation, mode: GenerationMode, token: str) -> list[str]:
    found: list[str] = []
    rules = BUSINESS_RULES.get(operation.label, ())
    excluded = []
    if rules or operation.label in HTML_PAGES:
        excluded.append(positive_data_acceptance)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=3_000,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case) -> None:
        # A negative case may be an invalid Authorization header: send it, not our token.
        mutated = mode is GenerationMode.NEGATIVE and "Authorization" in (case.headers or {})
        headers = {} if mutated else {"Authorization": f"Bearer {token}"}
        response = case.call_and_validate(headers=headers, excluded_checks=excluded)
        if rules and mode is GenerationMode.POSITIVE and is_refusal(response.status_code):
            lines = answer_lines(response)
            unexplained = [line for line in lines if not any(re.search(r, line) for r in rules)]
            assert response.status_code in (400, 422) and lines and not unexplained, (
                f"schema-valid request refused ({response.status_code}) for what no rule"
                f" explains: {unexplained or response.text[:500]}\nbody: {case.body!r:.2000}"
            )

    try:
        check()
    except BaseException as exc:  # every check's failure, with the request that caused it
        if not isinstance(exc, Exception | BaseExceptionGroup):
            raise
        found.extend(f"{operation.label} ({mode.value}): {leaf}" for leaf in _leaves(exc))
    return found


def is_refusal(status: int) -> bool:
    """A 4xx that says the request was wrong (positive_data_acceptance's sense): not a
    missing resource, a conflict, authentication or rate limiting."""
    return 400 <= status < 500 and status not in (401, 403, 404, 409, 429)


def answer_lines(response) -> list[str]:
    """A problem answer as "<field path>: <message>" lines (its title and detail when it
    names no field)."""
    try:
        problem = response.json()
    except ValueError:
        return []
    errors = problem.get("errors") if isinstance(problem, dict) else None
    if not errors:
        return (
            [f"{problem.get('title')}: {problem.get('detail')}"]
            if isinstance(problem, dict)
            else []
        )
    return [f"{path}: {message}" for path, message in _flat(errors)]


def _flat(errors, prefix: str = ""):
    if isinstance(errors, dict):
        for key, value in errors.items():
            path = prefix if key == "_schema" and prefix else f"{prefix}.{key}" if prefix else key
            yield from _flat(value, path)
    elif isinstance(errors, list):
        for message in errors:
            yield from _flat(message, prefix) if isinstance(message, dict) else [(prefix, message)]
    else:
        yield prefix, errors


def _leaves(exc: BaseException) -> list[str]:
    if isinstance(exc, BaseExceptionGroup):
        # The group carries the response and the curl line that reproduces it.
        notes = "\n".join(getattr(exc, "__notes__", []))
        return [f"{leaf}\n{notes}" for inner in exc.exceptions for leaf in _leaves(inner)]
    title = getattr(exc, "title", type(exc).__name__)
    message = getattr(exc, "message", str(exc))
    notes = "\n".join(getattr(exc, "__notes__", []))
    return [f"{title}\n{message}\n{notes}".strip()]


@pytest.mark.slow
def test_every_operation_keeps_to_the_published_schema(service):
    _app, schema, token = service
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the service documents no operation"
    for operation in operations:
        for mode in EXAMPLES:
            failures.extend(failures_of(operation, mode, token))
    assert not failures, "\n\n".join(failures)


def test_an_undocumented_method_is_405_with_allow(service):
    app, schema, token = service
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for path, item in schema.raw_schema["paths"].items():
        documented = {m for m in METHODS if m in item}
        concrete = path.replace("{", "").replace("}", "")  # any value fits a string parameter
        for method in sorted(set(METHODS) - documented):
            response = client.open(concrete, method=method.upper(), headers=headers)
            if response.status_code != 405:
                continue  # no route matched at all, or one /openapi.json does not document
            allowed = {m.strip().lower() for m in response.headers.get("Allow", "").split(",")}
            assert documented <= allowed, (method, path, response.headers.get("Allow"))
