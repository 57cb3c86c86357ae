"""The pre-signing workflow over HTTP, with the approval service's answer played by the test."""

from __future__ import annotations

from sqlalchemy import select

from contractflow.db import unit_of_work
from contractflow.events.schemas.contract import ContractSignedV1
from contractflow.workflow.models import HeldMessageRow
from tests.conftest import both_databases
from tests.unit.negotiation.support import Negotiation, signing_data, terms_json

pytestmark = both_databases


def test_approved_contract_is_signed_with_its_payment_schedule(negotiation: Negotiation):
    contract_id = negotiation.create()
    assert negotiation.contract(contract_id)["status"] == "requirement"
    contract = negotiation.to_approval(contract_id)
    assert contract["status"] == "awaiting_approval"
    [request] = negotiation.outbox("approval.requested.v1")
    assert request.subject == contract_id
    assert request.data["request_id"] == contract["approval_request_id"]
    assert request.data["amount"] == "170720.00"
    assert request.data["subject_url"] == f"http://localhost:8001/contracts/{contract_id}"
    negotiation.decide(request, "approved")
    assert negotiation.contract(contract_id)["status"] == "signing"
    negotiation.complete_ok(contract_id, "sign_contract", "manager", signing_data())
    contract = negotiation.contract(contract_id)
    assert contract["status"] == "signed"
    assert contract["workflow"]["instance"]["status"] == "completed"
    [signed] = negotiation.outbox("contract.signed.v1")
    data = ContractSignedV1().load(signed.data)
    assert str(data["total"]["amount"]) == "170720.00"
    assert sum(p["amount"]["amount"] for p in data["payment_schedule"]) == data["total"]["amount"]


def test_rejected_contract_goes_back_to_drafting_with_the_reasons_and_passes_when_fixed(
    negotiation: Negotiation,
):
    contract_id = negotiation.create()
    negotiation.to_approval(contract_id)
    [first] = negotiation.outbox("approval.requested.v1")
    negotiation.decide(first, "rejected", "服务可用性目标需提高到 99.95%")
    contract = negotiation.contract(contract_id)
    assert contract["status"] == "drafting"
    assert contract["feedback"][0]["comments"] == "服务可用性目标需提高到 99.95%"
    assert negotiation.task(contract_id, "draft_contract")
    terms = contract["terms"]
    terms["service_standards"]["availability_target_percent"] = "99.95"
    edited = negotiation.call(
        "PUT",
        f"/contracts/{contract_id}/terms",
        json={"terms": terms, "version": contract["version"]},
    )
    assert edited.status_code == 200, edited.json
    assert negotiation.submit(contract_id).status_code == 200
    negotiation.review_all(contract_id)
    _, second = negotiation.outbox("approval.requested.v1")
    assert second.data["request_id"] != first.data["request_id"]
    # A late duplicate of the first answer belongs to a superseded request: ignored.
    negotiation.decide(first, "approved")
    assert negotiation.contract(contract_id)["status"] == "awaiting_approval"
    negotiation.decide(second, "approved")
    negotiation.complete_ok(contract_id, "sign_contract", "manager", signing_data())
    contract = negotiation.contract(contract_id)
    assert contract["status"] == "signed"
    assert [a["outcome"] for a in contract["approvals"]] == ["rejected", "approved"]


def test_legal_sends_the_draft_back_with_comments_and_the_loop_goes_on(
    negotiation: Negotiation,
):
    contract_id = negotiation.create()
    negotiation.prepare(contract_id)
    assert negotiation.submit(contract_id).status_code == 200
    assert negotiation.contract(contract_id)["status"] == "in_review"
    negotiation.complete_ok(contract_id, "technical_review", "technical", {"decision": "accept"})
    negotiation.complete_ok(
        contract_id,
        "legal_review",
        "legal",
        {"decision": "send_back", "comments": "保密期限应为 5 年"},
    )
    contract = negotiation.contract(contract_id)
    assert contract["status"] == "drafting"
    # the round ended at once: finance's review is withdrawn, not left waiting
    assert [t["element_id"] for t in contract["workflow"]["open_tasks"]] == ["draft_contract"]
    assert contract["feedback"] == [{"from": "legal", "comments": "保密期限应为 5 年"}]
    [legal] = [r for r in contract["reviews"] if r["role"] == "legal"]
    assert legal["reviewer"] == "legal" and legal["round"] == 1
    assert negotiation.outbox("approval.requested.v1") == []
    assert negotiation.submit(contract_id).status_code == 200
    negotiation.review_all(contract_id)
    contract = negotiation.contract(contract_id)
    assert contract["status"] == "awaiting_approval"
    assert contract["review_round"] == 2


def test_cancelled_at_any_point_publishes_contract_cancelled(negotiation: Negotiation):
    contract_id = negotiation.create()
    negotiation.prepare(contract_id)
    assert negotiation.submit(contract_id).status_code == 200
    response = negotiation.call(
        "POST", f"/contracts/{contract_id}/cancel", json={"reason": "需求取消 requirement dropped"}
    )
    assert response.status_code == 200, response.json
    contract = response.json
    assert contract["status"] == "cancelled"
    assert contract["workflow"]["instance"]["status"] == "cancelled"
    assert contract["workflow"]["open_tasks"] == []
    [cancelled] = negotiation.outbox("contract.cancelled.v1")
    assert cancelled.subject == contract_id
    assert cancelled.data["reason"] == "需求取消 requirement dropped"
    assert cancelled.data["cancelled_by"] == "manager"
    again = negotiation.call("POST", f"/contracts/{contract_id}/cancel", json={"reason": "x"})
    assert again.status_code == 409


def test_over_budget_needs_finance_to_accept_the_excess_explicitly(negotiation: Negotiation):
    contract_id = negotiation.create()
    negotiation.prepare(contract_id, budget="150000.00")
    assert negotiation.contract(contract_id)["checks"]["budget"]["status"] == "over_budget"
    assert negotiation.submit(contract_id).status_code == 200
    negotiation.review_all(contract_id)
    contract = negotiation.contract(contract_id)
    assert contract["status"] == "drafting"
    assert contract["feedback"][0]["from"] == "budget"
    assert negotiation.submit(contract_id).status_code == 200
    negotiation.review_all(contract_id, finance={"decision": "accept", "accept_over_budget": True})
    assert negotiation.contract(contract_id)["status"] == "awaiting_approval"
    [request] = negotiation.outbox("approval.requested.v1")
    assert request.data["risk"] == "high"


def test_an_unqualified_provider_sends_the_research_step_round_again(
    negotiation: Negotiation,
):
    terms = terms_json()
    terms["parties"]["provider_qualification"]["business_licence_valid_until"] = "2024-06-30"
    contract_id = negotiation.create(terms)
    negotiation.prepare(contract_id)
    contract = negotiation.contract(contract_id)
    assert contract["status"] == "research"
    assert "business_licence_expired" in [p["code"] for p in contract["feedback"]]
    assert negotiation.task(contract_id, "research_provider")
    terms["parties"]["provider_qualification"]["business_licence_valid_until"] = "2030-06-30"
    edited = negotiation.call(
        "PUT",
        f"/contracts/{contract_id}/terms",
        json={"terms": terms, "version": contract["version"]},
    )
    assert edited.status_code == 200, edited.json
    negotiation.complete_ok(
        contract_id, "research_provider", "manager", {"chosen_provider": "杭州云维"}
    )
    assert negotiation.contract(contract_id)["status"] == "drafting"


def test_a_decision_for_no_waiting_draft_is_skipped_not_held(negotiation: Negotiation):
    contract_id = negotiation.create()
    negotiation.to_approval(contract_id)
    [request] = negotiation.outbox("approval.requested.v1")
    stranger = request.with_data({**request.data, "request_id": "AR-change-request-elsewhere"})
    negotiation.decide(stranger, "approved")
    with unit_of_work(negotiation.kernel.sessions) as session:
        assert session.scalars(select(HeldMessageRow)).all() == []
    assert negotiation.contract(contract_id)["status"] == "awaiting_approval"
