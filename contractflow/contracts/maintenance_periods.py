"""The periods a maintenance item must be evidenced in: calendar weeks (Monday to Sunday),
months, quarters, half years and years; pure functions on plain dates."""

from __future__ import annotations

import datetime as dt

from contractflow.contracts.fees.calendar import add_months
from contractflow.contracts.operations import Frequency

MONTHS = {
    Frequency.MONTHLY: 1,
    Frequency.QUARTERLY: 3,
    Frequency.HALF_YEARLY: 6,
    Frequency.YEARLY: 12,
}


def period_containing(day: dt.date, frequency: Frequency) -> tuple[dt.date, dt.date]:
    """(first day, last day) of the `frequency` period `day` falls in."""
    if frequency is Frequency.DAILY:
        return day, day
    if frequency is Frequency.WEEKLY:
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=6)
    months = MONTHS[frequency]
    first_month = (day.month - 1) // months * months + 1
    start = dt.date(day.year, first_month, 1)
    return start, add_months(start, months) - dt.timedelta(days=1)


def next_period(period_end: dt.date, frequency: Frequency) -> tuple[dt.date, dt.date]:
    return period_containing(period_end + dt.timedelta(days=1), frequency)
