"""The SMTP transport keeps its session between sends, and a session the server ended
while it was kept (a restart, an idle timeout) costs no mail."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiosmtpd.controller import Controller

from contractflow.mail import MailSettings, SmtpTransport
from contractflow.mail.outbox import MailMessage
from contractflow.mail.sender import build_message
from tests.integration.approval.support import MailBox, free_port
from tests.integration.harness import wait_until

NOW = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)


class CountingBox(MailBox):
    """Keeps every message and counts the sessions that greeted it (EHLO)."""

    def __init__(self) -> None:
        super().__init__()
        self.greetings = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.greetings += 1
        session.host_name = hostname
        return responses


def message(n: int) -> Any:
    row = MailMessage(
        message_id=f"<m{n}@corp.test>",
        recipient="a@corp.test",
        subject=f"审批 {n} / approval {n}",
        text_body="纯文本 plain",
        html_body="<p>html</p>",
        created_at=NOW,
    )
    return build_message(row, "flow@corp.test")


def test_mails_in_a_row_share_one_session() -> None:
    box = CountingBox()
    server = Controller(box, hostname="127.0.0.1", port=free_port())
    server.start()
    transport = SmtpTransport(MailSettings("127.0.0.1", server.port))
    try:
        for n in range(3):
            transport.send(message(n))
        assert [m["Message-ID"] for m in box.messages] == [
            "<m0@corp.test>",
            "<m1@corp.test>",
            "<m2@corp.test>",
        ]
        assert box.greetings == 1
    finally:
        transport.close()
        server.stop()


def test_a_session_the_server_ended_is_opened_again_for_the_next_mail() -> None:
    port = free_port()
    first, second = CountingBox(), CountingBox()
    server = Controller(first, hostname="127.0.0.1", port=port)
    server.start()
    transport = SmtpTransport(MailSettings("127.0.0.1", port))
    try:
        transport.send(message(1))
        server.stop()  # ends the session the transport keeps
        server = Controller(second, hostname="127.0.0.1", port=port)
        server.start()
        transport.send(message(2))
        wait_until(lambda: len(second.messages) == 1, deadline_s=10, step_s=0.01)
        assert [m["Message-ID"] for m in first.messages] == ["<m1@corp.test>"]
        assert second.messages[0]["Message-ID"] == "<m2@corp.test>" and second.greetings == 1
    finally:
        transport.close()
        server.stop()


def test_a_session_kept_longer_than_its_idle_time_is_not_used() -> None:
    box = CountingBox()
    server = Controller(box, hostname="127.0.0.1", port=free_port())
    server.start()
    transport = SmtpTransport(MailSettings("127.0.0.1", server.port), keep_s=0)
    try:
        transport.send(message(1))
        transport.send(message(2))
        assert len(box.messages) == 2 and box.greetings == 2
    finally:
        transport.close()
        server.stop()
