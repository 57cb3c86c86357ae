"""What the draft tells other services, the approval request and the signed contract, and
which draft an approval's answer belongs to."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.contracts import ContractTerms, dump_contract_terms
from services.negotiation.checks import quote_of, stored_terms
from services.negotiation.models import AWAITING_APPROVAL, ContractDraft

HIGH_VALUE = 1_000_000  # in the contract's currency: above this an approval is medium risk


def approval_risk(draft: ContractDraft, terms: ContractTerms) -> str:
    """High when the licence bars third parties or finance accepted an excess over budget."""
    licence_type = terms.licence.type if terms.licence else None
    budget = (draft.checks or {}).get("budget", {})
    if (licence_type is not None and licence_type.bars_third_parties) or budget.get(
        "status"
    ) == "over_budget":
        return "high"
    return "medium" if (draft.total_amount or 0) >= HIGH_VALUE else "low"


def contract_awaiting(session: Session, request_id: str) -> str | None:
    """The id of the draft waiting for this approval request's answer; None for a request
    that is not a waiting draft's current one (a change request, a superseded round, a
    cancelled draft). Two columns, not the draft: the decision's step locks and reads the
    draft itself, so loading it here as well parsed its ~20 KB of JSON twice per decision."""
    row = session.execute(
        select(ContractDraft.contract_id, ContractDraft.status).where(
            ContractDraft.approval_request_id == request_id
        )
    ).first()
    return row.contract_id if row is not None and row.status == AWAITING_APPROVAL else None


def approval_request_data(draft: ContractDraft, public_url: str) -> dict[str, Any]:
    """The `approval.requested.v1` data for this draft's current request; `subject_url` is
    absolute because approvers open it from an email."""
    terms = stored_terms(draft)
    title, amount = draft.title or draft.contract_id, f"{draft.total_amount} {draft.currency}"
    summaries = {
        "zh": f"{title}：{draft.provider_name}，{draft.start_date} 至 {draft.end_date}，{amount}",
        "en": f"{title}: {draft.provider_name}, {draft.start_date} to {draft.end_date}, {amount}",
    }
    return {
        "request_id": draft.approval_request_id,
        "contract_id": draft.contract_id,
        "kind": "contract",
        "amount": str(draft.total_amount),
        "currency": draft.currency,
        "risk": approval_risk(draft, terms),
        "requester": draft.created_by,
        # Whose department approves it: a renegotiation is opened by whoever decided it,
        # who need not be in the approver directory, for the contract's owner.
        "owner": draft.owner,
        "summary": summaries["en"],
        # The approvers' mails and pages are in each approver's language.
        "texts": {lang: {"summary": text} for lang, text in summaries.items()},
        "subject_url": f"{public_url.rstrip('/')}/contracts/{draft.contract_id}",
        "title": draft.title,
        "provider": draft.provider_name,
    }


def _party(party: Any) -> dict[str, str]:
    return {"id": party.credit_code or party.name, "name": party.name}


def signed_event_data(
    draft: ContractDraft, terms: ContractTerms, now: dt.datetime
) -> dict[str, Any]:
    """The `contract.signed.v1` data: term, total and the payment schedule for the ERP, and
    the signed terms themselves, from which the approval service's change requests start."""
    assert terms.parties and terms.parties.user and terms.parties.provider and terms.service_term
    quote = quote_of(terms)
    signing = draft.signing or {}
    sides = (("user", "user_signatory"), ("provider", "provider_signatory"))
    signatories = [{"side": side, **signing[key]} for side, key in sides if key in signing]
    signed_at = max((s["signed_at"] for s in signatories), default=now.isoformat(), key=_instant)
    return {
        "contract_id": draft.contract_id,
        "title": terms.title or draft.contract_id,
        "user": _party(terms.parties.user),
        "provider": _party(terms.parties.provider),
        "start_date": quote.term_start.isoformat(),
        "end_date": quote.term_end.isoformat(),
        "auto_renew": bool(terms.service_term.auto_renew),
        "notice_period_days": terms.service_term.notice_period_days or 0,
        "total": quote.total.to_dict(),
        "payment_schedule": [
            {**i.to_signed_event_payment(), "covers": list(i.covers)} for i in quote.schedule
        ],
        "signed_at": signed_at,
        "signatories": signatories,
        "signed_document": {
            "reference": signing.get("document_reference"),
            "sha256": signing.get("document_sha256"),
        },
        "terms": dump_contract_terms(terms),
        # A renegotiation's contract closes the one it renews (in the renewal service).
        **({"renews_contract_id": draft.renews_contract_id} if draft.renews_contract_id else {}),
    }


def _instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)
