"""Budget: the contract's total over the term against the requirement's budget.

Over budget does not stop the workflow by itself; it requires the finance review to accept
the excess explicitly, so the check blocks until `finance_accepted` is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from contractflow.contracts.checks.result import CheckResult, Problem, ProblemSeverity
from contractflow.contracts.money import Money


class BudgetStatus(StrEnum):
    WITHIN_BUDGET = "within_budget"
    OVER_BUDGET = "over_budget"


@dataclass(frozen=True)
class BudgetAssessment:
    status: BudgetStatus
    total: Money
    budget: Money
    excess: Money  # zero when within budget
    requires_finance_acceptance: bool
    finance_accepted: bool
    result: CheckResult

    @property
    def ok(self) -> bool:
        return self.result.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.result.to_dict(),
            "status": self.status.value,
            "total": self.total.to_dict(),
            "budget": self.budget.to_dict(),
            "excess": self.excess.to_dict(),
            "requires_finance_acceptance": self.requires_finance_acceptance,
            "finance_accepted": self.finance_accepted,
        }


def check_budget(
    total: Money, budget: Money, *, finance_accepted: bool = False
) -> BudgetAssessment:
    """Compare the total over the term (e.g. `calculate_fees(terms).total`) to the budget."""
    if budget.amount < 0:
        raise ValueError(f"budget must not be negative, got {budget}")
    excess = total - budget  # raises CurrencyMismatchError when the currencies differ
    if excess.amount <= 0:
        return BudgetAssessment(
            BudgetStatus.WITHIN_BUDGET,
            total,
            budget,
            Money.zero(total.currency),
            False,
            finance_accepted,
            CheckResult("budget"),
        )
    if finance_accepted:
        problem = Problem(
            "budget",
            "fees",
            "over_budget_accepted",
            f"total {total} exceeds the budget {budget} by {excess}; finance accepted it",
            ProblemSeverity.WARNING,
        )
    else:
        problem = Problem(
            "budget",
            "fees",
            "over_budget",
            f"total {total} exceeds the budget {budget} by {excess}; the finance review "
            "must accept the excess explicitly",
        )
    return BudgetAssessment(
        BudgetStatus.OVER_BUDGET,
        total,
        budget,
        excess,
        True,
        finance_accepted,
        CheckResult("budget", (problem,)),
    )
