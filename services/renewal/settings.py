"""Renewal's own settings, read from the environment once (the shared Settings stay generic).

RENEWAL_REMINDER_DAYS            days before the end date a reminder fires (90,60,30)
RENEWAL_OBJECTION_REMINDER_DAYS  days before the last day to object to an automatic
                                 renewal (end date minus notice period) a reminder fires (14,0)
RENEWAL_REMINDER_HOUR            local hour of the contract's time zone reminders fire at (9)
RENEWAL_PUBLIC_URL               where people reach this service, for links in mails
                                 (http://localhost:<RENEWAL_PORT>)
RENEWAL_TICK_BATCH               deadlines one tick fires in one transaction (200)
RENEWAL_EVALUATION_MONTHS        months between two evaluations of a provider (6)
RENEWAL_APPROVAL_THRESHOLD       a renewal or extension costing more goes through the
                                 approval service (0: every one that costs money)
RENEWAL_PAYMENT_GRACE_DAYS       days after its due date a milestone may still be paid before
                                 it is overdue: a task and payment.overdue the day after (5)
plus the SMTP_* / MAIL_FROM settings of contractflow.mail.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from contractflow.mail import MailSettings


def parse_days(name: str, text: str) -> tuple[int, ...]:
    try:
        days = tuple(sorted({int(part) for part in text.split(",") if part.strip()}, reverse=True))
    except ValueError:
        raise ValueError(
            f"{name}={text!r}: use whole days separated by commas, e.g. 90,60,30"
        ) from None
    if not days or min(days) < 0:
        raise ValueError(f"{name}={text!r}: name at least one day count, none negative")
    return days


def _grace_days(text: str) -> int:
    if not text.strip().isdigit():
        raise ValueError(f"RENEWAL_PAYMENT_GRACE_DAYS={text!r}: use whole days, 0 or more")
    return int(text)


@dataclass(frozen=True)
class RenewalSettings:
    reminder_days: tuple[int, ...] = (90, 60, 30)
    objection_reminder_days: tuple[int, ...] = (14, 0)
    reminder_hour: int = 9
    public_base_url: str = "http://localhost:8003"
    tick_batch: int = 200
    evaluation_months: int = 6
    approval_threshold: Decimal = Decimal(0)
    payment_grace_days: int = 5
    mail: MailSettings = field(default_factory=MailSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RenewalSettings:
        env = os.environ if env is None else env
        hour = int(env.get("RENEWAL_REMINDER_HOUR", "9"))
        if not 0 <= hour <= 23:
            raise ValueError(f"RENEWAL_REMINDER_HOUR={hour}: an hour of the day, 0 to 23")
        port = env.get("RENEWAL_PORT", "8003")
        return cls(
            reminder_days=parse_days(
                "RENEWAL_REMINDER_DAYS", env.get("RENEWAL_REMINDER_DAYS", "90,60,30")
            ),
            objection_reminder_days=parse_days(
                "RENEWAL_OBJECTION_REMINDER_DAYS",
                env.get("RENEWAL_OBJECTION_REMINDER_DAYS", "14,0"),
            ),
            reminder_hour=hour,
            public_base_url=env.get("RENEWAL_PUBLIC_URL", f"http://localhost:{port}").rstrip("/"),
            tick_batch=int(env.get("RENEWAL_TICK_BATCH", "200")),
            evaluation_months=int(env.get("RENEWAL_EVALUATION_MONTHS", "6")),
            approval_threshold=Decimal(env.get("RENEWAL_APPROVAL_THRESHOLD", "0")),
            payment_grace_days=_grace_days(env.get("RENEWAL_PAYMENT_GRACE_DAYS", "5")),
            mail=MailSettings.from_env(env),
        )
