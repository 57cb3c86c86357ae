"""An approval task is decided and reassigned only through the approval service's routes;
what the approver's email and its pages show (names, a details page, withdrawn)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from services.approval.models import ApprovalTask
from tests.conftest import both_databases
from tests.integration.approval.support import ApprovalWorld, html_of, link_in, text_of

pytestmark = [both_databases, pytest.mark.kafka]
ADMIN = ("root", "workflow-admin", "approval-admin")
DETAILS = re.compile(r"(http://approval\.test/approval/links/[^/\s?]+/details\?token=\S+)")


def first_task(world: ApprovalWorld) -> ApprovalTask:
    with world.kernel.sessions() as session:
        return session.scalars(select(ApprovalTask).order_by(ApprovalTask.created_at)).first()


def test_the_generic_complete_of_a_decide_task_is_refused_naming_the_approval_route(
    world: ApprovalWorld,
) -> None:
    world.request_approval("50000.00")
    message = world.mails_to("li.si")[0]
    task = first_task(world)
    response = world.client.post(
        f"/workflow/tasks/{task.task_id}/complete",
        json={"data": {"decision": "approved"}},
        headers=world.token(*ADMIN),
    )
    assert response.status_code == 409, response.get_json()
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["use"] == f"POST /approval/tasks/{task.task_id}/decision"
    # Nothing changed: the approver's own link still decides.
    assert first_task(world).status == "open"
    world.decide(link_in(message), "approved")
    assert first_task(world).status == "decided"


def test_reassigning_goes_through_the_approval_service_with_a_new_link(
    world: ApprovalWorld,
) -> None:
    world.request_approval("50000.00")
    old_link = link_in(world.mails_to("li.si")[0])
    task = first_task(world)
    generic = world.client.post(
        f"/workflow/tasks/{task.task_id}/reassign",
        json={"assignee": "deputy"},
        headers=world.token(*ADMIN),
    )
    assert generic.status_code == 409, generic.get_json()
    assert generic.get_json()["use"] == f"POST /approval/tasks/{task.task_id}/reassign"
    assert first_task(world).person_id == "li.si"

    unknown = world.client.post(
        f"/approval/tasks/{task.task_id}/reassign",
        json={"person_id": "nobody"},
        headers=world.token(*ADMIN),
    )
    assert unknown.status_code == 422 and "person_id" in unknown.get_json()["errors"]
    moved = world.client.post(
        f"/approval/tasks/{task.task_id}/reassign",
        json={"person_id": "deputy"},
        headers=world.token(*ADMIN),
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["person_id"] == "deputy"
    # The new approver's link decides; the old one is refused; the decision API follows.
    assert world.open_link(old_link).status_code == 409
    not_yours = world.client.post(
        f"/approval/tasks/{task.task_id}/decision",
        json={"decision": "approved"},
        headers=world.token("li.si"),
    )
    assert not_yours.status_code == 403
    assert world.approve_by_mail("deputy").status_code == 200
    assert first_task(world).status == "decided"


def test_the_mail_names_contract_provider_and_requester_and_its_details_page_opens(
    world: ApprovalWorld,
) -> None:
    world.request_approval("50000.00", title="OA 系统运维服务合同", provider="云杉软件服务有限公司")
    message = world.mails_to("li.si")[0]
    text = text_of(message)
    assert "OA 系统运维服务合同" in text and "云杉软件服务有限公司" in text
    assert "Zhang San" in text and "zhang.san" not in text  # the directory's name
    details = DETAILS.search(text)
    assert details and details.group(1) in html_of(message)
    page = world.open_link(details.group(1))  # a browser, no sign-in
    assert page.status_code == 200 and page.mimetype == "text/html"
    body = page.get_data(as_text=True)
    assert "OA 系统运维服务合同" in body and "审批中" in body
    # Opening the details decides nothing: the approval page still works.
    assert world.approve_by_mail("li.si").status_code == 200


def test_a_withdrawn_requests_link_says_withdrawn(world: ApprovalWorld) -> None:
    contract_id = "C-withdrawn-2"
    world.request_approval("80000.00", contract_id=contract_id)
    message = world.mails_to("li.si")[0]
    world.send(
        "contract.cancelled.v1",
        {
            "contract_id": contract_id,
            "reason": "需求取消 / requirement dropped",
            "cancelled_by": "zhang.san",
            "cancelled_at": "2027-03-01T09:00:00+08:00",
        },
        contract_id,
    )
    world.mails_to("li.si", 2)  # the withdrawal notice
    page = world.open_link(link_in(message))
    assert page.status_code == 409
    body = page.get_data(as_text=True)
    assert "withdrawn" in body and "已撤回" in body and "decided by others" not in body
    details = world.open_link(DETAILS.search(text_of(message)).group(1))
    assert details.status_code == 200 and "已撤回" in details.get_data(as_text=True)
