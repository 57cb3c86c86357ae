from decimal import Decimal

import pytest

from contractflow.contracts.checks import BudgetStatus, check_budget
from contractflow.contracts.fees import calculate_fees
from contractflow.contracts.money import CurrencyMismatchError, Money
from contractflow.contracts.samples import sample_terms


def cny(amount: str) -> Money:
    return Money(Decimal(amount))


def test_within_budget() -> None:
    total = calculate_fees(sample_terms()).total  # 170720.00
    assessment = check_budget(total, cny("180000.00"))
    assert assessment.ok
    assert assessment.status is BudgetStatus.WITHIN_BUDGET
    assert assessment.excess == cny("0.00")
    assert not assessment.requires_finance_acceptance


def test_exactly_on_budget_is_within() -> None:
    assessment = check_budget(cny("170720.00"), cny("170720.00"))
    assert assessment.status is BudgetStatus.WITHIN_BUDGET


def test_over_budget_needs_finance_to_accept_it() -> None:
    assessment = check_budget(cny("170720.00"), cny("150000.00"))
    assert not assessment.ok
    assert assessment.status is BudgetStatus.OVER_BUDGET
    assert assessment.excess == cny("20720.00")  # 170720.00 - 150000.00
    assert assessment.requires_finance_acceptance
    assert assessment.result.codes() == ["over_budget"]
    assert assessment.to_dict()["excess"] == {"amount": "20720.00", "currency": "CNY"}


def test_over_budget_accepted_by_finance_passes_with_a_warning() -> None:
    assessment = check_budget(cny("170720.00"), cny("150000.00"), finance_accepted=True)
    assert assessment.ok
    assert assessment.requires_finance_acceptance
    assert assessment.result.codes() == ["over_budget_accepted"]


def test_budget_in_another_currency_is_refused() -> None:
    with pytest.raises(CurrencyMismatchError):
        check_budget(cny("1.00"), Money(Decimal("1.00"), "USD"))
    with pytest.raises(ValueError, match="negative"):
        check_budget(cny("1.00"), cny("-1.00"))
