"""A change request and a termination, each run to its event over real Kafka and SMTP."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from contractflow.contracts import dump_contract_terms
from tests.conftest import both_databases
from tests.integration.approval.support import (
    MANAGER,
    ApprovalWorld,
    complete,
    open_tasks,
    request_crm_module,
    request_termination_for_breach,
    terms_2027,
    wait_for_task,
)
from tests.integration.harness import signed_event

pytestmark = [both_databases, pytest.mark.kafka]


def test_a_change_request_runs_to_contract_amended(world: ApprovalWorld) -> None:
    contract = signed_event()
    world.send("contract.signed.v1", contract.data, contract.subject)
    created = request_crm_module(
        world, contract.subject, "业务扩展需要客户管理模块 / business needs a CRM module"
    )
    request_id, instance_id = created["request_id"], created["instance_id"]

    message = world.mails_to("li.si")[0]  # the approval went out as approval.requested
    assert "合同变更" in message["Subject"] and "CRM" in message.get_body(("plain",)).get_content()
    assert "5,400.00" in message["Subject"]  # routed by the fee difference: one level
    world.approve_by_mail("li.si")
    assert world.decided(request_id)["outcome"] == "approved"
    wait_for_task(world, instance_id, "sign_amendment")

    too_late = {
        "amendment_number": "A-2027-001",
        "signed_on": "2027-04-02",  # after the effective date: refused, asked again
        "signed_for_user": "华东制造 王经理",
        "signed_for_provider": "云杉软件 刘总",
    }
    assert complete(world, instance_id, "sign_amendment", too_late).status_code == 200
    wait_for_task(world, instance_id, "sign_amendment")
    ok = {**too_late, "signed_on": "2027-03-20"}
    assert complete(world, instance_id, "sign_amendment", ok).status_code == 200
    amended = world.published("contract.amended.v1", request_id=request_id)
    assert amended["amendment_number"] == "A-2027-001"
    assert amended["effective_date"] == "2027-04-01" and amended["signed_on"] == "2027-03-20"
    assert "CRM" in amended["description"]
    assert float(amended["difference"]["amount"]) > 0
    assert amended["fee_schedule"] and "CRM" in str(amended["terms"])


def test_a_termination_waits_for_notice_and_the_dispute_then_settles(world: ApprovalWorld) -> None:
    contract = signed_event(notice_period_days=30)
    world.send("contract.signed.v1", contract.data, contract.subject)
    created = request_termination_for_breach(
        world, contract.subject, "系统连续宕机，软件无法使用 / repeated outages, software unusable"
    )
    request_id, instance_id = created["request_id"], created["instance_id"]
    for person in ("li.si", "fd", "legal"):  # 170 720 capped compensation, high risk
        world.approve_by_mail(person)
    decided = world.decided(request_id)
    assert [d["approver"] for d in decided["decisions"]] == ["li.si", "fd", "legal"]

    wait_for_task(world, instance_id, "provider_response")
    complete(world, instance_id, "provider_response", {"disputed": True})
    wait_for_task(world, instance_id, "dispute_stage")
    stage = {
        "dispute_stage": "negotiation",
        "dispute_outcome": "escalate",
        "dispute_note": "未达成一致",
    }
    complete(world, instance_id, "dispute_stage", stage)
    wait_for_task(world, instance_id, "dispute_stage")
    stage = {
        "dispute_stage": "arbitration",
        "dispute_outcome": "terminate",
        "dispute_note": "仲裁支持解除",
    }
    complete(world, instance_id, "dispute_stage", stage)

    world.advance(dt.timedelta(days=29))  # 2027-03-30 09:00Z: the notice period still runs
    assert open_tasks(world, instance_id) == []
    world.advance(dt.timedelta(days=1))  # past 2027-03-31 00:00 +08:00
    # Straight to the settlement: the data handover is renewal's one handover workflow.
    wait_for_task(world, instance_id, "settle_fees")
    assert [t["element_id"] for t in open_tasks(world, instance_id)] == ["settle_fees"]
    settlement = {
        "settlement_payer": "user",
        "settlement_amount": "20000.00",
        "settlement_note": "三月服务费",
    }
    assert complete(world, instance_id, "settle_fees", settlement).status_code == 200

    terminated = world.published("contract.terminated.v1", request_id=request_id)
    assert terminated["effective_date"] == "2027-03-31"
    assert terminated["compensation"]["payer"] == "provider"
    assert terminated["compensation"]["amount"] == {"amount": "170720.00", "currency": "CNY"}
    assert [d["stage"] for d in terminated["disputes"]] == ["negotiation", "arbitration"]
    assert terminated["settlement"]["amount"]["amount"] == "20000.00"
    assert "documents returned" in terminated["handover"], "what renewal's handover covers"

    # The read model was marked terminated with the event: no further requests.
    refused = world.client.post(
        "/approval/change-requests",
        json={
            "contract_id": contract.subject,
            "reason": "too late",
            "effective_date": "2027-05-01",
            "changes": {"fees": "discount"},
            "new_terms": dump_contract_terms(terms_2027()),
        },
        headers=world.token(*MANAGER),
    )
    assert refused.status_code == 409, refused.get_json()
    assert "contract_id" in refused.get_json()["errors"]


def request_fewer_modules(world: ApprovalWorld, contract_id: str) -> Any:
    """POST a change request removing every module of the 2027 terms."""
    old = terms_2027()
    new = replace(old, service_content=replace(old.service_content, functional_modules=()))
    return world.client.post(
        "/approval/change-requests",
        json={
            "contract_id": contract_id,
            "reason": "减少模块 / fewer modules",
            "effective_date": "2027-05-01",
            "changes": {"modules_removed": list(old.service_content.functional_modules)},
            "current_terms": dump_contract_terms(old),
            "new_terms": dump_contract_terms(new),
        },
        headers=world.token(*MANAGER),
    )


def wait_until_completed(world: ApprovalWorld, instance_id: str) -> None:
    def completed() -> bool:
        response = world.client.get(
            f"/workflow/instances/{instance_id}", headers=world.token("admin", "workflow-admin")
        )
        return response.get_json()["status"] == "completed"

    world.pump_until(completed)


def test_a_rejected_change_ends_without_an_amendment(world: ApprovalWorld) -> None:
    response = request_fewer_modules(world, "C-rejected")
    assert response.status_code == 201, response.get_json()
    request_id, instance_id = response.get_json()["request_id"], response.get_json()["instance_id"]
    world.approve_by_mail("li.si", decision="rejected")
    assert world.decided(request_id)["outcome"] == "rejected"
    wait_until_completed(world, instance_id)
    assert world.outbox_events("contract.amended.v1") == []


def test_a_change_effective_in_the_past_is_refused(world: ApprovalWorld) -> None:
    old = terms_2027()
    response = world.client.post(
        "/approval/change-requests",
        json={
            "contract_id": "C-1",
            "reason": "r",
            "effective_date": "2027-02-01",  # before today (2027-03-01)
            "changes": {"fees": "discount"},
            "current_terms": dump_contract_terms(old),
            "new_terms": dump_contract_terms(old),
        },
        headers=world.token(*MANAGER),
    )
    assert response.status_code == 422
    assert "effective_date" in str(response.get_json())


def test_a_second_change_request_waits_for_the_first_to_end(world: ApprovalWorld) -> None:
    # Two amendments drawn from the same terms would each rewrite them; the second would
    # silently undo the first. One open change request per contract.
    def request_change() -> Any:
        return request_fewer_modules(world, "C-one-at-a-time")

    first = request_change()
    assert first.status_code == 201, first.get_json()
    second = request_change()
    assert second.status_code == 409
    assert second.mimetype == "application/problem+json"
    assert second.get_json()["open_instance_id"] == first.get_json()["instance_id"]
    # Once the first change ends (rejected here), the next may start.
    world.approve_by_mail("li.si", decision="rejected")
    world.decided(first.get_json()["request_id"])
    wait_until_completed(world, first.get_json()["instance_id"])
    assert request_change().status_code == 201


def test_the_past_is_judged_by_the_business_date_not_the_utc_date(world: ApprovalWorld) -> None:
    # 17:30 UTC on 1 March is 01:30 on 2 March in Shanghai: 1 March is already the past.
    world.now = dt.datetime(2027, 3, 1, 17, 30, tzinfo=dt.UTC)
    old = terms_2027()
    response = world.client.post(
        "/approval/change-requests",
        json={
            "contract_id": "C-1",
            "reason": "r",
            "effective_date": "2027-03-01",
            "changes": {"fees": "discount"},
            "current_terms": dump_contract_terms(old),
            "new_terms": dump_contract_terms(old),
        },
        headers=world.token(*MANAGER),
    )
    assert response.status_code == 422, response.get_json()
    assert "effective_date" in str(response.get_json())
