"""Tenders from the renewal service (`tender.requested`): a draft opened for the contract
that follows the current one, prefilled from its terms.

Kind `renewal` (the owner chose to renegotiate): the same parties and clauses, the term
moved to the one after the current contract's, linked to the contract it renews — its
`contract.signed` names it, and renewal closes the old contract as renewed. Kind
`new_provider` (a handover re-tenders): the same clauses without the provider, who is to
be found; nothing is renewed. Either draft starts the pre-signing workflow at its
requirement step, as one created by hand.

Either draft is opened by whoever decided in renewal, but it continues the contract it
follows and keeps that contract's owner: the owner's department approves it (the decider
need not be in the approver directory). A contract negotiation never drafted has no
owner here; its decider is then the owner.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.contracts import TermsValidationError
from contractflow.contracts.fees.calendar import following_term
from contractflow.workflow import WorkflowRuntime
from services.negotiation.drafts import create_draft
from services.negotiation.models import ContractDraft

log = logging.getLogger(__name__)
RENEWAL, NEW_PROVIDER = "renewal", "new_provider"


def open_tender_draft(
    session: Session,
    runtime: WorkflowRuntime,
    event_id: str,
    data: dict[str, Any],
    *,
    default_timezone: str,
    now: dt.datetime,
) -> ContractDraft:
    """The draft for tender `data["tender_id"]`; the tender's draft when it has one already."""
    tender_id = data["tender_id"]
    existing = session.scalar(select(ContractDraft).where(ContractDraft.tender_id == tender_id))
    if existing is not None:
        return existing
    payload = prefilled_terms(data)
    try:
        draft = create_draft(
            session,
            runtime,
            payload,
            created_by=data["requested_by"],
            owner_id=owner_of(session, data["contract_id"]) or data["requested_by"],
            default_timezone=default_timezone,
            now=now,
        )
    except TermsValidationError as exc:
        where = "; ".join(f"current_terms.{path}: {' '.join(m)}" for path, m in exc.errors.items())
        raise ValueError(f"tender.requested {event_id} (tender {tender_id}): {where}") from None
    draft.tender_id = tender_id
    if data["kind"] == RENEWAL:
        draft.renews_contract_id = data["contract_id"]
    log.info(
        "tender %s (%s) for contract %s opened draft %s",
        tender_id,
        data["kind"],
        data["contract_id"],
        draft.contract_id,
    )
    return draft


def owner_of(session: Session, contract_id: str) -> str | None:
    """The owner of a contract negotiation drafted (None for one it does not know)."""
    row = session.execute(
        select(ContractDraft.owner_id, ContractDraft.created_by).where(
            ContractDraft.contract_id == contract_id
        )
    ).first()
    return None if row is None else row.owner_id or row.created_by


def prefilled_terms(data: dict[str, Any]) -> dict[str, Any]:
    """The current terms with the service term and the licence moved to the ones that
    follow them, from the day the new contract is needed; without the provider when a new
    one is to be found. A tender without terms opens an empty draft, named for the tender."""
    terms = copy.deepcopy(data.get("current_terms") or {})
    shift: dt.timedelta | None = None
    for clause in ("service_term", "licence"):
        period = terms.get(clause) or {}
        if not (period.get("start_date") and period.get("end_date")):
            continue
        start, end = following_term(
            dt.date.fromisoformat(period["start_date"]), dt.date.fromisoformat(period["end_date"])
        )
        if shift is None:  # the service term's: it starts when the new contract is needed
            shift = data["needed_from"] - start
        period["start_date"], period["end_date"] = (
            (start + shift).isoformat(),
            (end + shift).isoformat(),
        )
    if data["kind"] == NEW_PROVIDER and terms.get("parties"):
        terms["parties"] = {k: v for k, v in terms["parties"].items() if k != "provider"}
    terms.setdefault("title", f"{data['contract_id']} ({data['kind']})")
    return terms
