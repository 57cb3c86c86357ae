from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from contractflow.contracts.checks import check_provider_qualification
from contractflow.contracts.checks.result import CheckResult
from contractflow.contracts.parties import Certification, ProviderQualification, TechnicalTeam
from contractflow.contracts.samples import sample_terms
from contractflow.contracts.service import ServiceTerm

# 1 December 2024, 10:00 in Shanghai; the sample service starts 2025-01-01.
NOW = datetime(2024, 12, 1, 2, 0, tzinfo=UTC)


def check(
    now: datetime = NOW, terms_overrides: dict[str, Any] | None = None, **qualification: Any
) -> CheckResult:
    terms = sample_terms(**(terms_overrides or {}))
    assert terms.parties and terms.parties.provider_qualification
    q = replace(terms.parties.provider_qualification, **qualification)
    terms = replace(terms, parties=replace(terms.parties, provider_qualification=q))
    return check_provider_qualification(terms, now=now)


def test_a_valid_provider_passes() -> None:
    result = check()
    assert result.ok
    assert result.problems == ()


def test_an_expired_business_licence_blocks() -> None:
    result = check(business_licence_valid_until=date(2024, 11, 30))
    assert not result.ok
    assert result.codes() == ["business_licence_expired"]
    assert result.blocking[0].field == (
        "parties.provider_qualification.business_licence_valid_until"
    )
    assert "expired on 2024-11-30 (today is 2024-12-01)" in result.blocking[0].message


def test_a_licence_expiring_before_the_start_blocks() -> None:
    result = check(business_licence_valid_until=date(2024, 12, 20))
    assert not result.ok
    assert result.codes() == ["business_licence_expires_before_start"]


def test_a_licence_valid_through_the_start_date_passes_with_a_warning() -> None:
    result = check(business_licence_valid_until=date(2025, 1, 1))
    assert result.ok
    assert result.codes() == ["business_licence_expires_during_term"]


def test_a_long_term_licence_needs_no_end_date() -> None:
    assert check(business_licence_valid_until=None, business_licence_long_term=True).ok
    missing = check(business_licence_valid_until=None)
    assert missing.codes() == ["business_licence_validity_missing"]


def test_today_is_taken_in_the_contracts_time_zone() -> None:
    # 2024-12-31 16:30 UTC is already 2025-01-01 00:30 in Shanghai.
    late_evening_utc = datetime(2024, 12, 31, 16, 30, tzinfo=UTC)
    running = {"service_term": ServiceTerm(date(2024, 12, 15), date(2025, 12, 14), True, 30)}
    shanghai = check(late_evening_utc, running, business_licence_valid_until=date(2024, 12, 31))
    assert shanghai.codes() == ["business_licence_expired"]
    running_in_utc = {**running, "timezone": "UTC"}
    utc = check(late_evening_utc, running_in_utc, business_licence_valid_until=date(2024, 12, 31))
    assert utc.ok  # still 31 December in UTC
    assert utc.codes() == ["business_licence_expires_during_term"]


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        check(datetime(2024, 12, 1, 10, 0))


def test_certifications_are_required_and_must_be_valid() -> None:
    assert check(certifications=()).codes() == ["certifications_missing"]
    lapsed = Certification("ISO 9001", valid_until=date(2024, 12, 31))
    current = Certification("ISO/IEC 27001", valid_until=date(2027, 3, 31))
    one_lapsed = check(certifications=(lapsed, current))
    assert one_lapsed.ok
    assert one_lapsed.codes() == ["certification_lapsed"]
    all_lapsed = check(certifications=(lapsed,))
    assert not all_lapsed.ok
    assert all_lapsed.codes() == ["certification_lapsed", "no_valid_certification"]


def test_references_and_team() -> None:
    no_references = check(references=())
    assert no_references.ok
    assert no_references.codes() == ["references_missing"]
    assert check(technical_team=None).codes() == ["technical_team_missing"]
    small = check(technical_team=TechnicalTeam(size=2, skills=()))
    assert small.ok
    assert small.codes() == ["technical_team_small", "technical_team_skills_missing"]


def test_missing_qualification_and_representative_block() -> None:
    terms = sample_terms()
    assert terms.parties and terms.parties.provider
    no_data = replace(terms, parties=replace(terms.parties, provider_qualification=None))
    result = check_provider_qualification(no_data, now=NOW)
    assert result.codes() == ["qualification_missing"]
    nobody = replace(
        terms,
        parties=replace(
            terms.parties,
            provider=replace(terms.parties.provider, legal_representative=None),
            provider_qualification=ProviderQualification(
                business_licence_long_term=True,
                business_licence_number="X",
                certifications=(Certification("CMMI Level 3"),),
                references=(),
                technical_team=TechnicalTeam(size=10, skills=("Java",)),
            ),
        ),
    )
    assert check_provider_qualification(nobody, now=NOW).codes() == [
        "legal_representative_missing",
        "references_missing",
    ]
