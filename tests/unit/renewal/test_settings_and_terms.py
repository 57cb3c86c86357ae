"""Renewal's settings and the length of a renewed term."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.renewal.decisions import next_term
from services.renewal.models import WatchedContract
from services.renewal.settings import RenewalSettings


def test_settings_from_the_environment():
    settings = RenewalSettings.from_env(
        {
            "RENEWAL_REMINDER_DAYS": "30, 90,60",
            "RENEWAL_OBJECTION_REMINDER_DAYS": "7",
            "RENEWAL_REMINDER_HOUR": "8",
            "RENEWAL_APPROVAL_THRESHOLD": "50000",
            "RENEWAL_PORT": "8703",
            "RENEWAL_PAYMENT_GRACE_DAYS": "0",
        }
    )
    assert settings.reminder_days == (90, 60, 30)
    assert settings.objection_reminder_days == (7,)
    assert settings.reminder_hour == 8
    assert settings.approval_threshold == Decimal(50000)
    assert settings.public_base_url == "http://localhost:8703"
    assert settings.payment_grace_days == 0
    assert RenewalSettings.from_env({}).payment_grace_days == 5


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"RENEWAL_REMINDER_DAYS": "90,sixty"}, "RENEWAL_REMINDER_DAYS"),
        ({"RENEWAL_REMINDER_DAYS": ""}, "RENEWAL_REMINDER_DAYS"),
        ({"RENEWAL_OBJECTION_REMINDER_DAYS": "-1"}, "RENEWAL_OBJECTION_REMINDER_DAYS"),
        ({"RENEWAL_REMINDER_HOUR": "24"}, "RENEWAL_REMINDER_HOUR"),
        ({"RENEWAL_PAYMENT_GRACE_DAYS": "-2"}, "RENEWAL_PAYMENT_GRACE_DAYS"),
    ],
)
def test_a_bad_setting_is_refused_by_name(env, named):
    with pytest.raises(ValueError, match=named):
        RenewalSettings.from_env(env)


def contract(start: str, end: str) -> WatchedContract:
    return WatchedContract(
        start_date=dt.date.fromisoformat(start), end_date=dt.date.fromisoformat(end)
    )


@pytest.mark.parametrize(
    ("start", "end", "renewed"),
    [
        ("2027-01-01", "2027-12-31", ("2028-01-01", "2028-12-31")),  # a year across 29 Feb
        ("2027-03-15", "2027-09-14", ("2027-09-15", "2028-03-14")),  # six months
        ("2027-01-10", "2027-02-18", ("2027-02-19", "2027-03-30")),  # 40 days
    ],
)
def test_a_renewed_term_is_as_long_as_the_current_one(start, end, renewed):
    first, last = next_term(contract(start, end))
    assert (first.isoformat(), last.isoformat()) == renewed
