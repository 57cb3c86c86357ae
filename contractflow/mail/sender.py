"""Sending the mail outbox over SMTP: the worker job and its settings from the environment.

The job sleeps until a mail row commits: on PostgreSQL the writer's transaction sends
`NOTIFY contractflow_mail` (contractflow.mail.outbox.queue_mail) and the sender LISTENs;
on SQLite it watches `PRAGMA data_version` (contractflow.events.wakeup). It still polls
every second, so a lost notification costs latency only. Polling every second alone made
each approval mail wait half a second on average, a whole second at worst.

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
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, bindparam, exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from contractflow.db import unit_of_work, utcnow
from contractflow.events.wakeup import RelayWakeup
from contractflow.mail.outbox import MAIL_CHANNEL, MailMessage

if TYPE_CHECKING:
    from contractflow.worker import PeriodicJob

log = logging.getLogger(__name__)
SECURITY = ("none", "starttls", "tls")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}

# The sender's statements, built once and bound at execution: the job runs them for every
# mail, and building and keying them each time cost more CPU than running them.
_DUE = (MailMessage.sent_at.is_(None), MailMessage.next_attempt_at <= bindparam("now"))
_ANYTHING_DUE = select(exists().where(*_DUE))
_CLAIM = (
    update(MailMessage)
    .where(
        MailMessage.id.in_(
            select(MailMessage.id)
            .where(*_DUE)
            .order_by(MailMessage.id)
            .limit(bindparam("batch_size"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .values(next_attempt_at=bindparam("lease_until"))
    .returning(MailMessage)
    .execution_options(synchronize_session=False)
)
_MARK_SENT = (
    update(MailMessage)
    .where(MailMessage.id == bindparam("row_id"))
    .values(sent_at=bindparam("when"), attempts=MailMessage.attempts + 1)
    .execution_options(synchronize_session=False)
)


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
    """Sends over one SMTP session kept open between sends for up to `keep_s` idle: a
    session's connect, greeting, EHLO (STARTTLS, login) and QUIT cost about as much CPU
    as the message, and mails come a few at a time. A session the server closed while
    idle is opened again for the same message."""

    def __init__(self, settings: MailSettings, keep_s: float = 10.0) -> None:
        self.settings, self.keep_s = settings, keep_s
        self._context: ssl.SSLContext | None = None
        self._lock = threading.Lock()
        self._kept: smtplib.SMTP | None = None
        self._kept_until = 0.0

    def tls_context(self) -> ssl.SSLContext:
        # Built once: loading the system's CA certificates took more CPU than the send.
        if self._context is None:
            self._context = ssl.create_default_context()
        return self._context

    def send(self, message: Message) -> None:
        with self._lock:
            kept, self._kept = self._kept, None
            if kept is not None and time.monotonic() < self._kept_until:
                try:
                    kept.send_message(message)
                except (smtplib.SMTPServerDisconnected, ConnectionError):
                    _close(kept)  # closed by the server while idle: a new session below
                except BaseException:
                    _close(kept)
                    raise
                else:
                    self._keep(kept)
                    return
            elif kept is not None:
                _close(kept)
            smtp = self._open()
            try:
                smtp.send_message(message)
            except BaseException:
                _close(smtp)
                raise
            self._keep(smtp)

    def close(self) -> None:
        """End the kept session, if any (QUIT)."""
        with self._lock:
            kept, self._kept = self._kept, None
        if kept is not None:
            _close(kept)

    def _keep(self, smtp: smtplib.SMTP) -> None:
        if self.keep_s > 0:
            self._kept, self._kept_until = smtp, time.monotonic() + self.keep_s
        else:
            _close(smtp)

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=self.tls_context())
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        try:
            if s.security == "starttls":
                smtp.starttls(context=self.tls_context())
            if s.user:
                smtp.login(s.user, s.password or "")
        except BaseException:
            _close(smtp)
            raise
        return smtp


def _close(smtp: smtplib.SMTP) -> None:
    """QUIT, as `with smtp` did; a session already broken is only closed."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def build_message(row: MailMessage, sender: str) -> Message:
    """A multipart/alternative message (plain text, then HTML), both parts UTF-8.

    Built with the stdlib's MIME classes rather than EmailMessage: the latter parses every
    header through its registry when set and again when smtplib flattens it, about 4 ms of
    CPU a message against about 1.3 ms, and the worker sends a few per approval. An address
    that is not ASCII (SMTPUTF8) keeps EmailMessage, which knows how to send it."""
    if not (row.recipient.isascii() and sender.isascii()):
        return _utf8_address_message(row, sender)
    message = MIMEMultipart("alternative")
    message["From"] = sender
    message["To"] = row.recipient
    # A Header (documented for Message) is folded to the line length when flattened.
    message["Subject"] = Header(row.subject, "utf-8")  # type: ignore[assignment]
    message["Message-ID"] = row.message_id  # stable: a resend after a crash is recognisable
    message["Date"] = format_datetime(row.created_at)
    message.attach(MIMEText(row.text_body, "plain", "utf-8"))
    message.attach(MIMEText(row.html_body, "html", "utf-8"))
    return message


def _utf8_address_message(row: MailMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = format_datetime(row.created_at)
    message.set_content(row.text_body)
    message.add_alternative(row.html_body, subtype="html")
    return message


class MailSender:
    """Sends due rows: claim a batch, send each, mark it sent in its own transaction.

    With several worker replicas each row is sent by one of them: claiming moves the row's
    `next_attempt_at` to the end of a lease in one statement (`FOR UPDATE SKIP LOCKED` on
    PostgreSQL, SQLite's single writer elsewhere), so the others see it as not due. A
    sender that dies mid-batch leaves its rows to be claimed again when the lease lapses.
    A row is only sent while at least one SMTP timeout of its lease is left; the rest of
    the batch is handed back at once.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        transport: SmtpTransport,
        sender: str,
        *,
        batch_size: int = 20,
        max_backoff: dt.timedelta = dt.timedelta(minutes=30),
        claim_ttl: dt.timedelta | None = None,
    ) -> None:
        self.sessions, self.transport, self.sender = sessions, transport, sender
        self.batch_size, self.max_backoff = batch_size, max_backoff
        timeout = dt.timedelta(seconds=transport.settings.timeout_s)
        # One send is a few socket operations, each bounded by the timeout (a kept SMTP
        # session the server closed fails at once, and a new one is opened within this bound).
        self.send_bound = 4 * timeout
        self.claim_ttl = claim_ttl or max(dt.timedelta(minutes=5), 2 * self.send_bound)

    def job(self, engine: Engine, idle_s: float = 1.0) -> PeriodicJob:
        """The worker job: send what is due, then sleep until a mail row commits."""
        from contractflow.worker import PeriodicJob

        wakeup = RelayWakeup(engine, channel=MAIL_CHANNEL)
        job = PeriodicJob.woken_by("mail-outbox", self._send_round, wakeup, idle_s)

        def close() -> None:  # the worker stopping: also QUIT the SMTP session kept open
            wakeup.close()
            self.transport.close()

        return replace(job, close=close)

    def send_pending(self) -> int:
        """Send one claimed batch of what is due; answers how many were sent."""
        return self._send_batch()[0]

    def _send_round(self) -> int:
        """The job's round: non-zero only when more may be due at once (a full batch, or
        rows handed back), so after a partial batch the job waits for the next commit
        instead of asking again at once (a read per mail, for nothing). A mail committed
        while this round ran has already set the wake-up (listening since before the job's
        first round), so that wait returns at once."""
        _sent, more = self._send_batch()
        return int(more)

    def _send_batch(self) -> tuple[int, bool]:
        """(sent, whether more may be due now)."""
        rows, lease_until = self._claim()
        sent = 0
        for index, row in enumerate(rows):
            if utcnow() + self.send_bound > lease_until:
                self._hand_back([r.id for r in rows[index:]], lease_until)
                return sent, True
            try:
                self.transport.send(build_message(row, self.sender))
            except (OSError, smtplib.SMTPException) as exc:
                self._failed(row.id, f"{type(exc).__name__}: {exc}")
                continue
            with unit_of_work(self.sessions) as session:
                session.execute(_MARK_SENT, {"row_id": row.id, "when": utcnow()})
            sent += 1
        return sent, len(rows) == self.batch_size

    def _claim(self) -> tuple[list[MailMessage], dt.datetime]:
        """Claim a batch of due rows. A read comes first, in the same transaction: a
        wake-up by some other commit (SQLite wakes on every one) then costs a read, not a
        write."""
        now = utcnow()  # delivery follows the wall clock even when workflows use a fake one
        lease_until = now + self.claim_ttl
        params = {"now": now, "lease_until": lease_until, "batch_size": self.batch_size}
        with unit_of_work(self.sessions) as session:
            if not session.scalar(_ANYTHING_DUE, params):
                return [], lease_until
            # The claimed rows come back whole from the UPDATE: no second read.
            rows = session.scalars(_CLAIM, params).all()
            session.expunge_all()
        return sorted(rows, key=lambda r: r.id), lease_until

    def _hand_back(self, row_ids: list[int], lease_until: dt.datetime) -> None:
        with unit_of_work(self.sessions) as session:
            session.execute(
                update(MailMessage)
                .where(
                    MailMessage.id.in_(row_ids),
                    MailMessage.sent_at.is_(None),
                    MailMessage.next_attempt_at == lease_until,  # still ours
                )
                .values(next_attempt_at=utcnow())
            )

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
