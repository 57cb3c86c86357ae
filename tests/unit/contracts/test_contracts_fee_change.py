"""Repricing a change request from its effective date. The base contract: platform
maintenance (2000.00/month at low complexity) plus modules at 500.00/module-month,
2025-01-01 to 2025-12-31, paid quarterly in advance."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from contractflow.contracts.fee_terms import (
    BillingCycle,
    Complexity,
    TrainingKind,
    TrainingSession,
)
from contractflow.contracts.fees import (
    FeeChange,
    InstalmentKind,
    calculate_fees,
    recalculate_for_change,
)
from contractflow.contracts.licence import Licence
from contractflow.contracts.samples import sample_terms
from contractflow.contracts.service import ServiceItem
from contractflow.contracts.terms import ContractTerms

from .builders import priced_terms


def base_terms(
    modules: tuple[str, ...] = ("workflow", "documents"), **overrides: Any
) -> ContractTerms:
    """The base contract; overrides are fees fields, or `start` / `end` of the term."""
    fees: dict[str, Any] = {
        "billing_cycle": BillingCycle.QUARTERLY,
        "system_complexity": Complexity.LOW,
    }
    return priced_terms(
        items=(ServiceItem.MAINTENANCE_INSPECTION,), modules=modules, **{**fees, **overrides}
    )


def schedule_of(change: FeeChange) -> list[tuple[str, str, str]]:
    return [(i.due_date.isoformat(), str(i.amount.amount), i.kind.value) for i in change.schedule]


def assert_invariants(change: FeeChange) -> None:
    paid_later = sum(i.amount.amount for i in change.schedule)
    assert change.scheduled_before_effective_date.amount + paid_later == (
        change.total_after_change.amount
    )
    assert change.total_after_change == change.total_before_change + change.difference


def test_module_added_mid_quarter_is_charged_pro_rata() -> None:
    old = base_terms()  # 2000 + 2 x 500 = 3000.00/month: 36000.00, 9000.00 a quarter
    new = base_terms(("workflow", "documents", "meeting rooms"))
    change = recalculate_for_change(old, new, date(2025, 5, 16))
    # From May 16: May 16-31 is 16 of May's 31 days, then Jun-Dec: 7 + 16/31 = 233/31 months.
    # Extra module: 500.00 x 233/31 = 3758.0645.. -> 3758.06
    # (line by line: new 1500 x 233/31 = 11274.19, old 1000 x 233/31 = 7516.13, diff 3758.06)
    assert change.difference.amount == Decimal("3758.06")
    assert change.total_before_change.amount == Decimal("36000.00")
    assert change.total_after_change.amount == Decimal("39758.06")
    # Q1 and Q2 (9000.00 each) were due before May 16.
    assert change.scheduled_before_effective_date.amount == Decimal("18000.00")
    assert schedule_of(change) == [
        # Q2 was paid at the old rate; May 16-Jun 30 is 1 + 16/31 = 47/31 months:
        # new 1500 x 47/31 = 2274.19 - old 1000 x 47/31 = 1516.13 = 758.06
        ("2025-05-16", "758.06", "periodic_adjustment"),
        # The rest, 36000 + 3758.06 - 18000 - 758.06 = 21000.00, at 3500.00 x 3 a quarter.
        ("2025-07-01", "10500.00", "periodic"),
        ("2025-10-01", "10500.00", "periodic"),
    ]
    assert_invariants(change)


def test_a_second_amendment_builds_on_the_first() -> None:
    first_terms = base_terms(("workflow", "documents", "meeting rooms"))  # 3500.00/month
    first = recalculate_for_change(base_terms(), first_terms, date(2025, 5, 16))
    standing = tuple(
        i for i in calculate_fees(base_terms()).schedule if i.due_date < date(2025, 5, 16)
    )
    current = standing + first.schedule  # 9000 + 9000 + 758.06 + 10500 + 10500 = 39758.06
    second_terms = base_terms(("workflow", "documents", "meeting rooms", "archive"))
    second = recalculate_for_change(
        first_terms, second_terms, date(2025, 8, 10), current_schedule=current
    )
    # From Aug 10: Aug 10-31 is 22 of August's 31 days, then Sep-Dec: 4 + 22/31 = 146/31.
    # modules line: new 2000 x 146/31 = 9419.35 - old 1500 x 146/31 = 7064.52 = 2354.83
    assert second.difference.amount == Decimal("2354.83")
    assert second.total_before_change.amount == Decimal("39758.06")
    assert second.total_after_change.amount == Decimal("42112.89")  # 39758.06 + 2354.83
    # Q1 9000 + Q2 9000 + 758.06 + Q3 10500 were due before Aug 10.
    assert second.scheduled_before_effective_date.amount == Decimal("29258.06")
    assert schedule_of(second) == [
        # Q3 in progress, Aug 10-Sep 30 = 1 + 22/31 = 53/31 months:
        # new 2000 x 53/31 = 3419.35 - old 1500 x 53/31 = 2564.52 = 854.83
        ("2025-08-10", "854.83", "periodic_adjustment"),
        # Q4: 10500.00 still due + 2354.83 - 854.83 = 12000.00 (= 4000.00 x 3)
        ("2025-10-01", "12000.00", "periodic"),
    ]
    assert_invariants(second)


def test_change_on_a_period_boundary_needs_no_adjustment() -> None:
    new = base_terms(("workflow", "documents", "meeting rooms"))
    change = recalculate_for_change(base_terms(), new, date(2025, 7, 1))
    assert change.difference.amount == Decimal("3000.00")  # 500.00 x 6 months
    assert schedule_of(change) == [
        ("2025-07-01", "10500.00", "periodic"),  # 3500.00 x 3
        ("2025-10-01", "10500.00", "periodic"),
    ]
    assert_invariants(change)


def test_module_removed_gives_a_credit() -> None:
    change = recalculate_for_change(base_terms(), base_terms(("workflow",)), date(2025, 2, 1))
    # Feb 1-Dec 31 is 11 months: -500.00 x 11 = -5500.00
    assert change.difference.amount == Decimal("-5500.00")
    assert schedule_of(change) == [
        ("2025-02-01", "-1000.00", "periodic_adjustment"),  # Q1 prepaid: Feb + Mar at -500.00
        ("2025-04-01", "7500.00", "periodic"),  # 2500.00 x 3
        ("2025-07-01", "7500.00", "periodic"),
        ("2025-10-01", "7500.00", "periodic"),
    ]
    assert_invariants(change)


def test_one_off_changes_are_settled_on_the_effective_date() -> None:
    old = base_terms(licence=Licence(user_count=100), buys_licence=True)
    new = base_terms(
        licence=Licence(user_count=150),
        buys_licence=True,
        training=(TrainingSession(TrainingKind.NEW_USERS, 10, date(2025, 9, 1)),),
    )
    change = recalculate_for_change(old, new, date(2025, 5, 16))
    # licence 100 -> 150 users: +50 x 150.00 = 7500.00 (the 15000.00 was due Jan 1)
    # training added: 2000.00 + 10 x 50.00 = 2500.00, due on its own date
    assert change.difference.amount == Decimal("10000.00")
    assert schedule_of(change) == [
        ("2025-05-16", "7500.00", "one_off_adjustment"),
        ("2025-07-01", "9000.00", "periodic"),
        ("2025-09-01", "2500.00", "one_off"),
        ("2025-10-01", "9000.00", "periodic"),
    ]
    assert_invariants(change)


def test_extension_of_the_term() -> None:
    longer = base_terms(end=date(2026, 6, 30))
    change = recalculate_for_change(base_terms(), longer, date(2025, 10, 1))
    # new: Oct 2025-Jun 2026 = 9 months x 3000.00 = 27000.00; old: Oct-Dec = 9000.00
    assert change.difference.amount == Decimal("18000.00")
    assert [amount for _, amount, _ in schedule_of(change)] == ["9000.00"] * 3
    assert_invariants(change)


def test_yearly_billing_change_keeps_the_discount() -> None:
    old = base_terms(billing_cycle=BillingCycle.YEARLY)
    new = base_terms(("workflow", "documents", "meeting rooms"), billing_cycle=BillingCycle.YEARLY)
    change = recalculate_for_change(old, new, date(2025, 7, 1))
    # Jul-Dec: +500.00 x 6 = 3000.00, less 8% (240.00) = 2760.00; the year was prepaid,
    # so it is all one adjustment on Jul 1.
    assert change.difference.amount == Decimal("2760.00")
    assert schedule_of(change) == [("2025-07-01", "2760.00", "periodic_adjustment")]
    assert_invariants(change)


def test_no_change_changes_nothing() -> None:
    change = recalculate_for_change(base_terms(), base_terms(), date(2025, 5, 16))
    assert change.difference.amount == Decimal("0.00")
    old_later = [
        i for i in calculate_fees(base_terms()).schedule if i.due_date >= date(2025, 5, 16)
    ]
    assert change.schedule == tuple(old_later)


@pytest.mark.parametrize("effective", [date(2025, 1, 1), date(2025, 3, 3), date(2025, 12, 31)])
def test_invariants_hold_for_the_sample_at_any_date(effective: date) -> None:
    old = sample_terms()
    assert old.service_content is not None
    new = sample_terms(
        service_content=replace(
            old.service_content, functional_modules=(*old.service_content.functional_modules, "CRM")
        )
    )
    change = recalculate_for_change(old, new, effective)
    assert change.difference.amount > 0
    assert all(i.due_date >= effective for i in change.schedule)
    assert {i.kind for i in change.schedule} <= set(InstalmentKind)
    assert_invariants(change)


def test_changes_that_cannot_be_priced_say_why() -> None:
    with pytest.raises(ValueError, match=r"outside the term 2025-01-01\.\.2025-12-31"):
        recalculate_for_change(base_terms(), base_terms(), date(2026, 1, 1))
    monthly = base_terms(billing_cycle=BillingCycle.MONTHLY)
    with pytest.raises(
        ValueError, match=r"cannot change fees\.billing_cycle \(quarterly -> monthly\)"
    ):
        recalculate_for_change(base_terms(), monthly, date(2025, 5, 1))
    later = base_terms(start=date(2025, 2, 1))
    with pytest.raises(ValueError, match=r"cannot change service_term\.start_date"):
        recalculate_for_change(base_terms(), later, date(2025, 5, 1))
