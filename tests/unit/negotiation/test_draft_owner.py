"""Whose contract a draft is: its creator's, unless it continues a contract negotiation
drafted, whose owner it keeps; the approval request names that owner."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from contractflow.events.envelope import CloudEvent
from services.negotiation.models import ContractDraft
from tests.conftest import both_databases
from tests.unit.negotiation.support import Negotiation, terms_json

pytestmark = both_databases


def tender(negotiation: Negotiation, contract_id: str, decider: str) -> str:
    data = {
        "contract_id": contract_id,
        "tender_id": f"TD-{contract_id}",
        "kind": "renewal",
        "requested_by": decider,
        "reason": "续约重新谈判",
        "current_terms": terms_json(),
        "needed_from": dt.date(2026, 1, 1).isoformat(),
    }
    event = CloudEvent(
        type="tender.requested.v1", source="/renewal", subject=contract_id, data=data
    )
    with negotiation.kernel.sessions.begin() as session:
        handler = negotiation.kernel.handlers["tender.requested.v1"]
        handler(session, event, negotiation.kernel.catalogue.load(event))
        return session.scalar(
            select(ContractDraft.contract_id).where(ContractDraft.tender_id == data["tender_id"])
        )


def test_a_draft_made_by_hand_is_its_creators(negotiation: Negotiation):
    contract_id = negotiation.create()
    assert negotiation.contract(contract_id)["owner_id"] == "manager"
    negotiation.to_approval(contract_id)
    [request] = negotiation.outbox("approval.requested.v1")
    assert request.data["requester"] == request.data["owner"] == "manager"


def test_a_renegotiation_keeps_the_owner_of_the_contract_it_follows(negotiation: Negotiation):
    old_id = negotiation.create()
    new_id = tender(negotiation, old_id, "li.min")
    new = negotiation.contract(new_id)
    assert (new["created_by"], new["owner_id"]) == ("li.min", "manager")
    # A contract negotiation never drafted has no owner here: the decider is the owner.
    unknown = negotiation.contract(tender(negotiation, "C-from-elsewhere", "li.min"))
    assert (unknown["created_by"], unknown["owner_id"]) == ("li.min", "li.min")
