"""The terms a `contract.signed` (or `contract.amended`) event carries, read one way by every
service that keeps its own view of signed contracts (approval's SignedContract, renewal's
WatchedContract): the tables differ, the reading of the event's terms must not."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contractflow.contracts.schemas import TermsValidationError, load_contract_terms
from contractflow.contracts.terms import DEFAULT_TIMEZONE, ContractTerms

SIGNED = "contract.signed"


class SignedTermsInvalid(ValueError):
    """The event's terms are not contract terms. A handler lets it fail the event (retried,
    then dead-lettered with this message) rather than keep terms that would later show as a
    wrong fee difference or deadline; `errors` maps `terms.<clause path>` to messages."""

    def __init__(self, event_type: str, event_id: str, errors: Mapping[str, list[str]]) -> None:
        self.event_id = event_id
        self.errors = {f"terms.{path}": list(messages) for path, messages in errors.items()}
        where = "; ".join(f"{path}: {' '.join(m)}" for path, m in self.errors.items())
        super().__init__(f"{event_type} event {event_id}: {where}")


def signed_terms(
    event_id: str,
    raw: Mapping[str, Any] | None,
    *,
    default_timezone: str = DEFAULT_TIMEZONE,
    event_type: str = SIGNED,
) -> ContractTerms | None:
    """The event's terms loaded, or None for an event from before terms travelled in it."""
    if raw is None:
        return None
    try:
        return load_contract_terms(raw, default_timezone=default_timezone)
    except TermsValidationError as exc:
        raise SignedTermsInvalid(event_type, event_id, exc.errors) from None
