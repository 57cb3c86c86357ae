"""Hostile HTTP input at every service: huge offsets and ids, bodies nested a thousand
deep, numbers no database holds, booleans that are not booleans — each a 4xx problem
naming the field, never a 500; and what is refused, /openapi.json says."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator

import pytest

from contractflow.auth import TokenService
from contractflow.db import make_engine
from contractflow.migrate import upgrade
from tests.conftest import service_settings

SECRET = "test-secret-that-is-long-enough-for-hs256"
TOO_BIG = str(2**63)
PROBLEM = "application/problem+json"


@pytest.fixture(params=["negotiation", "approval", "renewal"])
def service(request, tmp_path) -> Iterator[tuple[str, object, dict[str, str]]]:
    name = request.param
    settings = service_settings(name, f"sqlite:///{tmp_path / f'{name}.sqlite3'}", "test.")
    upgrade(make_engine(settings.database_url), name)
    app = importlib.import_module(f"services.{name}.app").create_app(settings)
    roles: set[str] = set()
    for view in app.view_functions.values():
        roles |= set(getattr(view, "required_roles", ()) or ())
    token = TokenService(SECRET, "contractflow").mint("alice", sorted(roles), dt.timedelta(hours=1))
    yield name, app.test_client(), {"Authorization": f"Bearer {token}"}


def list_routes(client) -> list[str]:
    """Every documented GET whose query takes an `offset`."""
    spec = client.get("/openapi.json").get_json()
    routes = []
    for path, item in spec["paths"].items():
        parameters = item.get("get", {}).get("parameters", [])
        if "{" not in path and any(p.get("name") == "offset" for p in parameters):
            routes.append(path)
    return routes


# What a list route needs besides paging to answer 200 (a rule across its parameters).
ROUTE_CONTEXT = {"/deadlines": "&day=2025-01-06"}


def test_every_list_route_refuses_an_offset_beyond_64_bits_naming_it(service):
    name, client, auth = service
    routes = list_routes(client)
    assert {"/workflow/instances", "/workflow/tasks", "/workflow/incidents"} <= set(routes)
    if name == "negotiation":
        assert "/contracts" in routes
    for route in routes:
        for offset in (TOO_BIG, "9" * 30, "9" * 5_000):
            response = client.get(f"{route}?offset={offset}", headers=auth)
            assert response.status_code == 400, (route, offset, response.get_data(as_text=True))
            assert response.mimetype == PROBLEM
            assert "offset" in response.get_json()["errors"], route
        context = ROUTE_CONTEXT.get(route, "")
        largest = client.get(f"{route}?offset={2**63 - 1}{context}", headers=auth)
        assert largest.status_code == 200, (route, largest.get_data(as_text=True))


def test_the_published_schema_bounds_every_offset(service):
    _, client, _ = service
    spec = client.get("/openapi.json").get_json()
    for path in list_routes(client):
        [schema] = [
            p["schema"] for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "offset"
        ]
        assert schema["maximum"] == 2**63 - 1, path
        assert schema["minimum"] == 0, path


def test_an_incident_id_beyond_64_bits_is_404_naming_it(service):
    _, client, auth = service
    for incident_id in (TOO_BIG, "9" * 30, "9" * 5_000):
        response = client.post(f"/workflow/incidents/{incident_id}/retry", headers=auth)
        assert response.status_code == 404
        assert response.mimetype == PROBLEM
        assert "incident_id" in response.get_json()["detail"]
    spec = client.get("/openapi.json").get_json()
    [parameter] = spec["paths"]["/workflow/incidents/{incident_id}/retry"]["post"]["parameters"]
    assert parameter["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}


@pytest.mark.parametrize(
    "body",
    [
        "[" * 1_000 + "]" * 1_000,
        "[" * 50_000,
        '{"process_id":' + '{"a":' * 1_000 + "1" + "}" * 1_000 + "}",
        '{"process_id": "p", "variables": {"n": ' + "9" * 5_000 + "}}",
        # Python reads these; no other JSON reader would, so no event may carry one.
        '{"process_id": "p", "variables": {"n": NaN}}',
        '{"process_id": "p", "variables": {"n": [-Infinity]}}',
        "\udcff",
        "",
    ],
)
def test_an_unreadable_body_is_400_saying_why(service, body):
    _, client, auth = service
    response = client.post(
        "/workflow/instances",
        data=body.encode("utf-8", "surrogateescape"),
        content_type="application/json",
        headers=auth,
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert response.get_json()["title"] == "Body is not JSON"


def test_integer_and_boolean_fields_take_only_json_integers_and_booleans(tmp_path):
    settings = service_settings("approval", f"sqlite:///{tmp_path / 'a.sqlite3'}", "test.")
    upgrade(make_engine(settings.database_url), "approval")
    client = importlib.import_module("services.approval.app").create_app(settings).test_client()
    token = TokenService(SECRET, "contractflow").mint(
        "alice", ["approval-admin"], dt.timedelta(hours=1)
    )
    auth = {"Authorization": f"Bearer {token}"}
    person = {"name": "王经理", "email": "wang@example.com"}
    for active in (0, 1, "false", "no", "", None, [], 0.0):
        response = client.put(
            "/approval/directory/people/P-1", json={**person, "active": active}, headers=auth
        )
        assert 400 <= response.status_code < 500, (active, response.status_code)
        assert "active" in response.get_json()["errors"], active
    stored = client.put(
        "/approval/directory/people/P-1", json={**person, "active": False}, headers=auth
    )
    assert stored.status_code == 200, stored.get_data(as_text=True)
    assert stored.get_json()["active"] is False


def test_a_405_names_the_methods_allowed(service):
    _, client, auth = service
    response = client.delete("/workflow/instances", headers=auth)
    assert response.status_code == 405
    assert response.mimetype == PROBLEM
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
