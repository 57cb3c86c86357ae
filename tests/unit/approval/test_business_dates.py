"""Business dates are dates where the business is, not the UTC date; a termination's
notice end is midnight in the contract's own zone."""

from __future__ import annotations

import datetime as dt

from contractflow.config import business_date


def test_the_business_date_is_the_date_in_the_business_zone() -> None:
    late_utc = dt.datetime(2027, 3, 1, 17, 30, tzinfo=dt.UTC)  # 01:30 on 2 March in Shanghai
    assert late_utc.date() == dt.date(2027, 3, 1)
    assert business_date(late_utc) == dt.date(2027, 3, 2)
    assert business_date(late_utc, "Europe/Berlin") == dt.date(2027, 3, 1)
    assert business_date(dt.datetime(2027, 3, 1, 15, 59, tzinfo=dt.UTC)) == dt.date(2027, 3, 1)
