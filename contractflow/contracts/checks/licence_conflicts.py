"""Licence conflicts: an exclusive or sole grant may not overlap another active contract.

Two grants conflict when they are for the same software, their territories share ground
(a country covers its subdivisions, WORLD covers all) and their periods share at least one
day (end dates are inclusive, so a grant starting the day after another ends is fine) -
and at least one of them is exclusive or sole. Two non-exclusive grants never conflict.
An overlap with a grant to the same licensee (typically the contract being renewed) is a
warning, not a conflict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from contractflow.contracts.checks.result import CheckResult, Problem, ProblemSeverity
from contractflow.contracts.licence import LicenceType, territories_overlap
from contractflow.contracts.terms import ContractTerms

CLAUSE = "licence"


@dataclass(frozen=True)
class LicenceGrant:
    """One contract's licence, as the conflict check compares it."""

    contract_id: str | None
    software_id: str
    type: LicenceType
    territory: tuple[str, ...]
    start_date: date
    end_date: date  # inclusive
    licensee: str | None = None  # credit code (or name) of the user holding the licence


def grant_from_terms(terms: ContractTerms, contract_id: str | None = None) -> LicenceGrant | None:
    """The draft's grant; the licence term defaults to the service term. None if incomplete."""
    licence, term = terms.licence, terms.service_term
    if licence is None or licence.software_id is None or licence.type is None:
        return None
    start = licence.start_date or (term.start_date if term else None)
    end = licence.end_date or (term.end_date if term else None)
    if not licence.territory or start is None or end is None:
        return None
    user = terms.parties.user if terms.parties else None
    return LicenceGrant(
        contract_id=contract_id,
        software_id=licence.software_id,
        type=licence.type,
        territory=licence.territory,
        start_date=start,
        end_date=end,
        licensee=(user.credit_code or user.name) if user else None,
    )


def overlapping_territories(first: LicenceGrant, second: LicenceGrant) -> list[tuple[str, str]]:
    return [(a, b) for a in first.territory for b in second.territory if territories_overlap(a, b)]


def grants_overlap(first: LicenceGrant, second: LicenceGrant) -> bool:
    return (
        first.software_id.strip().casefold() == second.software_id.strip().casefold()
        and first.start_date <= second.end_date
        and second.start_date <= first.end_date
        and bool(overlapping_territories(first, second))
    )


def check_licence_conflicts(
    draft: ContractTerms,
    active_licences: Iterable[LicenceGrant],
    *,
    draft_contract_id: str | None = None,
) -> CheckResult:
    grant = grant_from_terms(draft, draft_contract_id)
    if grant is None:
        return CheckResult(
            "licence_conflicts",
            (
                Problem(
                    CLAUSE,
                    "licence",
                    "licence_incomplete",
                    "cannot check licence conflicts: the licence needs software_id, type, "
                    "territory and a term (its own or the service term)",
                ),
            ),
        )
    problems = [
        _describe(grant, other)
        for other in active_licences
        if (draft_contract_id is None or other.contract_id != draft_contract_id)
        and grants_overlap(grant, other)
        and (grant.type.bars_third_parties or other.type.bars_third_parties)
    ]
    return CheckResult("licence_conflicts", tuple(problems))


def _describe(draft: LicenceGrant, other: LicenceGrant) -> Problem:
    same_licensee = draft.licensee is not None and draft.licensee == other.licensee
    places = ", ".join(
        sorted({f"{a}/{b}" if a != b else a for a, b in overlapping_territories(draft, other)})
    )
    days = f"{max(draft.start_date, other.start_date)} to {min(draft.end_date, other.end_date)}"
    message = (
        f"{draft.type.value} licence for {draft.software_id} overlaps the {other.type.value} "
        f"licence of contract {other.contract_id} in {places} from {days}"
    )
    if same_licensee:
        return Problem(
            CLAUSE,
            "licence",
            "overlaps_own_licence",
            message + " (same licensee: check it is a renewal or replacement)",
            ProblemSeverity.WARNING,
        )
    return Problem(CLAUSE, "licence", "licence_conflict", message)
