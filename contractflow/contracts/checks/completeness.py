"""Clause completeness: which required clauses a draft still lacks, and what in each.

A draft cannot be submitted for approval until this check is ok. Every problem names the
clause (`service_term`) and the dotted field (`service_term.notice_period_days`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contractflow.contracts.checks.result import CheckResult, Problem, ProblemSeverity
from contractflow.contracts.fees.basis import IncompleteTermsError, pricing_basis
from contractflow.contracts.operations import Severity
from contractflow.contracts.terms import ContractTerms

REQUIRED_CLAUSES = (
    "parties",
    "service_content",
    "service_term",
    "fees",
    "rights_and_obligations",
    "breach_liability",
    "confidentiality",
    "service_standards",
    "ip_ownership",
    "dispute_resolution",
    "governing_law",
    "licence",
)

# clause -> (section attribute on ContractTerms, fields that must be filled)
_REQUIRED_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "parties": ("parties", ("user", "provider")),
    "service_content": ("service_content", ("items", "functional_modules")),
    "service_term": (
        "service_term",
        ("start_date", "end_date", "auto_renew", "notice_period_days"),
    ),
    "fees": ("fees", ("payment_method",)),
    "rights_and_obligations": (
        "rights_and_obligations",
        ("user_rights", "user_obligations", "provider_rights", "provider_obligations"),
    ),
    "breach_liability": ("breach_liability", ("user_liabilities", "provider_liabilities")),
    "confidentiality": (
        "confidentiality",
        ("scope", "duties", "years_after_end", "handling_at_end", "liabilities"),
    ),
    "service_standards": ("service_standards", ("availability_target_percent",)),
    "ip_ownership": ("ip_ownership", ("software", "customisations", "user_data")),
    "dispute_resolution": (
        "dispute_resolution",
        (
            "negotiation_days",
            "arbitration_institution",
            "arbitration_rules",
            "court",
            "cost_bearer",
        ),
    ),
    "governing_law": ("dispute_resolution", ("governing_law",)),
    "licence": (
        "licence",
        (
            "software_id",
            "type",
            "territory",
            "user_count",
            "device_types",
            "start_date",
            "end_date",
            "extension_procedure",
            "termination_events",
            "data_handling_on_termination",
        ),
    ),
}


def _is_filled(value: Any) -> bool:
    return value is not None and value != () and value != ""


def _missing(clause: str, path: str, what: str = "is missing") -> Problem:
    return Problem(clause, path, "field_missing", f"{clause}: {path} {what}")


def check_clause_completeness(terms: ContractTerms) -> CheckResult:
    problems: list[Problem] = []
    for clause in REQUIRED_CLAUSES:
        section_name, fields = _REQUIRED_FIELDS[clause]
        section = getattr(terms, section_name)
        if section is None:
            problems.append(
                Problem(
                    clause,
                    section_name,
                    "clause_missing",
                    f"{clause}: the clause is missing (it must state {', '.join(fields)})",
                )
            )
            continue
        problems += [
            _missing(clause, f"{section_name}.{name}")
            for name in fields
            if not _is_filled(getattr(section, name))
        ]
        problems += _EXTRA_CHECKS.get(clause, lambda _: [])(terms)
    return CheckResult("clause_completeness", tuple(problems))


def _parties(terms: ContractTerms) -> list[Problem]:
    parties = terms.parties
    assert parties is not None
    return [
        _missing("parties", f"parties.{side}.{name}")
        for side, party in (("user", parties.user), ("provider", parties.provider))
        if party is not None
        for name in ("name", "legal_representative")
        if not _is_filled(getattr(party, name))
    ]


def _fees(terms: ContractTerms) -> list[Problem]:
    # What the calculator needs is exactly what the fees clause must state.
    try:
        pricing_basis(terms)
        missing: list[str] = []
    except IncompleteTermsError as incomplete:
        missing = incomplete.missing
    except (ValueError, KeyError) as error:  # e.g. agreed rates in another currency
        return [Problem("fees", "fees", "invalid", f"fees: {error}")]
    return [
        _missing("fees", path, "is needed to price the services in scope")
        for path in missing
        if path.startswith(("fees.", "licence."))
    ]


def _service_standards(terms: ContractTerms) -> list[Problem]:
    standards = terms.service_standards
    assert standards is not None
    return [
        _missing(
            "service_standards",
            f"service_standards.severity_targets[{severity.value}]",
            "is missing (response and resolution times)",
        )
        for severity in Severity
        if standards.target_for(severity) is None
    ]


def _licence(terms: ContractTerms) -> list[Problem]:
    licence, term = terms.licence, terms.service_term
    if (
        licence is None
        or term is None
        or None in (licence.start_date, licence.end_date, term.start_date, term.end_date)
    ):
        return []
    assert licence.start_date and licence.end_date and term.start_date and term.end_date
    if licence.start_date <= term.start_date and licence.end_date >= term.end_date:
        return []
    return [
        Problem(
            "licence",
            "licence.end_date",
            "licence_shorter_than_service",
            f"licence: the licence ({licence.start_date} to {licence.end_date}) does not cover "
            f"the service term ({term.start_date} to {term.end_date})",
            ProblemSeverity.WARNING,
        )
    ]


_EXTRA_CHECKS: dict[str, Callable[[ContractTerms], list[Problem]]] = {
    "parties": _parties,
    "fees": _fees,
    "service_standards": _service_standards,
    "licence": _licence,
}
