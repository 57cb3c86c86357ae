from dataclasses import replace
from datetime import date

import pytest

from contractflow.contracts.checks import REQUIRED_CLAUSES, check_clause_completeness
from contractflow.contracts.checks.result import ProblemSeverity
from contractflow.contracts.samples import sample_terms
from contractflow.contracts.service import ServiceItem
from contractflow.contracts.terms import ContractTerms


def test_the_sample_is_complete() -> None:
    result = check_clause_completeness(sample_terms())
    assert result.ok
    assert result.problems == ()
    assert result.to_dict() == {"check": "clause_completeness", "ok": True, "problems": []}


@pytest.mark.parametrize("clause", [c for c in REQUIRED_CLAUSES if c != "governing_law"])
def test_each_missing_clause_is_reported_by_name(clause: str) -> None:
    result = check_clause_completeness(sample_terms(**{clause: None}))
    assert not result.ok
    reported = [p for p in result.blocking if p.clause == clause]
    assert [(p.code, p.field) for p in reported] == [("clause_missing", clause)]
    assert reported[0].message.startswith(f"{clause}: the clause is missing")


def test_governing_law_is_its_own_clause() -> None:
    terms = sample_terms()
    assert terms.dispute_resolution is not None
    result = check_clause_completeness(
        sample_terms(dispute_resolution=replace(terms.dispute_resolution, governing_law=None))
    )
    assert [(p.clause, p.field, p.code) for p in result.problems] == [
        ("governing_law", "dispute_resolution.governing_law", "field_missing")
    ]


def test_an_empty_draft_lacks_every_clause() -> None:
    result = check_clause_completeness(ContractTerms())
    assert {p.clause for p in result.blocking} == set(REQUIRED_CLAUSES)
    assert len(REQUIRED_CLAUSES) == 12


def test_a_partly_filled_clause_lists_exactly_what_is_missing() -> None:
    terms = sample_terms()
    assert terms.confidentiality and terms.service_term
    result = check_clause_completeness(
        sample_terms(
            confidentiality=replace(terms.confidentiality, handling_at_end=None, duties=()),
            service_term=replace(terms.service_term, auto_renew=None),
        )
    )
    assert [p.field for p in result.problems] == [
        "service_term.auto_renew",
        "confidentiality.duties",
        "confidentiality.handling_at_end",
    ]
    assert (
        result.problems[-1].message == "confidentiality: confidentiality.handling_at_end is missing"
    )


def test_service_standards_need_every_severity() -> None:
    terms = sample_terms()
    assert terms.service_standards
    standards = replace(
        terms.service_standards, severity_targets=terms.service_standards.severity_targets[:2]
    )
    result = check_clause_completeness(sample_terms(service_standards=standards))
    assert [p.field for p in result.problems] == [
        "service_standards.severity_targets[medium]",
        "service_standards.severity_targets[low]",
    ]


def test_fees_must_state_what_the_services_in_scope_are_priced_by() -> None:
    terms = sample_terms()
    assert terms.fees
    fees = replace(terms.fees, backup=None, system_complexity=None, payment_method=None)
    result = check_clause_completeness(sample_terms(fees=fees))
    assert [(p.clause, p.field) for p in result.problems] == [
        ("fees", "fees.payment_method"),
        ("fees", "fees.system_complexity"),
        ("fees", "fees.backup"),
    ]


def test_backup_basis_only_needed_when_backup_is_in_scope() -> None:
    terms = sample_terms()
    assert terms.fees and terms.service_content
    content = replace(
        terms.service_content,
        items=tuple(i for i in terms.service_content.items if i is not ServiceItem.DATA_BACKUP),
    )
    result = check_clause_completeness(
        sample_terms(service_content=content, fees=replace(terms.fees, backup=None))
    )
    assert result.ok


def test_a_licence_shorter_than_the_service_is_a_warning() -> None:
    terms = sample_terms()
    assert terms.licence
    result = check_clause_completeness(
        sample_terms(licence=replace(terms.licence, end_date=date(2025, 6, 30)))
    )
    assert result.ok
    assert [(p.code, p.severity) for p in result.problems] == [
        ("licence_shorter_than_service", ProblemSeverity.WARNING)
    ]


def test_party_names_and_representatives_are_required() -> None:
    terms = sample_terms()
    assert terms.parties and terms.parties.user
    parties = replace(terms.parties, user=replace(terms.parties.user, legal_representative=None))
    result = check_clause_completeness(sample_terms(parties=parties))
    assert [p.field for p in result.problems] == ["parties.user.legal_representative"]
