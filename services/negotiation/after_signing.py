"""A signed contract's life after signing, as the approval service reports it.

Negotiation's `GET /contracts/{id}` is the contract register: it answers a contract's
current terms and status. The approval service amends and terminates contracts; its
`contract.amended` replaces the terms here (the searched columns and the total with them),
its `contract.terminated` marks the contract terminated. Both are kept in `after_signing`.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from contractflow.contracts import load_contract_terms
from services.negotiation import models as m
from services.negotiation.drafts import apply_terms
from services.negotiation.models import ContractDraft

log = logging.getLogger(__name__)


def _signed_draft(session: Session, contract_id: str, event_id: str) -> ContractDraft | None:
    draft = session.get(ContractDraft, contract_id, with_for_update=True)
    if draft is None or draft.status not in (m.SIGNED, m.TERMINATED):
        # Signed elsewhere (a contract from before this register), or not signed here.
        log.info(
            "event %s: contract %s is not signed in negotiation; skipped", event_id, contract_id
        )
        return None
    return draft


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def record_amendment(
    session: Session, event_id: str, data: dict[str, Any], now: dt.datetime
) -> None:
    draft = _signed_draft(session, data["contract_id"], event_id)
    if draft is None:
        return
    if draft.status == m.TERMINATED:
        log.warning(
            "event %s: contract %s is terminated; amendment not applied",
            event_id,
            draft.contract_id,
        )
        return
    apply_terms(draft, load_contract_terms(data["terms"], default_timezone=draft.timezone))
    # The amended total: the old fees until the effective date, the new ones after it.
    draft.total_amount = Decimal(str(data["total_after"]["amount"]))
    draft.currency = data["total_after"]["currency"]
    draft.after_signing = [
        *(draft.after_signing or []),
        {
            "event": "amended",
            "event_id": event_id,
            "request_id": data["request_id"],
            "amendment_number": data["amendment_number"],
            "description": data["description"],
            "effective_date": _iso(data["effective_date"]),
            "signed_on": _iso(data["signed_on"]),
            "difference": {k: str(v) for k, v in data["difference"].items()},
            "total_after": {k: str(v) for k, v in data["total_after"].items()},
        },
    ]
    draft.updated_at = now


def record_termination(
    session: Session, event_id: str, data: dict[str, Any], now: dt.datetime
) -> None:
    draft = _signed_draft(session, data["contract_id"], event_id)
    if draft is None:
        return
    draft.status = m.TERMINATED
    draft.after_signing = [
        *(draft.after_signing or []),
        {
            "event": "terminated",
            "event_id": event_id,
            "request_id": data["request_id"],
            "grounds": data["grounds"],
            "notice_given_on": _iso(data["notice_given_on"]),
            "effective_date": _iso(data["effective_date"]),
        },
    ]
    draft.updated_at = now
