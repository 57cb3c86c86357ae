"""The contract register after signing (amended terms, termination), the provider the
research chose against the terms, and checks that follow a terms edit."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from contractflow.contracts import dump_contract_terms, load_contract_terms, recalculate_for_change
from contractflow.events.envelope import CloudEvent
from tests.unit.negotiation.support import Negotiation, signing_data, terms_json


def signed_contract(negotiation: Negotiation) -> str:
    contract_id = negotiation.create()
    negotiation.to_approval(contract_id)
    [request] = negotiation.outbox("approval.requested.v1")
    negotiation.decide(request, "approved")
    negotiation.complete_ok(contract_id, "sign_contract", "manager", signing_data())
    return contract_id


def deliver(negotiation: Negotiation, event_type: str, contract_id: str, data: dict) -> None:
    """As the consumer hands an approval-service event to negotiation's handler."""
    event = CloudEvent(type=event_type, source="/approval", subject=contract_id, data=data)
    event = CloudEvent.from_json(event.to_json())
    with negotiation.kernel.sessions.begin() as session:
        negotiation.kernel.handlers[event_type](
            session, event, negotiation.kernel.catalogue.load(event)
        )


def amended_data(contract_id: str, old_json: dict[str, Any]) -> dict[str, Any]:
    old = load_contract_terms(old_json)
    content = old.service_content
    new = replace(
        old,
        service_content=replace(content, functional_modules=(*content.functional_modules, "CRM")),
    )
    change = recalculate_for_change(old, new, dt.date(2025, 7, 1)).to_dict()
    return {
        "contract_id": contract_id,
        "request_id": "CR-1",
        "amendment_number": "A-2025-001",
        "description": "增加模块 modules added: CRM",
        "changes": {"modules_added": ["CRM"]},
        "effective_date": "2025-07-01",
        "signed_on": "2025-06-20",
        "signed_by": {"user": "王建国", "provider": "陈思远"},
        "terms": dump_contract_terms(new),
        "difference": change["difference"],
        "total_after": change["total_after_change"],
        "fee_schedule": [
            {"due_date": i["due_date"], "amount": i["amount"], "kind": i["kind"]}
            for i in change["schedule"]
        ],
    }


def test_the_register_shows_the_amended_terms_then_the_termination(negotiation: Negotiation):
    contract_id = signed_contract(negotiation)
    before = negotiation.contract(contract_id)
    data = amended_data(contract_id, before["terms"])
    deliver(negotiation, "contract.amended.v1", contract_id, data)

    after = negotiation.contract(contract_id)
    assert "CRM" in after["terms"]["service_content"]["functional_modules"]
    assert after["total_amount"] == data["total_after"]["amount"] != before["total_amount"]
    assert after["status"] == "signed"
    assert after["after_signing"][0]["amendment_number"] == "A-2025-001"

    deliver(
        negotiation,
        "contract.terminated.v1",
        contract_id,
        {
            "contract_id": contract_id,
            "request_id": "TR-1",
            "grounds": "provider_breach",
            "notice_given_on": "2025-08-01",
            "effective_date": "2025-08-31",
            "compensation": {
                "payer": "provider",
                "payee": "user",
                "amount": {"amount": "1000.00", "currency": "CNY"},
                "basis": "breach",
            },
            "settlement": {"payer": "user", "amount": {"amount": "0.00", "currency": "CNY"}},
            "handover": ["data returned complete and verified"],
        },
    )
    ended = negotiation.contract(contract_id)
    assert ended["status"] == "terminated"
    assert ended["after_signing"][-1]["effective_date"] == "2025-08-31"
    listed = negotiation.call("GET", "/contracts", "viewer", query_string={"status": "terminated"})
    assert [c["contract_id"] for c in listed.json["contracts"]] == [contract_id]


def test_research_choosing_another_provider_than_the_terms_goes_back(negotiation: Negotiation):
    contract_id = negotiation.create()
    negotiation.prepare(contract_id, provider="北京数安科技")  # the terms name 杭州云维
    contract = negotiation.contract(contract_id)
    assert contract["status"] == "research"
    assert "chosen_provider_differs" in [p["code"] for p in contract["feedback"]]
    assert negotiation.task(contract_id, "research_provider")


def test_checks_follow_a_terms_edit_at_once(negotiation: Negotiation):
    terms = terms_json()
    terms["parties"]["provider_qualification"]["business_licence_valid_until"] = "2024-06-30"
    contract_id = negotiation.create(terms)
    negotiation.prepare(contract_id)
    contract = negotiation.contract(contract_id)
    assert contract["checks"]["provider_qualification"]["ok"] is False
    terms["parties"]["provider_qualification"]["business_licence_valid_until"] = "2030-06-30"
    edited = negotiation.call(
        "PUT",
        f"/contracts/{contract_id}/terms",
        json={"terms": terms, "version": contract["version"]},
    )
    assert edited.status_code == 200, edited.json
    assert edited.json["checks"]["provider_qualification"]["ok"] is True
    assert negotiation.contract(contract_id)["checks"]["provider_qualification"]["problems"] == []


def test_a_drafts_checks_run_again_once_its_row_changed_in_the_transaction(
    negotiation: Negotiation,
):
    # Submitting and the drafting step's gate share one run of the checks per row version.
    from services.negotiation.checks import stored_draft_checks
    from services.negotiation.drafts import get_draft

    contract_id = negotiation.create()
    now = negotiation.clock()
    with negotiation.kernel.sessions.begin() as session:
        draft = get_draft(session, contract_id, lock=True)
        first = stored_draft_checks(session, draft, now)
        assert stored_draft_checks(session, draft, now) is first
        draft.terms = {k: v for k, v in draft.terms.items() if k != "confidentiality"}
        session.flush()
        again = stored_draft_checks(session, draft, now)
    assert again is not first
    blocking = {(p.clause, p.field) for p in again.blocking} - {
        (p.clause, p.field) for p in first.blocking
    }
    assert [clause for clause, _ in blocking] == ["confidentiality"]
    with negotiation.kernel.sessions.begin() as session:  # another transaction runs them anew
        draft = get_draft(session, contract_id)
        assert stored_draft_checks(session, draft, now) is not again


def test_a_draft_locked_by_a_transactions_first_read_is_not_read_again(
    negotiation: Negotiation,
):
    # A request's first statement begins its transaction: the lock taken by that read
    # (submit's) must still count when the drafting step's gate asks for the draft.
    from sqlalchemy import event

    from contractflow.db import unit_of_work
    from services.negotiation.drafts import get_draft

    contract_id = negotiation.create()
    reads: list[object] = []
    with unit_of_work(negotiation.kernel.sessions) as session:
        event.listen(session, "do_orm_execute", lambda state: reads.append(state.statement))
        first = get_draft(session, contract_id, lock=True)
        assert get_draft(session, contract_id, lock=True) is first
    assert len(reads) == 1
    with unit_of_work(negotiation.kernel.sessions) as session:  # a new transaction locks anew
        event.listen(session, "do_orm_execute", lambda state: reads.append(state.statement))
        get_draft(session, contract_id, lock=True)
    assert len(reads) == 2
