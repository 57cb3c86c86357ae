"""Sending the mail outbox over SMTP: the worker job and its settings from the environment.

Environment: SMTP_HOST (localhost), SMTP_PORT (25, or 465 with tls, 587 with starttls),
SMTP_SECURITY none|starttls|tls (none), SMTP_USER / SMTP_PASSWORD (no login when unset),
MAIL_FROM (contractflow@localhost).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contractflow.db import unit_of_work, utcnow
from contractflow.mail.outbox import MailMessage

log = logging.getLogger(__name__)
SECURITY = ("none", "starttls", "tls")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}


@dataclass(frozen=True)
class MailSettings:
    host: str = "localhost"
    port: int = 25
    security: str = "none"
    user: str | None = None
    password: str | None = None
    sender: str = "contractflow@localhost"
    timeout_s: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MailSettings:
        env = os.environ if env is None else env
        security = env.get("SMTP_SECURITY", "none").lower()
        if security not in SECURITY:
            raise ValueError(f"SMTP_SECURITY={security!r}: use one of {', '.join(SECURITY)}")
        port = env.get("SMTP_PORT")
        return cls(
            host=env.get("SMTP_HOST", "localhost"),
            port=int(port) if port else DEFAULT_PORTS[security],
            security=security,
            user=env.get("SMTP_USER") or None,
            password=env.get("SMTP_PASSWORD") or None,
            sender=env.get("MAIL_FROM", "contractflow@localhost"),
        )


class SmtpTransport:
    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        s = self.settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        with smtp:
            if s.security == "starttls":
                smtp.starttls(context=context)
            if s.user:
                smtp.login(s.user, s.password or "")
            smtp.send_message(message)


def build_message(row: MailMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id  # stable: a resend after a crash is recognisable
    message["Date"] = format_datetime(row.created_at)
    message.set_content(row.text_body)
    message.add_alternative(row.html_body, subtype="html")
    return message


class MailSender:
    """Sends due rows one by one: send, then mark sent in its own transaction."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        transport: SmtpTransport,
        sender: str,
        *,
        batch_size: int = 50,
        max_backoff: dt.timedelta = dt.timedelta(minutes=30),
    ) -> None:
        self.sessions, self.transport, self.sender = sessions, transport, sender
        self.batch_size, self.max_backoff = batch_size, max_backoff

    def send_pending(self) -> int:
        now = utcnow()  # delivery follows the wall clock even when workflows use a fake one
        with unit_of_work(self.sessions) as session:
            due = session.scalars(
                select(MailMessage)
                .where(MailMessage.sent_at.is_(None), MailMessage.next_attempt_at <= now)
                .order_by(MailMessage.id)
                .limit(self.batch_size)
            ).all()
        sent = 0
        for row in due:
            try:
                self.transport.send(build_message(row, self.sender))
            except (OSError, smtplib.SMTPException) as exc:
                self._failed(row.id, f"{type(exc).__name__}: {exc}")
                continue
            with unit_of_work(self.sessions) as session:
                fresh = session.get(MailMessage, row.id)
                if fresh is not None:
                    fresh.sent_at = utcnow()
                    fresh.attempts += 1
            sent += 1
        return sent

    def _failed(self, row_id: int, error: str) -> None:
        log.warning("sending mail %s failed: %s", row_id, error)
        with unit_of_work(self.sessions) as session:
            fresh = session.get(MailMessage, row_id)
            if fresh is None:
                return
            fresh.attempts += 1
            fresh.last_error = error[:2000]
            backoff = min(dt.timedelta(seconds=2**fresh.attempts), self.max_backoff)
            fresh.next_attempt_at = utcnow() + backoff
