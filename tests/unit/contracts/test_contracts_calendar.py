from datetime import date, timedelta
from fractions import Fraction

import pytest

from contractflow.contracts.fees.calendar import add_months, billing_periods, service_months


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2025, 1, 31), 2, date(2025, 3, 31)),  # anchored, not chained through Feb 28
        (date(2025, 11, 15), 3, date(2026, 2, 15)),
    ],
)
def test_add_months_clamps_to_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_a_calendar_year_is_twelve_service_months() -> None:
    assert service_months(date(2025, 1, 1), date(2025, 1, 1), date(2025, 12, 31)) == 12


def test_partial_service_month_counts_days_in_that_service_month() -> None:
    # From Jan 15: service months Jan 15-Feb 14 and Feb 15-Mar 14 are whole (2);
    # Mar 15-Mar 20 is 6 days of the service month Mar 15-Apr 14 (31 days): 2 + 6/31.
    start = date(2025, 1, 15)
    assert service_months(start, start, date(2025, 3, 20)) == 2 + Fraction(6, 31)


def test_months_over_adjacent_windows_add_up_exactly() -> None:
    start, end = date(2025, 1, 31), date(2026, 3, 10)
    whole = service_months(start, start, end)
    for split in range(0, (end - start).days):
        cut = start + timedelta(days=split)
        left = service_months(start, start, cut)
        right = service_months(start, cut + timedelta(days=1), end)
        assert left + right == whole, cut


def test_window_before_the_start_is_an_error() -> None:
    with pytest.raises(ValueError, match="before the service start 2025-01-01"):
        service_months(date(2025, 1, 1), date(2024, 12, 31), date(2025, 1, 5))


def test_billing_periods_end_with_a_partial_period() -> None:
    periods = billing_periods(date(2025, 1, 1), date(2025, 4, 15), 3)
    assert [(p.start, p.end, p.months) for p in periods] == [
        (date(2025, 1, 1), date(2025, 3, 31), 3),
        # April has 30 days: Apr 1-15 is 15/30 of a service month.
        (date(2025, 4, 1), date(2025, 4, 15), Fraction(1, 2)),
    ]
