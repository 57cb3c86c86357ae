"""Provider qualification: business licence, certifications, references, technical team.

The seed (FAQ 2) asks for a business licence that is valid and unexpired, industry
certifications, a track record, and a technical team of adequate size, skill and
stability. A licence that has expired, or will expire before the service starts, blocks
submission; so do missing certifications or a missing team. Thin references or a small
team are warnings for the reviewers.
"""

from __future__ import annotations

from datetime import date, datetime

from contractflow.contracts.checks.result import CheckResult, Problem, ProblemSeverity
from contractflow.contracts.parties import ProviderQualification
from contractflow.contracts.terms import ContractTerms

CLAUSE = "provider_qualification"
WARNING = ProblemSeverity.WARNING


def check_provider_qualification(
    terms: ContractTerms, *, now: datetime, min_team_size: int = 3
) -> CheckResult:
    """`now` must be timezone-aware; "today" is its date in the contract's time zone."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("check_provider_qualification needs an aware `now`, got a naive one")
    today = now.astimezone(terms.zone).date()
    parties = terms.parties
    qualification = parties.provider_qualification if parties else None
    if qualification is None:
        return CheckResult(
            "provider_qualification",
            (
                Problem(
                    CLAUSE,
                    "parties.provider_qualification",
                    "qualification_missing",
                    "provider qualification data is missing (business licence, certifications, "
                    "references, technical team)",
                ),
            ),
        )
    term = terms.service_term
    start = term.start_date if term else None
    end = term.end_date if term else None
    problems: list[Problem] = []
    provider = parties.provider if parties else None
    if provider is None or not provider.legal_representative:
        problems.append(
            Problem(
                CLAUSE,
                "parties.provider.legal_representative",
                "legal_representative_missing",
                "the provider's legal representative is not named",
            )
        )
    problems += _business_licence(qualification, today, start, end)
    problems += _certifications(qualification, today, start)
    problems += _references_and_team(qualification, min_team_size)
    return CheckResult("provider_qualification", tuple(problems))


def _business_licence(
    q: ProviderQualification, today: date, start: date | None, end: date | None
) -> list[Problem]:
    path = "parties.provider_qualification.business_licence"
    problems = []
    if not q.business_licence_number:
        problems.append(
            Problem(
                CLAUSE,
                f"{path}_number",
                "business_licence_number_missing",
                "the provider's business licence number is missing",
            )
        )
    if q.business_licence_long_term:
        return problems
    valid_until = q.business_licence_valid_until
    if valid_until is None:
        problems.append(
            Problem(
                CLAUSE,
                f"{path}_valid_until",
                "business_licence_validity_missing",
                "the business licence's valid-until date is missing (or mark it long-term)",
            )
        )
    elif valid_until < today:
        problems.append(
            Problem(
                CLAUSE,
                f"{path}_valid_until",
                "business_licence_expired",
                f"the provider's business licence expired on {valid_until} (today is {today})",
            )
        )
    elif start is not None and valid_until < start:
        problems.append(
            Problem(
                CLAUSE,
                f"{path}_valid_until",
                "business_licence_expires_before_start",
                f"the business licence expires on {valid_until}, before the service starts "
                f"on {start}",
            )
        )
    elif end is not None and valid_until < end:
        problems.append(
            Problem(
                CLAUSE,
                f"{path}_valid_until",
                "business_licence_expires_during_term",
                f"the business licence expires on {valid_until}, before the service ends on "
                f"{end}: ask for the renewed licence",
                WARNING,
            )
        )
    if start is None and valid_until is not None:
        problems.append(
            Problem(
                CLAUSE,
                "service_term.start_date",
                "start_date_unknown",
                "the service start date is not set, so the licence is only checked against today",
                WARNING,
            )
        )
    return problems


def _certifications(q: ProviderQualification, today: date, start: date | None) -> list[Problem]:
    path = "parties.provider_qualification.certifications"
    if not q.certifications:
        return [
            Problem(
                CLAUSE,
                path,
                "certifications_missing",
                "the provider shows no industry certification",
            )
        ]
    needed_on = max(today, start) if start else today
    lapsed = [
        c for c in q.certifications if c.valid_until is not None and c.valid_until < needed_on
    ]
    problems = [
        Problem(
            CLAUSE,
            f"{path}[{c.name}]",
            "certification_lapsed",
            f"certification {c.name} is valid only until {c.valid_until}, before {needed_on}",
            WARNING,
        )
        for c in lapsed
    ]
    if len(lapsed) == len(q.certifications):
        problems.append(
            Problem(
                CLAUSE,
                path,
                "no_valid_certification",
                f"none of the provider's certifications is valid on {needed_on}",
            )
        )
    return problems


def _references_and_team(q: ProviderQualification, min_team_size: int) -> list[Problem]:
    path = "parties.provider_qualification"
    problems = []
    if not q.references:
        problems.append(
            Problem(
                CLAUSE,
                f"{path}.references",
                "references_missing",
                "the provider names no client references or past projects",
                WARNING,
            )
        )
    team = q.technical_team
    if team is None or not team.size:
        problems.append(
            Problem(
                CLAUSE,
                f"{path}.technical_team",
                "technical_team_missing",
                "the provider's technical team (size, skills) is not described",
            )
        )
        return problems
    if team.size < min_team_size:
        problems.append(
            Problem(
                CLAUSE,
                f"{path}.technical_team.size",
                "technical_team_small",
                f"the technical team has {team.size} people, fewer than {min_team_size}",
                WARNING,
            )
        )
    if not team.skills:
        problems.append(
            Problem(
                CLAUSE,
                f"{path}.technical_team.skills",
                "technical_team_skills_missing",
                "the technical team's skills are not listed",
                WARNING,
            )
        )
    return problems
