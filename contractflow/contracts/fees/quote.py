"""What the fee calculator hands back: itemised lines, the total and the payment schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from contractflow.contracts.money import Money


class LineKind(StrEnum):
    PERIODIC = "periodic"  # charged per month of service
    DISCOUNT = "discount"  # the yearly-payment discount on periodic fees (negative)
    ONE_OFF = "one_off"  # fixed: licence, upgrades, training
    ESTIMATE = "estimate"  # estimated, settled on actuals: hourly work, travel


@dataclass(frozen=True)
class FeeLine:
    """quantity x unit_price = amount. Amounts are rounded to 0.01 (ROUND_HALF_UP) from the
    exact quantity; a pro-rata quantity is shown to 4 decimal places."""

    code: str
    description: str
    kind: LineKind
    quantity: Decimal
    unit: str
    unit_price: Money
    amount: Money

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "description": self.description,
            "kind": self.kind.value,
            "quantity": str(self.quantity),
            "unit": self.unit,
            "unit_price": self.unit_price.to_dict(),
            "amount": self.amount.to_dict(),
        }


class InstalmentKind(StrEnum):
    PERIODIC = "periodic"
    ONE_OFF = "one_off"
    MILESTONE = "milestone"
    # A change request's top-up (or credit, when negative) on its effective date:
    PERIODIC_ADJUSTMENT = "periodic_adjustment"  # pro rata for the period in progress
    ONE_OFF_ADJUSTMENT = "one_off_adjustment"  # one-off fees already due that changed


@dataclass(frozen=True)
class Instalment:
    due_date: date
    amount: Money
    description: str
    kind: InstalmentKind
    covers: tuple[str, ...]  # codes of the fee lines this instalment pays for
    period_start: date | None = None
    period_end: date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "due_date": self.due_date.isoformat(),
            "amount": self.amount.to_dict(),
            "description": self.description,
            "kind": self.kind.value,
            "covers": list(self.covers),
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
        }

    def to_signed_event_payment(self) -> dict[str, Any]:
        """The `payment_schedule` item shape of the `contract.signed` event."""
        return {
            "due_date": self.due_date.isoformat(),
            "amount": self.amount.to_dict(),
            "description": self.description,
        }


@dataclass(frozen=True)
class FeeQuote:
    currency: str
    term_start: date
    term_end: date
    term_months: Decimal
    lines: tuple[FeeLine, ...]
    total: Money
    schedule: tuple[Instalment, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "term_start": self.term_start.isoformat(),
            "term_end": self.term_end.isoformat(),
            "term_months": str(self.term_months),
            "lines": [line.to_dict() for line in self.lines],
            "total": self.total.to_dict(),
            "schedule": [instalment.to_dict() for instalment in self.schedule],
        }


@dataclass(frozen=True)
class FeeChange:
    """The fee effect of a change request from `effective_date` to the end of the term.

    Invariant: `scheduled_before_effective_date + sum(schedule) == total_after_change`,
    and `total_after_change == total_before_change + difference`.
    """

    effective_date: date
    currency: str
    # Periodic fees from the effective date to the end, plus all one-off fees: old (as
    # scheduled now) and new terms. new_remaining - old_remaining == difference.
    old_remaining: Money
    new_remaining: Money
    difference: Money
    total_before_change: Money
    total_after_change: Money
    scheduled_before_effective_date: Money  # old instalments due before the change
    schedule: tuple[Instalment, ...]  # replaces the current instalments due on or after it

    def to_dict(self) -> dict[str, Any]:
        return {
            "effective_date": self.effective_date.isoformat(),
            "currency": self.currency,
            "old_remaining": self.old_remaining.to_dict(),
            "new_remaining": self.new_remaining.to_dict(),
            "difference": self.difference.to_dict(),
            "total_before_change": self.total_before_change.to_dict(),
            "total_after_change": self.total_after_change.to_dict(),
            "scheduled_before_effective_date": self.scheduled_before_effective_date.to_dict(),
            "schedule": [instalment.to_dict() for instalment in self.schedule],
        }
