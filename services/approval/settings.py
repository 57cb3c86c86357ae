"""Approval's own settings, read from the environment (the shared Settings stay generic).

PUBLIC_BASE_URL   where approvers' browsers reach this service
                  (http://localhost:<APPROVAL_PORT>)
LINK_SECRET       signs email links and page anti-forgery values (required outside
                  development: see contractflow.config.secret)
LINK_MAX_AGE      how long an email link is valid, ISO 8601 duration (P7D)
REMINDER_AFTER    reminder cycle without a decision, ISO 8601 duration (P2D)
ESCALATE_AFTER    escalation to the approver's manager, ISO 8601 duration (P5D)
plus the SMTP_* / MAIL_FROM settings of contractflow.mail.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from contractflow.config import duration, secret
from contractflow.mail import MailSettings


def parse_duration(name: str, text: str) -> dt.timedelta:
    return duration(name, text)


@dataclass(frozen=True)
class ApprovalSettings:
    public_base_url: str = "http://localhost:8002"
    link_secret: str = "dev-only-link-secret-change-me"
    link_max_age: dt.timedelta = dt.timedelta(days=7)
    reminder_after: str = "P2D"
    escalate_after: str = "P5D"
    mail: MailSettings = field(default_factory=MailSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApprovalSettings:
        env = os.environ if env is None else env
        reminder = env.get("REMINDER_AFTER", "P2D")
        escalate = env.get("ESCALATE_AFTER", "P5D")
        if parse_duration("ESCALATE_AFTER", escalate) <= parse_duration("REMINDER_AFTER", reminder):
            raise ValueError("ESCALATE_AFTER must be longer than REMINDER_AFTER")
        return cls(
            # By default where this process listens, as negotiation's NEGOTIATION_PUBLIC_URL:
            # a stack on other ports must not mail links to another stack's 8002.
            public_base_url=(
                env.get("PUBLIC_BASE_URL") or f"http://localhost:{env.get('APPROVAL_PORT') or 8002}"
            ).rstrip("/"),
            link_secret=secret(env, "LINK_SECRET", cls.link_secret),
            link_max_age=parse_duration("LINK_MAX_AGE", env.get("LINK_MAX_AGE", "P7D")),
            reminder_after=reminder,
            escalate_after=escalate,
            mail=MailSettings.from_env(env),
        )
