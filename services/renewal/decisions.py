"""What happens at a contract's end (DOMAIN.md §9.4): the rules of renewing on the same
terms, extending (automatically or for a while), renegotiating or letting it end — each
publishing its event in the caller's transaction and re-planning the deadlines."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.orm import Session

from contractflow.contracts.fees.calendar import following_term
from contractflow.events.envelope import CloudEvent
from contractflow.events.outbox import Outbox
from contractflow.workflow import WorkflowRuntime
from services.renewal import deadlines, handover
from services.renewal.models import WatchedContract
from services.renewal.settings import RenewalSettings

DECISION_PROCESS = "renewal_decision"
RENEW, RENEGOTIATE = "renew_same_terms", "renegotiate"
TEMPORARY, LET_END = "temporary_extension", "let_end"
CHOICES = (RENEW, RENEGOTIATE, TEMPORARY, LET_END)
ONE_DAY = dt.timedelta(days=1)


class DecisionRefused(ValueError):
    """The decision does not fit the contract; the message says why."""


def next_term(contract: WatchedContract) -> tuple[dt.date, dt.date]:
    """The term after the current one, as long as it (`following_term`)."""
    return following_term(contract.start_date, contract.end_date)


def ask_for_decision(
    session: Session,
    runtime: WorkflowRuntime,
    contract: WatchedContract,
    reason: str,
    now: dt.datetime,
) -> str:
    """Start the decision workflow unless one is already running for the contract."""
    if contract.decision_instance_id is not None and contract.end_decision is None:
        return contract.decision_instance_id
    live = runtime.start(
        session,
        DECISION_PROCESS,
        contract_id=contract.contract_id,
        variables={
            "reason": reason,
            "title": contract.title,
            "end_date": contract.end_date.isoformat(),
        },
        started_by="renewal-watch",
        channel="timer",
        now=now,
    )
    contract.decision_instance_id, contract.end_decision = live.id, None
    return live.id


def price(contract: WatchedContract, choice: str, decision: dict[str, Any]) -> Decimal:
    """What the decision costs: the renewed term's total (indexed), or the temporary fee."""
    if choice == RENEW:
        factor = 1 + Decimal(decision.get("index_percent") or "0") / 100
        return (contract.total_amount * factor).quantize(Decimal("0.01"), ROUND_HALF_UP)
    if choice == TEMPORARY:
        until = dt.date.fromisoformat(decision["until"])
        if until <= contract.end_date:
            raise DecisionRefused(f"a temporary extension must end after {contract.end_date}")
        return Decimal(decision["fee"]["amount"])
    return Decimal("0.00")


def extend_automatically(
    session: Session,
    contract: WatchedContract,
    now: dt.datetime,
    outbox: Outbox,
    settings: RenewalSettings,
) -> None:
    """Nobody objected by the deadline: the contract renews itself for another term."""
    previous = contract.end_date
    contract.start_date, contract.end_date = next_term(contract)
    _publish(
        outbox,
        session,
        "contract.extended.v1",
        contract,
        {
            "kind": "automatic",
            "previous_end_date": previous.isoformat(),
            "until": contract.end_date.isoformat(),
            "fee": _money(contract.total_amount, contract.currency),
            "approval_request_id": None,
        },
    )
    _new_term(session, contract, now, settings)


def apply(
    session: Session,
    contract: WatchedContract,
    choice: str,
    decision: dict[str, Any],
    approval_request_id: str | None,
    now: dt.datetime,
    outbox: Outbox,
    settings: RenewalSettings,
) -> dict[str, Any]:
    """Renew on the same terms or extend for a while, as decided (and approved)."""
    previous = contract.end_date
    if choice == RENEW:
        contract.total_amount = price(contract, RENEW, decision)
        contract.start_date, contract.end_date = next_term(contract)
        data = {
            "previous_end_date": previous.isoformat(),
            "start_date": contract.start_date.isoformat(),
            "end_date": contract.end_date.isoformat(),
            "total": _money(contract.total_amount, contract.currency),
            "index_percent": str(Decimal(decision.get("index_percent") or "0")),
            "approval_request_id": approval_request_id,
        }
        _publish(outbox, session, "contract.renewed.v1", contract, data)
    elif choice == TEMPORARY:
        contract.end_date = dt.date.fromisoformat(decision["until"])
        data = {
            "kind": "temporary",
            "previous_end_date": previous.isoformat(),
            "until": contract.end_date.isoformat(),
            "fee": decision["fee"],
            "approval_request_id": approval_request_id,
        }
        _publish(outbox, session, "contract.extended.v1", contract, data)
    else:
        raise DecisionRefused(
            f"{choice!r} neither renews nor extends contract {contract.contract_id}"
        )
    contract.end_decision = choice
    _new_term(session, contract, now, settings)
    return {"applied": choice, "end_date": contract.end_date.isoformat()}


def request_tender(
    session: Session, contract: WatchedContract, by: str, reason: str, outbox: Outbox
) -> dict[str, Any]:
    """Renegotiate: the negotiation service opens a draft prefilled from the current terms."""
    data = {
        "tender_id": f"TD-{uuid.uuid4().hex[:12]}",
        "kind": "renewal",
        "requested_by": by,
        "reason": reason,
        "current_terms": contract.terms,
        "needed_from": (contract.end_date + ONE_DAY).isoformat(),
    }
    _publish(outbox, session, "tender.requested.v1", contract, data)
    contract.end_decision = RENEGOTIATE
    return {"tender_id": data["tender_id"]}


def let_end(session: Session, contract: WatchedContract, now: dt.datetime) -> dict[str, Any]:
    """The contract ends on its end date; the handover starts now, so notice can be given."""
    contract.end_decision = LET_END
    handover.schedule(session, contract, now)
    return {"ends_on": contract.end_date.isoformat()}


def _new_term(
    session: Session, contract: WatchedContract, now: dt.datetime, settings: RenewalSettings
) -> None:
    """A new term: objections and decisions belong to the old one; deadlines move."""
    contract.objected_at = contract.objected_by = contract.objection_reason = None
    contract.end_decision = None
    contract.decision_instance_id = None
    contract.updated_at = now
    session.flush()
    deadlines.plan(session, contract, now, settings)


def _publish(
    outbox: Outbox, session: Session, event_type: str, contract: WatchedContract, data: dict
) -> None:
    outbox.record(
        session,
        CloudEvent(
            type=event_type,
            source="/renewal",
            subject=contract.contract_id,
            data={"contract_id": contract.contract_id, **data},
        ),
    )


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": str(amount.quantize(Decimal("0.01"))), "currency": currency}
