"""The signed-contract read model: filled from `contract.signed`, moved on by this service's
own amendments and terminations, and the terms that change and termination requests start from.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.contracts import dump_contract_terms, load_contract_terms
from contractflow.contracts.signed_terms import signed_terms
from services.approval.models import Amendment, SignedContract

TERMS_UNKNOWN = "the contract's signed terms are not known here; send current_terms"


class TermsUnknown(LookupError):
    """Neither the request nor the read model has the contract's current terms."""

    def __init__(self, contract_id: str, known: bool) -> None:
        where = "was signed without its terms" if known else "has no contract.signed here"
        super().__init__(f"contract {contract_id} {where}: {TERMS_UNKNOWN}")
        self.contract_id = contract_id


class ContractTerminated(Exception):
    def __init__(self, contract_id: str) -> None:
        super().__init__(f"contract {contract_id} is terminated")
        self.contract_id = contract_id


def remember_signed(session: Session, event_id: str, data: dict[str, Any]) -> None:
    """Upsert from `contract.signed.v1` data (as the catalogue loaded it)."""
    contract_id = data["contract_id"]
    row = session.get(SignedContract, contract_id)
    amended = row is not None and _has_amendments(session, contract_id)
    row = row or SignedContract(contract_id=contract_id, terms=None)
    row.title = data["title"]
    row.user_name = data["user"]["name"]
    row.provider_name = data["provider"]["name"]
    row.signed_at = data["signed_at"]
    row.status = row.status or "active"
    row.signed_event_id = event_id
    # Once amended here, the amendment is newer than any signed event delivered again
    # (renewal's WatchedContract keeps the same rule).
    if not amended:
        row.start_date, row.end_date = data["start_date"], data["end_date"]
        row.notice_period_days = data["notice_period_days"]
        row.total_amount = Decimal(str(data["total"]["amount"]))
        row.currency = data["total"]["currency"]
        if data.get("terms") is not None:
            row.terms = _valid_terms(event_id, data["terms"])
    session.add(row)


def terms_to_start_from(
    session: Session, contract_id: str, sent: dict[str, Any] | None
) -> dict[str, Any]:
    """The terms a change or termination request starts from: those sent, else the read
    model's. A terminated contract takes no more requests."""
    contract = session.get(SignedContract, contract_id)
    if contract is not None and contract.status == "terminated":
        raise ContractTerminated(contract_id)
    if sent is not None:
        return sent
    if contract is None or contract.terms is None:
        raise TermsUnknown(contract_id, known=contract is not None)
    return contract.terms


def follow_amendment(
    session: Session, contract_id: str, terms: dict[str, Any], total_after: dict[str, Any]
) -> None:
    """The amendment's terms become the contract's: the next change starts from them.
    Runs in the transaction that records the amendment and publishes `contract.amended`."""
    contract = session.get(SignedContract, contract_id)
    if contract is None:  # requested with current_terms for a contract not signed here
        return
    contract.terms = dict(terms)
    contract.total_amount = Decimal(total_after["amount"])
    contract.currency = total_after["currency"]
    term = load_contract_terms(terms).service_term
    if term is not None:
        contract.start_date = term.start_date or contract.start_date
        contract.end_date = term.end_date or contract.end_date
        if term.notice_period_days is not None:
            contract.notice_period_days = term.notice_period_days


def names_of(session: Session, contract_id: str, terms: dict[str, Any]) -> dict[str, Any]:
    """The contract's title and provider for an approver's email: from the terms the
    request works on, else from the read model."""
    loaded = load_contract_terms(terms)
    provider = loaded.parties.provider if loaded.parties else None
    contract = session.get(SignedContract, contract_id)
    return {
        "title": loaded.title or (contract.title if contract else None),
        "provider": (provider.name if provider else None)
        or (contract.provider_name if contract else None),
    }


def mark_terminated(session: Session, contract_id: str) -> None:
    """Runs in the transaction that publishes `contract.terminated`."""
    contract = session.get(SignedContract, contract_id)
    if contract is not None:
        contract.status = "terminated"


def _has_amendments(session: Session, contract_id: str) -> bool:
    found = session.scalar(
        select(Amendment.number).where(Amendment.contract_id == contract_id).limit(1)
    )
    return found is not None


def _valid_terms(event_id: str, terms: dict[str, Any]) -> dict[str, Any] | None:
    """Stored normalised; invalid terms fail the event (SignedTermsInvalid names the fields)."""
    loaded = signed_terms(event_id, terms)
    return None if loaded is None else dump_contract_terms(loaded)
