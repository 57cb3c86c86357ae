"""Approvals routed by the DMN table over real Kafka and real SMTP, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from contractflow.workflow.models import InstanceRow
from services.approval.models import ApprovalRequest, ApprovalTask
from tests.conftest import both_databases
from tests.integration.approval.support import ApprovalWorld, html_of, link_in, text_of

pytestmark = [both_databases, pytest.mark.kafka]


def test_one_level_below_the_finance_threshold(world: ApprovalWorld) -> None:
    request_id = world.request_approval("80000.00")
    message = world.mails_to("li.si")[0]
    assert "待审批" in message["Subject"] and "80,000.00" in message["Subject"]
    assert "云杉软件服务有限公司" in text_of(message) and "<table>" in html_of(message)
    assert message["Message-ID"]
    world.approve_by_mail("li.si")
    decided = world.decided(request_id)
    assert decided["outcome"] == "approved"
    assert [(d["level"], d["approver"], d["decision"]) for d in decided["decisions"]] == [
        (1, "li.si", "approved")
    ]
    assert decided["decisions"][0]["channel"] == "email-link"


def test_two_levels_above_the_finance_threshold(world: ApprovalWorld) -> None:
    request_id = world.request_approval("200000.00")
    world.approve_by_mail("li.si")
    message = world.mails_to("fd")[0]
    assert "Approval needed" in message["Subject"]  # fd reads English
    world.approve_by_mail("fd")
    decided = world.decided(request_id)
    assert [(d["level"], d["approver"]) for d in decided["decisions"]] == [
        (1, "li.si"),
        (2, "fd"),
    ]


def test_three_levels_and_rejection_at_level_two_ends_it(world: ApprovalWorld) -> None:
    request_id = world.request_approval("800000.00")
    world.approve_by_mail("li.si")
    world.approve_by_mail("fd", decision="rejected")
    decided = world.decided(request_id)
    assert decided["outcome"] == "rejected"
    assert [(d["level"], d["decision"]) for d in decided["decisions"]] == [
        (1, "approved"),
        (2, "rejected"),
    ]
    told = world.mails_to("zhang.san")[0]  # the requester hears the outcome
    assert "驳回" in told["Subject"] and "rejected by fd" in text_of(told)
    assert world.mailbox.to("gm@corp.test") == []  # level three was never asked


def test_three_levels_all_approve(world: ApprovalWorld) -> None:
    request_id = world.request_approval("800000.00")
    world.approve_by_mail("li.si")
    world.approve_by_mail("fd")
    world.approve_by_mail("gm")
    decided = world.decided(request_id)
    assert decided["outcome"] == "approved"
    assert [d["level"] for d in decided["decisions"]] == [1, 2, 3]


def test_a_parallel_level_needs_everyone(world: ApprovalWorld) -> None:
    """High risk above 500 000: level three asks the GM and legal in parallel, all must approve."""
    request_id = world.request_approval("600000.00", risk="high")
    world.approve_by_mail("li.si")
    world.approve_by_mail("fd")
    gm_mail, legal_mail = world.mails_to("gm")[0], world.mails_to("legal")[0]
    world.decide(link_in(gm_mail), "approved")
    world.pump()
    assert world.outbox_events("approval.decided.v1") == []  # legal has not decided yet
    world.decide(link_in(legal_mail), "approved")
    decided = world.decided(request_id)
    assert sorted(d["approver"] for d in decided["decisions"] if d["level"] == 3) == ["gm", "legal"]


def test_delegation_within_its_dates_routes_to_the_delegate(world: ApprovalWorld) -> None:
    headers = world.token("admin", "approval-admin")
    response = world.client.put(
        "/approval/directory/people/li.si",
        json={
            "name": "Li Si",
            "email": "li.si@corp.test",
            "manager_id": "wang.wu",
            "delegation": {
                "delegate_id": "deputy",
                "valid_from": (world.now - dt.timedelta(days=1)).date().isoformat(),
                "valid_until": (world.now + dt.timedelta(days=10)).date().isoformat(),
            },
        },
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    request_id = world.request_approval("50000.00")
    message = world.mails_to("deputy")[0]
    assert "Li Si" in text_of(message)  # says on whose behalf
    world.approve_by_mail("deputy")
    decided = world.decided(request_id)
    assert decided["decisions"][0]["approver"] == "deputy"
    assert decided["decisions"][0]["on_behalf_of"] == "li.si"
    assert world.mailbox.to("li.si@corp.test") == []


def test_reminder_then_escalation_to_the_managers_manager(world: ApprovalWorld) -> None:
    request_id = world.request_approval("50000.00")
    world.mails_to("li.si")
    world.advance(dt.timedelta(days=1, minutes=1))
    reminder = world.mails_to("li.si", 2)[1]
    assert "提醒" in reminder["Subject"]
    world.advance(dt.timedelta(days=2))  # three days without a decision: escalate
    escalated = world.mails_to("wang.wu")[0]
    assert "Li Si" in text_of(escalated)  # says whom it was escalated from
    old_link = link_in(world.mailbox.to("li.si@corp.test")[0])
    assert world.open_link(old_link).status_code == 409  # superseded
    world.decide(link_in(escalated), "approved")
    decided = world.decided(request_id)
    assert [(d["approver"], d["level"]) for d in decided["decisions"]] == [("wang.wu", 1)]


def test_a_missing_manager_is_an_incident_not_a_skip(world: ApprovalWorld) -> None:
    headers = world.token("admin", "approval-admin")
    world.client.put(
        "/approval/directory/people/zhang.san", json={"name": "Zhang San"}, headers=headers
    )
    request_id = world.request_approval("50000.00")

    def incident():
        with world.kernel.sessions() as session:
            return world.runtime.incidents(session)

    found = world.pump_until(incident)
    assert "has no manager" in found[0].error
    assert world.outbox_events("approval.decided.v1") == []
    assert request_id


def test_erp_employee_events_keep_the_directory(world: ApprovalWorld) -> None:
    """A new manager arrives by erp.employee.updated; the next request goes to her."""
    world.send(
        "erp.employee.updated.v1",
        {
            "employee_id": "zhao.liu",
            "name": "Zhao Liu",
            "email": "zhao.liu@corp.test",
            "language": "en",
            "manager_id": "gm",
            "roles": [],
        },
        "zhao.liu",
    )
    world.send(
        "erp.employee.updated.v1",
        {
            "employee_id": "zhang.san",
            "name": "Zhang San",
            "email": "zhang.san@corp.test",
            "manager_id": "zhao.liu",
        },
        "zhang.san",
    )

    def moved() -> bool:
        response = world.client.get(
            "/approval/directory/people/zhang.san", headers=world.token("someone")
        )
        return response.get_json()["manager_id"] == "zhao.liu"

    world.pump_until(moved)
    request_id = world.request_approval("20000.00")
    message = world.mails_to("zhao.liu")[0]
    assert "Approval needed" in message["Subject"]
    world.approve_by_mail("zhao.liu")
    assert world.decided(request_id)["decisions"][0]["approver"] == "zhao.liu"


def test_a_delegation_outside_its_dates_is_not_used(world: ApprovalWorld) -> None:
    headers = world.token("admin", "approval-admin")
    later = (world.now + dt.timedelta(days=30)).date()
    world.client.put(
        "/approval/directory/people/li.si",
        json={
            "name": "Li Si",
            "email": "li.si@corp.test",
            "manager_id": "wang.wu",
            "delegation": {
                "delegate_id": "deputy",
                "valid_from": later.isoformat(),
                "valid_until": (later + dt.timedelta(days=5)).isoformat(),
            },
        },
        headers=headers,
    )
    world.request_approval("20000.00")
    assert world.mails_to("li.si")
    assert world.mailbox.to("deputy@corp.test") == []


def test_an_approver_without_email_is_an_incident(world: ApprovalWorld) -> None:
    headers = world.token("admin", "approval-admin")
    world.client.put(
        "/approval/directory/people/li.si",
        json={"name": "Li Si", "manager_id": "wang.wu"},  # no email
        headers=headers,
    )
    world.request_approval("50000.00")

    def incident():
        with world.kernel.sessions() as session:
            return world.runtime.incidents(session)

    assert "has no email address" in world.pump_until(incident)[0].error
    assert world.mailbox.messages == []


def test_a_cancelled_contract_withdraws_its_pending_approval(world: ApprovalWorld) -> None:
    contract_id = "C-withdrawn-1"
    request_id = world.request_approval("80000.00", contract_id=contract_id)
    link = link_in(world.mails_to("li.si")[0])
    world.send(
        "contract.cancelled.v1",
        {
            "contract_id": contract_id,
            "reason": "需求取消 / requirement dropped",
            "cancelled_by": "zhang.san",
            "cancelled_at": "2026-11-27T09:00:00+08:00",
        },
        contract_id,
    )

    def request() -> ApprovalRequest:
        with world.kernel.sessions() as session:
            found = session.get(ApprovalRequest, request_id)
            assert found is not None
            return found

    withdrawn = world.pump_until(lambda: request().status == "withdrawn" and request())
    assert "requirement dropped" in withdrawn.details["withdrawn"]
    with world.kernel.sessions() as session:
        instance = session.get(InstanceRow, withdrawn.instance_id)
        assert instance is not None and instance.status == "cancelled"
        tasks = session.scalars(
            select(ApprovalTask).where(ApprovalTask.request_id == request_id)
        ).all()
        assert tasks and {t.status for t in tasks} == {"withdrawn"}
    # The approver is told, in their language, and the link no longer decides anything.
    notice = world.mails_to("li.si", 2)[1]
    assert "已撤回" in notice["Subject"]
    assert "requirement dropped" in text_of(notice) and "requirement dropped" in html_of(notice)
    page = world.open_link(link)
    assert page.status_code == 409, page.get_data(as_text=True)
    assert world.outbox_events("approval.decided.v1") == []
