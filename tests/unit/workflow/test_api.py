"""The workflow HTTP API through Flask's test client: roles, inbox, forms, incidents."""

from __future__ import annotations

import datetime as dt

import pytest

from contractflow.auth import TokenService
from contractflow.web import ServiceWeb, create_service_app
from contractflow.workflow.api import make_workflow_blueprint

from .helpers import open_tasks, start, status

TOKENS = TokenService("test-secret-0123456789-0123456789-0123456789", "contractflow")


def _headers(user: str, *roles: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + TOKENS.mint(user, roles, dt.timedelta(minutes=5))}


@pytest.fixture
def api(make_runtime, sessions):
    runtime = make_runtime("fees.bpmn", "trivial.bpmn", fail_fees=[True])
    app = create_service_app(
        ServiceWeb("negotiation", TOKENS, [make_workflow_blueprint(runtime, sessions)])
    )
    return runtime, app.test_client()


def admin() -> dict[str, str]:
    # Minted per use: a token minted at import time expires during a long suite.
    return _headers("root", "workflow-admin")


def test_bad_form_is_a_422_naming_the_fields_and_changes_nothing(api, sessions):
    runtime, client = api
    iid = start(runtime, sessions, "trivial")
    task = open_tasks(runtime, sessions, iid)["confirm"]
    before = status(sessions, iid)
    response = client.post(
        f"/workflow/tasks/{task.id}/complete",
        json={"data": {"approved": "perhaps", "comment": 5}},
        headers=_headers("cleo", "clerk"),
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.json["errors"]) == {"approved", "comment"}
    assert status(sessions, iid) == before
    assert open_tasks(runtime, sessions, iid)["confirm"].status == "open"

    ok = client.post(
        f"/workflow/tasks/{task.id}/complete",
        json={"data": {"approved": True}},
        headers=_headers("cleo", "clerk"),
    )
    assert ok.status_code == 200 and ok.json["status"] == "completed"
    assert ok.json["completed_by"] == "cleo"


def test_inbox_shows_what_a_user_may_work_on_and_claim_checks_the_role(api, sessions):
    runtime, client = api
    iid = start(runtime, sessions, "trivial", contract_id="C-42")
    mine = client.get("/workflow/tasks", headers=_headers("cleo", "clerk"))
    assert [t["element_id"] for t in mine.json["tasks"]] == ["confirm"]
    assert client.get("/workflow/tasks", headers=_headers("lars", "legal")).json["tasks"] == []
    by_contract = client.get("/workflow/tasks?contract_id=C-42", headers=admin()).json["tasks"]
    assert [t["instance_id"] for t in by_contract] == [iid]
    assert client.get("/workflow/tasks?status=bogus", headers=admin()).status_code == 400

    task_id = by_contract[0]["id"]
    denied = client.post(f"/workflow/tasks/{task_id}/claim", headers=_headers("lars", "legal"))
    assert denied.status_code == 403
    claimed = client.post(f"/workflow/tasks/{task_id}/claim", headers=_headers("cleo", "clerk"))
    assert claimed.json["assignee"] == "cleo" and claimed.json["status"] == "claimed"
    mine = client.get("/workflow/tasks?assignee=cleo", headers=_headers("cleo", "clerk"))
    assert len(mine.json["tasks"]) == 1
    moved = client.post(
        f"/workflow/tasks/{task_id}/reassign",
        json={"assignee": "dora"},
        headers=_headers("cleo", "clerk"),
    )
    assert moved.json["assignee"] == "dora"
    assert (
        client.post(
            f"/workflow/tasks/{task_id}/complete",
            json={"data": {"approved": True}},
            headers=_headers("cleo", "clerk"),
        ).status_code
        == 403
    )


def test_instances_history_cancel_and_incidents_need_the_admin_role(api, sessions):
    _runtime, client = api
    started = client.post(
        "/workflow/instances",
        json={"process_id": "fees", "contract_id": "C-9", "variables": {"users": 2}},
        headers=admin(),
    )
    assert started.status_code == 201 and started.json["status"] == "incident"
    assert started.json["open_task_ids"] == [], "an incident leaves nothing to do yet"
    iid = started.json["id"]
    assert client.get("/workflow/incidents", headers=_headers("cleo", "clerk")).status_code == 403
    [incident] = client.get("/workflow/incidents", headers=admin()).json["incidents"]
    assert incident["element_id"] == "compute_fees" and incident["attempts"] == 1
    retried = client.post(f"/workflow/incidents/{incident['id']}/retry", headers=admin())
    assert retried.status_code == 200 and retried.json["status"] == "active"

    details = client.get(f"/workflow/instances/{iid}", headers=admin()).json
    assert details["variables"]["fee"] == 24
    assert [t["element_id"] for t in details["open_tasks"]] == ["approve_fee"]
    listed = client.get("/workflow/instances?process_id=fees&status=active", headers=admin())
    assert [i["id"] for i in listed.json["instances"]] == [iid]

    assert (
        client.post(f"/workflow/instances/{iid}/cancel", json={}, headers=admin()).status_code
        == 422
    )
    cancelled = client.post(
        f"/workflow/instances/{iid}/cancel", json={"reason": "duplicate"}, headers=admin()
    )
    assert cancelled.json["status"] == "cancelled" and cancelled.json["end_reason"] == "duplicate"
    kinds = [
        h["kind"]
        for h in client.get(f"/workflow/instances/{iid}/history", headers=admin()).json["history"]
    ]
    assert kinds[0] == "started" and "incident_raised" in kinds and kinds[-1] == "cancelled"
    assert client.get("/workflow/instances/nope", headers=admin()).status_code == 404


def test_endpoints_are_in_the_openapi_document(api):
    _, client = api
    paths = client.get("/openapi.json").json["paths"]
    for path in (
        "/workflow/instances",
        "/workflow/instances/{instance_id}",
        "/workflow/instances/{instance_id}/cancel",
        "/workflow/tasks",
        "/workflow/tasks/{task_id}/complete",
        "/workflow/tasks/{task_id}/claim",
        "/workflow/tasks/{task_id}/reassign",
        "/workflow/incidents",
        "/workflow/incidents/{incident_id}/retry",
    ):
        assert path in paths, path


def test_start_over_http_answers_with_the_task_to_do_next(api, sessions):
    runtime, client = api
    started = client.post(
        "/workflow/instances", json={"process_id": "trivial", "contract_id": "C-7"}, headers=admin()
    )
    assert started.status_code == 201
    [task_id] = started.json["open_task_ids"]
    assert open_tasks(runtime, sessions, started.json["id"])["confirm"].id == task_id
    done = client.post(
        f"/workflow/tasks/{task_id}/complete",
        json={"data": {"approved": True}},
        headers=_headers("cleo", "clerk"),
    )
    assert done.status_code == 200
    assert status(sessions, started.json["id"])[0] == "completed"


def test_answers_of_start_complete_and_claim_are_what_a_later_read_shows(api, sessions):
    # Those answers are built from what the step wrote, not read back: they must agree.
    _runtime, client = api
    started = client.post(
        "/workflow/instances", json={"process_id": "trivial", "contract_id": "C-9"}, headers=admin()
    ).json
    stored = client.get(f"/workflow/instances/{started['id']}", headers=admin()).json
    summary_fields = set(started) - {"open_task_ids"}
    assert summary_fields and {k: stored[k] for k in summary_fields} == {
        k: started[k] for k in summary_fields
    }
    [task_id] = started["open_task_ids"]
    claimed = client.post(f"/workflow/tasks/{task_id}/claim", headers=_headers("cleo", "clerk"))
    assert claimed.json == client.get(f"/workflow/tasks/{task_id}", headers=admin()).json
    done = client.post(
        f"/workflow/tasks/{task_id}/complete",
        json={"data": {"approved": True}},
        headers=_headers("cleo", "clerk"),
    )
    assert done.json["status"] == "completed" and done.json["completed_by"] == "cleo"
    assert done.json == client.get(f"/workflow/tasks/{task_id}", headers=admin()).json
