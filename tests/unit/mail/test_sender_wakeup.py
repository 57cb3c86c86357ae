"""The mail job wakes when a mail row commits, instead of finding it on its next poll: with
a one-minute poll each mail still reaches the SMTP server within seconds (a loaded shared
machine can take a few), and an idle sender does not write."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import event

from contractflow.db import make_engine, make_session_factory, unit_of_work
from contractflow.mail import MailSender, MailSettings, RenderedMail, SmtpTransport, queue_mail
from contractflow.migrate import upgrade
from tests.conftest import both_databases
from tests.integration.approval.support import MailBox, free_port
from tests.integration.harness import wait_until

pytestmark = both_databases
NOW = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)
MAIL = RenderedMail("审批 / approval", "纯文本 plain", "<p>html</p>")


@pytest.fixture
def engine(database_factory):
    engine = make_engine(database_factory("approval"))
    upgrade(engine, "approval")
    yield engine
    engine.dispose()


@pytest.fixture
def smtp():
    box = MailBox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


def run_job(job, stop: threading.Event, listening: threading.Event | None = None) -> None:
    """What the worker does with a job: listen, then run it, and wait when it found nothing."""
    if job.listen is not None:
        job.listen()
    if listening is not None:
        listening.set()
    while not stop.is_set():
        if not job.run_once():
            job.wait(job.idle_s)


def test_a_committed_mail_is_sent_well_before_the_next_poll(engine, smtp) -> None:
    box, port = smtp
    sessions = make_session_factory(engine)
    sender = MailSender(sessions, SmtpTransport(MailSettings("127.0.0.1", port)), "x@corp.test")
    job = sender.job(engine, idle_s=60.0)
    stop, listening = threading.Event(), threading.Event()
    worker = threading.Thread(target=run_job, args=(job, stop, listening), daemon=True)
    worker.start()
    try:
        # Whether the job is still looking or already waiting, a commit from now on is heard.
        assert listening.wait(10), "the job did not start listening"
        latencies = []
        for i in range(3):
            committed = time.monotonic()
            with unit_of_work(sessions) as session:
                queue_mail(session, "a@corp.test", MAIL, purpose="t", reference=f"T-{i}", now=NOW)
            wait_until(lambda n=i + 1: len(box.messages) == n, deadline_s=10, step_s=0.005)
            latencies.append(time.monotonic() - committed)
    finally:
        stop.set()
        with unit_of_work(sessions) as session:  # wakes the job, which then sees the stop
            queue_mail(session, "a@corp.test", MAIL, purpose="t", reference="T-end", now=NOW)
        worker.join(30)
    assert not worker.is_alive()
    assert max(latencies) < 10, f"sent {latencies} s after the commits; the poll is 60 s"


def test_an_idle_sender_only_reads(engine, smtp) -> None:
    _box, port = smtp
    sessions = make_session_factory(engine)
    sender = MailSender(sessions, SmtpTransport(MailSettings("127.0.0.1", port)), "x@corp.test")
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cur, sql, *a: statements.append(sql))
    for _ in range(5):
        assert sender.send_pending() == 0
    writes = [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT"))]
    assert statements and writes == []


class HeldFirstSend(SmtpTransport):
    """Holds the first send until the test lets it go, so a mail commits mid-round."""

    def __init__(self, settings: MailSettings) -> None:
        super().__init__(settings)
        self.sending, self.release = threading.Event(), threading.Event()

    def send(self, message) -> None:
        if not self.sending.is_set():
            self.sending.set()
            assert self.release.wait(30)
        super().send(message)


def test_a_mail_committed_while_a_round_sends_is_not_left_to_the_poll(engine, smtp) -> None:
    """After a partial batch the job waits instead of asking again at once; a mail that
    commits while the round is sending must still wake it, not wait for the poll."""
    box, port = smtp
    sessions = make_session_factory(engine)
    transport = HeldFirstSend(MailSettings("127.0.0.1", port))
    job = MailSender(sessions, transport, "x@corp.test").job(engine, idle_s=60.0)
    stop = threading.Event()
    worker = threading.Thread(target=run_job, args=(job, stop), daemon=True)
    worker.start()
    try:
        time.sleep(0.5)  # the job has found nothing and is waiting (subscribed)
        with unit_of_work(sessions) as session:
            queue_mail(session, "a@corp.test", MAIL, purpose="t", reference="first", now=NOW)
        assert transport.sending.wait(10), "the first mail was not picked up"
        with unit_of_work(sessions) as session:  # commits while the round is sending
            queue_mail(session, "b@corp.test", MAIL, purpose="t", reference="second", now=NOW)
        transport.release.set()
        wait_until(lambda: len(box.messages) == 2, deadline_s=10, step_s=0.005)
        assert sorted(m["To"] for m in box.messages) == ["a@corp.test", "b@corp.test"]
    finally:
        stop.set()
        transport.release.set()
        with unit_of_work(sessions) as session:  # wakes the job, which then sees the stop
            queue_mail(session, "a@corp.test", MAIL, purpose="t", reference="T-end", now=NOW)
        worker.join(30)
    assert not worker.is_alive()


def test_the_job_reads_once_per_mail_sent_alone(engine, smtp) -> None:
    """A round that claimed less than a batch does not ask again at once: per mail one
    read of what is due, one claim, one mark (was: a second read finding nothing)."""
    box, port = smtp
    sessions = make_session_factory(engine)
    job = MailSender(sessions, SmtpTransport(MailSettings("127.0.0.1", port)), "x@corp.test").job(
        engine, idle_s=60.0
    )
    with unit_of_work(sessions) as session:
        queue_mail(session, "a@corp.test", MAIL, purpose="t", reference="one", now=NOW)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cur, sql, *a: statements.append(sql))
    assert job.run_once() == 0  # sent it; nothing says more is due: the worker waits
    assert len(box.messages) == 1
    reads = [s for s in statements if "EXISTS" in s.upper()]
    assert len(reads) == 1, statements


def test_stopping_the_mail_job_ends_the_kept_smtp_session(engine, smtp) -> None:
    """The transport keeps its SMTP session open between sends; the worker stopping the
    job says goodbye (QUIT) instead of leaving the server to time the session out."""
    box, port = smtp
    quits: list[int] = []

    async def handle_QUIT(server, session, envelope):
        quits.append(1)
        return "221 Bye"

    box.handle_QUIT = handle_QUIT  # type: ignore[attr-defined]
    sessions = make_session_factory(engine)
    sender = MailSender(sessions, SmtpTransport(MailSettings("127.0.0.1", port)), "flow@corp.test")
    with unit_of_work(sessions) as session:
        queue_mail(session, "a@corp.test", MAIL, purpose="t", reference="kept", now=NOW)
    job = sender.job(engine)
    assert sender.send_pending() == 1
    assert quits == [], "the session is kept after the send"
    job.close()
    wait_until(lambda: quits == [1], deadline_s=10, step_s=0.01)
