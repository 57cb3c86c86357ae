"""Change and termination requests start from the terms `contract.signed` carried, then from
the last amendment's; without known terms the requester must send them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from contractflow.contracts import ContractTerms, dump_contract_terms, recalculate_for_change
from services.approval.models import SignedContract
from services.approval.signed_contracts import TERMS_UNKNOWN
from tests.conftest import both_databases
from tests.integration.approval.support import (
    MANAGER,
    ApprovalWorld,
    complete,
    terms_2027,
    wait_for_task,
    with_module,
)
from tests.integration.harness import signed_event

pytestmark = [both_databases, pytest.mark.kafka]


def signed(world: ApprovalWorld, **changes: Any) -> str:
    """Publish `contract.signed.v1` and wait until the read model has it."""
    event = signed_event(**changes)
    world.send("contract.signed.v1", event.data, event.subject)
    world.pump_until(lambda: read_model(world, event.subject))
    return event.subject


def read_model(world: ApprovalWorld, contract_id: str) -> SignedContract | None:
    with world.kernel.sessions() as session:
        return session.get(SignedContract, contract_id)


def request_change(world: ApprovalWorld, contract_id: str, new: ContractTerms, effective: str):
    return world.client.post(
        "/approval/change-requests",
        json={
            "contract_id": contract_id,
            "reason": "模块调整 / modules change",
            "effective_date": effective,
            "changes": {"modules_added": ["CRM"]},
            "new_terms": dump_contract_terms(new),
            "risk": "low",
        },
        headers=world.token(*MANAGER),
    )


def request_termination(world: ApprovalWorld, contract_id: str):
    return world.client.post(
        "/approval/termination-requests",
        json={
            "contract_id": contract_id,
            "grounds": "provider_breach",
            "reason": "系统连续宕机 / repeated outages",
            "notice_given_on": "2027-03-01",
            "claimed_damages": "200000.00",
        },
        headers=world.token(*MANAGER),
    )


def test_changes_start_from_the_signed_terms_then_from_the_amended_ones(world: ApprovalWorld):
    as_signed = terms_2027()
    with_crm = with_module(as_signed, "CRM")
    contract_id = signed(world, terms=dump_contract_terms(as_signed))

    first = request_change(world, contract_id, with_crm, "2027-04-01")  # no current_terms
    assert first.status_code == 201, first.get_json()
    request_id, instance_id = first.get_json()["request_id"], first.get_json()["instance_id"]
    world.approve_by_mail("li.si")
    wait_for_task(world, instance_id, "sign_amendment")
    signature = {
        "amendment_number": f"A-{contract_id}",
        "signed_on": "2027-03-20",
        "signed_for_user": "华东制造 王经理",
        "signed_for_provider": "云杉软件 刘总",
    }
    assert complete(world, instance_id, "sign_amendment", signature).status_code == 200
    amended = world.published("contract.amended.v1", request_id=request_id)
    expected = recalculate_for_change(as_signed, with_crm, dt.date(2027, 4, 1))
    assert expected.difference.amount == Decimal("5400.00")
    assert amended["difference"] == expected.difference.to_dict()
    assert amended["total_after"] == expected.total_after_change.to_dict()

    row = read_model(world, contract_id)  # amended in the transaction that published
    assert row is not None and row.terms == dump_contract_terms(with_crm)
    assert row.total_amount == expected.total_after_change.amount

    # Dropping CRM again: from the amended terms a saving; from the signed ones, nothing.
    second = request_change(world, contract_id, as_signed, "2027-06-01")
    assert second.status_code == 201, second.get_json()
    requested = world.published("approval.requested.v1", request_id=second.get_json()["request_id"])
    saving = recalculate_for_change(with_crm, as_signed, dt.date(2027, 6, 1)).difference
    assert saving.amount < 0
    assert recalculate_for_change(as_signed, as_signed, dt.date(2027, 6, 1)).difference.amount == 0
    assert Decimal(requested["amount"]) == -saving.amount
    assert f"{saving.amount:+,.2f}" in requested["summary"]


def test_a_termination_starts_from_the_signed_terms(world: ApprovalWorld):
    contract_id = signed(world, terms=dump_contract_terms(terms_2027()))
    response = request_termination(world, contract_id)  # no current_terms
    assert response.status_code == 201, response.get_json()
    requested = world.published(
        "approval.requested.v1", request_id=response.get_json()["request_id"]
    )
    # 200 000 claimed, capped by the signed terms' liability cap
    assert requested["amount"] == "170720.00"


@pytest.mark.parametrize("signed_without_terms", [True, False], ids=["old-event", "unknown"])
def test_without_known_terms_the_request_must_send_them(
    world: ApprovalWorld, signed_without_terms: bool
):
    contract_id = signed(world) if signed_without_terms else "C-never-signed"
    for response in (
        request_change(world, contract_id, terms_2027(), "2027-04-01"),
        request_termination(world, contract_id),
    ):
        assert response.status_code == 422, response.get_json()
        problem = response.get_json()
        assert problem["errors"] == {"current_terms": [TERMS_UNKNOWN]}
        assert contract_id in problem["detail"]
