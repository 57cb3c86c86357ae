"""The end of a renegotiation: the new contract's `contract.signed` names the one it renews
(`renews_contract_id`), and the old contract is closed as renewed — `contract.renewed`
with the new contract's term and total, and its deadlines about the end (reminders,
objection, decision) cancelled, so its owner is not asked about an end already decided.
Its payments, maintenance and evaluations go on until its end date; then it stays renewed,
with no handover."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.orm import Session

from contractflow.events.envelope import CloudEvent
from contractflow.events.outbox import Outbox
from services.renewal import deadlines
from services.renewal.models import ACTIVE, RENEWED, WatchedContract

log = logging.getLogger(__name__)


def close_renewed(
    session: Session,
    event_id: str,
    renewing: WatchedContract,
    data: dict[str, Any],
    now: dt.datetime,
    outbox: Outbox,
) -> str:
    """Answers closed, duplicate, not_renewing or ended_already (the old contract ended
    some other way first: the link is kept, nothing else changes)."""
    old_id = data.get("renews_contract_id")
    if not old_id:
        return "not_renewing"
    old = session.get(WatchedContract, old_id, with_for_update=True)
    if old is None:
        raise ValueError(
            f"contract.signed {event_id}: contract {renewing.contract_id} renews {old_id!r}, "
            "which the renewal service does not watch"
        )
    renewing.renews_contract_id = old_id
    if old.renewed_by_contract_id == renewing.contract_id:
        return "duplicate"
    if old.status != ACTIVE:
        log.warning(
            "contract %s renews %s, which is %s already: not closed again",
            renewing.contract_id,
            old_id,
            old.status,
        )
        old.renewed_by_contract_id = renewing.contract_id
        return "ended_already"
    previous_end = old.end_date
    old.status, old.renewed_by_contract_id, old.updated_at = RENEWED, renewing.contract_id, now
    # It still runs to its end date (paid, maintained, evaluated): only what the renewal
    # decided is dropped — the expiry reminders, the objection deadline, the decision.
    deadlines.cancel_pending(session, old_id, deadlines.ONE_OFF)
    outbox.record(
        session,
        CloudEvent(
            type="contract.renewed.v1",
            source="/renewal",
            subject=old_id,
            data={
                "contract_id": old_id,
                "previous_end_date": previous_end.isoformat(),
                "start_date": renewing.start_date.isoformat(),
                "end_date": renewing.end_date.isoformat(),
                "total": {
                    "amount": str(renewing.total_amount.quantize(Decimal("0.01"))),
                    "currency": renewing.currency,
                },
                "index_percent": str(_change_percent(old.total_amount, renewing.total_amount)),
                "approval_request_id": None,
                "renewed_by_contract_id": renewing.contract_id,
            },
        ),
    )
    return "closed"


def _change_percent(before: Decimal, after: Decimal) -> Decimal:
    """How much the renegotiated total differs from the old one, in percent."""
    if not before:
        return Decimal("0.00")
    return ((after / before - 1) * 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
