"""The whole pre-signing run over HTTP with events on a broker (in-memory and real Kafka),
SQLite and PostgreSQL: the approval round trip, contract.signed reaching renewal, and
contract.cancelled on the topic."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from contractflow.contracts import dump_contract_terms, load_contract_terms
from contractflow.events.consumer import Outcome
from contractflow.events.schemas.contract import ContractSignedV1
from services.renewal.models import WatchedContract
from tests.conftest import both_databases
from tests.integration.harness import drain
from tests.integration.negotiation.stack import PreSigningStack
from tests.unit.negotiation.support import signing_data

pytestmark = both_databases


@pytest.fixture
def stack(bus, database_factory, topic_prefix) -> Iterator[PreSigningStack]:
    wired = PreSigningStack(bus, database_factory, topic_prefix)
    yield wired
    wired.close()


def test_sent_back_by_legal_then_approved_signs_and_renewal_watches_it(stack: PreSigningStack):
    service = stack.negotiation
    contract_id = service.create()
    service.prepare(contract_id)
    assert service.submit(contract_id).status_code == 200
    service.review_all(contract_id, legal={"decision": "send_back", "comments": "补充争议条款"})
    assert service.contract(contract_id)["status"] == "drafting"
    assert service.submit(contract_id).status_code == 200
    service.review_all(contract_id)

    [request] = stack.published("approval.requested.v1")
    assert request.subject == contract_id and request.data["kind"] == "contract"
    stack.answer(request, "approved")
    assert service.contract(contract_id)["status"] == "signing"
    service.complete_ok(contract_id, "sign_contract", "manager", signing_data())

    [signed] = stack.published("contract.signed.v1")
    data = ContractSignedV1().load(signed.data)  # renewal's schema accepts it
    assert signed.subject == contract_id
    assert len(data["payment_schedule"]) == 9
    assert sum(p["amount"]["amount"] for p in data["payment_schedule"]) == data["total"]["amount"]
    assert {s["side"] for s in data["signatories"]} == {"user", "provider"}
    # The signed terms travel, so approval's change requests can start from them.
    signed_terms = service.contract(contract_id)["terms"]
    assert load_contract_terms(data["terms"]) == load_contract_terms(signed_terms)
    assert data["terms"] == dump_contract_terms(load_contract_terms(signed_terms))
    drain(stack.renewal_consumer, lambda outcomes: Outcome.HANDLED in outcomes)
    with stack.renewal.sessions() as session:
        [watched] = session.scalars(select(WatchedContract)).all()
    assert watched.contract_id == contract_id
    assert str(watched.total_amount) == "170720.00"


def test_rejected_then_fixed_is_approved_on_the_second_request(stack: PreSigningStack):
    service = stack.negotiation
    contract_id = service.create()
    service.to_approval(contract_id)
    [first] = stack.published("approval.requested.v1")
    stack.answer(first, "rejected", "付款方式需改为按季度后付")
    contract = service.contract(contract_id)
    assert contract["status"] == "drafting"
    assert contract["feedback"][0]["comments"] == "付款方式需改为按季度后付"
    terms = contract["terms"]
    terms["fees"]["payment_method"] = "按季度后付, 收到发票后 15 日内"
    edited = service.call(
        "PUT",
        f"/contracts/{contract_id}/terms",
        json={"terms": terms, "version": contract["version"]},
    )
    assert edited.status_code == 200, edited.json
    assert service.submit(contract_id).status_code == 200
    service.review_all(contract_id)
    requests = stack.published("approval.requested.v1")
    assert len(requests) == 2 and requests[1].data["request_id"] != first.data["request_id"]
    stack.answer(requests[1], "approved")
    service.complete_ok(contract_id, "sign_contract", "manager", signing_data())
    [signed] = stack.published("contract.signed.v1")
    assert signed.subject == contract_id


def test_cancelled_preparation_publishes_contract_cancelled(stack: PreSigningStack):
    service = stack.negotiation
    contract_id = service.create()
    service.to_approval(contract_id)
    [request] = stack.published("approval.requested.v1")
    response = service.call("POST", f"/contracts/{contract_id}/cancel", json={"reason": "预算冻结"})
    assert response.status_code == 200, response.json
    [cancelled] = stack.published("contract.cancelled.v1")
    assert cancelled.subject == contract_id and cancelled.data["reason"] == "预算冻结"
    # The approval service answering afterwards changes nothing: the draft stays cancelled.
    stack.answer(request, "approved")
    assert service.contract(contract_id)["status"] == "cancelled"
    assert stack.published("contract.signed.v1") == []
