"""Service months and billing periods, measured from the contract's start date.

Pro-rata rule: periodic fees are priced per *service month*: service month i runs from
`add_months(start, i)` to the day before `add_months(start, i + 1)`. A window that covers
only part of a service month counts days covered / days in that service month. Because
every window is measured against the same service months, months over adjacent windows add
up exactly (Jan 1-15 plus Jan 16-31 is one month), which the change recalculation needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from dateutil.relativedelta import relativedelta

ONE_DAY = timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (Jan 31 + 1 month = Feb 28)."""
    return day + relativedelta(months=months)


def following_term(start: date, end: date) -> tuple[date, date]:
    """The term after `start`..`end` (inclusive), as long as it: whole months when the term
    is whole months (a year stays a year across a leap day), else the same number of days.
    A renewal on the same terms and a renegotiated draft both start from it."""
    after = end + timedelta(days=1)
    if start.day == after.day:
        months = (after.year - start.year) * 12 + after.month - start.month
        return after, add_months(after, months) - timedelta(days=1)
    return after, after + (after - start) - timedelta(days=1)


def _service_month_index(anchor: date, day: date) -> int:
    index = (day.year - anchor.year) * 12 + day.month - anchor.month
    while add_months(anchor, index) > day:
        index -= 1
    while add_months(anchor, index + 1) <= day:
        index += 1
    return index


def service_months(anchor: date, first: date, last: date) -> Fraction:
    """How many service months (anchored on `anchor`) the days `first`..`last` cover."""
    if first < anchor:
        raise ValueError(f"window starts {first}, before the service start {anchor}")
    if last < first:
        return Fraction(0)
    months = Fraction(0)
    index = _service_month_index(anchor, first)
    while True:
        month_start, next_start = add_months(anchor, index), add_months(anchor, index + 1)
        if month_start > last:
            return months
        covered = (min(last + ONE_DAY, next_start) - max(first, month_start)).days
        months += Fraction(covered, (next_start - month_start).days)
        index += 1


@dataclass(frozen=True)
class BillingPeriod:
    start: date
    end: date  # inclusive
    months: Fraction


def billing_periods(anchor: date, end: date, months_per_period: int) -> list[BillingPeriod]:
    """Consecutive periods of `months_per_period` from `anchor`; the last may be shorter."""
    periods = []
    index = 0
    while (period_start := add_months(anchor, index * months_per_period)) <= end:
        period_end = min(add_months(anchor, (index + 1) * months_per_period) - ONE_DAY, end)
        periods.append(
            BillingPeriod(
                period_start, period_end, service_months(anchor, period_start, period_end)
            )
        )
        index += 1
    return periods
