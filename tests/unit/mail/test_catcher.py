"""The `make up` mail catcher, as its own process: mail sent over SMTP is kept, listed on its
page and by --list with the links in it."""

from __future__ import annotations

import smtplib
import socket
import subprocess
import sys
import time
import urllib.request
from email.message import EmailMessage
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_caught_mail_is_listed_with_its_links(tmp_path: Path) -> None:
    smtp_port, http_port = free_port(), free_port()
    folder = tmp_path / "mail"
    command = [sys.executable, "-m", "contractflow.mail.catcher", "--dir", str(folder)]
    catcher = subprocess.Popen(
        [*command, "--smtp-port", str(smtp_port), "--http-port", str(http_port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert catcher.stdout is not None and "mail catcher" in catcher.stdout.readline()
        message = EmailMessage()
        message["From"], message["To"] = "flow@corp.test", "li.si@corp.test"
        message["Subject"] = "【待审批】合同签订 / Approval needed"
        message.set_content("请审批 Please decide: http://127.0.0.1:8002/approval/links/abc.def\n")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            smtp.send_message(message)

        deadline = time.monotonic() + 10
        while not list(folder.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.05)
        page = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/", timeout=10).read()
        text = page.decode()
        assert "【待审批】合同签订 / Approval needed" in text
        assert 'href="http://127.0.0.1:8002/approval/links/abc.def"' in text

        listed = subprocess.run([*command, "--list"], capture_output=True, text=True, check=True)
        assert "to li.si@corp.test" in listed.stdout
        assert "http://127.0.0.1:8002/approval/links/abc.def" in listed.stdout
    finally:
        catcher.terminate()
        assert catcher.wait(timeout=10) == 0
