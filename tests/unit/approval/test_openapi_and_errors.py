"""Approval's /openapi.json documents every JSON and link route, with the statuses they
answer; an unknown field is refused naming the fields that are allowed."""

from __future__ import annotations

import datetime as dt

import pytest

from contractflow.mail import MailSettings
from contractflow.web import create_service_app
from services.approval.bootstrap import bootstrap
from services.approval.settings import ApprovalSettings
from tests.conftest import service_settings
from tests.integration.harness import migrated_service


@pytest.fixture
def client(database_factory, topic_prefix):
    config = ApprovalSettings(mail=MailSettings())
    kernel = migrated_service(
        lambda s: bootstrap(s, approval_settings=config),
        service_settings("approval", database_factory("approval"), topic_prefix),
    )
    yield kernel, create_service_app(kernel.web()).test_client()
    kernel.close()


def test_every_approval_route_is_documented_with_its_status(client) -> None:
    _kernel, web = client
    document = web.get("/openapi.json").json
    paths = document["paths"]
    for path, method in (
        ("/approval/directory/people", "get"),
        ("/approval/directory/people/{person_id}", "get"),
        ("/approval/directory/people/{person_id}", "put"),
        ("/approval/requests/{request_id}", "get"),
        ("/approval/tasks/{task_id}/audit", "get"),
        ("/approval/tasks/{task_id}/decision", "post"),
        ("/approval/tasks/{task_id}/reassign", "post"),
        ("/approval/links/{task_id}", "get"),
        ("/approval/links/{task_id}", "post"),
        ("/approval/links/{task_id}/details", "get"),
    ):
        assert method in paths.get(path, {}), (path, method)
    for path in ("/approval/change-requests", "/approval/termination-requests"):
        assert "201" in paths[path]["post"]["responses"], path  # what they answer
    body = document["components"]["schemas"]["ChangeRequestBody"]["properties"]
    assert body["new_terms"] == {"$ref": "#/components/schemas/ContractTerms"}
    assert "fees" in document["components"]["schemas"]["ContractTerms"]["properties"]


def test_an_unknown_field_names_the_allowed_ones(client) -> None:
    kernel, web = client
    token = kernel.tokens.mint("root", ["approval-admin"], dt.timedelta(hours=1))
    response = web.put(
        "/approval/directory/people/p1",
        json={"name": "P One", "mail": "p1@corp.test"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    [message] = response.json["errors"]["mail"]
    assert "email" in message and "manager_id" in message
