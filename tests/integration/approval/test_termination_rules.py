"""Termination rules: a notice cannot precede the signing, compensation follows the
breach-liability clause the terms have, dispute stages run negotiation → arbitration →
litigation, each once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from contractflow.contracts import dump_contract_terms
from tests.conftest import both_databases
from tests.integration.approval.support import (
    MANAGER,
    ApprovalWorld,
    complete,
    terms_2027,
    wait_for_task,
)
from tests.integration.approval.test_signed_terms import signed

pytestmark = [both_databases, pytest.mark.kafka]
ADMIN = ("root", "workflow-admin")


def terminate(world: ApprovalWorld, contract_id: str, **body: Any):
    return world.client.post(
        "/approval/termination-requests",
        json={
            "contract_id": contract_id,
            "grounds": "provider_breach",
            "reason": "系统连续宕机 / repeated outages",
            "notice_given_on": "2027-03-01",
            "claimed_damages": "20000.00",
            **body,
        },
        headers=world.token(*MANAGER),
    )


def approve_termination(world: ApprovalWorld) -> None:
    # A termination is routed to the department manager, and always to legal.
    for person in ("li.si", "legal"):
        world.approve_by_mail(person)


def test_a_notice_before_the_signing_is_refused(world: ApprovalWorld) -> None:
    contract_id = signed(world, terms=dump_contract_terms(terms_2027()))  # signed 2026-12-20
    response = terminate(world, contract_id, notice_given_on="2026-12-01")
    assert response.status_code == 422, response.get_json()
    assert "notice_given_on" in response.get_json()["errors"]
    early = terminate(world, contract_id, requested_effective_date="2026-12-31")
    assert early.status_code == 422 and "requested_effective_date" in early.get_json()["errors"]
    assert terminate(world, contract_id).status_code == 201


def test_compensation_cites_the_breach_liability_the_terms_have(world: ApprovalWorld) -> None:
    terms = terms_2027()
    # A breach-liability clause without its own termination wording: its liabilities count.
    terms = replace(
        terms, breach_liability=replace(terms.breach_liability, termination_compensation=None)
    )
    contract_id = signed(world, terms=dump_contract_terms(terms))
    response = terminate(world, contract_id)
    assert response.status_code == 201, response.get_json()
    instance = world.client.get(
        f"/workflow/instances/{response.get_json()['instance_id']}", headers=world.token(*ADMIN)
    ).get_json()
    basis = instance["variables"]["assessment"]["compensation"]["basis"]
    assert "no breach-liability clause" not in basis
    assert terms.breach_liability.provider_liabilities[0] in basis


def test_dispute_stages_go_forward_only(world: ApprovalWorld) -> None:
    contract_id = signed(world, terms=dump_contract_terms(terms_2027()))
    response = terminate(world, contract_id, risk="low")  # one approval level
    instance_id = response.get_json()["instance_id"]
    approve_termination(world)
    wait_for_task(world, instance_id, "provider_response")
    complete(world, instance_id, "provider_response", {"disputed": True})
    wait_for_task(world, instance_id, "dispute_stage")

    first = {"dispute_stage": "arbitration", "dispute_outcome": "escalate"}
    skipped = complete(world, instance_id, "dispute_stage", first)
    assert skipped.status_code == 422 and "dispute_stage" in skipped.get_json()["errors"]
    stage = {"dispute_stage": "negotiation", "dispute_outcome": "escalate"}
    assert complete(world, instance_id, "dispute_stage", stage).status_code == 200
    wait_for_task(world, instance_id, "dispute_stage")
    again = complete(world, instance_id, "dispute_stage", stage)  # negotiation twice
    assert again.status_code == 422, again.get_json()
    assert (
        "negotiation → arbitration → litigation" in again.get_json()["errors"]["dispute_stage"][0]
    )
    stage = {"dispute_stage": "arbitration", "dispute_outcome": "escalate"}
    assert complete(world, instance_id, "dispute_stage", stage).status_code == 200
    wait_for_task(world, instance_id, "dispute_stage")
    last = {"dispute_stage": "litigation", "dispute_outcome": "escalate"}
    beyond = complete(world, instance_id, "dispute_stage", last)
    assert beyond.status_code == 422 and "dispute_outcome" in beyond.get_json()["errors"]
    last = {"dispute_stage": "litigation", "dispute_outcome": "terminate"}
    assert complete(world, instance_id, "dispute_stage", last).status_code == 200


def test_the_contract_manager_is_mailed_when_a_termination_task_waits(world: ApprovalWorld) -> None:
    contract_id = signed(world, terms=dump_contract_terms(terms_2027()))
    instance_id = terminate(world, contract_id, risk="low").get_json()["instance_id"]
    approve_termination(world)
    wait_for_task(world, instance_id, "provider_response")
    notices = world.kernel.extensions["approval.task_notices"]

    def task_mail() -> list:
        notices.job(world.kernel.sessions)()
        world.sender.send_pending()
        return [m for m in world.mailbox.to("cm@corp.test") if "待办" in m["Subject"]]

    [mail] = world.pump_until(task_mail)  # cm holds contract-manager; zh is cm's language
    assert "OA 系统运维服务合同" in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert "/workflow/tasks/" in body
    # The approvers' decide tasks were told by their decision links, not by task notices.
    assert not [m for m in world.mailbox.to("li.si@corp.test") if "待办" in m["Subject"]]
