"""The definitions API the admin editor uses: versions with instance counts, validation
without storing, deploys by `workflow-admin` only, and refusal of entity declarations."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from contractflow.auth import TokenService
from contractflow.db import unit_of_work
from contractflow.events.catalogue import Catalogue
from contractflow.events.outbox import Outbox, OutboxMessage
from contractflow.events.schemas import workflow as workflow_events
from contractflow.web import ServiceWeb, create_service_app
from contractflow.workflow.definitions_api import make_definitions_blueprint

from .conftest import CATALOGUE, fixture_text
from .helpers import start

TOKENS = TokenService("test-secret-0123456789-0123456789-0123456789", "contractflow")


def _as(user: str, *roles: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + TOKENS.mint(user, roles, dt.timedelta(minutes=5))}


@pytest.fixture
def api(make_runtime, sessions):
    runtime = make_runtime("trivial.bpmn")
    # The runtime's catalogue plus the definition events a deploy publishes.
    catalogue = Catalogue([*CATALOGUE, *workflow_events.EVENT_TYPES])
    runtime.stepper.outbox = Outbox(catalogue, "test.")
    app = create_service_app(
        ServiceWeb("negotiation", TOKENS, [make_definitions_blueprint(runtime, sessions)])
    )
    return runtime, app.test_client()


def test_versions_are_listed_with_their_instance_counts(api, sessions):
    runtime, client = api
    start(runtime, sessions, "trivial")
    start(runtime, sessions, "trivial")
    deployed = client.post(
        "/workflow/definitions",
        json={"file_name": "trivial.bpmn", "content": fixture_text("trivial_v2.bpmn")},
        headers=_as("ada", "workflow-admin"),
    )
    assert deployed.status_code == 201, deployed.json
    assert deployed.json["sequence"] == 2 and deployed.json["deployed_by"] == "ada"
    start(runtime, sessions, "trivial")
    with unit_of_work(sessions) as session:
        published = session.scalars(
            select(OutboxMessage.message_key).where(
                OutboxMessage.event_type == "workflow.definition.published.v1"
            )
        ).all()
    assert published == [], "the service deploys itself; no stale announcement can follow"

    listing = client.get("/workflow/definitions", headers=_as("ben", "admin"))
    assert listing.status_code == 200
    (trivial,) = [d for d in listing.json["definitions"] if d["file_name"] == "trivial.bpmn"]
    assert trivial["latest"] == 2
    counts = {v["sequence"]: v["instances"] for v in trivial["versions"]}
    assert counts == {2: {"active": 1}, 1: {"active": 2}}

    v2 = client.get(f"/workflow/definitions/{deployed.json['id']}", headers=_as("ben", "admin"))
    assert 'id="confirm_v2"' in v2.json["content"]
    activity = client.get(
        f"/workflow/definitions/{deployed.json['id']}/activity", headers=_as("ben", "admin")
    )
    assert activity.json["elements"] == {"confirm_v2": {"waiting": 1, "incidents": 0}}


def test_validation_names_the_offending_element_and_stores_nothing(api):
    _runtime, client = api
    broken = (
        fixture_text("trivial.bpmn")
        .replace(
            '<bpmn:endEvent id="end">',
            '<bpmn:scriptTask id="unsafe"><bpmn:script>'
            "__import__('os').system('true')</bpmn:script></bpmn:scriptTask>"
            '<bpmn:sequenceFlow id="f3" sourceRef="unsafe" targetRef="end" />'
            '<bpmn:endEvent id="end">',
        )
        .replace('sourceRef="confirm" targetRef="end"', 'sourceRef="confirm" targetRef="unsafe"')
    )
    response = client.post(
        "/workflow/definitions/validate",
        json={"file_name": "trivial.bpmn", "content": broken},
        headers=_as("ben", "admin"),
    )
    assert response.status_code == 200
    assert response.json["valid"] is False
    assert "unsafe" in {p["element_id"] for p in response.json["problems"]}

    refused = client.post(
        "/workflow/definitions",
        json={"file_name": "trivial.bpmn", "content": broken},
        headers=_as("ada", "workflow-admin"),
    )
    assert refused.status_code == 422
    assert "unsafe" in {p["element_id"] for p in refused.json["problems"]}
    listing = client.get("/workflow/definitions", headers=_as("ben", "admin")).json
    assert [d["latest"] for d in listing["definitions"]] == [1]


def test_an_unregistered_form_is_a_problem_at_its_task(api):
    _runtime, client = api
    unbound = fixture_text("trivial.bpmn").replace('value="confirm"', 'value="no_such_form"')
    response = client.post(
        "/workflow/definitions/validate",
        json={"file_name": "trivial.bpmn", "content": unbound},
        headers=_as("ben", "admin"),
    )
    # The reason for logs and plain clients; the code and parameters for a page that
    # shows the problem in its reader's language.
    assert response.json["problems"] == [
        {
            "element_id": "confirm",
            "reason": "form 'no_such_form' is not registered",
            "code": "form_unknown",
            "params": {"form": "no_such_form"},
        }
    ]


def test_read_only_admin_cannot_deploy_and_others_cannot_read(api):
    _runtime, client = api
    body = {"file_name": "trivial.bpmn", "content": fixture_text("trivial_v2.bpmn")}
    assert (
        client.post("/workflow/definitions", json=body, headers=_as("ben", "admin")).status_code
        == 403
    )
    assert client.get("/workflow/definitions", headers=_as("cleo", "clerk")).status_code == 403
    assert client.get("/workflow/definitions").status_code == 401


def test_entity_declarations_are_refused_before_parsing(api):
    _runtime, client = api
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        + fixture_text("trivial.bpmn").split("?>", 1)[1].replace('name="Trivial"', 'name="&x;"')
    )
    response = client.post(
        "/workflow/definitions/validate",
        json={"file_name": "trivial.bpmn", "content": xxe},
        headers=_as("ben", "admin"),
    )
    assert response.status_code == 422
    assert "DOCTYPE" in response.json["detail"]
    assert "root:" not in response.get_data(as_text=True)


def test_a_new_decision_table_decides_the_next_instances_of_the_process_calling_it(
    make_runtime, sessions
):
    """The process pins the table version it was checked with; deploying a new table makes
    a new version of the process against it, so new instances decide by the new table and a
    running one keeps the table it started with."""
    runtime = make_runtime("decisions/fee_band.dmn", "banded.bpmn")
    app = create_service_app(
        ServiceWeb("negotiation", TOKENS, [make_definitions_blueprint(runtime, sessions)])
    )
    client = app.test_client()
    before = start(runtime, sessions, "banded", users=30)
    table = fixture_text("decisions/fee_band.dmn").replace("&gt;= 10", "&gt;= 50")
    table = table.replace("&lt; 10", "&lt; 50")
    deployed = client.post(
        "/workflow/definitions",
        json={"file_name": "decisions/fee_band.dmn", "content": table},
        headers=_as("ada", "workflow-admin"),
    )
    assert deployed.status_code == 201, deployed.json
    assert deployed.json["dependents"] == [
        {"file_name": "banded.bpmn", "sequence": 2, "problems": []}
    ]
    after = start(runtime, sessions, "banded", users=30)
    with unit_of_work(sessions) as session:
        assert runtime.instance(session, before).variables["band"] == "large"
        assert runtime.instance(session, after).variables["band"] == "small"  # 30 < 50 now
    again = client.post(
        "/workflow/definitions",
        json={"file_name": "decisions/fee_band.dmn", "content": table},
        headers=_as("ada", "workflow-admin"),
    )
    assert again.status_code == 200 and again.json["dependents"] == []


def test_a_table_that_breaks_its_caller_leaves_the_caller_on_its_version_and_says_why(
    make_runtime, sessions
):
    runtime = make_runtime("decisions/fee_band.dmn", "banded.bpmn")
    app = create_service_app(
        ServiceWeb("negotiation", TOKENS, [make_definitions_blueprint(runtime, sessions)])
    )
    renamed = fixture_text("decisions/fee_band.dmn").replace(
        '<decision id="fee_band"', '<decision id="fee_band_2027"'
    )
    deployed = app.test_client().post(
        "/workflow/definitions",
        json={"file_name": "decisions/fee_band.dmn", "content": renamed},
        headers=_as("ada", "workflow-admin"),
    )
    assert deployed.status_code == 201, deployed.json
    assert deployed.json["dependents"] == []  # banded calls fee_band, which is gone: not a caller
    iid = start(runtime, sessions, "banded", users=3)
    with unit_of_work(sessions) as session:
        assert runtime.instance(session, iid).variables["band"] == "small"  # its old table
