"""The mail outbox over a real SMTP server: sent once, resent with the same Message-ID
after a crash between sending and marking, nothing sent for a rolled-back transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from contractflow.db import make_engine, make_session_factory, unit_of_work
from contractflow.mail import (
    MailMessage,
    MailSender,
    MailSettings,
    RenderedMail,
    SmtpTransport,
    queue_mail,
)
from contractflow.migrate import upgrade
from tests.conftest import both_databases
from tests.integration.approval.support import MailBox, free_port

pytestmark = both_databases
NOW = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)
MAIL = RenderedMail("审批 / approval", "纯文本 plain", "<p>html</p>")


@pytest.fixture
def smtp():
    box = MailBox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture
def sessions(database_factory):
    engine = make_engine(database_factory("approval"))
    upgrade(engine, "approval")
    yield make_session_factory(engine)
    engine.dispose()


def lapse_claims(sessions) -> None:
    with unit_of_work(sessions) as session:
        for row in session.scalars(select(MailMessage)):
            row.next_attempt_at = dt.datetime.now(dt.UTC)


class CrashAfterSending(SmtpTransport):
    crashes = 1

    def send(self, message) -> None:
        super().send(message)
        if self.crashes:
            self.crashes -= 1
            raise SystemExit("worker killed between sending and marking")


def test_sent_once_then_marked(sessions, smtp) -> None:
    box, port = smtp
    with unit_of_work(sessions) as session:
        row = queue_mail(session, "a@corp.test", MAIL, purpose="test", reference="T-1", now=NOW)
    sender = MailSender(sessions, SmtpTransport(MailSettings("127.0.0.1", port)), "flow@corp.test")
    assert sender.send_pending() == 1
    assert sender.send_pending() == 0
    assert len(box.messages) == 1
    message = box.messages[0]
    assert message["Message-ID"] == row.message_id and message["Subject"] == MAIL.subject
    assert message.get_body(("html",)).get_content().strip() == MAIL.html


def test_a_crash_between_sending_and_marking_resends_the_same_message_id(sessions, smtp) -> None:
    box, port = smtp
    with unit_of_work(sessions) as session:
        queue_mail(session, "a@corp.test", MAIL, purpose="test", reference="T-1", now=NOW)
    settings = MailSettings("127.0.0.1", port)
    with pytest.raises(SystemExit):
        MailSender(sessions, CrashAfterSending(settings), "flow@corp.test").send_pending()
    lapse_claims(sessions)  # the dead worker's claim runs out
    assert MailSender(sessions, SmtpTransport(settings), "flow@corp.test").send_pending() == 1
    assert len(box.messages) == 2
    assert box.messages[0]["Message-ID"] == box.messages[1]["Message-ID"]


def test_a_rolled_back_state_change_sends_nothing(sessions, smtp) -> None:
    box, port = smtp
    with pytest.raises(RuntimeError), unit_of_work(sessions) as session:
        queue_mail(session, "a@corp.test", MAIL, purpose="test", reference="T-1", now=NOW)
        raise RuntimeError("the decision failed")
    sender = MailSender(sessions, SmtpTransport(MailSettings("127.0.0.1", port)), "x@corp.test")
    assert sender.send_pending() == 0 and box.messages == []


def test_an_unreachable_server_backs_off_and_keeps_the_row(sessions) -> None:
    with unit_of_work(sessions) as session:
        queue_mail(session, "a@corp.test", MAIL, purpose="test", reference="T-1", now=NOW)
    dead = SmtpTransport(MailSettings("127.0.0.1", free_port(), timeout_s=2))
    assert MailSender(sessions, dead, "x@corp.test").send_pending() == 0
    with sessions() as session:
        row = session.scalars(select(MailMessage)).one()
        assert row.sent_at is None and row.attempts == 1 and "Connection" in (row.last_error or "")


class SlowMailBox(MailBox):
    """Takes a while per message, so concurrent senders overlap as on a busy server."""

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


def test_three_senders_send_each_mail_once(sessions) -> None:
    box = SlowMailBox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with unit_of_work(sessions) as session:
            queued = [
                queue_mail(
                    session, f"a{i}@corp.test", MAIL, purpose="t", reference=f"T-{i}", now=NOW
                ).message_id
                for i in range(30)
            ]
        settings = MailSettings("127.0.0.1", controller.port)
        senders = [
            MailSender(sessions, SmtpTransport(settings), "flow@corp.test", batch_size=5)
            for _ in range(3)
        ]
        start = threading.Barrier(len(senders))

        def drain(sender: MailSender) -> int:
            start.wait()
            total = 0
            while sent := sender.send_pending():
                total += sent
            return total

        with ThreadPoolExecutor(len(senders)) as pool:
            counts = list(pool.map(drain, senders))
    finally:
        controller.stop()
    received = [m["Message-ID"] for m in box.messages]
    assert sorted(received) == sorted(queued), "every mail sent exactly once"
    assert sum(counts) == 30


def test_a_claimed_row_waits_for_its_lease_and_a_lapsed_claim_is_taken_over(sessions, smtp) -> None:
    box, port = smtp
    with unit_of_work(sessions) as session:
        queue_mail(session, "a@corp.test", MAIL, purpose="t", reference="T-1", now=NOW)
    settings = MailSettings("127.0.0.1", port)
    with pytest.raises(SystemExit):  # claimed, then the worker died before sending
        MailSender(sessions, KilledBeforeSending(settings), "x@corp.test").send_pending()
    other = MailSender(sessions, SmtpTransport(settings), "x@corp.test")
    assert other.send_pending() == 0 and box.messages == []  # still claimed by the dead one
    lapse_claims(sessions)
    assert other.send_pending() == 1 and len(box.messages) == 1


def test_a_batch_outliving_its_claim_hands_the_rest_back(sessions, smtp) -> None:
    box, port = smtp
    with unit_of_work(sessions) as session:
        for i in range(3):
            queue_mail(session, "a@corp.test", MAIL, purpose="t", reference=f"T-{i}", now=NOW)
    transport = SmtpTransport(MailSettings("127.0.0.1", port, timeout_s=1))
    # A claim shorter than one send bound: nothing may be sent under it.
    short = MailSender(sessions, transport, "x@corp.test", claim_ttl=dt.timedelta(seconds=1))
    assert short.send_pending() == 0 and box.messages == []
    assert MailSender(sessions, transport, "x@corp.test").send_pending() == 3  # due again at once


class KilledBeforeSending(SmtpTransport):
    def send(self, message) -> None:
        raise SystemExit("worker killed after claiming")
