"""Renegotiation across two services on a broker (in-memory and real Kafka), SQLite and
PostgreSQL: the owner's "renegotiate" in renewal becomes a draft in negotiation prefilled
from the current terms; signing it names the old contract, which renewal closes as renewed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from contractflow.db import unit_of_work, utcnow
from contractflow.events.consumer import Outcome
from contractflow.events.envelope import CloudEvent
from contractflow.events.relay import OutboxRelay
from contractflow.web import create_service_app
from services.approval import directory
from services.negotiation.models import ContractDraft
from services.renewal import decisions
from services.renewal.models import WatchedContract
from tests.conftest import both_databases
from tests.integration.approval.support import ApprovalWorld, text_of
from tests.integration.harness import drain
from tests.integration.negotiation.stack import PreSigningStack
from tests.unit.negotiation.support import signing_data

pytestmark = both_databases


@pytest.fixture
def stack(bus, database_factory, topic_prefix) -> Iterator[PreSigningStack]:
    wired = PreSigningStack(bus, database_factory, topic_prefix)
    # One relay for renewal's outbox: it holds the outbox's lease while it lives.
    wired.renewal_relay = OutboxRelay(wired.renewal.sessions, bus.producer())  # type: ignore[attr-defined]
    yield wired
    wired.close()


def sign_through_negotiation(stack: PreSigningStack, contract_id: str) -> CloudEvent:
    service = stack.negotiation
    service.to_approval(contract_id)
    [request] = [r for r in stack.published("approval.requested.v1") if r.subject == contract_id]
    stack.answer(request, "approved")
    service.complete_ok(contract_id, "sign_contract", "manager", signing_data())
    [signed] = [s for s in stack.published("contract.signed.v1") if s.subject == contract_id]
    return signed


def renewal_events(stack: PreSigningStack, event_type: str) -> list[dict[str, Any]]:
    while stack.renewal_relay.relay_once():  # type: ignore[attr-defined]
        pass
    records = stack.bus.records(stack.renewal.outbox.topic_for(event_type))
    return [
        e.data
        for e in map(CloudEvent.from_json, (r.value for r in records))
        if e.type == event_type
    ]


def watched(stack: PreSigningStack, contract_id: str) -> WatchedContract | None:
    with stack.renewal.sessions() as session:
        return session.get(WatchedContract, contract_id)


def renegotiate(stack: PreSigningStack, contract_id: str, decider: str = "li.min") -> None:
    """The owner's decision task, as renewal opens it at the end of the term."""
    renewal = stack.renewal
    runtime = renewal.extensions["contractflow.workflow"]
    with unit_of_work(renewal.sessions) as session:
        contract = session.get(WatchedContract, contract_id)
        decisions.ask_for_decision(session, runtime, contract, "the term ends", utcnow())  # type: ignore[arg-type]
    client = create_service_app(renewal.web()).test_client()
    token = renewal.tokens.mint(decider, ("renewal-manager",), dt.timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    tasks = client.get(f"/workflow/tasks?contract_id={contract_id}", headers=headers).get_json()
    [task] = [t for t in tasks["tasks"] if t["form_key"] == "renewal_decision"]
    done = client.post(
        f"/workflow/tasks/{task['id']}/complete",
        json={"data": {"choice": "renegotiate", "note": "新一期服务范围需要调整"}},
        headers=headers,
    )
    assert done.status_code == 200, done.get_json()


def test_a_renegotiated_contract_closes_the_one_it_renews(stack: PreSigningStack):
    service = stack.negotiation
    old_id = service.create()
    sign_through_negotiation(stack, old_id)
    drain(stack.renewal_consumer, lambda _: watched(stack, old_id) is not None)

    renegotiate(stack, old_id)
    [tender] = renewal_events(stack, "tender.requested.v1")
    assert (tender["contract_id"], tender["kind"]) == (old_id, "renewal")
    drain(stack.negotiation_consumer, lambda outcomes: Outcome.HANDLED in outcomes)

    with service.kernel.sessions() as session:
        [draft] = session.scalars(
            select(ContractDraft).where(ContractDraft.renews_contract_id == old_id)
        ).all()
        new_id = draft.contract_id
    new = service.contract(new_id)
    old = service.contract(old_id)
    assert new["status"] == "requirement" and new["tender_id"] == tender["tender_id"]
    assert new["renews_contract_id"] == old_id
    # Prefilled from the current terms: same parties and clauses, the term that follows.
    assert new["terms"]["parties"] == old["terms"]["parties"]
    assert new["terms"]["fees"] == old["terms"]["fees"]
    assert new["start_date"] == tender["needed_from"] == "2026-01-01"
    assert new["end_date"] == "2026-12-31"

    signed = sign_through_negotiation(stack, new_id)
    assert signed.data["renews_contract_id"] == old_id
    drain(stack.renewal_consumer, lambda _: watched(stack, new_id) is not None)
    [renewed] = renewal_events(stack, "contract.renewed.v1")
    assert renewed["contract_id"] == old_id and renewed["renewed_by_contract_id"] == new_id
    assert (renewed["start_date"], renewed["end_date"]) == ("2026-01-01", "2026-12-31")
    assert renewed["previous_end_date"] == "2025-12-31"
    with stack.renewal.sessions() as session:
        closed = session.get(WatchedContract, old_id)
        follower = session.get(WatchedContract, new_id)
        assert (closed.status, closed.renewed_by_contract_id) == ("renewed", new_id)
        assert follower.status == "active" and follower.renews_contract_id == old_id


def test_a_tender_delivered_twice_opens_one_draft(stack: PreSigningStack):
    service = stack.negotiation
    old_id = service.create()
    sign_through_negotiation(stack, old_id)
    drain(stack.renewal_consumer, lambda _: watched(stack, old_id) is not None)
    renegotiate(stack, old_id)
    [tender] = renewal_events(stack, "tender.requested.v1")
    again = CloudEvent(type="tender.requested.v1", source="/renewal", subject=old_id, data=tender)
    stack.bus.producer().publish(
        [(stack.topic("tender.requested.v1"), old_id.encode(), again.to_json(), [])]
    )
    drain(stack.negotiation_consumer, lambda outcomes: len(outcomes) >= 2)
    with service.kernel.sessions() as session:
        drafts = session.scalars(
            select(ContractDraft).where(ContractDraft.tender_id == tender["tender_id"])
        ).all()
    assert len(drafts) == 1


def test_a_renegotiation_decided_outside_the_directory_reaches_its_approvers(
    stack: PreSigningStack, database_factory, topic_prefix, kafka_bootstrap
):
    """The renewal manager who decides to renegotiate is not in approval's directory; the
    renegotiated contract is the old one's owner's ("manager", created it), so its first
    level goes to that owner's department manager, with no incident for an operator."""
    approval = ApprovalWorld(database_factory, f"{topic_prefix}ap.", kafka_bootstrap)
    try:
        with unit_of_work(approval.kernel.sessions) as session:
            owner = {"name": "Chen Jing", "email": "manager@corp.test", "manager_id": "li.si"}
            directory.upsert(session, "manager", owner, approval.now)
            assert directory.get(session, "li.min") is None  # the decider
        service = stack.negotiation
        old_id = service.create()
        sign_through_negotiation(stack, old_id)
        drain(stack.renewal_consumer, lambda _: watched(stack, old_id) is not None)
        renegotiate(stack, old_id, decider="li.min")
        [tender] = renewal_events(stack, "tender.requested.v1")
        assert tender["requested_by"] == "li.min"
        drain(stack.negotiation_consumer, lambda outcomes: Outcome.HANDLED in outcomes)
        with service.kernel.sessions() as session:
            new_id = session.scalar(
                select(ContractDraft.contract_id).where(ContractDraft.renews_contract_id == old_id)
            )
        assert service.contract(new_id)["owner_id"] == "manager"
        service.to_approval(new_id)
        [request] = [r for r in stack.published("approval.requested.v1") if r.subject == new_id]
        assert (request.data["requester"], request.data["owner"]) == ("li.min", "manager")

        approval.send("approval.requested.v1", request.data, new_id)
        [mail] = approval.mails_to("li.si")  # level 1: the owner's department manager
        assert "li.min" in text_of(mail)  # who asked, as the event names them
        with approval.kernel.sessions() as session:
            assert approval.runtime.incidents(session) == []
        approval.approve_by_mail("li.si")
        approval.approve_by_mail("fd")  # level 2: the total is above 100 000
        decided = approval.decided(request.data["request_id"])
        assert decided["outcome"] == "approved"
        # The decider is unknown here: the outcome goes to the contract's owner.
        [outcome] = approval.mails_to("manager")
        assert "已批准" in outcome["Subject"] and "li.min" in text_of(outcome)
    finally:
        approval.close()
