"""The pre-signing workflow over HTTP, with the approval service's answer played by the test."""

from __future__ import annotations

from contractflow.events.schemas.contract import ContractSignedV1
from tests.conftest import both_databases
from tests.unit.negotiation.support import Negotiation, signing_data

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
