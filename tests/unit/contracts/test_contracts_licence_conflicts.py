from dataclasses import replace
from datetime import date

import pytest

from contractflow.contracts.checks import LicenceGrant, check_licence_conflicts
from contractflow.contracts.checks.result import CheckResult
from contractflow.contracts.licence import LicenceType
from contractflow.contracts.samples import SAMPLE_USER_CREDIT_CODE, sample_terms

EXCLUSIVE, SOLE, NON_EXCLUSIVE = LicenceType.EXCLUSIVE, LicenceType.SOLE, LicenceType.NON_EXCLUSIVE


def draft_check(
    draft_type: LicenceType = EXCLUSIVE,
    draft_territory: tuple[str, ...] = ("CN",),
    **other: object,
) -> CheckResult:
    """The sample's licence (mingde-oa-v5, 2025-01-01..2025-12-31) against one other grant."""
    terms = sample_terms()
    assert terms.licence
    terms = sample_terms(licence=replace(terms.licence, type=draft_type, territory=draft_territory))
    grant = {
        "contract_id": "C-2024-017",
        "software_id": "mingde-oa-v5",
        "type": NON_EXCLUSIVE,
        "territory": ("CN",),
        "start_date": date(2024, 7, 1),
        "end_date": date(2025, 6, 30),
        "licensee": "91110105MA0B1C2D3F",  # another company
    } | other
    return check_licence_conflicts(terms, [LicenceGrant(**grant)])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("draft", "other", "conflict"),
    [
        (EXCLUSIVE, NON_EXCLUSIVE, True),
        (NON_EXCLUSIVE, EXCLUSIVE, True),
        (EXCLUSIVE, EXCLUSIVE, True),
        (SOLE, SOLE, True),
        (SOLE, NON_EXCLUSIVE, True),
        (NON_EXCLUSIVE, SOLE, True),
        (NON_EXCLUSIVE, NON_EXCLUSIVE, False),
    ],
)
def test_licence_type_matrix(draft: LicenceType, other: LicenceType, conflict: bool) -> None:
    result = draft_check(draft, type=other)
    assert result.ok is not conflict
    assert result.codes() == (["licence_conflict"] if conflict else [])


@pytest.mark.parametrize(
    ("draft_territory", "other_territory", "conflict"),
    [
        (("CN-SH",), ("CN-BJ",), False),  # different provinces
        (("CN",), ("CN-SH",), True),  # the country covers its provinces
        (("CN-SH",), ("CN",), True),
        (("US", "DE"), ("CN",), False),
        (("WORLD",), ("US",), True),
        (("US", "CN-GD"), ("JP", "CN"), True),
    ],
)
def test_territory_overlap(
    draft_territory: tuple[str, ...], other_territory: tuple[str, ...], conflict: bool
) -> None:
    result = draft_check(EXCLUSIVE, draft_territory, territory=other_territory)
    assert result.ok is not conflict


@pytest.mark.parametrize(
    ("start", "end", "conflict"),
    [
        (date(2024, 1, 1), date(2024, 12, 31), False),  # ends the day before: adjacent
        (date(2026, 1, 1), date(2026, 12, 31), False),  # starts the day after: adjacent
        (date(2024, 1, 1), date(2025, 1, 1), True),  # one shared day
        (date(2025, 12, 31), date(2026, 12, 31), True),
        (date(2025, 3, 1), date(2025, 4, 1), True),  # inside
        (date(2023, 1, 1), date(2023, 12, 31), False),
    ],
)
def test_period_overlap(start: date, end: date, conflict: bool) -> None:
    result = draft_check(SOLE, start_date=start, end_date=end)
    assert result.ok is not conflict


def test_other_software_never_conflicts_and_ids_ignore_case() -> None:
    assert draft_check(software_id="kingdee-erp").ok
    assert not draft_check(software_id=" Mingde-OA-V5 ").ok


def test_the_message_says_what_overlaps_where_and_when() -> None:
    (problem,) = draft_check(EXCLUSIVE, ("CN-SH",)).problems
    assert problem.field == "licence"
    assert problem.message == (
        "exclusive licence for mingde-oa-v5 overlaps the non_exclusive licence of contract "
        "C-2024-017 in CN-SH/CN from 2025-01-01 to 2025-06-30"
    )


def test_overlap_with_the_same_licensee_is_only_a_warning() -> None:
    result = draft_check(EXCLUSIVE, licensee=SAMPLE_USER_CREDIT_CODE)
    assert result.ok
    assert result.codes() == ["overlaps_own_licence"]


def test_the_drafts_own_grant_is_skipped() -> None:
    terms = sample_terms()
    assert terms.licence
    terms = sample_terms(licence=replace(terms.licence, type=EXCLUSIVE))
    own = LicenceGrant(
        "C-NEW", "mingde-oa-v5", EXCLUSIVE, ("CN",), date(2025, 1, 1), date(2025, 12, 31)
    )
    assert check_licence_conflicts(terms, [own], draft_contract_id="C-NEW").ok
    assert not check_licence_conflicts(terms, [own]).ok


def test_licence_term_defaults_to_the_service_term() -> None:
    terms = sample_terms()
    assert terms.licence
    terms = sample_terms(licence=replace(terms.licence, type=SOLE, start_date=None, end_date=None))
    adjacent = LicenceGrant(
        "C-1", "mingde-oa-v5", SOLE, ("CN",), date(2024, 1, 1), date(2024, 12, 31)
    )
    overlapping = replace(adjacent, end_date=date(2025, 1, 1))
    assert check_licence_conflicts(terms, [adjacent]).ok
    assert not check_licence_conflicts(terms, [overlapping]).ok


def test_an_incomplete_licence_cannot_be_cleared() -> None:
    result = check_licence_conflicts(sample_terms(licence=None), [])
    assert not result.ok
    assert result.codes() == ["licence_incomplete"]
