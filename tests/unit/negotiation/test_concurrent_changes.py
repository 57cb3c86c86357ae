"""A workflow step and a terms edit on the same draft run one after the other: the step
waits for the edit's commit and checks the edited terms, it never overwrites them."""

from __future__ import annotations

import threading

from contractflow.contracts import load_contract_terms
from contractflow.db import unit_of_work
from services.negotiation.drafts import apply_terms, get_draft
from tests.conftest import both_databases
from tests.unit.negotiation.support import Negotiation, terms_json

pytestmark = both_databases


def test_a_step_waits_for_a_concurrent_edit_and_checks_what_it_saved(negotiation: Negotiation):
    contract_id = negotiation.create()
    negotiation.complete_ok(
        contract_id,
        "define_requirement",
        "manager",
        {"need": "OA", "budget": {"amount": "200000.00"}},
    )
    expired = terms_json()
    expired["parties"]["provider_qualification"]["business_licence_valid_until"] = "2024-06-30"
    answers: list[int] = []
    step = threading.Thread(
        target=lambda: answers.append(
            negotiation.complete(
                contract_id, "research_provider", "manager", {"chosen_provider": "杭州云维"}
            ).status_code
        )
    )
    task = negotiation.task(contract_id, "research_provider")
    assert task
    with unit_of_work(negotiation.kernel.sessions) as session:
        draft = get_draft(session, contract_id, lock=True)
        apply_terms(draft, load_contract_terms(expired))
        session.flush()
        step.start()
        step.join(timeout=0.5)
        assert step.is_alive(), "the step must wait for the edit holding the draft"
    step.join(timeout=30)
    assert answers == [200]
    contract = negotiation.contract(contract_id)
    assert contract["status"] == "research"  # the edited (expired) licence was checked
    assert contract["terms"] == expired
    assert "business_licence_expired" in [p["code"] for p in contract["feedback"]]
