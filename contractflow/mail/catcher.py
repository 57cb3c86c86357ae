"""A local mail catcher for `make up`: a real SMTP server (aiosmtpd) that keeps every message
as an .eml file, and a page listing them with their links, so a newcomer can read the
approval emails and click their links. Development only: production sends through the
SMTP_* settings.

    python -m contractflow.mail.catcher --dir .run/mail [--smtp-port 1025] [--http-port 8025]
    python -m contractflow.mail.catcher --dir .run/mail --list      (the same, as text)
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import html
import itertools
import re
import signal
import threading
import time
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LINK = re.compile(r"https?://[^\s<>\"']+")


class Store:
    """The folder of caught messages, oldest first."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._numbers = itertools.count(len(list(folder.glob("*.eml"))) + 1)
        self._lock = threading.Lock()

    def keep(self, raw: bytes) -> Path:
        with self._lock:
            path = self.folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{next(self._numbers):05d}.eml"
        path.write_bytes(raw)
        return path

    def messages(self) -> list[tuple[str, EmailMessage]]:
        return [(p.name, read(p)) for p in sorted(self.folder.glob("*.eml"))]


def read(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain", "html"))
    return body.get_content() if body is not None else ""


class SmtpHandler:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.store.keep(envelope.original_content or envelope.content)
        return "250 OK: kept"


def page(store: Store) -> str:
    rows = []
    for name, message in reversed(store.messages()):
        links = "".join(
            f'<li><a href="{html.escape(u)}">{html.escape(u)}</a></li>'
            for u in dict.fromkeys(LINK.findall(text_of(message)))
        )
        rows.append(
            f"<article><h2>{html.escape(str(message['Subject']))}</h2>"
            f"<p>To {html.escape(str(message['To']))} · {html.escape(str(message['Date']))}"
            f" · {html.escape(name)}</p><ul>{links}</ul>"
            f"<details><summary>Text</summary><pre>{html.escape(text_of(message))}</pre>"
            "</details></article>"
        )
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Mail catcher 邮件</title>'
        "</head><body><h1>Caught mail 收到的邮件</h1>"
        + ("".join(rows) or "<p>No mail yet. 暂无邮件。</p>")
        + "</body></html>"
    )


def serve(store: Store, smtp_port: int, http_port: int, host: str = "127.0.0.1") -> None:
    from aiosmtpd.controller import Controller  # a dev dependency, as is this module

    smtp = Controller(SmtpHandler(store), hostname=host, port=smtp_port)
    smtp.start()

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page(store).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    web = ThreadingHTTPServer((host, http_port), Pages)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    threading.Thread(target=web.serve_forever, daemon=True).start()
    print(f"mail catcher: SMTP {host}:{smtp_port}, page http://{host}:{http_port}/", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()
    web.shutdown()
    smtp.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True, help="where caught messages are kept")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--list", action="store_true", help="print the caught mail and exit")
    args = parser.parse_args(argv)
    store = Store(args.dir)
    if args.list:
        for name, message in store.messages():
            print(f"{name}  to {message['To']}  {message['Subject']}")
            for url in dict.fromkeys(LINK.findall(text_of(message))):
                print(f"    {url}")
        return 0
    serve(store, args.smtp_port, args.http_port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
